"""``/api/kernels/{kernel_id}/channels``: the kernel websocket (legacy JSON and v1 framings)."""

from __future__ import annotations

import asyncio
import logging
import uuid

from aiohttp import WSCloseCode, WSMsgType, web

from ..errors import ApiError
from ..keys import KERNEL_SERVICE, WEBSOCKETS
from .channels import Connection
from .messages import V1_PROTOCOL, ProtocolError, from_legacy_binary, from_legacy_text, from_v1

__all__ = ["channels"]

log = logging.getLogger("jupyter_core_server")


async def channels(request: web.Request) -> web.WebSocketResponse:
    service = request.app[KERNEL_SERVICE]
    kernel_id = request.match_info["kernel_id"]
    bridge = service.bridge(kernel_id)  # 404 before the upgrade for an unknown kernel
    session_id = request.query.get("session_id") or f"anonymous-{uuid.uuid4()}"
    try:
        await bridge.ensure_open()
    except TimeoutError as exc:  # before the upgrade: the client gets a JSON error
        raise ApiError(str(exc), "kernel_timeout", status=504) from None

    ping = service.websocket_ping_interval
    ws = web.WebSocketResponse(
        protocols=(V1_PROTOCOL,),
        heartbeat=ping or None,
        max_msg_size=service.websocket_max_message_size,
        compress=False,
    )
    await ws.prepare(request)
    request.app[WEBSOCKETS].add(ws)
    transport = request.transport
    if transport is None:  # the client left during the upgrade
        return ws
    connection = Connection(ws, session_id, v1=ws.ws_protocol == V1_PROTOCOL)
    writer = asyncio.create_task(connection.write_loop(transport))
    stale = bridge.attach(connection)
    if stale is not None:
        log.info("Replacing a stale connection of session %s to kernel %s", session_id, kernel_id)
        await stale.ws.close(message=b"Replaced by a new connection with the same session_id")
    pack = bridge.session.pack
    try:
        async for message in ws:
            try:
                if message.type == WSMsgType.BINARY:
                    channel, parts = from_v1(message.data) if connection.v1 else from_legacy_binary(message.data, pack)
                elif message.type == WSMsgType.TEXT:
                    channel, parts = from_legacy_text(message.data, pack)
                else:
                    continue
            except ProtocolError as exc:
                log.warning("Bad frame from session %s on kernel %s: %s", session_id, kernel_id, exc)
                continue
            await bridge.send(connection, channel, parts)
    except Exception:
        # Past the upgrade no HTTP error can be sent: end the websocket as a websocket.
        log.exception("Websocket of session %s on kernel %s failed", session_id, kernel_id)
        await ws.close(code=WSCloseCode.INTERNAL_ERROR, message=b"Internal server error")
    finally:
        bridge.detach(connection)
        connection.finish()
        await writer
    return ws
