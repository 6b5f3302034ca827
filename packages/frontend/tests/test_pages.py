"""The application pages: authentication, page configuration, every referenced asset loads."""

from __future__ import annotations

import json
import re
from pathlib import Path

import aiohttp
import nbformat
import pytest
from conftest import page_config_of

LAB_URL_KEYS = [
    "appUrl",
    "settingsUrl",
    "themesUrl",
    "translationsApiUrl",
    "workspacesApiUrl",
    "listingsUrl",
    "licensesUrl",
    "labextensionsUrl",
    "treeUrl",
]


async def test_lab_with_token_sets_the_login_cookie_and_embeds_the_page_config(jcs_server, browser_session) -> None:
    async with browser_session.get(jcs_server.url + f"lab?token={jcs_server.token}", allow_redirects=False) as response:
        assert response.status == 200
        assert response.headers["Cache-Control"] == "no-store"
        html = await response.text()
    assert jcs_server.app.cookie_name in {c.key for c in browser_session.cookie_jar}
    assert "_xsrf" in {c.key for c in browser_session.cookie_jar}
    config = page_config_of(html)
    assert config["baseUrl"] == "/" and config["wsUrl"] == ""
    assert config["token"] == jcs_server.token
    assert config["appName"] == "JupyterLab" and config["appNamespace"] == "lab"
    from importlib_metadata import version

    assert config["appVersion"] == version("jupyterlab")
    assert config["fullStaticUrl"] == "/static/lab"
    for key in LAB_URL_KEYS:
        assert config[key].startswith("/lab") and not config[key].endswith("/")
        assert config["full" + key[0].upper() + key[1:]] == config[key]
    assert config["terminalsAvailable"] is True
    assert config["notebookStartsKernel"] is True
    assert json.loads(config["notebookVersion"])[0] == 2
    assert config["buildAvailable"] is False and config["buildCheck"] is False
    assert config["mode"] == "multiple-document" and config["workspace"] == "default" and config["treePath"] == ""
    names = {e["name"] for e in config["federated_extensions"]}
    assert "jupyterlab_pygments" in names
    for entry in config["federated_extensions"]:
        assert entry["load"].startswith("static/remoteEntry.")
    assert isinstance(config["disabledExtensions"], list)
    # the page works from here on with the cookie alone: assets, API calls, websockets
    scripts = re.findall(r'<script defer="defer" src="([^"]+)"', html)
    assert scripts and all(s.startswith("/static/lab/main.") for s in scripts)
    for src in scripts:
        async with browser_session.get(jcs_server.url + src.lstrip("/")) as response:
            assert response.status == 200, src
            assert "immutable" in response.headers["Cache-Control"]
    for entry in config["federated_extensions"]:
        async with browser_session.get(jcs_server.url + f"lab/extensions/{entry['name']}/{entry['load']}") as response:
            assert response.status == 200, entry
    for icon in re.findall(r'href="(/static/favicons/[^"]+)"', html):
        async with browser_session.get(jcs_server.url + icon.lstrip("/")) as response:
            assert response.status == 200 and (await response.read())[:4] == b"\x00\x00\x01\x00"
    async with browser_session.ws_connect(jcs_server.ws_url("api/events/subscribe")) as ws:
        assert not ws.closed


async def test_lab_urls_select_workspace_tree_and_mode(jcs_client) -> None:
    cases = {
        "lab/tree/a/b.ipynb": ("multiple-document", "default", "a/b.ipynb"),
        "lab/workspaces/mine": ("multiple-document", "mine", ""),
        "lab/workspaces/mine/tree/x.py": ("multiple-document", "mine", "x.py"),
        "doc/tree/x.py": ("single-document", "default", "x.py"),
    }
    for path, (mode, workspace, tree) in cases.items():
        async with jcs_client.get(path) as response:
            assert response.status == 200, path
            config = page_config_of(await response.text())
        assert (config["mode"], config["workspace"], config["treePath"]) == (mode, workspace, tree), path
    async with jcs_client.get("lab/", allow_redirects=False) as response:
        assert response.status == 302 and response.headers["Location"] == "/lab"
    async with jcs_client.get("lab/not/a/page") as response:
        assert response.status == 200
        assert page_config_of(await response.text())["notFoundUrl"] == "/lab/not/a/page"
    async with jcs_client.get("lab/api/nothing-here") as response:
        assert response.status == 404 and (await response.json())["reason"] == "not_found"


async def test_pages_send_anonymous_browsers_to_login_and_back(jcs_server, browser_session) -> None:
    for path in (
        "lab",
        "lab/tree/x.ipynb?reset",
        "tree",
        "notebooks/a.ipynb",
        "edit/a.txt",
        "consoles/c",
        "terminals/1",
    ):
        async with browser_session.get(jcs_server.url + path, allow_redirects=False) as response:
            assert response.status == 302, path
            location = response.headers["Location"]
        assert location.startswith("/login?next="), location
        assert "token" not in location
    async with browser_session.get(jcs_server.url + "lab?token=wrong", allow_redirects=False) as response:
        assert response.status == 302 and "token" not in response.headers["Location"]
    # the core's login form trades the token for the cookie, then the page opens
    async with browser_session.post(
        jcs_server.url + "login", data={"password": jcs_server.token, "next": "/lab"}, allow_redirects=False
    ) as response:
        assert response.status == 302 and response.headers["Location"] == "/lab"
    async with browser_session.get(jcs_server.url + "lab") as response:
        assert response.status == 200
    # the API still refuses anonymous clients with JSON, pages or not
    async with aiohttp.ClientSession() as anonymous, anonymous.get(jcs_server.url + "lab/api/settings") as response:
        assert response.status == 403 and (await response.json())["reason"] == "unauthenticated"


async def test_root_redirects_to_the_default_application(jcs_client) -> None:
    async with jcs_client.get("", allow_redirects=False) as response:
        assert response.status == 302 and response.headers["Location"] == "/lab"


@pytest.mark.parametrize(
    "jcs_config", [{"CoreServerApp": {"base_url": "/user/x/"}, "Frontend": {"default_url": "/tree"}}], indirect=True
)
async def test_base_url_prefixes_every_url_of_the_page(jcs_server, jcs_client) -> None:
    assert jcs_server.url.endswith("/user/x/")
    async with jcs_client.get("", allow_redirects=False) as response:
        assert response.headers["Location"] == "/user/x/tree"
    async with jcs_client.get("lab") as response:
        html = await response.text()
    config = page_config_of(html)
    assert config["baseUrl"] == "/user/x/"
    assert config["fullStaticUrl"] == "/user/x/static/lab"
    assert config["fullSettingsUrl"] == "/user/x/lab/api/settings"
    assert config["settingsUrl"] == "/lab/api/settings"
    src = re.search(r'<script defer="defer" src="([^"]+)"', html)
    assert src and src.group(1).startswith("/user/x/static/lab/main.")
    async with jcs_client.session.get(jcs_server.url.replace("/user/x/", "") + src.group(1)) as response:
        assert response.status == 200


async def test_notebook_pages(jcs_client, root: Path) -> None:
    (root / "sub").mkdir()
    nbformat.write(nbformat.v4.new_notebook(), root / "sub" / "a.ipynb")
    (root / "sub" / "b.txt").write_text("hello")
    async with jcs_client.get("tree/sub") as response:
        assert response.status == 200
        html = await response.text()
    config = page_config_of(html)
    assert config["appName"] == "Jupyter Notebook" and config["notebookPage"] == "tree"
    assert config["treePath"] == "sub" and config["fullStaticUrl"] == "/static/notebook"
    assert config["settingsUrl"] == "/lab/api/settings"
    for src in re.findall(r'<script defer="defer" src="([^"]+)"', html):
        async with jcs_client.get(src) as asset:
            assert asset.status == 200
    for path, page in (
        ("notebooks/sub/a.ipynb", "notebooks"),
        ("edit/sub/b.txt", "edit"),
        ("consoles/sub/c", "consoles"),
        ("terminals/1", "terminals"),
    ):
        async with jcs_client.get(path) as response:
            assert response.status == 200, path
            assert page_config_of(await response.text())["notebookPage"] == page
    redirects = {
        "tree/sub/a.ipynb": "/notebooks/sub/a.ipynb",
        "tree/sub/b.txt": "/files/sub/b.txt",
        "notebooks/sub": "/tree/sub",
    }
    for path, target in redirects.items():
        async with jcs_client.get(path, allow_redirects=False) as response:
            assert response.status == 302 and response.headers["Location"] == target, path
    async with jcs_client.get("tree/missing") as response:
        assert response.status == 404
    async with jcs_client.get("custom/custom.css") as response:
        assert response.status == 200 and response.content_type == "text/css"
