"""Small helpers for the conformance tests: which plugins are installed, hand-made kernel messages, errors.

The kernel websocket client is the published one (``jupyter_core_server.pytest_plugin``);
the messages here are plain JSON that a test can break on purpose before sending.
"""

from __future__ import annotations

import importlib.util
import json
import time
import uuid
from typing import Any

import aiohttp
import pytest
from importlib_metadata import entry_points
from jupyter_core_server.plugins import ENTRY_POINT_GROUP, PluginManager
from jupyter_core_server.pytest_plugin import execute_content, make_plugin_manager

TIMEOUT = 30.0
PLUGIN_MODULES = {
    "contents": "jupyter_core_server_contents",
    "terminals": "jupyter_core_server_terminals",
    "nbconvert": "jupyter_core_server_nbconvert",
}


FIXTURE_DISTRIBUTION = "jcs-demo-plugin"  # test plugins for tests/test_entry_points.py; one is broken on purpose


def installed_plugin_manager() -> PluginManager:
    """A strict plugin manager with every installed plugin except the entry-point test fixtures."""
    fixtures = [
        ep.name
        for ep in entry_points(group=ENTRY_POINT_GROUP)
        if ep.dist is not None and ep.dist.name.replace("_", "-") == FIXTURE_DISTRIBUTION
    ]
    return make_plugin_manager(disabled=fixtures)


def has_plugin(name: str) -> bool:
    """Whether the plugin's distribution is installed in this environment."""
    return importlib.util.find_spec(PLUGIN_MODULES[name]) is not None


def needs(*names: str) -> pytest.MarkDecorator:
    """Skip a test when one of the named plugins is not installed (the install matrix runs both ways)."""
    missing = [name for name in names if not has_plugin(name)]
    return pytest.mark.skipif(bool(missing), reason=f"plugin(s) not installed: {', '.join(missing)}")


def message(
    msg_type: str, content: dict[str, Any], *, channel: str = "shell", session: str = "", msg_id: str = ""
) -> dict[str, Any]:
    """A client message in the legacy JSON framing."""
    header = {
        "msg_id": msg_id or uuid.uuid4().hex,
        "msg_type": msg_type,
        "session": session or uuid.uuid4().hex,
        "username": "conformance",
        "date": "2026-01-01T00:00:00Z",
        "version": "5.3",
    }
    return {"header": header, "parent_header": {}, "metadata": {}, "content": content, "channel": channel}


def execute_message(code: str, **kwargs: Any) -> dict[str, Any]:
    """An ``execute_request`` for ``code`` in the legacy JSON framing (see :func:`message`)."""
    return message("execute_request", execute_content(code), **kwargs)


async def assert_json_error(response: aiohttp.ClientResponse, *statuses: int) -> dict[str, Any]:
    """The response is a JSON error body ``{"message", "reason"}`` with one of ``statuses``
    (any 4xx when none given)."""
    text = await response.text()
    if statuses:
        assert response.status in statuses, (response.status, text)
    else:
        assert 400 <= response.status < 500, (response.status, text)
    assert response.content_type == "application/json", (response.content_type, text)
    body: dict[str, Any] = json.loads(text)
    assert isinstance(body.get("message"), str) and body["message"], body
    assert "reason" in body, body
    assert "Traceback" not in text, text
    return body


async def terminal_output(
    ws: aiohttp.ClientWebSocketResponse, command: str, marker: str, timeout: float = TIMEOUT
) -> str:
    """Wait for the shell's first output (its prompt), type ``command``, and collect output until ``marker``."""
    deadline = time.monotonic() + timeout
    seen = ""
    typed = False
    while marker not in seen:
        frame = await ws.receive(timeout=max(0.1, deadline - time.monotonic()))
        if frame.type != aiohttp.WSMsgType.TEXT:
            raise AssertionError(f"terminal closed; output so far: {seen!r}")
        kind, *rest = json.loads(frame.data)
        if kind == "stdout":
            if typed:
                seen += rest[0]
            else:  # the prompt: the shell now reads what is typed
                await ws.send_str(json.dumps(["stdin", command + "\r"]))
                typed = True
    return seen
