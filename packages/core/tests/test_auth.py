"""Authentication and browser security on every route: tokens, cookies, XSRF, CORS, Host, login."""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import Sequence

import aiohttp
import pytest
from aiohttp import web
from yarl import URL

from jupyter_core_server import hookimpl
from jupyter_core_server.auth.identity import Identity, hash_password

API_ROUTES = ["/api/status", "/api/me", "/api/plugins", "/api/spec.json", "/api/spec.yaml", "/"]
PUBLIC_ROUTES = ["/api", "/api/health", "/api/ready", "/login"]


def configured(**sections: dict[str, object]) -> pytest.MarkDecorator:
    """Start the test's server with these settings, e.g. ``CoreServerApp={"debug": True}``."""
    return pytest.mark.parametrize("jcs_config", [sections], indirect=True, ids=["configured"])


def anonymous(**kwargs) -> aiohttp.ClientSession:
    """A client without credentials that keeps cookies set for 127.0.0.1."""
    return aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True), **kwargs)


class EchoPlugin:
    """Answers ``POST /extension/api/echo/`` with the JSON it received."""

    @hookimpl
    def register_routes(self) -> Sequence[web.RouteDef]:
        async def echo(request: web.Request) -> web.Response:
            return web.json_response(await request.json())

        return [web.post("/extension/api/echo/", echo)]


@pytest.fixture
def echo_plugin(jcs_register_plugin) -> None:
    jcs_register_plugin(EchoPlugin(), "echo")


# -- credentials -----------------------------------------------------------------------


@pytest.mark.parametrize("scheme", ["token", "bearer", "Token", "Bearer"])
async def test_token_in_authorization_header(jcs_server, scheme: str) -> None:
    headers = {"Authorization": f"{scheme} {jcs_server.token}"}
    async with anonymous() as session, session.get(jcs_server.url + "api/status", headers=headers) as response:
        assert response.status == 200


async def test_token_in_query_sets_a_cookie_that_authenticates_later_requests(jcs_server) -> None:
    async with anonymous() as session:
        async with session.get(jcs_server.url + "api/status", params={"token": jcs_server.token}) as response:
            assert response.status == 200
            assert jcs_server.app.cookie_name in response.cookies
            assert response.cookies[jcs_server.app.cookie_name]["httponly"]
            assert jcs_server.token not in response.cookies[jcs_server.app.cookie_name].value
        async with session.get(jcs_server.url + "api/status") as response:
            assert response.status == 200
    async with anonymous() as session, session.get(jcs_server.url + "api/status") as response:
        assert response.status == 403


async def test_cookie_name_is_unique_per_server_even_on_port_zero(jcs_server) -> None:
    assert jcs_server.app.cookie_name.endswith(str(jcs_server.app.actual_port))


async def test_forged_cookie_is_refused(jcs_server) -> None:
    cookies = {jcs_server.app.cookie_name: "1700000000.0123456789abcdef"}
    async with anonymous(cookies=cookies) as session, session.get(jcs_server.url + "api/status") as response:
        assert response.status == 403


@pytest.mark.parametrize(
    "how",
    [
        {"headers": {"Authorization": "token wrong"}},
        {"params": {"token": "wrong"}},
        {"headers": {"Authorization": "Basic x"}},
    ],
)
async def test_wrong_token_is_403(jcs_server, how) -> None:
    async with anonymous() as session, session.get(jcs_server.url + "api/status", **how) as response:
        assert response.status == 403
        assert (await response.json())["reason"] == "unauthenticated"


@pytest.mark.parametrize("path", [*API_ROUTES, "/nope", "/api/nope", "/extension/api/nobody/x"])
async def test_every_route_needs_a_token(jcs_server, jcs_client, path: str) -> None:
    async with anonymous() as session, session.get(jcs_server.url + path.lstrip("/")) as response:
        assert response.status == 403, path
        assert response.content_type == "application/json"
    async with jcs_client.get(path) as response:
        assert response.status == (404 if "nope" in path or "nobody" in path else 200), path


def routed(server) -> list[tuple[str, str, bool]]:
    """Every registered route as ``(method, concrete path, public)``, parameters filled with unknown values."""
    from jupyter_core_server.keys import ROUTE_INFO
    from jupyter_core_server.openapi import openapi_path

    found = {
        (info.method, re.sub(r"\{\w+\}", "no-such-thing", openapi_path(info.path)), info.public)
        for info in server.web_app[ROUTE_INFO].values()
    }
    return sorted(found)


async def test_every_registered_route_needs_a_token_unless_public(jcs_server, jcs_client) -> None:
    routes = routed(jcs_server)
    assert ("GET", "/api/status", False) in routes and ("GET", "/api", True) in routes
    async with anonymous() as session:
        for method, path, public in routes:
            async with session.request(method, jcs_server.url + path.lstrip("/"), allow_redirects=False) as response:
                if public:
                    assert response.status != 403, (method, path)
                else:
                    assert response.status == 403, (method, path)
                    assert (await response.json())["reason"] == "unauthenticated"
    for method, path, _ in routes:
        if method == "GET":
            async with jcs_client.get(path) as response:
                assert response.status in (200, 404), (method, path, response.status)


@pytest.mark.parametrize("path", PUBLIC_ROUTES)
async def test_public_routes_need_no_token(jcs_server, path: str) -> None:
    async with anonymous() as session, session.get(jcs_server.url + path.lstrip("/")) as response:
        assert response.status == 200, path


async def test_post_routes_need_a_token(jcs_server) -> None:
    async with anonymous() as session, session.post(jcs_server.url + "api/shutdown") as response:
        assert response.status == 403


# -- XSRF --------------------------------------------------------------------------------


@pytest.mark.usefixtures("echo_plugin")
async def test_cookie_authenticated_post_needs_the_xsrf_header(jcs_server) -> None:
    url = jcs_server.url + "extension/api/echo/"
    async with anonymous() as session:
        async with session.get(jcs_server.url + "api/status", params={"token": jcs_server.token}) as response:
            assert response.status == 200
        xsrf = session.cookie_jar.filter_cookies(URL(jcs_server.url))["_xsrf"].value
        async with session.post(url, json={"a": 1}) as response:
            assert response.status == 403
            assert (await response.json())["reason"] == "xsrf"
        async with session.post(url, json={"a": 1}, headers={"X-XSRFToken": "not-" + xsrf}) as response:
            assert response.status == 403
        async with session.post(url, json={"a": 1}, headers={"X-XSRFToken": xsrf}) as response:
            assert response.status == 200
            assert await response.json() == {"a": 1}


@pytest.mark.usefixtures("echo_plugin")
async def test_token_authenticated_post_needs_no_xsrf(jcs_client) -> None:
    async with jcs_client.post("extension/api/echo/", json=[1]) as response:
        assert response.status == 200


# -- CORS and Host -------------------------------------------------------------------------


async def test_disallowed_origin_is_403(jcs_client) -> None:
    async with jcs_client.get("api/status", headers={"Origin": "http://evil.example"}) as response:
        assert response.status == 403
        assert (await response.json())["reason"] == "origin_not_allowed"


async def test_same_origin_is_allowed(jcs_server, jcs_client) -> None:
    origin = jcs_server.url.rstrip("/")
    async with jcs_client.get("api/status", headers={"Origin": origin}) as response:
        assert response.status == 200


@configured(CoreServerApp={"allow_origin": "http://good.example, https://other.example:8443"})
async def test_allow_origin_list(jcs_client) -> None:
    for origin in ("http://good.example", "https://other.example:8443"):
        async with jcs_client.get("api/status", headers={"Origin": origin}) as response:
            assert response.status == 200, origin
            assert response.headers["Access-Control-Allow-Origin"] == origin
            assert "Access-Control-Allow-Credentials" not in response.headers
    async with jcs_client.get("api/status", headers={"Origin": "http://good.example.evil.com"}) as response:
        assert response.status == 403


@configured(CoreServerApp={"allow_origin_pat": r"https://[a-z]+\.good\.example", "allow_credentials": True})
async def test_allow_origin_pat_must_match_in_full(jcs_client) -> None:
    async with jcs_client.get("api/status", headers={"Origin": "https://app.good.example"}) as response:
        assert response.status == 200
        assert response.headers["Access-Control-Allow-Origin"] == "https://app.good.example"
        assert response.headers["Access-Control-Allow-Credentials"] == "true"
    for origin in ("https://app.good.example.evil.com", "https://app.good.example:1", "http://app.good.example"):
        async with jcs_client.get("api/status", headers={"Origin": origin}) as response:
            assert response.status == 403, origin


@configured(CoreServerApp={"allow_origin": "http://good.example"})
async def test_preflight_is_answered_without_credentials(jcs_server) -> None:
    headers = {
        "Origin": "http://good.example",
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type",
    }
    async with anonymous() as session:
        async with session.options(jcs_server.url + "api/shutdown", headers=headers) as response:
            assert response.status == 204
            assert response.headers["Access-Control-Allow-Origin"] == "http://good.example"
            assert "POST" in response.headers["Access-Control-Allow-Methods"]
            assert "authorization" in response.headers["Access-Control-Allow-Headers"].lower()
        headers["Origin"] = "http://evil.example"
        async with session.options(jcs_server.url + "api/shutdown", headers=headers) as response:
            assert response.status == 403


@pytest.mark.parametrize("path", ["api/status", "api"])
async def test_foreign_host_header_is_refused(jcs_client, path: str) -> None:
    async with jcs_client.get(path, headers={"Host": "evil.example"}) as response:
        assert response.status == 403
        assert (await response.json())["reason"] == "host_not_allowed"


@pytest.mark.parametrize("host", ["localhost:{port}", "LOCALHOST", "127.0.0.1:{port}", "[::1]:{port}", "127.1.2.3"])
async def test_loopback_host_header_is_accepted(jcs_server, jcs_client, host: str) -> None:
    async with jcs_client.get("api/status", headers={"Host": host.format(port=jcs_server.app.actual_port)}) as response:
        assert response.status == 200


@configured(CoreServerApp={"local_hostnames": ["localhost", "notebook.internal"]})
async def test_local_hostnames_are_accepted(jcs_client) -> None:
    async with jcs_client.get("api/status", headers={"Host": "notebook.internal:8888"}) as response:
        assert response.status == 200
    async with jcs_client.get("api/status", headers={"Host": "notebook.internal.evil.com"}) as response:
        assert response.status == 403


@configured(CoreServerApp={"allow_remote_access": True})
async def test_foreign_host_allowed_with_allow_remote_access(jcs_client) -> None:
    async with jcs_client.get("api/status", headers={"Host": "evil.example"}) as response:
        assert response.status == 200


# -- password login ------------------------------------------------------------------------


@configured(Authenticator={"hashed_password": hash_password("correct horse")})
async def test_password_login_sets_a_cookie_and_redirects(jcs_server) -> None:
    async with anonymous() as session:
        async with session.get(jcs_server.url + "api/status") as response:
            assert response.status == 403
        form = {"password": "wrong", "next": "/api/status"}
        async with session.post(jcs_server.url + "login", data=form, allow_redirects=False) as response:
            assert response.status == 401
            assert jcs_server.app.cookie_name not in response.cookies
        form["password"] = "correct horse"
        async with session.post(jcs_server.url + "login", data=form, allow_redirects=False) as response:
            assert response.status == 302
            assert response.headers["Location"] == "/api/status"
            assert jcs_server.app.cookie_name in response.cookies
        async with session.get(jcs_server.url + "api/status") as response:
            assert response.status == 200


async def test_login_with_the_token_works_too(jcs_server) -> None:
    async with anonymous() as session:
        form = {"password": jcs_server.token}
        async with session.post(jcs_server.url + "login", data=form, allow_redirects=False) as response:
            assert response.status == 302 and response.headers["Location"] == "/"
        async with session.get(jcs_server.url + "api/me") as response:
            assert response.status == 200


@pytest.mark.parametrize(
    "target",
    [
        "//evil.com",
        "http://evil",
        "https://evil.com/api",
        "/\\evil.com",
        "\\\\evil.com",
        "/\t/evil.com",
        "/\n/evil.com",
        "javascript:alert(1)",
    ],
)
async def test_login_next_never_leaves_the_server(jcs_server, target: str) -> None:
    async with anonymous() as session:
        async with session.get(jcs_server.url + "login", params={"next": target}) as response:
            page = await response.text()
            assert response.status == 200
            assert "evil" not in page and "javascript" not in page
        form = {"password": jcs_server.token, "next": target}
        async with session.post(jcs_server.url + "login", data=form, allow_redirects=False) as response:
            assert response.status == 302
            assert response.headers["Location"] == "/"


async def test_login_next_keeps_a_local_path(jcs_server) -> None:
    async with anonymous() as session:
        form = {"password": jcs_server.token, "next": "/api/me?x=1"}
        async with session.post(jcs_server.url + "login", data=form, allow_redirects=False) as response:
            assert response.headers["Location"] == "/api/me?x=1"


async def test_logout_forgets_the_cookie(jcs_server) -> None:
    async with anonymous() as session:
        async with session.post(jcs_server.url + "login", data={"password": jcs_server.token}, allow_redirects=False):
            pass
        async with session.get(jcs_server.url + "api/me") as response:
            assert response.status == 200
        async with session.get(jcs_server.url + "logout", allow_redirects=False) as response:
            assert response.status == 302
        async with session.get(jcs_server.url + "api/me") as response:
            assert response.status == 403


# -- logs ------------------------------------------------------------------------------------


async def test_token_never_reaches_the_access_log(jcs_server, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="jupyter_core_server.access")
    token = jcs_server.token
    requests = [
        ("GET", "api/status?token=" + token, {}),
        ("GET", "nope?token=" + token + "&x=1", {}),
        ("GET", "api/status?TOKEN=" + token, {}),
        ("GET", "api/me", {"Authorization": f"token {token}", "Referer": f"http://127.0.0.1/?token={token}"}),
        ("GET", "api/status", {"Authorization": "token wrong-" + token}),
    ]
    async with anonymous() as session:
        for method, path, headers in requests:
            async with session.request(method, jcs_server.url + path, headers=headers) as response:
                await response.read()
        async with session.post(jcs_server.url + "login", data={"password": token}, allow_redirects=False):
            pass

    def access_records() -> list[logging.LogRecord]:
        return [r for r in caplog.records if r.name == "jupyter_core_server.access"]

    for _ in range(100):  # the access log is written just after the response is sent
        if len(access_records()) >= len(requests) + 1:
            break
        await asyncio.sleep(0.02)
    records = access_records()
    assert len(records) >= len(requests) + 1
    assert any("[secret]" in r.getMessage() for r in records)
    for record in caplog.records:
        assert token not in record.getMessage()
        assert token not in repr(record.args)


# -- identity and authorization hooks ------------------------------------------------------------


async def test_api_me_reports_identity_and_permissions(jcs_client) -> None:
    wanted = {"kernels": ["read"], "sessions": ["read", "write"]}
    async with jcs_client.get("api/me", params={"permissions": json.dumps(wanted)}) as response:
        assert response.status == 200
        body = await response.json()
    assert body["identity"]["username"] == "jupyter"
    assert {"name", "display_name", "initials", "avatar_url", "color"} <= set(body["identity"])
    assert body["permissions"] == wanted


async def test_api_me_without_permissions_and_with_bad_ones(jcs_client) -> None:
    async with jcs_client.get("api/me") as response:
        assert (await response.json())["permissions"] == {}
    for bad in ("{not json", '["kernels"]', '{"kernels": "read"}'):
        async with jcs_client.get("api/me", params={"permissions": bad}) as response:
            assert response.status == 400, bad
            assert (await response.json())["reason"] == "invalid_permissions"


class ReadOnly:
    """Refuses every write, and reading kernels."""

    @hookimpl
    def authorize(self, action: str, resource: str) -> bool | None:
        if action == "write" or resource == "kernels":
            return False
        return None


@pytest.fixture
def read_only(jcs_register_plugin) -> None:
    jcs_register_plugin(ReadOnly(), "readonly")


@pytest.mark.usefixtures("read_only", "echo_plugin")
async def test_hook_authorize(jcs_client) -> None:
    async with jcs_client.get("api/status") as response:
        assert response.status == 200
    async with jcs_client.post("api/shutdown") as response:
        assert response.status == 403
        assert (await response.json())["reason"] == "not_authorized"
    async with jcs_client.post("extension/api/echo/", json={}) as response:
        assert response.status == 403
    wanted = {"kernels": ["read"], "sessions": ["read", "write"]}
    async with jcs_client.get("api/me", params={"permissions": json.dumps(wanted)}) as response:
        assert (await response.json())["permissions"] == {"kernels": [], "sessions": ["read"]}


class HeaderIdentity:
    """Trusts an ``X-Remote-User`` header, as a plugin behind an authenticating proxy would."""

    @hookimpl
    def identify(self, request: web.Request) -> Identity | None:
        user = request.headers.get("X-Remote-User")
        if user == "mallory":
            raise web.HTTPForbidden()
        return Identity(username=user, via="proxy") if user else None


@pytest.fixture
def header_identity(jcs_register_plugin) -> None:
    jcs_register_plugin(HeaderIdentity(), "proxyauth")


@pytest.mark.usefixtures("header_identity", "echo_plugin")
async def test_hook_identify(jcs_server) -> None:
    async with anonymous() as session:
        async with session.get(jcs_server.url + "api/me", headers={"X-Remote-User": "ada"}) as response:
            assert response.status == 200
            assert (await response.json())["identity"]["username"] == "ada"
        async with session.post(
            jcs_server.url + "extension/api/echo/", json=1, headers={"X-Remote-User": "ada"}
        ) as response:
            assert response.status == 200  # not cookie-authenticated: no XSRF check
        async with session.get(jcs_server.url + "api/me", headers={"X-Remote-User": "mallory"}) as response:
            assert response.status == 403
        async with session.get(jcs_server.url + "api/me") as response:
            assert response.status == 403
        # the core's token authentication still applies when the plugin has no opinion
        async with session.get(
            jcs_server.url + "api/me", headers={"Authorization": f"token {jcs_server.token}"}
        ) as response:
            assert (await response.json())["identity"]["username"] == "jupyter"


@configured(Authenticator={"token": ""})
async def test_empty_token_without_password_disables_auth_on_loopback(jcs_server) -> None:
    async with anonymous() as session, session.get(jcs_server.url + "api/status") as response:
        assert response.status == 200


# -- websockets --------------------------------------------------------------------------------------


class SocketPlugin:
    """A websocket that echoes text frames."""

    @hookimpl
    def register_routes(self) -> Sequence[web.RouteDef]:
        async def echo(request: web.Request) -> web.WebSocketResponse:
            ws = web.WebSocketResponse()
            await ws.prepare(request)
            async for message in ws:
                await ws.send_str(message.data)
            return ws

        return [web.get("/extension/api/sock/echo", echo)]


@pytest.fixture
def socket_plugin(jcs_register_plugin) -> None:
    jcs_register_plugin(SocketPlugin(), "sock")


async def ws_status(session: aiohttp.ClientSession, url: str, **kwargs) -> int:
    """Open a websocket, exchange one message and return 101, or return the refusal's status."""
    try:
        async with session.ws_connect(url, **kwargs) as ws:
            await ws.send_str("ping")
            assert (await ws.receive(timeout=10)).data == "ping"
            return 101
    except aiohttp.WSServerHandshakeError as error:
        return error.status


@pytest.mark.usefixtures("socket_plugin")
async def test_websocket_needs_a_token(jcs_server) -> None:
    url = jcs_server.ws_url("extension/api/sock/echo")
    async with anonymous() as session:
        assert await ws_status(session, url) == 403
        assert await ws_status(session, url + "?token=wrong") == 403
        assert await ws_status(session, f"{url}?token={jcs_server.token}") == 101
        assert await ws_status(session, url, headers={"Authorization": f"token {jcs_server.token}"}) == 101


@pytest.mark.usefixtures("socket_plugin")
async def test_websocket_origin_is_checked(jcs_server) -> None:
    url = jcs_server.ws_url("extension/api/sock/echo")
    async with anonymous() as session:
        async with session.get(jcs_server.url + "api/status", params={"token": jcs_server.token}):
            pass  # a browser that logged in: its cookie goes with every websocket
        assert await ws_status(session, url, origin="http://evil.example") == 403
        assert await ws_status(session, url, origin=jcs_server.url.rstrip("/")) == 101
        assert await ws_status(session, url) == 101  # no Origin: not a browser


async def test_anonymous_browser_is_sent_to_the_login_page(jcs_server) -> None:
    async with aiohttp.ClientSession() as session:
        page = {"Accept": "text/html,application/xhtml+xml"}
        async with session.get(jcs_server.url + "?x=1", headers=page, allow_redirects=False) as response:
            assert response.status == 302
            assert response.headers["Location"] == "/login?next=%2F%3Fx%3D1"
        async with session.get(jcs_server.url + "api/kernels", allow_redirects=False) as response:
            assert response.status == 403  # API clients get the JSON error
        async with session.post(jcs_server.url + "api/kernels", headers=page, allow_redirects=False) as response:
            assert response.status == 403
