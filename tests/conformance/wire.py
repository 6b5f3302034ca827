"""Small helpers for the conformance tests: kernel websocket messages in the legacy JSON framing."""

from __future__ import annotations

import asyncio
import importlib.util
import json
import time
import uuid
from typing import Any

import aiohttp
import pytest
from importlib_metadata import entry_points
from jupyter_core_server.plugins import ENTRY_POINT_GROUP, PluginManager
from jupyter_core_server.pytest_plugin import ServerClient

TIMEOUT = 30.0
PLUGIN_MODULES = {
    "contents": "jupyter_core_server_contents",
    "terminals": "jupyter_core_server_terminals",
    "nbconvert": "jupyter_core_server_nbconvert",
}


FIXTURE_DISTRIBUTION = "jcs-demo-plugin"  # test plugins for tests/test_entry_points.py; one is broken on purpose


def installed_plugin_manager() -> PluginManager:
    """A strict plugin manager with every installed plugin except the entry-point test fixtures."""
    pm = PluginManager(strict=True)
    fixtures = [ep.name for ep in entry_points(group=ENTRY_POINT_GROUP) if ep.dist is not None and ep.dist.name.replace("_", "-") == FIXTURE_DISTRIBUTION]
    pm.discover(dict.fromkeys(fixtures, False))
    return pm


def has_plugin(name: str) -> bool:
    """Whether the plugin's distribution is installed in this environment."""
    return importlib.util.find_spec(PLUGIN_MODULES[name]) is not None


def needs(*names: str) -> pytest.MarkDecorator:
    """Skip a test when one of the named plugins is not installed (the install matrix runs both ways)."""
    missing = [name for name in names if not has_plugin(name)]
    return pytest.mark.skipif(bool(missing), reason=f"plugin(s) not installed: {', '.join(missing)}")


def message(msg_type: str, content: dict[str, Any], *, channel: str = "shell", session: str = "", msg_id: str = "") -> dict[str, Any]:
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


def execute(code: str, **kwargs: Any) -> dict[str, Any]:
    return message("execute_request", {"code": code, "silent": False, "store_history": False, "allow_stdin": False}, **kwargs)


async def receive(ws: aiohttp.ClientWebSocketResponse, timeout: float = TIMEOUT) -> dict[str, Any] | None:
    """The next kernel message, or ``None`` when the connection closed."""
    frame = await asyncio.wait_for(ws.receive(), timeout)
    if frame.type == aiohttp.WSMsgType.TEXT:
        decoded: dict[str, Any] = json.loads(frame.data)
        return decoded
    if frame.type == aiohttp.WSMsgType.BINARY:  # legacy binary: u32 count, offsets, JSON first
        count = int.from_bytes(frame.data[:4], "big")
        start = int.from_bytes(frame.data[4:8], "big")
        end = int.from_bytes(frame.data[8:12], "big") if count > 1 else len(frame.data)
        decoded = json.loads(frame.data[start:end])
        return decoded
    return None


async def reply_to(ws: aiohttp.ClientWebSocketResponse, msg_id: str, timeout: float = TIMEOUT) -> tuple[dict[str, Any], str]:
    """Wait for the shell reply to ``msg_id`` and the kernel's idle status after it; return the reply and the stdout.

    IOPub and shell are separate channels, so output may arrive after the reply: the
    ``idle`` status for the request is what says the output is complete.
    """
    deadline = time.monotonic() + timeout
    stdout = ""
    reply: dict[str, Any] | None = None
    idle = False
    while reply is None or not idle:
        msg = await receive(ws, max(0.1, deadline - time.monotonic()))
        if msg is None:
            raise AssertionError(f"connection closed before the reply to {msg_id}")
        if msg.get("parent_header", {}).get("msg_id") != msg_id:
            continue
        msg_type = msg["header"]["msg_type"]
        if msg_type == "stream":
            stdout += msg["content"].get("text", "")
        elif msg_type == "status" and msg["content"].get("execution_state") == "idle":
            idle = True
        if msg.get("channel") == "shell":
            reply = msg
    return reply, stdout


async def run_code(ws: aiohttp.ClientWebSocketResponse, code: str, timeout: float = TIMEOUT) -> str:
    """Execute ``code`` and return its stdout once the reply came."""
    request = execute(code)
    await ws.send_str(json.dumps(request))
    reply, stdout = await reply_to(ws, request["header"]["msg_id"], timeout)
    assert reply["content"]["status"] == "ok", reply["content"]
    return stdout


async def start_kernel(client: ServerClient) -> str:
    async with client.post("api/kernels", json={"name": "python3"}) as response:
        assert response.status == 201, await response.text()
        kernel_id: str = (await response.json())["id"]
        return kernel_id


async def assert_json_error(response: aiohttp.ClientResponse, *statuses: int) -> dict[str, Any]:
    """The response is a JSON error body ``{"message", "reason"}`` with one of ``statuses`` (any 4xx when none given)."""
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


async def terminal_output(ws: aiohttp.ClientWebSocketResponse, command: str, marker: str, timeout: float = TIMEOUT) -> str:
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
