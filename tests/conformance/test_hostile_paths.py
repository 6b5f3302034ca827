"""Path traversal, with encoded variants, everywhere a path is taken, across every installed plugin.

The contents plugin's own suite probes its URL routes (``test_path_safety.py``) and
nbconvert mirrors it (``test_traversal_is_refused_as_contents_refuses_it``); the terminals
suite refuses a ``cwd`` outside the root. This file adds what crosses plugins and what
arrives in request bodies: rename targets, ``copy_from``, a session's or kernel's
``path`` (the kernel's working directory), a terminal's ``cwd``, kernelspec resources,
checkpoints, and double-encoded or overlong-UTF-8 spellings on every URL route.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from jupyter_core_server.pytest_plugin import ServerClient, open_kernel_channels
from wire import has_plugin, needs, terminal_output
from yarl import URL

SECRET = "the secret outside the root"
URL_PROBES = [
    "%252e%252e/secret.txt",  # double-encoded ../
    "%252e%252e%252fsecret.txt",
    "..%c0%afsecret.txt",  # overlong UTF-8 "/"
    "%c0%ae%c0%ae/secret.txt",  # overlong UTF-8 "."
    "..%252fsecret.txt",
    "....//secret.txt",
    "..;/secret.txt",
    "%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fpasswd",
    "%ff%fe/../../secret.txt",  # invalid UTF-8 then traversal
]
BODY_PROBES = [
    "../secret.txt",
    "../../secret.txt",
    "/etc/passwd",
    "sub/../../secret.txt",
    "..\\secret.txt",
    "%2e%2e/secret.txt",
    "~/secret.txt",
    "inside.txt\x00../../secret.txt",
]


@pytest.fixture
def layout(tmp_path: Path) -> Path:
    """The server's root with one file, and a secret file next to it; return the root."""
    root = tmp_path / "root"
    root.mkdir(exist_ok=True)
    (root / "inside.txt").write_text("fine")
    (root / "sub").mkdir()
    (tmp_path / "secret.txt").write_text(SECRET)
    return root


def outside_files(tmp_path: Path, root: Path) -> set[Path]:
    """Every file under ``tmp_path`` that is not under the root or the server's config dirs."""
    return {
        p
        for p in tmp_path.rglob("*")
        if root not in p.parents and p != root and "jupyter" not in p.relative_to(tmp_path).parts
    }


async def raw(client: ServerClient, method: str, raw_path: str, **kwargs: object) -> tuple[int, bytes]:
    url = URL(client.server.url + raw_path.lstrip("/"), encoded=True)
    async with client.session.request(method, url, **kwargs) as response:  # type: ignore[arg-type]
        return response.status, await response.read()


def url_routes() -> list[str]:
    routes = ["kernelspecs/python3/"]
    if has_plugin("contents"):
        routes += ["api/contents/", "files/", "api/contents/inside.txt/checkpoints/../../"]
    if has_plugin("nbconvert") and has_plugin("contents"):
        routes += ["nbconvert/html/"]
    return routes


@pytest.mark.parametrize("probe", URL_PROBES)
async def test_encoded_traversal_on_every_url_route(
    jcs_client: ServerClient, layout: Path, tmp_path: Path, probe: str
) -> None:
    before = outside_files(tmp_path, layout)
    for route in url_routes():
        for method in ("GET", "PUT", "DELETE", "PATCH", "POST"):
            body = (
                {"type": "file", "format": "text", "content": "pwned"}
                if method in ("PUT", "POST")
                else {"path": "moved.txt"}
            )
            status, data = await raw(jcs_client, method, route + probe, json=body)
            assert status < 500, (method, route, probe, status, data[:300])
            assert SECRET.encode() not in data
            if status >= 400:
                assert json.loads(data)["message"], data
            elif data:  # decoded once, a double-encoded name is a literal file name inside the root
                assert ".." not in json.loads(data)["path"].split("/"), data
    assert outside_files(tmp_path, layout) == before
    assert (tmp_path / "secret.txt").read_text() == SECRET


@needs("contents")
@pytest.mark.parametrize("target", BODY_PROBES)
async def test_rename_and_copy_targets_stay_inside(
    jcs_client: ServerClient, layout: Path, tmp_path: Path, target: str
) -> None:
    before = outside_files(tmp_path, layout)
    async with jcs_client.patch("api/contents/inside.txt", json={"path": target}) as response:
        assert response.status in (400, 403, 404, 409), (target, response.status, await response.text())
    async with jcs_client.post("api/contents/sub", json={"copy_from": target}) as response:
        assert response.status in (400, 403, 404), (target, response.status, await response.text())
        assert SECRET not in await response.text()
    assert (layout / "inside.txt").read_text() == "fine"
    assert outside_files(tmp_path, layout) == before
    assert not any(SECRET in p.read_text(errors="replace") for p in layout.rglob("*") if p.is_file())


@pytest.mark.parametrize(
    "path", ["../../escape.ipynb", "/etc/escape.ipynb", "sub/../../../escape.ipynb", "..\\..\\escape.ipynb"]
)
async def test_session_and_kernel_paths_never_start_a_kernel_outside_the_root(
    jcs_client: ServerClient, layout: Path, path: str
) -> None:
    """A session's path (and a kernel's) picks the kernel's folder: it stays inside the root,
    or the request is refused."""
    async with jcs_client.post(
        "api/sessions", json={"path": path, "type": "notebook", "kernel": {"name": "python3"}}
    ) as response:
        text = await response.text()
        assert response.status in (201, 400, 403, 404), (response.status, text)
        kernel_id = (await response.json())["kernel"]["id"] if response.status == 201 else None
    async with jcs_client.post("api/kernels", json={"name": "python3", "path": path}) as response:
        text = await response.text()
        assert response.status in (201, 400, 403, 404), (response.status, text)
        kernel_ids = [kernel_id, (await response.json())["id"] if response.status == 201 else None]
    for kid in filter(None, kernel_ids):
        async with open_kernel_channels(jcs_client, kid, "legacy") as kc:
            cwd = Path((await kc.execute("import os; print(os.getcwd())")).stream().strip())
        assert cwd == layout or layout in cwd.parents, (path, cwd)


@needs("terminals")
@pytest.mark.parametrize("cwd", ["%2e%2e", "..%2f..", "sub/../..", "/", "~", "../root-sibling", "sub/\x00/.."])
async def test_terminal_cwd_stays_inside(jcs_client: ServerClient, layout: Path, cwd: str) -> None:
    async with jcs_client.post("api/terminals", json={"cwd": cwd}) as response:
        text = await response.text()
        if response.status == 200:  # a literal folder name like "%2e%2e" that does not exist is not an escape
            name = (await response.json())["name"]
            async with jcs_client.ws_connect(f"terminals/websocket/{name}") as ws:
                seen = await terminal_output(ws, "pwd; echo done-$((1 + 1))", "done-2")
            assert str(layout) in seen, seen
        else:
            assert response.status in (400, 403, 404), (response.status, text)
            assert json.loads(text)["message"]


async def test_kernelspec_resources_refuse_escapes(jcs_client: ServerClient) -> None:
    for probe in [
        "..%2fkernel.json",
        "%2e%2e/%2e%2e/etc/passwd",
        "/etc/passwd",
        "..%5c..%5ckernel.json",
        "logo-64x64.png%00.txt",
        "%252e%252e/kernel.json",
    ]:
        status, data = await raw(jcs_client, "GET", "kernelspecs/python3/" + probe)
        assert status in (400, 403, 404), (probe, status)
        assert b"root:" not in data
