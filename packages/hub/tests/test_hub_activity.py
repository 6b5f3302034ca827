"""The activity the plugin reports to the hub: the core's activity registry, whatever reports to it."""

from __future__ import annotations

import asyncio
import json
import time

import pytest
from jupyter_core_server import keys
from jupyter_core_server.pytest_plugin import KernelChannels, ServerClient, ServerHandle

from jupyter_core_server_hub.activity import latest_activity


async def test_latest_activity_is_the_registrys(jcs_server: ServerHandle) -> None:
    registry = jcs_server.web_app[keys.STATE].activity
    assert latest_activity(jcs_server.web_app) == registry.latest()
    later = time.time() + 3600  # a plugin's own source, as any plugin may register one
    registry.register("test", lambda: later)
    assert latest_activity(jcs_server.web_app) == later


async def test_kernel_messages_count(jcs_server: ServerHandle, jcs_kernel_client: KernelChannels) -> None:
    await asyncio.sleep(0.05)
    used_at = time.time()
    assert latest_activity(jcs_server.web_app) < used_at
    assert (await jcs_kernel_client.execute("1 + 1")).status == "ok"  # on the websocket: no request
    assert latest_activity(jcs_server.web_app) >= used_at


@pytest.mark.parametrize("jcs_enabled_plugins", [{"hub", "terminals"}], indirect=True)
async def test_terminal_use_counts(jcs_server: ServerHandle, jcs_client: ServerClient) -> None:
    async with jcs_client.post("api/terminals") as response:
        assert response.status == 200
        name = (await response.json())["name"]
    try:
        async with jcs_client.ws_connect(f"terminals/websocket/{name}") as ws:
            await asyncio.sleep(0.05)
            used_at = time.time()
            await ws.send_str(json.dumps(["stdin", "echo us''ed\r"]))  # the echo of the input is not "used"
            output, deadline = "", time.monotonic() + 20
            while "used" not in output and time.monotonic() < deadline:
                message = json.loads((await ws.receive(timeout=deadline - time.monotonic())).data)
                output += message[1] if message[0] == "stdout" else ""
            assert "used" in output
        times = jcs_server.web_app[keys.STATE].activity.times()
        assert times["requests"] < used_at <= times["terminals"]  # no request since: the terminal's own activity
        assert latest_activity(jcs_server.web_app) >= used_at
    finally:
        async with jcs_client.delete(f"api/terminals/{name}") as response:
            assert response.status == 204
