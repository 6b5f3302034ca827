"""The activity registry: plugins report when their things were last used, readers ask for the latest."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable
from datetime import datetime

import pytest
from aiohttp import web
from traitlets.config import Config

from jupyter_core_server import ActivityRegistry, hookimpl, keys
from jupyter_core_server.plugins import PluginManager
from jupyter_core_server.pytest_plugin import KernelChannels, RegisterPlugin, ServerClient, ServerHandle, run_server


def test_latest_is_the_latest_source() -> None:
    registry = ActivityRegistry()
    assert registry.latest() == 0.0 and registry.times() == {}
    registry.register("one", lambda: 10.0)
    registry.register("two", lambda: 20.0)
    assert registry.times() == {"one": 10.0, "two": 20.0}
    assert registry.latest() == 20.0
    registry.unregister("two")
    registry.unregister("never registered")
    assert registry.latest() == 10.0


def test_a_name_is_registered_once() -> None:
    registry = ActivityRegistry()
    registry.register("kernels", lambda: 1.0)
    with pytest.raises(ValueError, match="'kernels'"):
        registry.register("kernels", lambda: 2.0)
    assert registry.latest() == 1.0


def test_a_failing_source_is_skipped_and_logged_once(caplog: pytest.LogCaptureFixture) -> None:
    def broken() -> float:
        raise RuntimeError("gone")

    registry = ActivityRegistry()
    registry.register("broken", broken)
    registry.register("fine", lambda: 5.0)
    with caplog.at_level(logging.ERROR, logger="jupyter_core_server"):
        assert registry.latest() == 5.0
        assert registry.times() == {"fine": 5.0}
    assert [r.getMessage() for r in caplog.records] == [
        "Activity source 'broken' failed; it is left out until it answers"
    ]


async def test_requests_and_kernel_messages_are_sources(
    jcs_server: ServerHandle, jcs_client: ServerClient, jcs_kernel_client: KernelChannels
) -> None:
    registry = jcs_server.web_app[keys.STATE].activity
    assert {"requests", "kernels"} <= set(registry.times())
    before = registry.times()
    await asyncio.sleep(0.05)
    reply = await jcs_kernel_client.execute("1 + 1")
    assert reply.status == "ok"
    after = registry.times()
    # messages on an open websocket are no requests: only the kernels' activity moved
    assert after["requests"] == before["requests"]
    assert after["kernels"] > before["kernels"]
    assert registry.latest() == max(after.values())
    async with jcs_client.get("api/kernels") as response:
        assert response.status == 200
    assert registry.times()["requests"] > after["kernels"]  # that request
    async with jcs_client.get("api/status") as response:  # not activity itself; it reports the latest
        reported = (await response.json())["last_activity"]
    assert datetime.fromisoformat(reported.replace("Z", "+00:00")).timestamp() == pytest.approx(
        registry.latest(), abs=1e-5
    )


class Busy:
    """A plugin whose things are in use until told otherwise: it reports "now" while busy."""

    def __init__(self) -> None:
        self.busy = True

    def last_activity(self) -> float:
        return time.time() if self.busy else 0.0

    @hookimpl
    def app_context(self) -> Callable[[web.Application], AsyncIterator[None]]:
        async def context(app: web.Application) -> AsyncIterator[None]:
            app[keys.STATE].activity.register("busy", self.last_activity)
            yield

        return context


async def test_the_idle_shutdown_reads_the_registry(
    jcs_config: Config,
    jcs_plugin_manager: PluginManager,
    jcs_register_plugin: RegisterPlugin,
    caplog: pytest.LogCaptureFixture,
) -> None:
    plugin = Busy()
    jcs_register_plugin(plugin, "busy")
    jcs_config.CoreServerApp.shutdown_no_activity_timeout = 1
    stopping = "shutting down (shutdown_no_activity_timeout)"
    with caplog.at_level(logging.WARNING, logger="jupyter_core_server"):
        async with run_server(jcs_config, jcs_plugin_manager):
            await asyncio.sleep(2.5)  # no request, no kernel: only the plugin's activity keeps it up
            assert not any(stopping in r.getMessage() for r in caplog.records)
            plugin.busy = False
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and not any(stopping in r.getMessage() for r in caplog.records):
                await asyncio.sleep(0.1)
    assert any(stopping in r.getMessage() for r in caplog.records)
