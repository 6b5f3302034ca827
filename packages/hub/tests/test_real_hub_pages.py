"""A real JupyterHub spawns the server with contents, frontend and hub: JupyterLab's page through the hub.

Pages authenticate themselves (they are public routes that send anonymous browsers to a
login); they must wait for the hub plugin's answer like every API route does. The hub
plugin's cache lasts one second here, so that the browser's return after it expired,
and first uses of a token, take the path that asks the hub.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import jupyter_core_server_frontend  # noqa: F401  # the test extra's: this test never skips for want of it
import pytest
from conftest import others_off
from hubtools import PASSWORD, RunningHub, venv_command
from test_real_hub import cookie, hub_api, wait_for_server

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="JupyterHub's local spawner and POSIX signals")

CACHE_SECONDS = 1.0


@pytest.fixture
def hub(tmp_path: Path, proxy_command: str) -> Iterator[RunningHub]:
    running = RunningHub(
        tmp_path, proxy_command, [venv_command("jupyter-core-server")], others_off(("hub", "contents", "frontend"))
    )
    try:
        # read by the server the hub spawns later, at its start
        config_d = tmp_path / "user-jupyter" / "config" / "jupyter_core_server_config.d"
        (config_d / "hub-cache.json").write_text(json.dumps({"JupyterHubSingleUser": {"cache_seconds": CACHE_SECONDS}}))
        yield running
    finally:
        running.stop()


async def log_in_and_spawn(
    browser: aiohttp.ClientSession, api: aiohttp.ClientSession, hub: RunningHub, jar: aiohttp.CookieJar
) -> str:
    """Log alice in at the hub, start her server; return the page the browser lands on (its URL)."""
    async with browser.get(f"{hub.url}/hub/login") as response:
        assert response.status == 200
    form = {"username": "alice", "password": PASSWORD, "_xsrf": cookie(jar, f"{hub.url}/hub/", "_xsrf")}
    async with browser.post(f"{hub.url}/hub/login?next=/hub/spawn", data=form) as response:
        landed, status = str(response.url), response.status
    if landed.endswith("/hub/spawn-pending/alice"):
        await wait_for_server(api, hub, "alice", ready=True)
        async with browser.get(landed) as response:
            landed, status = str(response.url), response.status
    assert status == 200, (status, landed, hub.log[-3000:])
    return landed


async def page_status(session: aiohttp.ClientSession, url: str, headers: dict[str, str] | None = None) -> int:
    async with session.get(url, headers=headers or {}, allow_redirects=False) as response:
        if response.status == 200:
            assert "jupyter-config-data" in await response.text()
        else:
            assert response.content_type == "application/json" or response.status == 302, await response.text()
        return response.status


async def test_lab_pages_through_the_hub_with_tokens_and_after_the_cache_expires(hub: RunningHub) -> None:
    prefix = f"{hub.url}/user/alice/"
    jar = aiohttp.CookieJar(unsafe=True)  # cookies for 127.0.0.1
    async with aiohttp.ClientSession(cookie_jar=jar) as browser, aiohttp.ClientSession() as api:
        landed = await log_in_and_spawn(browser, api, hub, jar)
        assert landed == f"{prefix}lab", landed  # / sends the browser to the frontend's default page

        alice = await hub_api(api, hub, "POST", "users/alice/tokens", json={"note": "test"})
        bob = await hub_api(api, hub, "POST", "users/bob/tokens", json={"note": "test"})
        assert isinstance(alice, dict) and isinstance(bob, dict)
        alice_auth = {"Authorization": f"token {alice['token']}"}
        bob_auth = {"Authorization": f"token {bob['token']}"}
        async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as program:
            # first use of each token: the hub is asked (before the fix: 500 for both)
            assert await page_status(program, f"{prefix}lab", bob_auth) == 403
            assert await page_status(program, f"{prefix}lab", alice_auth) == 200
            # answered from the cache
            assert await page_status(program, f"{prefix}lab", bob_auth) == 403
            assert await page_status(program, f"{prefix}lab/tree/x.ipynb", alice_auth) == 200
            async with program.get(f"{prefix}lab", headers=bob_auth) as response:
                assert (await response.json())["reason"] == "not_allowed"

            # the browser comes back after every cached answer expired: its cookie's token is asked about again
            await asyncio.sleep(CACHE_SECONDS + 0.5)
            started = time.monotonic()
            assert await page_status(browser, f"{prefix}lab") == 200
            assert await page_status(browser, f"{prefix}lab/workspaces/default") == 200
            async with browser.get(f"{prefix}api/me") as response:
                assert (await response.json())["identity"]["username"] == "alice"
            assert time.monotonic() - started < 30
            await asyncio.sleep(CACHE_SECONDS + 0.5)
            assert await page_status(program, f"{prefix}lab", bob_auth) == 403
            assert await page_status(program, f"{prefix}lab", alice_auth) == 200
            # no credentials: a browser is sent to hub OAuth, not given a page
            assert await page_status(program, f"{prefix}lab") == 302
