"""``/terminals/websocket/{name}``: the terminado JSON protocol the Jupyter frontends speak.

Every frame is a JSON array whose first element names the message:

- from the client: ``["stdin", text]`` (typed input) and ``["set_size", rows, cols, ...]``
  (window size; further elements, pixel sizes, are ignored);
- from the server: ``["setup", {}]`` once, first; ``["stdout", text]`` for output (the
  first one carries the recent scrollback); ``["disconnect", 1]`` when the terminal's
  process has ended, after which the server closes the socket.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import Any

from aiohttp import WSCloseCode, WSMsgType, web
from jupyter_core_server import BadRequest, keys, loads_json

from .handlers import terminals_of
from .terminal import Subscriber, Terminal

__all__ = ["terminal_websocket"]

log = logging.getLogger("jupyter_core_server.terminals")

FRAME_CHARS = 256 * 1024  # most output characters per stdout message
SETUP = json.dumps(["setup", {}])
DISCONNECT = json.dumps(["disconnect", 1])


async def terminal_websocket(request: web.Request) -> web.WebSocketResponse:
    """Attach a websocket client to a running terminal (404 before the upgrade if there is none)."""
    terminals = terminals_of(request)
    terminal = terminals.get(request.match_info["name"])
    ping = terminals.settings.websocket_ping_interval
    ws = web.WebSocketResponse(heartbeat=ping if ping > 0 else None, compress=False)
    await ws.prepare(request)
    request.app[keys.WEBSOCKETS].add(ws)
    await ws.send_str(SETUP)
    subscriber = terminal.subscribe()
    writer = asyncio.create_task(_send_output(ws, subscriber, terminal.name))
    try:
        async for message in ws:
            if message.type == WSMsgType.TEXT and not _handle(terminal, subscriber, message.data):
                await _input_drained(request, terminal)
    except ConnectionResetError:
        log.debug("Terminal %s: a client went away while its input was waiting", terminal.name)
    except Exception:
        # Past the upgrade no HTTP error can be sent: end the websocket as a websocket.
        log.exception("Terminal %s: websocket failed", terminal.name)
        await ws.close(code=WSCloseCode.INTERNAL_ERROR, message=b"Internal server error")
    finally:
        terminal.unsubscribe(subscriber)
        if not writer.done():
            writer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await writer
    return ws


async def _send_output(ws: web.WebSocketResponse, subscriber: Subscriber, name: str) -> None:
    """Send the terminal's output as it comes; at its end, ``disconnect`` and close."""
    try:
        while (text := await subscriber.take(FRAME_CHARS)) is not None:
            await ws.send_str(json.dumps(["stdout", text], ensure_ascii=False))
        await ws.send_str(DISCONNECT)
        await ws.close()
    except ConnectionError:
        log.debug("Terminal %s: client went away while output was being sent", name)


def _handle(terminal: Terminal, subscriber: Subscriber, data: str) -> bool:
    """Act on one client frame; a malformed frame is logged and ignored, as terminado does.

    :returns: ``False`` when input is piling up and the client should wait.
    """
    try:
        command: Any = loads_json(data, "frame")
    except BadRequest as exc:  # not JSON, or nested deeper than MAX_JSON_DEPTH
        log.debug("Terminal %s: ignoring a frame: %s", terminal.name, exc.message)
        return True
    if not isinstance(command, list) or not command or not isinstance(command[0], str):
        log.debug("Terminal %s: ignoring a frame that is not a message array", terminal.name)
        return True
    kind = command[0]
    terminal.touch()
    if kind == "stdin" and len(command) > 1 and isinstance(command[1], str):
        return terminal.write(command[1])
    if kind == "set_size" and len(command) > 2:
        try:
            terminal.set_client_size(subscriber, int(command[1]), int(command[2]))
        except (TypeError, ValueError) as exc:
            log.debug("Terminal %s: ignoring set_size %r: %s", terminal.name, command[1:3], exc)
    return True


async def _input_drained(request: web.Request, terminal: Terminal) -> None:
    """Wait until the program took the pending input; give up if the client went away meanwhile.

    While this waits the websocket is not read, so a client that closes would go
    unnoticed: check its connection every second.
    """
    drained = asyncio.ensure_future(terminal.input_drained())
    try:
        while not (await asyncio.wait({drained}, timeout=1.0))[0]:
            transport = request.transport
            if transport is None or transport.is_closing():
                raise ConnectionResetError("the client went away while its input was waiting")
    finally:
        drained.cancel()
