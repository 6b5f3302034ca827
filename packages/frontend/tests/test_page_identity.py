"""Pages authenticate with the server's one authentication function, so an identity plugin that must wait works.

A plugin answering ``identify_async`` (as the JupyterHub plugin does when its cache
misses) decides who opens a page exactly as it decides for the API: the right user gets
the page, another user gets 403, never a 500.
"""

from __future__ import annotations

import asyncio

import aiohttp
import pytest
from aiohttp import web
from jupyter_core_server import Forbidden, hookimpl
from jupyter_core_server.auth import Identity

PAGES = (
    "lab",
    "lab/tree/x.ipynb",
    "tree",
    "notebooks/a.ipynb",
    "edit/a.txt",
    "consoles/c",
    "terminals/1",
    "lab/api/nothing-here",
)


class Directory:
    """Knows two users by their ``X-User`` header, after a moment of asking; only alice owns this server."""

    @hookimpl(tryfirst=True)
    async def identify_async(self, request: web.Request) -> Identity | None:
        user = request.headers.get("X-User")
        if user is None:
            return None
        await asyncio.sleep(0.01)
        if user != "alice":
            raise Forbidden(f"Not allowing user {user}: this server belongs to another user.", "not_allowed")
        return Identity(username="alice", via="directory")


class LegacyDirectory:
    """The same, in the shape development versions allowed: a sync ``identify`` returning an awaitable."""

    @hookimpl(tryfirst=True)
    def identify(self, request: web.Request):
        user = request.headers.get("X-User")
        if user is None:
            return None
        return Directory().identify_async(request)


@pytest.fixture(params=[Directory, LegacyDirectory], ids=["identify_async", "awaitable"])
def directory(request: pytest.FixtureRequest, jcs_register_plugin) -> None:
    jcs_register_plugin(request.param(), "directory")


@pytest.mark.usefixtures("directory")
async def test_pages_wait_for_an_identity_plugin(jcs_server, root) -> None:
    (root / "a.txt").write_text("hello")
    async with aiohttp.ClientSession() as client:
        for page in PAGES:
            async with client.get(jcs_server.url + page, headers={"X-User": "bob"}, allow_redirects=False) as response:
                assert response.status == 403, (page, response.status, await response.text())
                assert (await response.json())["reason"] == "not_allowed"
        for page in ("lab", "tree", "edit/a.txt"):
            async with client.get(
                jcs_server.url + page, headers={"X-User": "alice"}, allow_redirects=False
            ) as response:
                assert response.status == 200, (page, response.status)
                assert "Set-Cookie" not in response.headers  # the plugin's identity is not the server's own user
        async with client.get(jcs_server.url + "lab", allow_redirects=False) as response:
            assert response.status == 302 and response.headers["Location"].startswith("/login?next=")


async def test_a_page_authenticated_by_the_token_header_gets_the_login_cookie(jcs_server) -> None:
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as browser:
        headers = {"Authorization": f"token {jcs_server.token}"}
        async with browser.get(jcs_server.url + "lab", headers=headers) as response:
            assert response.status == 200
            assert jcs_server.app.cookie_name in response.cookies
        async with browser.get(jcs_server.url + "tree") as response:  # the cookie alone from here on
            assert response.status == 200
