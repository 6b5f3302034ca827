"""A real JupyterHub, with its real proxy, spawns ``jupyter-core-server`` and users work through it.

The hub runs on loopback ports with the dummy authenticator and the simple local
process spawner; its spawner command is ``jupyter-core-server`` with no arguments.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import aiohttp
import jupyterhub  # type: ignore[import-untyped]  # the package's "test" extra: this test never skips for want of it
import pytest
from conftest import others_off
from hubtools import PASSWORD, RunningHub, processes_with, run_code, venv_command
from yarl import URL

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="JupyterHub's local spawner and POSIX signals")


@pytest.fixture
def hub(tmp_path: Path, proxy_command: str) -> Iterator[RunningHub]:
    running = RunningHub(
        tmp_path, proxy_command, [venv_command("jupyter-core-server")], others_off(("hub", "terminals"))
    )
    try:
        yield running
    finally:
        running.stop()


def cookie(jar: aiohttp.abc.AbstractCookieJar, url: str, name: str) -> str:
    for morsel in jar.filter_cookies(URL(url)).values():
        if morsel.key == name:
            return str(morsel.value)
    raise AssertionError(f"no cookie {name} for {url}")


async def hub_api(session: aiohttp.ClientSession, hub: RunningHub, method: str, path: str, **kwargs: object) -> object:
    async with session.request(method, f"{hub.url}/hub/api/{path}", headers=hub.headers(), **kwargs) as response:  # type: ignore[arg-type]
        assert response.status < 300, (method, path, response.status, await response.text())
        return await response.json() if response.content_type == "application/json" else None


async def wait_for_server(
    api: aiohttp.ClientSession, hub: RunningHub, user: str, ready: bool, timeout: float = 60
) -> None:
    """Wait until the hub reports the user's default server ready (or gone)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        model = await hub_api(api, hub, "GET", f"users/{user}")
        assert isinstance(model, dict)
        server = model["servers"].get("")
        if (server is not None and server["ready"]) == ready:
            return
        await asyncio.sleep(0.25)
    raise AssertionError(
        f"the hub did not report {user}'s server {'ready' if ready else 'stopped'}:\n{hub.log[-3000:]}"
    )


async def test_hub_spawns_logs_in_and_stops_the_server(hub: RunningHub) -> None:
    user_url = f"{hub.url}/user/alice/"
    jar = aiohttp.CookieJar(unsafe=True)  # cookies for 127.0.0.1
    async with aiohttp.ClientSession(cookie_jar=jar) as browser, aiohttp.ClientSession() as api:
        # -- a user logs in at the hub and starts the server ------------------------------
        async with browser.get(f"{hub.url}/hub/login") as response:
            assert response.status == 200
        form = {"username": "alice", "password": PASSWORD, "_xsrf": cookie(jar, f"{hub.url}/hub/", "_xsrf")}
        started = time.monotonic()
        async with browser.post(f"{hub.url}/hub/login?next=/hub/spawn", data=form) as response:
            landed, status = str(response.url), response.status
            chain = [str(r.url) for r in response.history]
            page = await response.text()
        if landed.endswith("/hub/spawn-pending/alice"):
            # the progress page; its script waits for the server, then reloads into it
            await wait_for_server(api, hub, "alice", ready=True)
            async with browser.get(landed) as response:
                landed, status = str(response.url), response.status
                chain += [str(r.url) for r in response.history]
                page = await response.text()
        assert status == 200, (status, landed, hub.log[-3000:])
        # login -> spawn -> /user/alice/ -> hub OAuth -> our callback -> back to /user/alice/
        assert landed == user_url, (landed, chain)
        assert any("/hub/api/oauth2/authorize?" in url and "code_challenge=" in url for url in chain), chain
        assert any(url.startswith(f"{user_url}oauth_callback?") for url in chain), chain
        assert "Jupyter Core Server" in page
        assert time.monotonic() - started < 60

        # -- the API with the login cookie ------------------------------------------------
        async with browser.get(f"{user_url}api/me") as response:
            assert response.status == 200
            assert response.headers["X-JupyterHub-Version"] == jupyterhub.__version__
            assert (await response.json())["identity"]["username"] == "alice"
        xsrf = cookie(jar, user_url, "_xsrf")
        async with browser.post(f"{user_url}api/kernels", json={"name": "python3"}) as response:
            assert response.status == 403  # a cookie alone does not write: XSRF
        async with browser.post(
            f"{user_url}api/kernels", json={"name": "python3"}, headers={"X-XSRFToken": xsrf}
        ) as response:
            assert response.status == 201, await response.text()
            kernel_id = (await response.json())["id"]

        # -- a kernel over the websocket through the proxy, with the cookie alone ---------
        ws_url = f"ws://127.0.0.1:{hub.port}/user/alice/api/kernels/{kernel_id}/channels"
        async with browser.ws_connect(ws_url, origin=hub.url) as ws:
            assert await run_code(ws, "1+1") == "2"
            kernel_pid = int(await run_code(ws, "import os; os.getpid()"))

        # -- hub tokens: alice's is accepted, bob's and a bogus one are not ---------------
        alice = await hub_api(api, hub, "POST", "users/alice/tokens", json={"note": "test"})
        bob = await hub_api(api, hub, "POST", "users/bob/tokens", json={"note": "test"})
        assert isinstance(alice, dict) and isinstance(bob, dict)
        alice_auth = {"Authorization": f"token {alice['token']}"}
        async with api.get(f"{user_url}api/kernelspecs", headers=alice_auth) as response:
            assert response.status == 200
        async with api.ws_connect(ws_url, headers=alice_auth) as ws:
            assert await run_code(ws, "2*21") == "42"
        for refused in ({"Authorization": f"token {bob['token']}"}, {"Authorization": "token not-a-hub-token"}, {}):
            async with api.get(f"{user_url}api/kernelspecs", headers=refused) as response:
                assert response.status == 403, refused
                assert set(await response.json()) >= {"message", "reason"}
            # the proxy relays the refusal, or (http-proxy's way with refused upgrades) hangs up:
            # a connection of its own, so that no other request reuses a hung-up one
            async with aiohttp.ClientSession() as once:
                with pytest.raises((aiohttp.WSServerHandshakeError, aiohttp.ServerDisconnectedError)):
                    async with once.ws_connect(ws_url, headers=refused):
                        pass
        async with api.post(f"{user_url}api/terminals", headers=alice_auth) as response:
            assert response.status == 200, await response.text()  # its shell must end with the server too
        async with api.get(f"{user_url}api", headers={}) as response:
            assert response.status == 200  # the hub's readiness probe needs no credentials

        # -- activity reaches the hub ------------------------------------------------------
        await asyncio.sleep(2.5)  # the spawn itself counts as activity at the hub: be later than it
        used_at = time.time()
        async with api.get(f"{user_url}api/status", headers=alice_auth) as response:
            assert response.status == 200
        async with api.get(f"{user_url}api/kernels", headers=alice_auth) as response:
            assert response.status == 200
        deadline = time.monotonic() + 20
        reported = 0.0
        while time.monotonic() < deadline:
            model = await hub_api(api, hub, "GET", "users/alice")
            assert isinstance(model, dict)
            stamp = model["servers"][""]["last_activity"]
            reported = datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()
            if reported >= used_at - 1:
                break
            await asyncio.sleep(0.5)
        assert reported >= used_at - 1, (reported, used_at)
        # what is reported is the time of the last use, not the time of the report
        await asyncio.sleep(4.5)  # two more reports
        model = await hub_api(api, hub, "GET", "users/alice")
        assert isinstance(model, dict)
        later = datetime.fromisoformat(model["servers"][""]["last_activity"].replace("Z", "+00:00")).timestamp()
        assert later < used_at + 2, (later, used_at)

        # -- stop through the hub API: nothing survives ------------------------------------
        assert processes_with(hub.marker), "the marker should find the running server and kernel"
        stopping = time.monotonic()
        await hub_api(api, hub, "DELETE", "users/alice/server")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            model = await hub_api(api, hub, "GET", "users/alice")
            assert isinstance(model, dict)
            if not model["servers"] and not processes_with(hub.marker):
                break
            await asyncio.sleep(0.25)
        assert processes_with(hub.marker) == [], hub.log[-3000:]
        assert (
            not Path(f"/proc/{kernel_pid}").exists()
            or "Z" in Path(f"/proc/{kernel_pid}/stat").read_text().split(")")[1][:3]
        )
        assert time.monotonic() - stopping < 10, "the hub escalated past SIGINT"
        assert "SIGTERM" not in hub.log.split("users/alice/server")[-1]
