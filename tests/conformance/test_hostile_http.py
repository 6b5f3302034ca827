"""Hostile HTTP input on every route the running server documents, whichever plugins are installed.

The routes come from the server's own ``/api/spec.yaml``, so a plugin that adds a route
is probed without changing this file. Covered elsewhere and not repeated: malformed JSON
on the core's routes and the 413 shape (core ``test_errors.py``), tokens, cookies,
XSRF and origins on the core's routes (core ``test_auth.py``), contents' own bad bodies
(contents ``test_contents_api.py::test_put_errors``).
"""

from __future__ import annotations

import contextlib
import json
import re
import secrets
import signal
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import yaml
from jupyter_core_server.pytest_plugin import CliServer, ServerClient, start_kernel
from wire import assert_json_error, has_plugin, needs
from yarl import URL

BODY_METHODS = ("post", "put", "patch")
WRITE_METHODS = ("post", "put", "patch", "delete")
SKIPPED_PATHS = {"/api/shutdown", "/login", "/logout"}  # shutdown ends the test; login is a public form
# Nested too deeply for a recursive decoder (Python's fails past its recursion limit): each really nests.
DEEP = [
    b"[" * 1_000 + b"]" * 1_000,
    b"[" * 100_000 + b"]" * 100_000,
    b'{"a":' * 10_000 + b"1" + b"}" * 10_000,
    b'{"cells": ' + b"[" * 5_000 + b"]" * 5_000 + b"}",
]
MALFORMED = [b"{", b"[1, 2]", b'"a string"', b"42", b"\xff\xfe{\x00}", b'{"a": 1}{"b": 2}', b'{"a": "\\ud800"}', *DEEP]


async def served_spec(client: ServerClient) -> dict[str, Any]:
    async with client.get("api/spec.yaml") as response:
        spec: dict[str, Any] = yaml.safe_load(await response.read())
    return spec


async def resources(client: ServerClient, root: Path) -> dict[str, str]:
    """Real values for every path parameter, so that requests reach the handlers' body parsing."""
    values = {
        "kernel_name": "python3",
        "resource": "kernel.json",
        "format": "html",
        "checkpoint_id": "checkpoint",
        "path": "doc.ipynb",
    }
    values["kernel_id"] = await start_kernel(client, name="python3")
    async with client.post(
        "api/sessions", json={"path": "s.ipynb", "type": "notebook", "kernel": {"id": values["kernel_id"]}}
    ) as response:
        values["session_id"] = (await response.json())["id"]
    if has_plugin("contents"):
        notebook = {"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
        async with client.put(
            "api/contents/doc.ipynb", json={"type": "notebook", "format": "json", "content": notebook}
        ) as response:
            assert response.status == 201
    if has_plugin("terminals"):
        async with client.post("api/terminals") as response:
            values["name"] = (await response.json())["name"]
    return values


def operations(
    spec: dict[str, Any], methods: tuple[str, ...], *, with_body: bool = False
) -> list[tuple[str, str, dict[str, Any]]]:
    """The documented operations with one of ``methods`` (only those that take a body, if asked)."""
    found = []
    for path, item in spec["paths"].items():
        if path in SKIPPED_PATHS or path.endswith(("/channels", "/websocket/{name}")):
            continue
        found += [(path, m, op) for m, op in item.items() if m in methods and (not with_body or "requestBody" in op)]
    return found


def fill(path: str, values: dict[str, str]) -> str:
    return re.sub(r"\{([^}]+)\}", lambda m: values.get(m.group(1), "x"), path).lstrip("/")


async def test_malformed_bodies_on_every_route(jcs_client: ServerClient, tmp_path: Path) -> None:
    values = await resources(jcs_client, tmp_path / "root")
    spec = await served_spec(jcs_client)
    tried = 0
    for path, method, _ in operations(spec, BODY_METHODS, with_body=True):
        for body in MALFORMED:
            headers = {"Content-Type": "application/json"}
            async with jcs_client.request(method.upper(), fill(path, values), data=body, headers=headers) as response:
                tried += 1
                text = await response.text()
                assert response.status < 500, (method, path, body[:40], response.status, text[:300])
                if response.status >= 400:
                    error = await assert_json_error(response)
                    if body in DEEP and response.status == 400 and error["reason"] != "json_too_deep":
                        # only a route that refuses before it reads any body may say something else
                        async with jcs_client.request(
                            method.upper(), fill(path, values), data=b"{}", headers=headers
                        ) as plain:
                            assert plain.status == 400, (method, path, body[:40], error)
                            assert (await plain.json())["reason"] == error["reason"], (method, path, body[:40], error)
                elif body in DEEP:
                    raise AssertionError(
                        f"{method} {path} accepted a body nested too deeply: {response.status} {text[:200]}"
                    )
    assert tried >= len(MALFORMED) * 3  # the core alone has three routes with a body
    # The server still works after all that.
    async with jcs_client.get(f"api/kernels/{values['kernel_id']}") as response:
        assert response.status == 200


WRONG_TYPES: list[tuple[str, str, Any]] = [
    ("post", "api/kernels", {"name": 5}),
    ("post", "api/kernels", {"name": ["python3"]}),
    ("post", "api/kernels", {"name": "python3", "env": "PATH=/tmp"}),
    ("post", "api/kernels", {"name": "python3", "env": {"KERNEL_X": 5}}),
    ("post", "api/sessions", {"path": 5, "type": "notebook", "kernel": {"name": "python3"}}),
    ("post", "api/sessions", {"path": "a.ipynb", "type": "notebook", "kernel": "python3"}),
    ("post", "api/sessions", {"path": "a.ipynb", "type": "notebook", "kernel": {"id": 5}}),
    ("post", "api/sessions", {"path": "a.ipynb", "type": ["notebook"], "kernel": {"name": "python3"}}),
    ("patch", "api/sessions/{session_id}", {"path": 5}),
    ("patch", "api/sessions/{session_id}", {"kernel": []}),
    ("patch", "api/sessions/{session_id}", {"kernel": {"id": {"nested": True}}}),
    # No file name holds a NUL: the OS refuses one in a working directory or an environment value.
    ("post", "api/kernels", {"name": "python3", "path": "a\x00b.ipynb"}),
    ("post", "api/sessions", {"path": "a\x00b.ipynb", "type": "notebook", "kernel": {"name": "python3"}}),
    ("post", "api/sessions", {"path": "a.ipynb", "name": "\x00", "type": "notebook", "kernel": {"name": "python3"}}),
    ("patch", "api/sessions/{session_id}", {"path": "a\x00b.ipynb"}),
    ("patch", "api/sessions/{session_id}", {"name": "a\x00b.ipynb", "kernel": {"name": "python3"}}),
]
CONTENTS_WRONG_TYPES: list[tuple[str, str, Any]] = [
    ("put", "api/contents/w.txt", {"type": "file", "format": "text", "content": 5}),
    ("put", "api/contents/w.txt", {"type": "file", "format": "text", "content": {"a": 1}}),
    ("put", "api/contents/w.txt", {"type": 5, "format": "text", "content": "x"}),
    ("put", "api/contents/w.txt", {"type": "file", "format": "base64", "content": "!!not base64!!"}),
    ("put", "api/contents/w.txt", {"type": "file", "format": ["text"], "content": "x"}),
    ("put", "api/contents/w.ipynb", {"type": "notebook", "format": "json", "content": "not a notebook"}),
    ("put", "api/contents/w.txt", {"type": "file", "format": "text", "content": "x", "chunk": "one"}),
    ("post", "api/contents", {"type": ["file"]}),
    ("post", "api/contents", {"ext": 5}),
    ("post", "api/contents", {"copy_from": {"path": "doc.ipynb"}}),
    ("patch", "api/contents/doc.ipynb", {"path": 5}),
    ("patch", "api/contents/doc.ipynb", {"path": ["x.ipynb"]}),
]
TERMINALS_WRONG_TYPES: list[tuple[str, str, Any]] = [
    ("post", "api/terminals", {"name": 5}),
    ("post", "api/terminals", {"name": "../etc"}),
    ("post", "api/terminals", {"cwd": ["."]}),
    ("post", "api/terminals", {"cwd": "~nosuchuser"}),
    ("post", "api/terminals", {"cwd": "a\x00b"}),
]
NBCONVERT_WRONG_TYPES: list[tuple[str, str, Any]] = [
    ("post", "nbconvert/html", {"cells": "not a list", "nbformat": 4}),
    ("post", "nbconvert/html", [1, 2, 3]),
    ("post", "api/nbconvert", {"format": 5}),
]


async def test_wrong_types_are_400_and_change_nothing(jcs_client: ServerClient, tmp_path: Path) -> None:
    root = tmp_path / "root"
    values = await resources(jcs_client, root)
    cases = list(WRONG_TYPES)
    cases += CONTENTS_WRONG_TYPES if has_plugin("contents") else []
    cases += TERMINALS_WRONG_TYPES if has_plugin("terminals") else []
    cases += NBCONVERT_WRONG_TYPES if has_plugin("nbconvert") else []
    before = sorted(p.name for p in root.iterdir())
    for method, path, body in cases:
        async with jcs_client.request(method.upper(), fill(path, values), json=body) as response:
            text = await response.text()
            # 501 is Jupyter's documented answer for a kernel name that is not installed.
            assert response.status < 500 or response.status == 501, (method, path, body, response.status, text)
            if response.status < 400:
                raise AssertionError(f"{method} {path} {body!r} was accepted: {response.status} {text[:200]}")
            await assert_json_error(response, response.status)
    if has_plugin("contents"):  # a refused save leaves no file and no temporary file behind
        assert sorted(p.name for p in root.iterdir()) == before


@pytest.mark.parametrize("jcs_config", [{"CoreServerApp": {"max_body_size": 64 * 1024}}], indirect=True)
async def test_huge_bodies_are_413_on_every_route(jcs_client: ServerClient, tmp_path: Path) -> None:
    root = tmp_path / "root"
    values = await resources(jcs_client, root)
    spec = await served_spec(jcs_client)
    huge = json.dumps({"content": "x" * (200 * 1024), "type": "file", "format": "text"}).encode()

    async def chunks() -> Any:  # no Content-Length: the limit holds for a streamed body too
        for start in range(0, len(huge), 16 * 1024):
            yield huge[start : start + 16 * 1024]

    before = sorted(p.name for p in root.iterdir())
    tried = 0
    for path, method, _ in operations(spec, BODY_METHODS, with_body=True):
        for body in (huge, chunks()):
            async with jcs_client.request(
                method.upper(), fill(path, values), data=body, headers={"Content-Type": "application/json"}
            ) as response:
                tried += 1
                text = await response.text()
                # Routes that refuse the request before reading its body may answer 400/404/405 first.
                assert response.status in (400, 404, 405, 413), (method, path, response.status, text[:300])
                if response.status == 413:
                    await assert_json_error(response, 413)
    assert tried >= 6
    assert sorted(p.name for p in root.iterdir()) == before


@needs("contents")
async def test_header_injection_through_names(jcs_client: ServerClient) -> None:
    """Names with CR/LF or quotes never split a response header or add one."""
    hostile = [
        "a\r\nSet-Cookie: pwned=1.txt",
        'b"; filename="evil.sh',
        "c\nX-Injected: 1.txt",
        "d\u2028e.txt",
        "é\r.txt",
    ]
    for name in hostile:
        quoted = URL.build(path="/" + name).raw_path.lstrip("/")
        async with jcs_client.session.put(
            URL(jcs_client.url("api/contents/") + quoted, encoded=True),
            json={"type": "file", "format": "text", "content": "x"},
        ) as response:
            # The router matches no path with a line feed in it (404); a lone CR is a legal file name.
            assert response.status in (201, 400, 404), (name, response.status)
            created = response.status == 201
            headers = response.raw_headers
        for checked in (headers,) + ((await _download_headers(jcs_client, quoted),) if created else ()):
            for key, value in checked:
                assert b"\r" not in value and b"\n" not in value, (name, key, value)
                assert key.lower() not in (b"x-injected",), (name, key)
                assert not (key.lower() == b"set-cookie" and b"pwned" in value), (name, value)
    async with jcs_client.post(
        "api/sessions",
        json={"path": "s.ipynb", "name": "n\r\nX-Injected: 1", "type": "notebook", "kernel": {"name": "python3"}},
    ) as response:
        assert response.status in (201, 400)
        assert all(b"\n" not in value for _, value in response.raw_headers)
        assert "X-Injected" not in response.headers


async def _download_headers(client: ServerClient, quoted: str) -> tuple[tuple[bytes, bytes], ...]:
    async with client.session.get(URL(client.url("files/") + quoted + "?download=1", encoded=True)) as response:
        assert response.status == 200
        headers: tuple[tuple[bytes, bytes], ...] = response.raw_headers
        return headers


async def test_xsrf_on_every_write_route(jcs_server: Any, tmp_path: Path) -> None:
    """With a login cookie (what a browser holds), every write needs the _xsrf value in X-XSRFToken."""
    jar = aiohttp.CookieJar(unsafe=True)
    async with aiohttp.ClientSession(cookie_jar=jar) as session:
        client = ServerClient(jcs_server, session)
        async with session.get(client.url(f"api/status?token={jcs_server.token}")) as response:
            assert response.status == 200
        xsrf = next(c.value for c in jar if c.key == "_xsrf")
        token_client = ServerClient(
            jcs_server, aiohttp.ClientSession(headers={"Authorization": f"token {jcs_server.token}"})
        )
        async with token_client.session:
            values = await resources(token_client, tmp_path / "root")
            spec = await served_spec(token_client)
        tried = 0
        for path, method, _ in operations(spec, WRITE_METHODS):
            # An Upgrade header makes no write a websocket: only a GET handshake is one.
            upgrade = {
                "Upgrade": "websocket",
                "Connection": "Upgrade",
                "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
                "Sec-WebSocket-Version": "13",
            }
            for headers in (
                {},
                {"X-XSRFToken": secrets.token_hex(16)},
                {"X-XSRFToken": ""},
                {"Upgrade": "websocket"},
                upgrade,
            ):
                async with client.request(method.upper(), fill(path, values), json={}, headers=headers) as response:
                    tried += 1
                    body = await assert_json_error(response, 403)
                    assert body["reason"] == "xsrf", (method, path, body)
        assert tried >= 5 * 6
        # The same cookie with the right header gets past the check (to whatever the handler says).
        async with client.get("api/kernels", headers={"X-XSRFToken": xsrf}) as response:
            assert response.status == 200
        async with client.post("api/kernels", json={"name": "python3"}, headers={"X-XSRFToken": xsrf}) as response:
            assert response.status == 201, await response.text()


async def test_cross_origin_writes_and_websockets_are_refused_on_every_route(
    jcs_client: ServerClient, tmp_path: Path
) -> None:
    values = await resources(jcs_client, tmp_path / "root")
    spec = await served_spec(jcs_client)
    for path, method, _ in operations(spec, ("get", *WRITE_METHODS)):
        async with jcs_client.request(
            method.upper(), fill(path, values), json={}, headers={"Origin": "http://evil.example"}
        ) as response:
            if path in ("/api", "/api/health", "/api/ready", "/"):  # public probes answer anyone, without CORS headers
                assert "Access-Control-Allow-Origin" not in response.headers
                continue
            body = await assert_json_error(response, 403)
            assert body["reason"] == "origin_not_allowed", (method, path, body)
    channels = [f"api/kernels/{values['kernel_id']}/channels"] + (
        [f"terminals/websocket/{values['name']}"] if "name" in values else []
    )
    for url in channels:
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            async with jcs_client.ws_connect(url, headers={"Origin": "http://evil.example"}):
                pass
        assert refused.value.status == 403


def test_token_never_reaches_the_log(jcs_cli_server: CliServer) -> None:
    """A --debug server with every installed plugin, asked with the token in each place it is accepted."""
    token = secrets.token_hex(24)
    server = jcs_cli_server("--debug", f"--token={token}")
    urls = [
        "api/status",
        "api/kernels",
        "api/sessions",
        "api/kernelspecs",
        "api/me",
        "nope",
        "api/kernels/not-a-kernel",
    ]
    urls += ["api/contents", "files/missing.txt"] if has_plugin("contents") else []
    urls += ["api/terminals"] if has_plugin("terminals") else []
    for url in urls:
        server.get(f"{url}?token={token}")
        server.get(f"{url}?a=1&token={token}&b=2")
        server.get(url, token)
    server.get(f"api/kernels/x/channels?token={token}")  # a websocket path without the upgrade
    form = f"token={token}&next=/api/status".encode()
    request = urllib.request.Request(server.url + "login", data=form, method="POST")
    with contextlib.suppress(urllib.error.HTTPError):  # the redirect's follow-up carries no cookie
        urllib.request.urlopen(request, timeout=10).close()
    banner = server.stdout
    server.send_signal(signal.SIGTERM)
    server.wait()
    assert "token=[secret]" in server.stderr  # the requests were logged, the token masked
    assert token not in server.stderr
    assert server.stdout.count(token) == banner.count(token)


async def test_kernel_path_of_the_wrong_type_is_400(jcs_client: ServerClient) -> None:
    async with jcs_client.post("api/kernels", json={"name": "python3", "path": 7}) as response:
        await assert_json_error(response, 400)
