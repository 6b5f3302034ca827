"""Nothing outside the root, nothing hidden: traversal probes on every route, refused with 404/403."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import aiohttp
import pytest
from contents_calls import call, text_model
from yarl import URL

SECRET = "top secret"


@pytest.fixture
def outside(tmp_path: Path, root: Path) -> dict[str, Path]:
    """A secret next to the root, in a sibling sharing the root's name as a prefix, and links out."""
    (tmp_path / "secret.txt").write_text(SECRET)
    sibling = tmp_path / "root-sibling"  # "…/root" is a string prefix of "…/root-sibling"
    sibling.mkdir()
    (sibling / "secret.txt").write_text(SECRET)
    (root / "inside.txt").write_text("fine")
    os.symlink(tmp_path / "secret.txt", root / "link-out.txt")
    os.symlink(sibling, root / "dir-out")
    os.symlink(root / "inside.txt", root / "link-in.txt")
    return {"secret": tmp_path / "secret.txt", "sibling": sibling}


async def raw(client, method: str, raw_path: str, **kwargs) -> tuple[int, bytes]:
    """Send a path exactly as written: no client-side normalisation of ``..`` or ``%2e``."""
    url = URL(client.server.url + raw_path.lstrip("/"), encoded=True)
    async with client.session.request(method, url, **kwargs) as response:
        return response.status, await response.read()


PROBES = [
    "../secret.txt",
    "..%2fsecret.txt",
    "%2e%2e/secret.txt",
    "%2E%2E%2Fsecret.txt",
    "sub/../../secret.txt",
    "./../secret.txt",
    "..%5csecret.txt",
    "../root-sibling/secret.txt",
    "%2e%2e/root-sibling/secret.txt",
    "link-out.txt",
    "dir-out/secret.txt",
    "inside.txt%00.png",
]


@pytest.mark.parametrize("probe", PROBES)
async def test_reads_outside_the_root_are_refused(jcs_client, outside, probe: str) -> None:
    for prefix in ("api/contents/", "files/"):
        status, body = await raw(jcs_client, "GET", prefix + probe)
        assert status == 404, (prefix, probe, status)
        assert SECRET.encode() not in body
        assert json.loads(body)["reason"] == "not_found"  # never "outside_root": see below


async def test_absolute_paths_stay_inside_the_root(jcs_client, outside, tmp_path: Path) -> None:
    secret = str(outside["secret"]).lstrip("/")
    for path in (f"api/contents//{secret}", f"api/contents/%2F{secret}", f"files//{secret}", f"files/%2F{secret}"):
        status, body = await raw(jcs_client, "GET", path)
        assert status == 404 and SECRET.encode() not in body, path


async def test_writes_outside_the_root_are_refused(jcs_client, outside, tmp_path: Path) -> None:
    for probe in ("../evil.txt", "%2e%2e/evil.txt", "../root-sibling/evil.txt", "dir-out/evil.txt"):
        status, _ = await raw(jcs_client, "PUT", "api/contents/" + probe, json=text_model("evil"))
        assert status in (403, 404), probe
    status, _ = await raw(jcs_client, "PUT", "api/contents/link-out.txt", json=text_model("evil"))
    assert status == 404
    assert outside["secret"].read_text() == SECRET
    assert not list(tmp_path.glob("evil.txt")) and not list(outside["sibling"].glob("evil.txt"))
    for method, path, body in (
        ("PATCH", "api/contents/inside.txt", {"path": "../moved.txt"}),
        ("PATCH", "api/contents/inside.txt", {"path": "dir-out/moved.txt"}),
        ("POST", "api/contents", {"copy_from": "../secret.txt"}),
        ("POST", "api/contents", {"copy_from": "link-out.txt"}),
        ("POST", "api/contents/dir-out", {"type": "file"}),
        ("DELETE", "api/contents/dir-out/secret.txt", None),
        ("POST", "api/contents/link-out.txt/checkpoints", None),
    ):
        status, _ = await call(jcs_client, method, path, json=body)
        assert status in (403, 404), (method, path, body, status)
    assert outside["secret"].read_text() == SECRET
    assert (outside["sibling"] / "secret.txt").exists()
    assert not (tmp_path / "moved.txt").exists()


async def test_links_inside_the_root_work_and_links_out_are_not_listed(jcs_client, outside) -> None:
    status, model = await call(jcs_client, "GET", "api/contents/link-in.txt")
    assert status == 200 and model["content"] == "fine"
    status, listing = await call(jcs_client, "GET", "api/contents")
    names = {entry["name"] for entry in listing["content"]}
    assert names == {"inside.txt", "link-in.txt"}
    # saving through a link inside the root keeps the link and changes its target
    await call(jcs_client, "PUT", "api/contents/link-in.txt", json=text_model("changed"))
    status, model = await call(jcs_client, "GET", "api/contents/inside.txt")
    assert model["content"] == "changed"


async def test_hidden_files_are_refused_by_default(jcs_client, root: Path) -> None:
    (root / ".env").write_text("SECRET=1")
    (root / ".hidden").mkdir()
    (root / ".hidden" / "a.txt").write_text("a")
    (root / "__pycache__").mkdir()
    (root / "mod.pyc").write_bytes(b"\0")
    (root / "visible.txt").write_text("v")
    for path in (".env", ".hidden", ".hidden/a.txt", "__pycache__", "mod.pyc"):
        status, error = await call(jcs_client, "GET", f"api/contents/{path}")
        assert status == 404 and error["reason"] == "hidden", path
        async with jcs_client.get(f"files/{path}") as response:
            assert response.status == 404, path
    status, listing = await call(jcs_client, "GET", "api/contents")
    assert [entry["name"] for entry in listing["content"]] == ["visible.txt"]
    for method, path, body in (
        ("PUT", "api/contents/.env", text_model("x")),
        ("PUT", "api/contents/.new", text_model("x")),
        ("DELETE", "api/contents/.env", None),
        ("PATCH", "api/contents/visible.txt", {"path": ".visible"}),
        ("PATCH", "api/contents/.env", {"path": "env.txt"}),
        ("POST", "api/contents", {"copy_from": ".env"}),
        ("POST", "api/contents/.hidden", {"type": "file"}),
        ("POST", "api/contents/.env/checkpoints", None),
    ):
        status, error = await call(jcs_client, method, path, json=body)
        assert status in (403, 404), (method, path)
    assert (root / ".env").read_text() == "SECRET=1" and not (root / ".new").exists()


class TestAllowHidden:
    @pytest.fixture
    def jcs_config(self, jcs_config):
        jcs_config.ContentsManager.allow_hidden = True
        return jcs_config

    async def test_hidden_files_are_served(self, jcs_client, root: Path) -> None:
        (root / ".env").write_text("A=1")
        status, model = await call(jcs_client, "GET", "api/contents/.env")
        assert status == 200 and model["content"] == "A=1"
        status, listing = await call(jcs_client, "GET", "api/contents")
        assert ".env" in {entry["name"] for entry in listing["content"]}
        status, _ = await call(jcs_client, "PUT", "api/contents/.env", json=text_model("A=2"))
        assert status == 200 and (root / ".env").read_text() == "A=2"


async def test_links_out_answer_exactly_like_missing_paths(jcs_client, outside, caplog) -> None:
    """A client cannot tell a link leaving the root from a name that does not exist; the log can."""
    caplog.set_level(logging.INFO, "jupyter_core_server.contents")
    for link, missing in (
        ("link-out.txt", "missing.txt"),
        ("dir-out", "no-dir"),
        ("dir-out/secret.txt", "no-dir/secret.txt"),
    ):
        for route in ("api/contents/{}", "api/contents/{}?content=0", "api/contents/{}/checkpoints", "files/{}"):
            status, body = await raw(jcs_client, "GET", route.format(link))
            expected_status, expected = await raw(jcs_client, "GET", route.format(missing))
            assert (status, body.replace(link.encode(), missing.encode())) == (expected_status, expected), route.format(
                link
            )
            assert json.loads(body)["reason"] == "not_found"
        status, body = await raw(jcs_client, "PUT", f"api/contents/{link}", json=text_model("evil"))
        assert status == 404 and json.loads(body)["reason"] == "not_found", link
    status, body = await raw(jcs_client, "GET", "api/contents/../secret.txt")
    assert status == 404 and json.loads(body)["reason"] == "not_found"
    refusals = [r.getMessage() for r in caplog.records if "outside the contents root" in r.getMessage()]
    assert any("link-out.txt" in message for message in refusals), refusals
    assert any("dir-out/secret.txt" in message for message in refusals), refusals


async def test_overlong_names_are_a_400(jcs_client, root: Path) -> None:
    name = "x" * 300  # longer than any file system allows for one name
    for method, path, body in (
        ("GET", f"api/contents/{name}", None),
        ("PUT", f"api/contents/{name}", text_model("x")),
        ("PATCH", f"api/contents/{name}", {"path": "y"}),
        ("DELETE", f"api/contents/{name}", None),
        ("GET", f"api/contents/{name}/checkpoints", None),
        ("GET", f"files/{name}", None),
    ):
        status, error = await call(jcs_client, method, path, json=body)
        assert status == 400 and error["reason"] == "name_too_long", (method, status, error)


async def test_refusals_do_not_log_paths_outside_the_root(jcs_client, outside, caplog) -> None:
    await raw(jcs_client, "GET", "api/contents/link-out.txt")
    await raw(jcs_client, "GET", "files/dir-out/secret.txt")
    assert str(outside["secret"]) not in caplog.text
    assert str(outside["sibling"]) not in caplog.text


async def test_the_root_directory_itself_can_be_a_symlink(tmp_path: Path, jcs_config, jcs_plugin_manager) -> None:
    from jupyter_core_server.pytest_plugin import run_server

    real = tmp_path / "real-root"
    real.mkdir()
    (real / "a.txt").write_text("a")
    link = tmp_path / "linked-root"
    os.symlink(real, link)
    jcs_config.ContentsManager.root_dir = str(link)
    async with run_server(jcs_config, jcs_plugin_manager) as server:
        headers = {"Authorization": f"token {server.token}"}
        async with (
            aiohttp.ClientSession(headers=headers) as session,
            session.get(server.url + "api/contents/a.txt") as response,
        ):
            assert response.status == 200
            assert (await response.json())["content"] == "a"
