"""Headers on every response: framing (``frame-ancestors``), ``nosniff``, and the operator's own.

Every kind of response is checked, wherever it is made: API JSON, errors of the router
and of the security checks, redirects, static files, plugin routes (also ones that set
their own policy or stream), websocket handshakes and the parser's refusals.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from raw_http import exchange
from traitlets import TraitError
from traitlets.config import Config

from jupyter_core_server import hookimpl, public
from jupyter_core_server.app import CoreServerApp
from jupyter_core_server.headers import merge_policies

DEFAULT_CSP = "frame-ancestors 'self'"


def configured(**sections: dict[str, object]) -> pytest.MarkDecorator:
    return pytest.mark.parametrize("jcs_config", [sections], indirect=True, ids=["configured"])


class Framing:
    """Routes that answer in each of the ways a handler can, and a static folder."""

    def __init__(self, static: Path) -> None:
        self.static = static

    @hookimpl
    def register_routes(self) -> Sequence[web.RouteDef]:
        async def plain(request: web.Request) -> web.Response:
            return web.json_response({"ok": True})

        async def sandboxed(request: web.Request) -> web.Response:
            return web.Response(
                text="<p>hi</p>", content_type="text/html", headers={"Content-Security-Policy": "sandbox allow-scripts"}
            )

        async def own_ancestors(request: web.Request) -> web.Response:
            return web.Response(text="x", headers={"Content-Security-Policy": "frame-ancestors 'none'; sandbox"})

        async def own_nosniff_and_header(request: web.Request) -> web.Response:
            return web.Response(text="x", headers={"X-Frame-Options": "SAMEORIGIN"})

        async def redirect(request: web.Request) -> web.Response:
            raise web.HTTPFound("/api/status")

        async def streamed(request: web.Request) -> web.StreamResponse:
            response = web.StreamResponse()
            response.content_type = "text/plain"
            await response.prepare(request)
            await response.write(b"chunk")
            await response.write_eof()
            return response

        async def websocket(request: web.Request) -> web.WebSocketResponse:
            ws = web.WebSocketResponse()
            await ws.prepare(request)
            await ws.close()
            return ws

        @public
        async def anyone(request: web.Request) -> web.Response:
            return web.Response(text="public")

        prefix = "/extension/api/framing"
        return [
            web.get(f"{prefix}/plain", plain),
            web.get(f"{prefix}/sandboxed", sandboxed),
            web.get(f"{prefix}/own-ancestors", own_ancestors),
            web.get(f"{prefix}/own-header", own_nosniff_and_header),
            web.get(f"{prefix}/redirect", redirect),
            web.get(f"{prefix}/streamed", streamed),
            web.get(f"{prefix}/ws", websocket),
            web.get(f"{prefix}/public", anyone),
        ]

    @hookimpl
    def register_static(self) -> str:
        return str(self.static)


STATIC_TYPES = {
    "app.js": "javascript",
    "module.mjs": "javascript",
    "style.css": "text/css",
    "data.json": "application/json",
    "code.wasm": "application/wasm",
    "page.html": "text/html",
    "icon.svg": "image/svg+xml",
}


@pytest.fixture
def framing(jcs_register_plugin, tmp_path: Path) -> None:
    static = tmp_path / "static"
    static.mkdir()
    for name in STATIC_TYPES:
        (static / name).write_bytes(b"\0asm\1\0\0\0" if name.endswith(".wasm") else b"/* x */")
    jcs_register_plugin(Framing(static), "framing")


def assert_defaults(headers: Mapping[str, str], what: str, csp: str = DEFAULT_CSP) -> None:
    lower = {k.lower(): v for k, v in dict(headers).items()}
    assert lower.get("x-content-type-options") == "nosniff", (what, lower)
    assert lower.get("content-security-policy") == csp, (what, lower)


async def fetch(session: aiohttp.ClientSession, method: str, url: str, **kwargs: object) -> tuple[int, dict[str, str]]:
    async with session.request(method, url, allow_redirects=False, **kwargs) as response:
        await response.read()
        return response.status, dict(response.headers)


@pytest.mark.usefixtures("framing")
@configured(CoreServerApp={"max_body_size": 1024})
async def test_every_kind_of_response_carries_the_default_headers(jcs_server, jcs_client) -> None:
    url = jcs_server.url
    cases: list[tuple[str, str, dict[str, object], int]] = [
        ("GET", "api/status", {}, 200),
        ("GET", "api", {}, 200),
        ("GET", "no/such/route", {}, 404),
        ("POST", "api/status", {}, 405),
        ("POST", "api/sessions", {"data": b"x" * 4096}, 413),
        ("GET", "api/status", {"headers": {"Host": "evil.example"}}, 403),
        ("GET", "api/status", {"headers": {"Origin": "http://evil.example"}}, 403),
        ("GET", "extension/api/framing/plain", {}, 200),
        ("GET", "extension/api/framing/redirect", {}, 302),
        ("GET", "extension/api/framing/streamed", {}, 200),
        ("GET", "static/framing/app.js", {}, 200),
        ("GET", "static/framing/missing.js", {}, 404),
    ]
    for method, path, kwargs, status in cases:
        got, headers = await fetch(jcs_client.session, method, url + path, **kwargs)
        assert got == status, (method, path, got)
        assert_defaults(headers, f"{method} {path}")

    async with aiohttp.ClientSession() as anonymous:
        for path, status, accept in [
            ("api/status", 403, "*/*"),
            ("api/status", 302, "text/html"),
            ("extension/api/framing/public", 200, "*/*"),
        ]:
            got, headers = await fetch(anonymous, "GET", url + path, headers={"Accept": accept})
            assert got == status, (path, got)
            assert_defaults(headers, f"anonymous {path} {accept}")

    handshake = (
        "GET /extension/api/framing/ws HTTP/1.1\r\n"
        f"Host: 127.0.0.1:{jcs_server.app.actual_port}\r\nAuthorization: token {jcs_server.token}\r\n"
        "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
    )
    response = await exchange(jcs_server.app.actual_port, handshake.encode())
    assert response.status == 101
    assert_defaults(response.headers, "websocket handshake")


@pytest.mark.usefixtures("framing")
async def test_a_response_with_its_own_policy_keeps_it(jcs_client) -> None:
    _, headers = await fetch(jcs_client.session, "GET", jcs_client.url("extension/api/framing/sandboxed"))
    assert headers["Content-Security-Policy"] == "sandbox allow-scripts; frame-ancestors 'self'"
    assert headers["X-Content-Type-Options"] == "nosniff"
    _, headers = await fetch(jcs_client.session, "GET", jcs_client.url("extension/api/framing/own-ancestors"))
    assert headers["Content-Security-Policy"] == "frame-ancestors 'none'; sandbox"


@pytest.mark.usefixtures("framing")
async def test_static_files_have_types_that_survive_nosniff(jcs_client) -> None:
    for name, expected in STATIC_TYPES.items():
        async with jcs_client.get(f"static/framing/{name}") as response:
            assert response.status == 200
            assert expected in response.headers["Content-Type"], (name, response.headers["Content-Type"])
            assert response.headers["X-Content-Type-Options"] == "nosniff"


async def test_parser_refusals_carry_the_default_headers(jcs_server) -> None:
    response = await exchange(jcs_server.app.actual_port, b"GET / HTTP/9.9\r\nHost: 127.0.0.1\r\n\r\n")
    assert response.status == 400
    assert_defaults(response.headers, "parser error")


@pytest.mark.usefixtures("framing")
@configured(
    CoreServerApp={"content_security_policy": "frame-ancestors 'self' https://portal.example; object-src 'none'"}
)
async def test_operator_policy_replaces_the_default(jcs_client) -> None:
    _, headers = await fetch(jcs_client.session, "GET", jcs_client.url("api/status"))
    assert headers["Content-Security-Policy"] == "frame-ancestors 'self' https://portal.example; object-src 'none'"
    _, headers = await fetch(jcs_client.session, "GET", jcs_client.url("extension/api/framing/sandboxed"))
    assert (
        headers["Content-Security-Policy"]
        == "sandbox allow-scripts; frame-ancestors 'self' https://portal.example; object-src 'none'"
    )


@configured(CoreServerApp={"content_security_policy": ""})
async def test_empty_policy_sends_none(jcs_client) -> None:
    _, headers = await fetch(jcs_client.session, "GET", jcs_client.url("api/status"))
    assert "Content-Security-Policy" not in headers
    assert headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.usefixtures("framing")
@configured(
    CoreServerApp={
        "response_headers": {
            "content-security-policy": "frame-ancestors 'none'",
            "X-Frame-Options": "DENY",
            "Strict-Transport-Security": "max-age=31536000",
        }
    }
)
async def test_operator_headers_are_sent_and_their_policy_wins(jcs_server, jcs_client) -> None:
    for path in ("api/status", "no/such/route"):
        _, headers = await fetch(jcs_client.session, "GET", jcs_client.url(path))
        assert_defaults(headers, path, csp="frame-ancestors 'none'")
        assert headers["X-Frame-Options"] == "DENY"
        assert headers["Strict-Transport-Security"] == "max-age=31536000"
    # a handler's own value of a header is kept (operator headers are defaults)
    _, headers = await fetch(jcs_client.session, "GET", jcs_client.url("extension/api/framing/own-header"))
    assert headers["X-Frame-Options"] == "SAMEORIGIN"
    response = await exchange(jcs_server.app.actual_port, b"GET / HTTP/9.9\r\n\r\n")
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["content-security-policy"] == "frame-ancestors 'none'"


@pytest.mark.parametrize(
    "headers",
    [
        {"X-Evil": "a\r\nSet-Cookie: x=1"},
        {"X-Evil": "a\nb"},
        {"Bad Name": "1"},
        {"X:Colon": "1"},
        {"": "1"},
        {"X-\u00e9": "1"},
        {"X-Nul": "a\0b"},
    ],
)
def test_invalid_operator_headers_are_refused_at_start(headers: dict[str, str]) -> None:
    config = Config()
    config.CoreServerApp.response_headers = headers
    with pytest.raises(TraitError):
        CoreServerApp(config=config)


@pytest.mark.parametrize("policy", ["frame-ancestors 'self'\r\nX-Injected: 1", "a\nb"])
def test_invalid_policy_is_refused_at_start(policy: str) -> None:
    config = Config()
    config.CoreServerApp.content_security_policy = policy
    with pytest.raises(TraitError):
        CoreServerApp(config=config)


@pytest.mark.parametrize(
    ("own", "configured_policy", "merged"),
    [
        ("sandbox allow-scripts", "frame-ancestors 'self'", "sandbox allow-scripts; frame-ancestors 'self'"),
        (
            "frame-ancestors 'self'; sandbox allow-scripts",
            "frame-ancestors 'self'",
            "frame-ancestors 'self'; sandbox allow-scripts",
        ),
        ("Frame-Ancestors 'none'", "frame-ancestors 'self'", "Frame-Ancestors 'none'"),
        (
            "sandbox;",
            "default-src 'self'; frame-ancestors 'self'",
            "sandbox; default-src 'self'; frame-ancestors 'self'",
        ),
        ("", "frame-ancestors 'self'", "frame-ancestors 'self'"),
        ("sandbox", "", "sandbox"),
    ],
)
def test_policies_merge_by_directive(own: str, configured_policy: str, merged: str) -> None:
    assert merge_policies(own, configured_policy) == merged
