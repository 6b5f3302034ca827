"""Only a real websocket handshake is exempt from the XSRF check and counts as ``execute``.

A browser cannot add ``X-XSRFToken`` to a websocket, so the handshake (a ``GET``) goes
without it; an ``Upgrade: websocket`` header on any other request must not lift the check.
"""

from __future__ import annotations

import base64
import os
from collections.abc import AsyncIterator

import aiohttp
import pytest

from jupyter_core_server import hookimpl
from jupyter_core_server.pytest_plugin import KernelChannels

UPGRADE_HEADERS = {
    "Upgrade": "websocket",
    "Connection": "Upgrade",
    "Sec-WebSocket-Key": base64.b64encode(os.urandom(16)).decode(),
    "Sec-WebSocket-Version": "13",
}


@pytest.fixture
async def browser(jcs_server) -> AsyncIterator[aiohttp.ClientSession]:
    """A client that logged in through the login form: it holds the login and ``_xsrf`` cookies."""
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
        async with session.post(
            jcs_server.url + "login", data={"password": jcs_server.token}, allow_redirects=False
        ) as response:
            assert response.status == 302
        names = {cookie.key for cookie in session.cookie_jar}
        assert {jcs_server.app.cookie_name, "_xsrf"} <= names
        yield session


async def kernel_ids(jcs_client) -> list[str]:
    async with jcs_client.get("api/kernels") as response:
        return [k["id"] for k in await response.json()]


@pytest.mark.parametrize(
    "upgrade",
    [UPGRADE_HEADERS, {"Upgrade": "websocket"}, {"Upgrade": "WebSocket", "Connection": "keep-alive, Upgrade"}],
    ids=["full-handshake-headers", "upgrade-only", "mixed-case"],
)
async def test_upgrade_header_on_writes_does_not_skip_xsrf(
    jcs_server, jcs_client, browser, upgrade: dict[str, str]
) -> None:
    async with jcs_client.post("api/kernels", json={"name": "python3"}) as response:
        assert response.status == 201
        kernel_id = (await response.json())["id"]

    for method, path in [
        ("POST", "api/kernels"),
        ("DELETE", f"api/kernels/{kernel_id}"),
        ("POST", f"api/kernels/{kernel_id}/restart"),
        ("POST", "api/shutdown"),
    ]:
        async with browser.request(method, jcs_server.url + path, headers=upgrade) as response:
            assert response.status == 403, (method, path, await response.text())
            body = await response.json()
            assert body["reason"] == "xsrf", (method, path, body)

    # Nothing happened: no kernel started or stopped, the server still runs.
    assert await kernel_ids(jcs_client) == [kernel_id]
    async with jcs_client.get("api/status") as response:
        assert response.status == 200


async def test_cookie_websocket_still_connects(jcs_server, jcs_client, browser) -> None:
    async with jcs_client.post("api/kernels", json={"name": "python3"}) as response:
        kernel_id = (await response.json())["id"]
    async with browser.ws_connect(jcs_server.ws_url(f"api/kernels/{kernel_id}/channels")) as ws:
        kc = KernelChannels(ws, "legacy", "cookie-session")
        reply = await kc.request("kernel_info_request")
        assert reply.reply.content["status"] == "ok"
    # and a cookie write with the XSRF header still works
    xsrf = next(cookie.value for cookie in browser.cookie_jar if cookie.key == "_xsrf")
    async with browser.post(
        jcs_server.url + "api/kernels", json={"name": "python3"}, headers={"X-XSRFToken": xsrf}
    ) as response:
        assert response.status == 201


class NoExecute:
    """Refuses ``execute`` (opening websockets) and nothing else."""

    @hookimpl
    def authorize(self, action: str) -> bool | None:
        return False if action == "execute" else None


@pytest.fixture
def no_execute(jcs_register_plugin) -> None:
    jcs_register_plugin(NoExecute(), "noexec")


@pytest.mark.usefixtures("no_execute")
async def test_only_a_handshake_is_authorized_as_execute(jcs_client) -> None:
    async with jcs_client.post("api/kernels", json={"name": "python3"}) as response:
        assert response.status == 201
        kernel_id = (await response.json())["id"]
    # A plain GET that merely carries an Upgrade header reads; it is not a websocket.
    async with jcs_client.get("api/kernels", headers={"Upgrade": "websocket"}) as response:
        assert response.status == 200, await response.text()
    # A real handshake is a websocket: execute, refused here.
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        async with jcs_client.ws_connect(f"api/kernels/{kernel_id}/channels"):
            pass
    assert refused.value.status == 403
