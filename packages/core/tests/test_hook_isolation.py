"""An event hook implementation that raises never starves the plugins called after it."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from jupyter_core_server import hookimpl
from jupyter_core_server.pytest_plugin import start_kernel


class Broken:
    """Raises in every event hook."""

    @hookimpl
    def kernel_started(self, kernel: dict[str, Any]) -> None:
        raise RuntimeError("broken kernel_started")

    @hookimpl
    def kernel_stopped(self, kernel_id: str) -> None:
        raise RuntimeError("broken kernel_stopped")

    @hookimpl
    def session_changed(self, session: dict[str, Any], change: str) -> None:
        raise RuntimeError("broken session_changed")


class Listener:
    """Records every event it is told about."""

    def __init__(self) -> None:
        self.events: list[str] = []

    @hookimpl
    def kernel_started(self, kernel: dict[str, Any]) -> None:
        self.events.append("kernel_started")

    @hookimpl
    def kernel_stopped(self, kernel_id: str) -> None:
        self.events.append("kernel_stopped")

    @hookimpl
    def session_changed(self, session: dict[str, Any], change: str) -> None:
        self.events.append(f"session_{change}")


@pytest.fixture
def listener(jcs_register_plugin) -> Listener:
    plugin = Listener()
    jcs_register_plugin(plugin, "listener")
    # pluggy calls the plugin registered last first: the broken one runs before the listener.
    jcs_register_plugin(Broken(), "broken")
    return plugin


async def test_a_raising_implementation_does_not_stop_the_others(
    listener: Listener, jcs_client, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="jupyter_core_server"):
        kernel_id = await start_kernel(jcs_client, name="python3")
        body = {"path": "a.ipynb", "type": "notebook", "kernel": {"id": kernel_id}}
        async with jcs_client.post("api/sessions", json=body) as response:
            assert response.status == 201
            session_id = (await response.json())["id"]
        async with jcs_client.delete(f"api/sessions/{session_id}") as response:
            assert response.status == 204

    assert listener.events[:3] == ["kernel_started", "session_created", "session_deleted"]
    failures = [r for r in caplog.records if "Plugin broken failed while handling" in r.getMessage()]
    assert {r.getMessage().rsplit(" ", 1)[1] for r in failures} >= {"kernel_started", "session_changed"}

    async with jcs_client.get("api/plugins") as response:
        records = {p["name"]: p for p in await response.json()}
    assert records["broken"]["hook_errors"] >= 3
    assert records["broken"]["state"] == "enabled"  # one bad event does not disable the plugin
    assert records["listener"]["hook_errors"] == 0


def test_only_event_hooks_can_be_notified(jcs_plugin_manager) -> None:
    with pytest.raises(ValueError, match="register_routes is not an event hook"):
        jcs_plugin_manager.notify("register_routes", server=None)
