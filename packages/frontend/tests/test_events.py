"""The event stream: kernel and session changes reach subscribers in jupyter_events' envelope."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from jupyter_core_server_frontend.events import CONTENTS, KERNEL_ACTIONS, SESSIONS


async def next_event(ws: Any, schema_id: str, timeout: float = 60) -> dict[str, Any]:
    """Return the next event of ``schema_id`` (others are skipped), within ``timeout`` seconds."""
    async with asyncio.timeout(timeout):
        while True:
            message = await ws.receive_str()
            event: dict[str, Any] = json.loads(message)
            if event["schema_id"] == schema_id:
                return event


async def test_kernel_and_session_events_are_streamed(jcs_client) -> None:
    async with jcs_client.ws_connect("api/events/subscribe") as ws:
        async with jcs_client.post(
            "api/sessions", json={"path": "a.ipynb", "type": "notebook", "name": "", "kernel": {"name": "python3"}}
        ) as response:
            assert response.status == 201
            session = await response.json()
        started = await next_event(ws, KERNEL_ACTIONS)
        assert started["action"] == "start" and started["status"] == "success"
        assert started["kernel_id"] == session["kernel"]["id"]
        assert started["__schema_version__"] == 1 and started["__metadata_version__"] == 1
        assert started["__timestamp__"].endswith("Z")
        created = await next_event(ws, SESSIONS)
        assert (
            created["action"] == "created" and created["session_id"] == session["id"] and created["path"] == "a.ipynb"
        )
        async with jcs_client.delete(f"api/sessions/{session['id']}") as response:
            assert response.status == 204
        stopped = await next_event(ws, KERNEL_ACTIONS)
        assert stopped["action"] == "shutdown" and stopped["kernel_id"] == session["kernel"]["id"]


async def test_hook_server_event(jcs_client) -> None:
    """The contents plugin's saves, creations, renames and deletes reach subscribers through ``server_event``."""
    async with jcs_client.ws_connect("api/events/subscribe") as ws:
        async with jcs_client.put(
            "api/contents/notes.txt", json={"type": "file", "format": "text", "content": "hi"}
        ) as response:
            assert response.status == 201
        async with jcs_client.put(
            "api/contents/notes.txt", json={"type": "file", "format": "text", "content": "hi again"}
        ) as response:
            assert response.status == 200
        async with jcs_client.patch("api/contents/notes.txt", json={"path": "kept.txt"}) as response:
            assert response.status == 200
        async with jcs_client.delete("api/contents/kept.txt") as response:
            assert response.status == 204
        seen = [await next_event(ws, CONTENTS) for _ in range(4)]
    assert [(e["action"], e["path"], e.get("source_path")) for e in seen] == [
        ("upload", "notes.txt", None),
        ("save", "notes.txt", None),
        ("rename", "kept.txt", "notes.txt"),
        ("delete", "kept.txt", None),
    ]
    assert all(e["__schema_version__"] == 1 for e in seen)


async def test_clients_may_emit_events_of_registered_schemas(jcs_client) -> None:
    async with jcs_client.ws_connect("api/events/subscribe") as ws:
        data = {"action": "interrupt", "kernel_id": "k", "msg": "from a client"}
        event = {"schema_id": KERNEL_ACTIONS, "version": 1, "data": data, "timestamp": "2026-01-02T03:04:05Z"}
        async with jcs_client.post("api/events", json=event) as response:
            assert response.status == 204
        received = await next_event(ws, KERNEL_ACTIONS, timeout=10)
        assert received["msg"] == "from a client" and received["__timestamp__"] == "2026-01-02T03:04:05Z"
    bad = [
        {"schema_id": "https://example.org/unknown", "version": 1, "data": {}},
        {"schema_id": KERNEL_ACTIONS, "version": 2, "data": data},
        {"schema_id": KERNEL_ACTIONS, "version": 1, "data": {"action": "explode", "msg": "x"}},
        {"schema_id": KERNEL_ACTIONS, "data": data},
        {"schema_id": KERNEL_ACTIONS, "version": 1, "data": data, "timestamp": "yesterday"},
    ]
    for body in bad:
        async with jcs_client.post("api/events", json=body) as response:
            assert response.status == 400, body
            assert set(await response.json()) >= {"message", "reason"}


async def test_anonymous_clients_cannot_subscribe(jcs_server) -> None:
    import aiohttp

    upgrade = {
        "Upgrade": "websocket",
        "Connection": "Upgrade",
        "Sec-WebSocket-Version": "13",
        "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
    }
    async with (
        aiohttp.ClientSession() as session,
        session.get(jcs_server.url + "api/events/subscribe", headers=upgrade) as response,
    ):
        assert response.status == 403
