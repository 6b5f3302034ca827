"""The server API the applications call: settings, workspaces, translations, themes, licenses, config."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from yarl import URL

THEMES = "@jupyterlab/apputils-extension:themes"


async def test_settings_list_get_and_put_round_trip_with_comments(jcs_client, tmp_path: Path) -> None:
    async with jcs_client.get("lab/api/settings?ids_only=true") as response:
        ids = [entry["id"] for entry in (await response.json())["settings"]]
    assert THEMES in ids and "@jupyter-notebook/lab-extension:launch-tree" in ids  # app and extension schemas
    assert ids == sorted(ids, reverse=True)
    async with jcs_client.get("lab/api/settings") as response:
        full = {entry["id"]: entry for entry in (await response.json())["settings"]}
    assert full[THEMES]["schema"]["properties"]["theme"]["default"] == "JupyterLab Light"
    assert full[THEMES]["raw"] == "{}" and full[THEMES]["last_modified"] is None

    raw = '{\n  // chosen in the menu\n  "theme": "JupyterLab Dark",\n}\n'
    async with jcs_client.put(f"lab/api/settings/{THEMES}", json={"raw": raw}) as response:
        assert response.status == 204
    stored = tmp_path / "lab" / "user-settings" / "@jupyterlab" / "apputils-extension" / "themes.jupyterlab-settings"
    assert stored.read_text() == raw  # comments kept, in jupyterlab_server's layout
    async with jcs_client.get(f"lab/api/settings/{THEMES}") as response:
        model = await response.json()
    assert model["id"] == THEMES and model["raw"] == raw and model["settings"] == {"theme": "JupyterLab Dark"}
    assert model["version"] != "N/A" and model["last_modified"]


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({"raw": '{"theme": 3}'}, "invalid_settings"),
        ({"raw": "{theme: "}, "invalid_json5"),
        ({"raw": "[1]"}, "invalid_settings"),
        ({"nope": 1}, "invalid_body"),
    ],
)
async def test_invalid_settings_are_refused_and_nothing_is_written(jcs_client, tmp_path: Path, body, reason) -> None:
    async with jcs_client.put(f"lab/api/settings/{THEMES}", json=body) as response:
        assert response.status == 400
        assert (await response.json())["reason"] == reason
    assert not (tmp_path / "lab" / "user-settings" / "@jupyterlab").exists()


async def test_unknown_or_malicious_plugin_ids_are_404(jcs_client) -> None:
    for plugin_id in ("@jupyterlab/nothing:here", "..%2F..%2Fetc:passwd", "no-colon", "@a/../b:c"):
        async with jcs_client.get(f"lab/api/settings/{plugin_id}") as response:
            assert response.status == 404, plugin_id
        async with jcs_client.put(f"lab/api/settings/{plugin_id}", json={"raw": "{}"}) as response:
            assert response.status == 404, plugin_id


async def test_existing_user_settings_carry_over_and_invalid_ones_are_ignored(jcs_client, tmp_path: Path) -> None:
    folder = tmp_path / "lab" / "user-settings" / "@jupyterlab" / "apputils-extension"
    folder.mkdir(parents=True)
    (folder / "themes.jupyterlab-settings").write_text('{/* from jupyter lab */ "theme-scrollbars": true}')
    (folder / "palette.jupyterlab-settings").write_text('{"modal": "not a boolean"}')
    async with jcs_client.get(f"lab/api/settings/{THEMES}") as response:
        assert (await response.json())["settings"] == {"theme-scrollbars": True}
    async with jcs_client.get("lab/api/settings/@jupyterlab/apputils-extension:palette") as response:
        model = await response.json()
    assert model["settings"] == {} and model["raw"] == "{}"


async def test_workspaces_are_files_named_as_jupyterlab_server_names_them(jcs_client, tmp_path: Path) -> None:
    async with jcs_client.get("lab/api/workspaces/default") as response:
        assert await response.json() == {"data": {}, "metadata": {"id": "/default"}}
    workspace = {"data": {"layout-restorer:data": {"main": {}}}, "metadata": {"id": "default"}}
    async with jcs_client.put("lab/api/workspaces/default", json=workspace) as response:
        assert response.status == 204
    expected = (
        tmp_path / "lab" / "workspaces" / f"default-{hashlib.sha256(b'default').hexdigest()[:4]}.jupyterlab-workspace"
    )
    assert json.loads(expected.read_text()) == workspace
    async with jcs_client.get("lab/api/workspaces") as response:
        listing = (await response.json())["workspaces"]
    assert listing["ids"] == ["default"] and listing["values"][0]["data"] == workspace["data"]
    assert listing["values"][0]["metadata"]["last_modified"]
    async with jcs_client.put("lab/api/workspaces/other", json=workspace) as response:
        assert response.status == 400 and (await response.json())["reason"] == "invalid_workspace"
    async with jcs_client.put("lab/api/workspaces/other", data=b"{not json") as response:
        assert response.status == 400
    async with jcs_client.delete("lab/api/workspaces/default") as response:
        assert response.status == 204
    assert not expected.exists()
    async with jcs_client.delete("lab/api/workspaces/default") as response:
        assert response.status == 404


async def test_translations_themes_listings_build_and_licenses(jcs_client) -> None:
    async with jcs_client.get("lab/api/translations") as response:
        data = await response.json()
    assert data["data"]["en"]["nativeName"] == "English"
    async with jcs_client.get("lab/api/translations/default") as response:
        assert await response.json() == {"data": {}, "message": ""}
    async with jcs_client.get("lab/api/translations/zz_ZZ") as response:
        assert "not installed" in (await response.json())["message"]

    async with jcs_client.get("lab/api/themes/@jupyterlab/theme-light-extension/index.css") as response:
        assert response.status == 200 and response.content_type == "text/css"
        css = await response.text()
    assert "--jp-layout-color0" in css
    for escape in (
        "%2E%2E/%2E%2E/%2E%2E/etc/passwd",
        "@jupyterlab%2F..%2F..%2F..%2Fschemas%2Fx.json",
        "%2Fetc%2Fpasswd",
    ):
        url = URL(jcs_client.url("lab/api/themes/") + escape, encoded=True)
        async with jcs_client.session.get(url) as response:
            assert response.status == 404, escape

    async with jcs_client.get("lab/api/listings/@jupyterlab/extensionmanager-extension/listings.json") as response:
        assert (await response.json())["blocked_extensions"] == []
    async with jcs_client.get("lab/api/build") as response:
        assert (await response.json())["status"] == "stable"

    async with jcs_client.get("lab/api/licenses") as response:
        bundles = (await response.json())["bundles"]
    assert "@jupyterlab/application-top" in bundles
    assert any(p["name"] == "@jupyterlab/application" for p in bundles["@jupyterlab/application-top"]["packages"])
    async with jcs_client.get("lab/api/licenses?format=csv&bundles=jupyterlab_pygments&download=1") as response:
        assert response.content_type == "text/csv" and "attachment" in response.headers["Content-Disposition"]
        assert (await response.text()).startswith("bundle,name,versionInfo")
    async with jcs_client.get("lab/api/licenses?format=markdown&full_text=false") as response:
        assert (await response.text()).startswith("# ")
    for query in ("format=pdf", "bundles=(", "full_text=maybe"):
        async with jcs_client.get(f"lab/api/licenses?{query}") as response:
            assert response.status == 400, query


async def test_config_sections_get_put_patch(jcs_client, jcs_isolated_paths) -> None:
    section = "jupyterlabapputilsextensionannouncements"
    async with jcs_client.get(f"api/config/{section}") as response:
        assert await response.json() == {}
    async with jcs_client.put(
        f"api/config/{section}", json={"fetchNews": "false", "nested": {"a": 1, "b": 2}}
    ) as response:
        assert response.status == 204
    async with jcs_client.patch(f"api/config/{section}", json={"nested": {"a": None, "c": 3}}) as response:
        assert await response.json() == {"fetchNews": "false", "nested": {"b": 2, "c": 3}}
    stored = jcs_isolated_paths["user"] / "nbconfig" / f"{section}.json"
    assert json.loads(stored.read_text())["nested"] == {"b": 2, "c": 3}
    # a lower config level shows through where the user level says nothing
    system = jcs_isolated_paths["system"] / "nbconfig"
    system.mkdir()
    (system / f"{section}.json").write_text(json.dumps({"fetchNews": "true", "fromSystem": 1}))
    async with jcs_client.get(f"api/config/{section}") as response:
        assert await response.json() == {"fetchNews": "false", "fromSystem": 1, "nested": {"b": 2, "c": 3}}
    async with jcs_client.get("api/config/not-a-name") as response:
        assert response.status == 404
    async with jcs_client.put(f"api/config/{section}", data=b"[1]") as response:
        assert response.status == 400


async def test_cookie_authenticated_writes_need_the_xsrf_header(jcs_server, browser_session) -> None:
    async with browser_session.get(jcs_server.url + f"lab?token={jcs_server.token}") as response:
        assert response.status == 200
    url = jcs_server.url + "api/config/xsrftest"
    async with browser_session.put(url, json={"a": 1}) as response:
        assert response.status == 403 and (await response.json())["reason"] == "xsrf"
    xsrf = next(c.value for c in browser_session.cookie_jar if c.key == "_xsrf")
    async with browser_session.put(url, json={"a": 1}, headers={"X-XSRFToken": xsrf}) as response:
        assert response.status == 204
