"""The server's event stream: ``WS /api/events/subscribe`` and ``POST /api/events``.

Kernel starts and stops and session changes are announced to every subscriber as one
JSON text frame each, in the shape jupyter_server sends: the event's data plus
``schema_id``, with jupyter_events' envelope fields (``__timestamp__``,
``__schema_version__``, ``__metadata_version__``). Kernel events use jupyter_server's
``kernel_actions`` schema, so clients written for it understand them.

A subscriber that falls :data:`QUEUE_LIMIT` events behind is closed rather than
letting the server's memory grow.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from aiohttp import WSCloseCode, web
from jsonschema import Draft7Validator  # type: ignore[import-untyped]
from jupyter_core_server import BadRequest, auth_resource, hookimpl, keys, read_json_object

from .keys import FRONTEND

if TYPE_CHECKING:
    from jupyter_core_server import KernelModel, SessionModel

__all__ = ["KERNEL_ACTIONS", "SESSIONS", "EventBus", "EventRelay", "routes"]

log = logging.getLogger("jupyter_core_server.frontend")

QUEUE_LIMIT = 1000
METADATA_VERSION = 1
KERNEL_ACTIONS = "https://events.jupyter.org/jupyter_server/kernel_actions/v1"
SESSIONS = "https://events.jupyter.org/jupyter_core_server/sessions/v1"
CONTENTS = "https://events.jupyter.org/jupyter_server/contents_service/v1"

#: schema id -> (version, JSON schema of the data)
SCHEMAS: dict[str, tuple[int, dict[str, Any]]] = {
    KERNEL_ACTIONS: (
        1,
        {
            "type": "object",
            "required": ["action", "msg"],
            "properties": {
                "action": {"enum": ["start", "interrupt", "shutdown", "restart"]},
                "kernel_id": {"type": "string"},
                "kernel_name": {"type": "string"},
                "status": {"enum": ["error", "success"]},
                "status_code": {"type": "number"},
                "msg": {"type": "string"},
            },
        },
    ),
    CONTENTS: (
        1,
        {
            "type": "object",
            "required": ["action", "path"],
            "properties": {
                "action": {"enum": ["get", "create", "save", "upload", "rename", "copy", "delete"]},
                "path": {"type": "string"},
                "source_path": {"type": "string"},
            },
        },
    ),
    SESSIONS: (
        1,
        {
            "type": "object",
            "required": ["action", "session_id"],
            "properties": {
                "action": {"enum": ["created", "modified", "deleted"]},
                "session_id": {"type": "string"},
                "path": {"type": "string"},
                "type": {"type": "string"},
                "kernel_id": {"type": ["string", "null"]},
            },
        },
    ),
}


class EventBus:
    """Fan events out to the open subscriptions of one server."""

    def __init__(self) -> None:
        self._queues: set[asyncio.Queue[str | None]] = set()

    def subscribe(self) -> asyncio.Queue[str | None]:
        queue: asyncio.Queue[str | None] = asyncio.Queue(QUEUE_LIMIT)
        self._queues.add(queue)
        return queue

    def unsubscribe(self, queue: asyncio.Queue[str | None]) -> None:
        self._queues.discard(queue)

    @property
    def subscribers(self) -> int:
        return len(self._queues)

    def emit(self, schema_id: str, data: dict[str, Any], timestamp: datetime | None = None) -> None:
        """Validate ``data`` against its schema and send it to every subscriber.

        :raises BadRequest: for an unknown schema or data that does not match it.
        """
        if schema_id not in SCHEMAS:
            raise BadRequest(f"Unknown event schema {schema_id!r}", "unknown_schema")
        version, schema = SCHEMAS[schema_id]
        errors = list(Draft7Validator(schema).iter_errors(data))
        if errors:
            raise BadRequest(f"Event data does not match {schema_id}: {errors[0].message}", "invalid_event")
        when = (timestamp or datetime.now(tz=timezone.utc)).astimezone(timezone.utc)
        message = json.dumps(
            {
                "__timestamp__": when.replace(tzinfo=None).isoformat() + "Z",
                "__schema_version__": version,
                "__metadata_version__": METADATA_VERSION,
                **data,
                "schema_id": schema_id,
            }
        )
        for queue in list(self._queues):
            try:
                queue.put_nowait(message)
            except asyncio.QueueFull:
                # the subscriber stopped reading: end its subscription instead of buffering forever
                self._queues.discard(queue)
                with contextlib.suppress(asyncio.QueueEmpty):
                    queue.get_nowait()
                queue.put_nowait(None)


class EventRelay:
    """Per-server hook implementations that turn kernel and session events into bus events.

    Registered on the server's own plugin manager while the plugin runs, so several
    servers in one process each announce only their own events.
    """

    def __init__(self, bus: EventBus) -> None:
        self.bus = bus

    def _emit(self, schema_id: str, data: dict[str, Any]) -> None:
        if self.bus.subscribers:
            self.bus.emit(schema_id, data)

    @hookimpl
    def kernel_started(self, kernel: KernelModel) -> None:
        kernel_id = str(kernel.get("id", ""))
        self._emit(
            KERNEL_ACTIONS,
            {
                "action": "start",
                "kernel_id": kernel_id,
                "kernel_name": str(kernel.get("name", "")),
                "status": "success",
                "msg": f"Kernel {kernel_id} was started.",
            },
        )

    @hookimpl
    def kernel_stopped(self, kernel_id: str) -> None:
        self._emit(
            KERNEL_ACTIONS,
            {
                "action": "shutdown",
                "kernel_id": kernel_id,
                "status": "success",
                "msg": f"Kernel {kernel_id} was shut down.",
            },
        )

    @hookimpl
    def server_event(self, schema_id: str, data: Mapping[str, Any]) -> None:
        if schema_id in SCHEMAS:  # others' events this stream has no schema for are not relayed
            self._emit(schema_id, dict(data))

    @hookimpl
    def session_changed(self, session: SessionModel, change: str) -> None:
        kernel = session.get("kernel") or {}
        self._emit(
            SESSIONS,
            {
                "action": change,
                "session_id": str(session.get("id", "")),
                "path": str(session.get("path", "")),
                "type": str(session.get("type", "")),
                "kernel_id": kernel.get("id") if isinstance(kernel, dict) else None,
            },
        )


@auth_resource("events")
async def subscribe(request: web.Request) -> web.WebSocketResponse:
    bus = request.config_dict[FRONTEND].bus
    ws = web.WebSocketResponse(heartbeat=30)
    await ws.prepare(request)
    request.config_dict[keys.WEBSOCKETS].add(ws)
    queue = bus.subscribe()

    async def forward() -> None:
        while True:
            message = await queue.get()
            if message is None:
                await ws.close(code=WSCloseCode.TRY_AGAIN_LATER, message=b"Too many events not read")
                return
            await ws.send_str(message)

    sender = asyncio.create_task(forward())
    try:
        async for _ in ws:  # subscribers only listen; anything they send is ignored
            pass
    finally:
        bus.unsubscribe(queue)
        sender.cancel()
        with contextlib.suppress(asyncio.CancelledError, ConnectionError):
            await sender
    return ws


def _timestamp(value: Any) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise BadRequest("timestamp must be an ISO 8601 string", "invalid_timestamp")
    try:
        when = datetime.fromisoformat(value.removesuffix("Z"))
    except ValueError:
        raise BadRequest(f"timestamp {value!r} is not an ISO 8601 date and time", "invalid_timestamp") from None
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)


@auth_resource("events")
async def post_event(request: web.Request) -> web.Response:
    body = await read_json_object(request)
    for key in ("schema_id", "version", "data"):
        if key not in body:
            raise BadRequest(f"Missing {key!r} in the request body", "missing_field")
    schema_id, data = body["schema_id"], body["data"]
    if not isinstance(schema_id, str) or not isinstance(data, dict):
        raise BadRequest("schema_id must be a string and data an object", "invalid_body")
    known = SCHEMAS.get(schema_id)
    if known is None:
        raise BadRequest(f"Unknown event schema {schema_id!r}", "unknown_schema")
    if str(body["version"]) != str(known[0]):
        raise BadRequest(
            f"Unregistered version {body['version']!r} of {schema_id} (have {known[0]})", "unknown_version"
        )
    request.config_dict[FRONTEND].bus.emit(schema_id, data, _timestamp(body.get("timestamp")))
    return web.Response(status=204)


def routes() -> list[web.RouteDef]:
    """Return the event routes, relative to ``base_url``."""
    return [web.get("/api/events/subscribe", subscribe), web.post("/api/events", post_event)]
