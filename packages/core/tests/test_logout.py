"""Logging out ends the login on the server: a copy of the old cookie is refused afterwards."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import time

import aiohttp
import pytest

from jupyter_core_server.auth.logins import LoginSessions


def configured(**authenticator: object) -> pytest.MarkDecorator:
    """Start the test's server with these ``Authenticator`` settings."""
    return pytest.mark.parametrize("jcs_config", [{"Authenticator": authenticator}], indirect=True, ids=["configured"])


def anonymous(**kwargs: object) -> aiohttp.ClientSession:
    """A client without credentials that keeps cookies set for 127.0.0.1."""
    return aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True), **kwargs)  # type: ignore[arg-type]


async def form_login(server) -> str:
    """Log in through the form with the token; return the login cookie's value."""
    async with (
        anonymous() as session,
        session.post(server.url + "login", data={"password": server.token}, allow_redirects=False) as response,
    ):
        assert response.status == 302
        return response.cookies[server.app.cookie_name].value


async def kernels_status(server, cookie: str, **headers: str) -> int:
    """``GET /api/kernels`` with only this login cookie (no token); return the status."""
    async with (
        anonymous(cookies={server.app.cookie_name: cookie}) as session,
        session.get(server.url + "api/kernels", headers=headers, allow_redirects=False) as response,
    ):
        return response.status


async def logout(server, cookie: str) -> None:
    async with (
        anonymous(cookies={server.app.cookie_name: cookie}) as session,
        session.get(server.url + "logout", allow_redirects=False) as response,
    ):
        assert response.status == 302
        assert response.headers["Location"] == "/login"
        assert response.cookies[server.app.cookie_name].value == ""  # the browser deletes its copy


async def test_a_cookie_replayed_after_logout_is_refused(jcs_server) -> None:
    cookie = await form_login(jcs_server)
    assert await kernels_status(jcs_server, cookie) == 200
    await logout(jcs_server, cookie)
    assert await kernels_status(jcs_server, cookie) == 403
    # a browser with the old cookie is sent to the login page
    assert await kernels_status(jcs_server, cookie, Accept="text/html") == 302


async def test_a_second_login_survives_the_first_ones_logout(jcs_server) -> None:
    first, second = await form_login(jcs_server), await form_login(jcs_server)
    assert first != second
    await logout(jcs_server, first)
    assert await kernels_status(jcs_server, first) == 403
    assert await kernels_status(jcs_server, second) == 200


async def test_the_token_login_cookie_ends_with_logout_too(jcs_server) -> None:
    async with (
        anonymous() as session,
        session.get(jcs_server.url + "api/status", params={"token": jcs_server.token}) as response,
    ):
        cookie = response.cookies[jcs_server.app.cookie_name].value
    assert await kernels_status(jcs_server, cookie) == 200
    await logout(jcs_server, cookie)
    assert await kernels_status(jcs_server, cookie) == 403


async def test_logout_without_a_valid_cookie_just_redirects(jcs_server) -> None:
    for cookie in ["", "garbage", "1700000000.abc.def", "1.2.3.4"]:
        await logout(jcs_server, cookie)
    assert await kernels_status(jcs_server, await form_login(jcs_server)) == 200


async def test_a_correctly_signed_cookie_without_a_live_session_is_refused(jcs_server) -> None:
    secret = jcs_server.app.authenticator.cookie_secret.encode()
    issued = str(int(time.time()))
    stateless = (
        f"{issued}.{hmac.new(secret, issued.encode(), hashlib.sha256).hexdigest()}"  # the cookie before sessions
    )
    assert await kernels_status(jcs_server, stateless) == 403
    made_up = f"{issued}.{'0' * 32}"
    forged = f"{made_up}.{hmac.new(secret, made_up.encode(), hashlib.sha256).hexdigest()}"  # signed, never issued
    assert await kernels_status(jcs_server, forged) == 403


@pytest.mark.parametrize(
    "value", ["\u00b2.abc.def", "9" * 5000 + ".abc.def", "1700000000.abc.d\u00e9f", "1700000000.\u00e9.def"]
)
async def test_malformed_cookies_are_refused_not_errors(jcs_server, value: str) -> None:
    headers = {"Cookie": f"{jcs_server.app.cookie_name}={value}".encode().decode("latin-1")}
    async with aiohttp.ClientSession() as session:
        for path in ("api/kernels", "logout"):
            async with session.get(jcs_server.url + path, headers=headers, allow_redirects=False) as response:
                assert response.status in (403, 302)


@pytest.mark.parametrize(
    "header",
    [b"Cookie: NAME=1700000000.\xff\xfe.\xff", b"Authorization: token \xff\xfe", b"Cookie: NAME=\xed\xa0\x80.a.b"],
)
async def test_undecodable_credentials_are_refused_not_errors(jcs_server, header: bytes) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", jcs_server.app.actual_port)
    try:
        header = header.replace(b"NAME", jcs_server.app.cookie_name.encode())
        writer.write(b"GET /api/kernels HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n" + header + b"\r\n\r\n")
        status_line = await asyncio.wait_for(reader.readline(), 10)
    finally:
        writer.close()
    assert status_line.split()[1] == b"403"


@configured(login_max_sessions=3)
async def test_token_urls_do_not_grow_the_login_sessions_without_bound(jcs_server) -> None:
    cookies = []
    async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as session:
        for _ in range(10):
            # each ?token= request without a login cookie sets a fresh one, as each browser opening the banner URL gets
            async with session.get(jcs_server.url + "api/status", params={"token": jcs_server.token}) as response:
                cookies.append(response.cookies[jcs_server.app.cookie_name].value)
    assert len(jcs_server.app.authenticator.login_sessions) == 3
    assert [await kernels_status(jcs_server, cookie) for cookie in cookies] == [403] * 7 + [200] * 3


# -- the session store ---------------------------------------------------------------------------


def test_sessions_expire_and_are_dropped() -> None:
    sessions = LoginSessions(capacity=10)
    old = sessions.create(lifetime=10, now=1000)
    new = sessions.create(lifetime=10, now=1005)
    assert sessions.alive(old, now=1009) and sessions.alive(new, now=1009)
    assert not sessions.alive(old, now=1010)
    assert len(sessions) == 1  # the expired one is gone, not just refused
    sessions.create(lifetime=10, now=1020)  # creating drops every expired one
    assert len(sessions) == 1 and not sessions.alive(new, now=1020)


def test_sessions_beyond_the_capacity_end_the_least_recently_used() -> None:
    sessions = LoginSessions(capacity=2)
    ids = [sessions.create(lifetime=100, now=1000 + i) for i in range(3)]
    assert len(sessions) == 2
    assert [sessions.alive(sid, now=1010) for sid in ids] == [False, True, True]
    assert sessions.alive(ids[1], now=1011)  # in use: now the third is the least recently used
    ids.append(sessions.create(lifetime=100, now=1012))
    assert [sessions.alive(sid, now=1013) for sid in ids] == [False, True, False, True]
    sessions.revoke(ids[1])
    sessions.revoke(ids[1])  # twice is fine
    assert [sessions.alive(sid, now=1014) for sid in ids] == [False, False, False, True]
