"""One authentication path: the middleware, public pages and websockets all use ``authenticate``.

And the login-cookie rule: a request authenticated by the core's token, in the
``Authorization`` header or in ``?token=``, gets the login cookie (as jupyter_server
does), unless it carries a valid one already, opens a websocket, or comes from an
identity that is not the core's own.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

import aiohttp
import pytest
from aiohttp import web
from raw_http import exchange

from jupyter_core_server import hookimpl
from jupyter_core_server.auth import authenticate
from jupyter_core_server.auth.identity import Identity, identity_of
from jupyter_core_server.errors import ApiError, Forbidden
from jupyter_core_server.routing import public


def anonymous() -> aiohttp.ClientSession:
    """A client without credentials that keeps cookies set for 127.0.0.1, as a browser does."""
    return aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))


def token_header(server) -> dict[str, str]:
    return {"Authorization": f"token {server.token}"}


class WhoAmI:
    """A public route that authenticates itself, as a page does, and a websocket."""

    @hookimpl
    def register_routes(self) -> Sequence[web.RouteDef]:
        @public
        async def whoami(request: web.Request) -> web.Response:
            identity = await authenticate(request)
            if identity is None:
                return web.json_response({"who": None})
            assert identity_of(request) is identity  # recorded on the request, once
            assert await authenticate(request) is identity
            return web.json_response({"who": identity.username, "via": identity.via})

        async def echo(request: web.Request) -> web.WebSocketResponse:
            ws = web.WebSocketResponse()
            await ws.prepare(request)
            await ws.send_str(identity_of(request).username)
            await ws.close()
            return ws

        return [web.get("/extension/api/who/me", whoami), web.get("/extension/api/who/ws", echo)]


@pytest.fixture
def who(jcs_register_plugin) -> None:
    jcs_register_plugin(WhoAmI(), "who")


# -- the login cookie --------------------------------------------------------------------------


async def test_header_token_sets_the_login_cookie_that_websockets_then_use(jcs_server) -> None:
    async with anonymous() as browser:
        async with browser.get(jcs_server.url + "api/status", headers=token_header(jcs_server)) as response:
            assert response.status == 200
            assert {jcs_server.app.cookie_name, "_xsrf"} <= set(response.cookies)
            assert response.cookies[jcs_server.app.cookie_name]["httponly"]
        # as @jupyterlab/services does on the page's own host: the websocket carries no token
        async with browser.post(
            jcs_server.url + "api/kernels", json={"name": "python3"}, headers=token_header(jcs_server)
        ) as response:
            assert response.status == 201
            kernel_id = (await response.json())["id"]
        async with browser.ws_connect(jcs_server.ws_url(f"api/kernels/{kernel_id}/channels")) as ws:
            assert not ws.closed
        async with browser.delete(
            jcs_server.url + f"api/kernels/{kernel_id}", headers=token_header(jcs_server)
        ) as response:
            assert response.status == 204


async def test_a_valid_login_cookie_is_not_replaced(jcs_server) -> None:
    sessions = jcs_server.app.authenticator.login_sessions
    async with anonymous() as browser:
        async with browser.get(jcs_server.url + "api/status", params={"token": jcs_server.token}) as response:
            assert jcs_server.app.cookie_name in response.cookies
        count = len(sessions)
        for _ in range(3):
            async with browser.get(jcs_server.url + "api/status", headers=token_header(jcs_server)) as response:
                assert response.status == 200
                assert "Set-Cookie" not in response.headers
            async with browser.get(jcs_server.url + "api/status", params={"token": jcs_server.token}) as response:
                assert "Set-Cookie" not in response.headers
        assert len(sessions) == count


async def test_an_invalid_login_cookie_is_replaced_on_a_token_request(jcs_server) -> None:
    async with anonymous() as browser:
        async with browser.get(jcs_server.url + "api/status", headers=token_header(jcs_server)) as response:
            stale = response.cookies[jcs_server.app.cookie_name].value
        jcs_server.app.authenticator.revoke_cookie(stale)  # as a logout elsewhere would
        async with browser.get(jcs_server.url + "api/status", headers=token_header(jcs_server)) as response:
            fresh = response.cookies[jcs_server.app.cookie_name].value
        assert fresh != stale
        async with browser.get(jcs_server.url + "api/status") as response:
            assert response.status == 200


async def test_api_clients_without_cookies_share_one_login_session(jcs_server) -> None:
    """A program calling the API with the token never sends the cookie back: one session serves all its calls."""
    sessions = jcs_server.app.authenticator.login_sessions
    before = len(sessions)
    values = set()
    async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as program:
        for _ in range(20):
            async with program.get(jcs_server.url + "api/status", headers=token_header(jcs_server)) as response:
                values.add(response.cookies[jcs_server.app.cookie_name].value)
                assert response.cookies[jcs_server.app.cookie_name]["httponly"]
                assert response.cookies["_xsrf"]["path"] == "/"
    assert len(values) == 1 and len(sessions) == before + 1
    # a logout with that cookie ends the shared session; the next token request starts another
    async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as program:
        cookie = {"Cookie": f"{jcs_server.app.cookie_name}={values.pop()}"}
        async with program.get(jcs_server.url + "logout", headers=cookie, allow_redirects=False) as response:
            assert response.status == 302
        async with program.get(jcs_server.url + "api/status", headers=cookie) as response:
            assert response.status == 403
        async with program.get(jcs_server.url + "api/status", headers=token_header(jcs_server)) as response:
            fresh = response.cookies[jcs_server.app.cookie_name].value
        async with program.get(
            jcs_server.url + "api/status", headers={"Cookie": f"{jcs_server.app.cookie_name}={fresh}"}
        ) as response:
            assert response.status == 200


@pytest.mark.usefixtures("who")
async def test_websocket_handshakes_get_no_cookie(jcs_server) -> None:
    port = jcs_server.app.actual_port
    for credentials in (f"Authorization: token {jcs_server.token}\r\n", ""):
        target = "/extension/api/who/ws" + ("" if credentials else f"?token={jcs_server.token}")
        handshake = (
            f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n{credentials}"
            "Upgrade: websocket\r\nConnection: Upgrade\r\n"
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            writer.write(handshake)
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
        finally:
            writer.close()
        assert head.startswith(b"HTTP/1.1 101"), head
        assert b"set-cookie" not in head.lower(), head


async def test_login_cookie_is_not_set_on_refusals_or_cookie_requests(jcs_server) -> None:
    async with anonymous() as browser:
        async with browser.get(jcs_server.url + "api/status", headers={"Authorization": "token wrong"}) as response:
            assert response.status == 403 and "Set-Cookie" not in response.headers
        async with browser.get(jcs_server.url + "api/status", params={"token": jcs_server.token}):
            pass
        async with browser.get(jcs_server.url + "api/status") as response:  # the cookie alone
            assert response.status == 200 and "Set-Cookie" not in response.headers


class PluginTokens:
    """Identifies ``Authorization: token alice-secret`` as alice: an API token of another service."""

    @hookimpl(tryfirst=True)
    def identify(self, request: web.Request) -> Identity | None:
        if request.headers.get("Authorization") == "token alice-secret":
            return Identity(username="alice", via="token")
        return None


@pytest.fixture
def plugin_tokens(jcs_register_plugin) -> None:
    jcs_register_plugin(PluginTokens(), "plugintokens")


@pytest.mark.usefixtures("plugin_tokens")
async def test_a_plugins_token_identity_gets_no_login_cookie(jcs_server) -> None:
    async with anonymous() as browser:
        async with browser.get(jcs_server.url + "api/me", headers={"Authorization": "token alice-secret"}) as response:
            assert (await response.json())["identity"]["username"] == "alice"
            assert "Set-Cookie" not in response.headers  # else the browser would be logged in as the server's user
        async with browser.get(jcs_server.url + "api/me") as response:
            assert response.status == 403
        # the core's own token, with the plugin enabled, still gets its cookie
        async with browser.get(jcs_server.url + "api/me", headers=token_header(jcs_server)) as response:
            assert jcs_server.app.cookie_name in response.cookies


# -- authenticate() and the identify hooks -------------------------------------------------------


@pytest.mark.usefixtures("who")
async def test_public_route_authenticates_with_the_same_function(jcs_server) -> None:
    async with anonymous() as browser:
        async with browser.get(jcs_server.url + "extension/api/who/me") as response:
            assert await response.json() == {"who": None}
            assert "Set-Cookie" not in response.headers
        async with browser.get(jcs_server.url + "extension/api/who/me", headers=token_header(jcs_server)) as response:
            assert await response.json() == {"who": "jupyter", "via": "token"}
            assert jcs_server.app.cookie_name in response.cookies  # the same cookie rule as every route
        async with browser.get(jcs_server.url + "extension/api/who/me") as response:
            assert await response.json() == {"who": "jupyter", "via": "cookie"}


class AsyncDirectory:
    """Asks a (simulated) directory service about ``X-User``, the way a hub plugin asks its hub."""

    def __init__(self) -> None:
        self.asked = 0

    @hookimpl(tryfirst=True)
    async def identify_async(self, request: web.Request) -> Identity | None:
        user = request.headers.get("X-User")
        if user is None:
            return None
        self.asked += 1
        await asyncio.sleep(0.01)  # the I/O of asking
        if user == "bob":
            raise Forbidden("Not allowing user bob: this server belongs to another user.", "not_allowed")
        return Identity(username=user, via="directory")


@pytest.fixture
def directory(jcs_register_plugin) -> AsyncDirectory:
    plugin = AsyncDirectory()
    jcs_register_plugin(plugin, "directory")
    return plugin


@pytest.mark.usefixtures("who")
async def test_hook_identify_async(directory: AsyncDirectory, jcs_server) -> None:
    async with anonymous() as client:
        for path in ("api/me", "extension/api/who/me"):
            async with client.get(jcs_server.url + path, headers={"X-User": "alice"}) as response:
                assert response.status == 200, path
                body = await response.json()
                assert body.get("who", body.get("identity", {}).get("username")) == "alice"
                assert "Set-Cookie" not in response.headers
            async with client.get(jcs_server.url + path, headers={"X-User": "bob"}) as response:
                assert response.status == 403, path
                assert (await response.json())["reason"] == "not_allowed"
        async with client.ws_connect(jcs_server.ws_url("extension/api/who/ws"), headers={"X-User": "alice"}) as ws:
            assert (await ws.receive_str(timeout=10)) == "alice"
        # no opinion: the core's token decides
        async with client.get(jcs_server.url + "api/me", headers=token_header(jcs_server)) as response:
            assert (await response.json())["identity"]["username"] == "jupyter"
    assert directory.asked == 5


class LegacyAwaitable:
    """The shape development versions allowed: a sync ``identify`` returning an awaitable."""

    @hookimpl(tryfirst=True)
    def identify(self, request: web.Request):
        user = request.headers.get("X-Legacy-User")
        if user is None:
            return None

        async def ask() -> Identity:
            await asyncio.sleep(0)
            if user == "bob":
                raise ApiError("Not allowing user bob.", "not_allowed", status=403)
            return Identity(username=user, via="legacy")

        return ask()


@pytest.fixture
def legacy(jcs_register_plugin) -> None:
    jcs_register_plugin(LegacyAwaitable(), "legacy")


@pytest.mark.usefixtures("legacy", "who")
async def test_an_awaitable_from_identify_is_still_awaited_everywhere(
    jcs_server, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, "jupyter_core_server")
    async with anonymous() as client:
        for path in ("api/me", "extension/api/who/me"):
            async with client.get(jcs_server.url + path, headers={"X-Legacy-User": "bob"}) as response:
                assert response.status == 403, path
            async with client.get(jcs_server.url + path, headers={"X-Legacy-User": "alice"}) as response:
                assert response.status == 200, path
    warnings = [r for r in caplog.records if "identify_async" in r.getMessage()]
    assert len(warnings) == 1  # said once, not on every request


async def test_refusals_are_rendered_by_the_error_middleware(jcs_server) -> None:
    """The security middleware raises; the error middleware (outside it) writes the one JSON shape."""
    port = jcs_server.app.actual_port
    refused = await exchange(
        port, f"GET /api/status HTTP/1.1\r\nHost: evil.example:{port}\r\nConnection: close\r\n\r\n".encode()
    )
    assert refused.status == 403 and refused.json() == {
        "message": "Host header not allowed; set CoreServerApp.local_hostnames or allow_remote_access.",
        "reason": "host_not_allowed",
    }
    assert refused.headers["content-type"].startswith("application/json")
    assert "frame-ancestors" in refused.headers["content-security-policy"]
