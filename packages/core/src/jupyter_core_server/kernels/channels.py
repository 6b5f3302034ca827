"""The websocket-to-ZMQ bridge of one kernel: the hot path of the server.

One set of ZMQ sockets per kernel serves every websocket client of that kernel. IOPub
is fanned out to every client; replies on shell, control and stdin go back to the
client whose request they answer (routed by the parent's ``msg_id``). Only headers are
decoded on the way through (and a status message's small content); message bytes are
relayed as they are.

Each client is a *slot* keyed by its ``session_id``. When a client goes away, its slot
keeps collecting the messages meant for it in a buffer bounded by bytes and by age; a
client reconnecting with the same ``session_id`` gets them replayed in order, with a
notice if the bound forced any out.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import zmq
from aiohttp import WSCloseCode, web
from zmq.utils.monitor import parse_monitor_message

from .messages import legacy_frame, to_v1, websocket_header
from .ratelimit import RateLimiter
from .zmqio import LoopSocket

if TYPE_CHECKING:
    from jupyter_client.session import Session

__all__ = ["UNTRACKED_REQUESTS", "Connection", "KernelBridge"]

log = logging.getLogger("jupyter_core_server")

DELIM = b"<IDS|MSG>"
# Requests frontends send on their own; they must not count as user activity.
UNTRACKED_REQUESTS = frozenset({"kernel_info_request", "comm_info_request", "debug_request", "history_request"})
OUTPUT_TYPES = frozenset(
    {"stream", "display_data", "update_display_data", "execute_result", "error", "clear_output", "execute_input"}
)
_ROUTE_MEMORY = 10_000
_BATCH_BYTES = 1024 * 1024  # most bytes gathered into one write
_HIGH_WATER = 1024 * 1024  # unsent bytes a connection may hold before its writer waits
_DRAIN_POLLS = 6000  # x 10 ms: a client that takes nothing for a minute stops being fed
_STDIN_GRACE = 5.0  # seconds the handshake waits for the stdin connection after kernel_info


Queued = tuple[str, list[bytes], dict[str, Any]]


@dataclass(eq=False)
class Connection:
    """One websocket client, with its own send queue so a slow client stalls only itself.

    Messages wait in ``pending`` as parts and are framed when written, so those still
    unwritten when the client goes away can be kept for replay instead of being lost.
    """

    ws: web.WebSocketResponse
    session_id: str
    v1: bool
    pending: deque[Queued] = field(default_factory=deque)
    wakeup: asyncio.Event = field(default_factory=asyncio.Event)
    finished: bool = False

    def send(self, channel: str, parts: list[bytes], header: dict[str, Any]) -> None:
        self.pending.append((channel, parts, header))
        self.wakeup.set()

    def finish(self) -> None:
        """Make :meth:`write_loop` return once ``pending`` is empty."""
        self.finished = True
        self.wakeup.set()

    async def write_loop(self, transport: asyncio.Transport) -> None:
        """Write queued messages until :meth:`finish` or the socket closes; unwritten ones stay queued.

        Everything queued since the last wake-up goes out in one write: one system call for
        a burst of output instead of one per message, which was most of the relay's CPU.
        Frames are written to the connection's transport directly (server frames are not
        masked, compression is off); aiohttp's own writes (pings, close) are whole frames
        too, so the two never interleave mid-frame.
        """
        ws, pending = self.ws, self.pending
        while True:
            if not pending:
                if self.finished:
                    return
                self.wakeup.clear()
                await self.wakeup.wait()
                continue
            if ws.closed or transport.is_closing():
                return
            chunks: list[bytes] = []
            size = 0
            while pending and size < _BATCH_BYTES:
                channel, parts, header = pending.popleft()
                if self.v1:
                    data, text = to_v1(channel, parts), False
                else:
                    data, text = legacy_frame(channel, parts, header)
                chunks += (websocket_header(len(data), text=text), data)
                size += len(data)
            transport.write(b"".join(chunks))
            # A slow client fills the transport's buffer: let it drain before writing more.
            for _ in range(_DRAIN_POLLS):
                if transport.get_write_buffer_size() < _HIGH_WATER or transport.is_closing():
                    break
                await asyncio.sleep(0.01)


@dataclass(eq=False)
class Slot:
    """What the bridge keeps per ``session_id``: the live connection, or a replay buffer."""

    connection: Connection | None = None
    buffer: deque[tuple[float, str, list[bytes], dict[str, Any]]] = field(default_factory=deque)
    buffered_bytes: int = 0
    lost: int = 0
    detached_at: float = 0.0


class KernelBridge:
    """ZMQ sockets, routing, activity and replay buffers of one kernel."""

    def __init__(
        self,
        kernel_id: str,
        manager: Any,
        *,
        buffer_max_bytes: int,
        buffer_max_age: float,
        kernel_info_timeout: float,
        on_activity: Callable[[], None],
        rate_limiter: RateLimiter | None = None,
    ) -> None:
        self.kernel_id = kernel_id
        self.manager = manager  # jupyter_client KernelManager
        self.session: Session = manager.session
        self.buffer_max_bytes = buffer_max_bytes
        self.buffer_max_age = buffer_max_age
        self.kernel_info_timeout = kernel_info_timeout
        self.on_activity = on_activity
        self.rate_limiter = rate_limiter
        self.execution_state = "starting"
        self.last_activity = time.time()
        self.slots: dict[str, Slot] = {}
        self.routes: OrderedDict[str, str] = OrderedDict()
        self.sockets: dict[str, LoopSocket] = {}
        self.stdin_ready = asyncio.Event()
        #: Clear while the sockets are being replaced; client messages wait for it.
        self.connected = asyncio.Event()
        self.connected.set()
        self._stdin_monitor: LoopSocket | None = None
        self._ports: tuple[Any, ...] = ()
        self._opened: asyncio.Future[None] | None = None
        self._nudge: tuple[str, asyncio.Event, asyncio.Event] | None = None
        self._waiters: dict[str, asyncio.Future[dict[str, Any]]] = {}

    # -- connections ------------------------------------------------------------------------

    @property
    def connection_count(self) -> int:
        return sum(1 for slot in self.slots.values() if slot.connection is not None)

    async def ensure_open(self) -> None:
        """Open the ZMQ sockets once and wait until the kernel answers and IOPub flows."""
        if self._opened is None:
            self._opened = asyncio.get_running_loop().create_future()
            try:
                self._open_sockets()
                await self.handshake()
            except BaseException as exc:
                self._opened.set_exception(exc)
                self._opened.exception()  # mark retrieved; waiters get it through await
                self._opened = None
                raise
            self._opened.set_result(None)
        else:
            await asyncio.shield(self._opened)

    async def follow_restart(self) -> None:
        """Catch up with a kernel that was restarted automatically.

        The sockets are reopened if the kernel came back on other ports, and the handshake
        runs again so that IOPub flows before held client messages go out. Clients stay
        attached; their slots keep routing.
        """
        if not self.sockets:
            return
        self.connected.clear()
        try:
            if self._ports != _ports(self.manager.get_connection_info()):
                self._close_sockets()
                self._open_sockets()
            await self.handshake()
        finally:
            self.connected.set()

    def _open_sockets(self) -> None:
        info = self.manager.get_connection_info()
        self._ports = _ports(info)
        context: zmq.Context[zmq.Socket[bytes]] = zmq.Context.instance()
        for channel in ("iopub", "shell", "control", "stdin"):
            socket = context.socket(zmq.SUB if channel == "iopub" else zmq.DEALER)
            socket.linger = 0
            if channel == "iopub":
                socket.setsockopt(zmq.SUBSCRIBE, b"")
                # ZMQ silently drops past 1,000 queued messages by default; output must not vanish.
                socket.setsockopt(zmq.RCVHWM, 0)
            else:
                # One identity for shell and stdin: ipykernel sends input_request to the shell sender's identity.
                socket.setsockopt(zmq.IDENTITY, self.session.bsession)
            if channel == "stdin":
                monitor = socket.get_monitor_socket(zmq.EVENT_HANDSHAKE_SUCCEEDED | zmq.EVENT_DISCONNECTED)
                self._stdin_monitor = LoopSocket(monitor, self._stdin_event)
            port = info[f"{channel}_port"]
            if info["transport"] == "tcp":
                socket.connect(f"tcp://{info['ip']}:{port}")
            else:
                socket.connect(f"{info['transport']}://{info['ip']}-{port}")
            on_message = (
                self._from_kernel_iopub if channel == "iopub" else functools.partial(self._from_kernel_reply, channel)
            )
            self.sockets[channel] = LoopSocket(socket, on_message)

    def _stdin_event(self, frames: list[bytes]) -> None:
        # The kernel's stdin ROUTER drops an input_request addressed to a peer it has not
        # met yet, so the bridge must know when its stdin socket is really connected.
        event = parse_monitor_message(frames)["event"]
        if event == zmq.EVENT_HANDSHAKE_SUCCEEDED:
            self.stdin_ready.set()
        elif event == zmq.EVENT_DISCONNECTED:
            self.stdin_ready.clear()

    async def handshake(self) -> None:
        """Send ``kernel_info_request`` until a reply *and* an IOPub message arrive.

        A newly connected SUB socket misses what is published before its subscription
        reaches the kernel; waiting for IOPub traffic closes that window, so a client's
        first output is never lost. The stdin socket connects on its own retry timer, and
        an ``input_request`` sent before it has connected is dropped by the kernel, so
        the handshake also waits (a few seconds at most) for it.
        """
        replied, iopub_seen = asyncio.Event(), asyncio.Event()
        deadline = time.monotonic() + self.kernel_info_timeout
        try:
            while not (replied.is_set() and iopub_seen.is_set()):
                if time.monotonic() > deadline:
                    raise TimeoutError(
                        f"Kernel {self.kernel_id} did not answer kernel_info within {self.kernel_info_timeout} s"
                    )
                parts, header = self._message("kernel_info_request", {})
                self._nudge = (header["msg_id"], replied, iopub_seen)
                await self.sockets["shell"].send([DELIM, self.session.sign(parts), *parts])
                try:
                    await asyncio.wait_for(_both(replied, iopub_seen), 0.5)
                except asyncio.TimeoutError:
                    continue
        finally:
            self._nudge = None
        try:
            await asyncio.wait_for(self.stdin_ready.wait(), min(_STDIN_GRACE, max(deadline - time.monotonic(), 0)))
        except asyncio.TimeoutError:
            # A kernel that never serves stdin still gets its clients; only input() may suffer.
            log.warning("Kernel %s has not accepted a stdin connection; input requests may be missed", self.kernel_id)

    def attach(self, connection: Connection) -> Connection | None:
        """Attach a client; replay what its slot buffered; return a replaced stale connection."""
        slot = self.slots.setdefault(connection.session_id, Slot())
        stale = slot.connection
        if stale is not None:
            # What the stale connection never wrote is older than anything in the new one.
            connection.pending.extend(stale.pending)
            stale.pending.clear()
        self._expire(slot, time.time())
        if slot.lost:
            self._notice(
                connection,
                f"{slot.lost} message(s) sent while this client was disconnected were lost "
                "(the replay buffer's size or age limit was reached).",
            )
        while slot.buffer:
            _, channel, parts, header = slot.buffer.popleft()
            connection.send(channel, parts, header)
        slot.buffered_bytes = slot.lost = 0
        slot.connection = connection
        return stale

    def detach(self, connection: Connection) -> None:
        """Detach a client; its slot starts buffering (or is dropped when buffering is off)."""
        slot = self.slots.get(connection.session_id)
        if slot is None or slot.connection is not connection:
            return
        slot.connection = None
        slot.detached_at = now = time.time()
        # Messages queued but never written did not reach the client: replay them first.
        for channel, parts, header in reversed(connection.pending):
            slot.buffer.appendleft((now, channel, parts, header))
            slot.buffered_bytes += sum(len(p) for p in parts)
        connection.pending.clear()
        self._expire(slot, now)
        if self.buffer_max_bytes <= 0:
            del self.slots[connection.session_id]

    def _stream_message(self, text: str) -> tuple[list[bytes], dict[str, Any]]:
        """Build a stderr ``stream`` message the server itself sends to clients."""
        return self._message("stream", {"name": "stderr", "text": f"[jupyter-core-server] {text}\n"})

    def _message(self, msg_type: str, content: dict[str, Any]) -> tuple[list[bytes], dict[str, Any]]:
        msg = self.session.msg(msg_type, content)
        return [self.session.pack(msg[k]) for k in ("header", "parent_header", "metadata", "content")], msg["header"]

    def _notice(self, connection: Connection, text: str) -> None:
        connection.send("iopub", *self._stream_message(text))

    # -- kernel -> clients -------------------------------------------------------------------

    def _split(self, channel: str, frames: list[bytes]) -> tuple[list[bytes], dict[str, Any]] | None:
        try:
            # [identities..., DELIM, signature, header, parent, metadata, content, buffers...]
            parts = frames[frames.index(DELIM) + 2 :]
            return parts, json.loads(parts[0])
        except (ValueError, IndexError) as exc:
            log.warning("Kernel %s sent an undecodable %s message: %s", self.kernel_id, channel, exc)
            return None

    def _from_kernel_iopub(self, frames: list[bytes]) -> None:
        message = self._split("iopub", frames)
        if message is not None:
            self._from_iopub(*message)

    def _from_kernel_reply(self, channel: str, frames: list[bytes]) -> None:
        message = self._split(channel, frames)
        if message is not None:
            self._reply(channel, *message)

    def _from_iopub(self, parts: list[bytes], header: dict[str, Any]) -> None:
        msg_type = header.get("msg_type")
        if msg_type == "status":
            state = json.loads(parts[3]).get("execution_state")
            if state:
                self.execution_state = state
                if state == "idle" and self.rate_limiter is not None:
                    self.rate_limiter.reset()
        elif msg_type in OUTPUT_TYPES:
            self.touch()
            if self.rate_limiter is not None and msg_type != "execute_input":
                allowed, notice = self.rate_limiter.check(time.time(), sum(len(p) for p in parts))
                if not allowed:
                    if notice:
                        self._fan_out(*self._stream_message(notice))
                    return
        if self._nudge is not None:
            self._nudge[2].set()
        self._fan_out(parts, header)

    def _fan_out(self, parts: list[bytes], header: dict[str, Any]) -> None:
        now = 0.0
        for slot in self.slots.values():
            if slot.connection is not None:
                slot.connection.send("iopub", parts, header)
            else:
                now = now or time.time()
                self._buffer(slot, now, "iopub", parts, header)

    def _reply(self, channel: str, parts: list[bytes], header: dict[str, Any]) -> None:
        parent_id = json.loads(parts[1]).get("msg_id", "")
        if self._nudge is not None and parent_id == self._nudge[0]:
            self._nudge[1].set()
            return
        waiter = self._waiters.get(parent_id)
        if waiter is not None:
            if not waiter.done():
                waiter.set_result(json.loads(parts[3]))
            return
        session_id = self.routes.get(parent_id)
        slot = self.slots.get(session_id) if session_id is not None else None
        if slot is None:
            return
        if slot.connection is not None:
            slot.connection.send(channel, parts, header)
        else:
            self._buffer(slot, time.time(), channel, parts, header)

    def _buffer(self, slot: Slot, now: float, channel: str, parts: list[bytes], header: dict[str, Any]) -> None:
        slot.buffer.append((now, channel, parts, header))
        slot.buffered_bytes += sum(len(p) for p in parts)
        self._expire(slot, now)

    def _expire(self, slot: Slot, now: float) -> None:
        buffer = slot.buffer
        while buffer and (slot.buffered_bytes > self.buffer_max_bytes or now - buffer[0][0] > self.buffer_max_age):
            _, _, parts, _ = buffer.popleft()
            slot.buffered_bytes -= sum(len(p) for p in parts)
            slot.lost += 1

    def sweep(self, now: float) -> None:
        """Forget detached slots whose clients have been away longer than the buffer age."""
        for session_id, slot in list(self.slots.items()):
            if slot.connection is None and now - slot.detached_at > self.buffer_max_age:
                del self.slots[session_id]

    # -- clients -> kernel -------------------------------------------------------------------

    async def send(self, connection: Connection, channel: str, parts: list[bytes]) -> None:
        """Sign and send a client's message to the kernel on ``channel``."""
        if not self.connected.is_set():
            # The bridge is reconnecting to a restarted kernel: hold the message until it can go.
            await asyncio.wait_for(self.connected.wait(), self.kernel_info_timeout)
        socket = self.sockets.get(channel)
        if socket is None or channel == "iopub" or len(parts) < 4:
            log.warning("Dropping a client message for channel %r of kernel %s", channel, self.kernel_id)
            return
        try:
            header = json.loads(parts[0])
        except ValueError:
            header = None
        if not isinstance(header, dict):
            # The v1 framing relays bytes undecoded: this is where a bad header shows.
            log.warning("Dropping a client message with an undecodable header for kernel %s", self.kernel_id)
            return
        msg_id, msg_type = header.get("msg_id"), header.get("msg_type")
        if not (isinstance(msg_id, str) and msg_id and isinstance(msg_type, str)):
            log.warning("Dropping a client message without a string msg_id and msg_type for kernel %s", self.kernel_id)
            return
        owner = self.routes.setdefault(msg_id, connection.session_id)
        if owner != connection.session_id:
            # Replies are routed by msg_id: a reused one would take another client's reply.
            log.warning(
                "Dropping a message of session %s that reuses another session's msg_id on kernel %s",
                connection.session_id,
                self.kernel_id,
            )
            return
        if len(self.routes) > _ROUTE_MEMORY:
            self.routes.popitem(last=False)
        if msg_type not in UNTRACKED_REQUESTS:
            self.touch()
        await socket.send([DELIM, self.session.sign(parts[:4]), *parts])

    async def run_silently(self, code: str, timeout: float) -> dict[str, Any]:
        """Run ``code`` for the server itself and return the ``execute_reply`` content.

        The request is silent (no ``execute_input``, no history, no execution count) and
        its reply goes to no client. Used for seed code and to fit a pooled kernel to a
        request; it does not count as user activity.
        """
        await self.ensure_open()
        content = {
            "code": code,
            "silent": True,
            "store_history": False,
            "user_expressions": {},
            "allow_stdin": False,
            "stop_on_error": True,
        }
        parts, header = self._message("execute_request", content)
        reply: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._waiters[header["msg_id"]] = reply
        try:
            await self.sockets["shell"].send([DELIM, self.session.sign(parts), *parts])
            return await asyncio.wait_for(reply, timeout)
        finally:
            del self._waiters[header["msg_id"]]

    def touch(self) -> None:
        """Record user activity on this kernel."""
        self.last_activity = time.time()
        self.on_activity()

    def broadcast_status(self, state: str) -> None:
        """Tell every client the kernel is ``restarting`` or ``dead`` (the kernel cannot say so)."""
        self.execution_state = state
        self._fan_out(*self._message("status", {"execution_state": state}))

    async def close(self, reason: str = "Kernel shut down") -> None:
        """Close every client and the ZMQ sockets."""
        for slot in self.slots.values():
            if slot.connection is not None:
                await slot.connection.ws.close(code=WSCloseCode.OK, message=reason.encode())
        self.slots.clear()
        self._close_sockets()
        self._opened = None

    def _close_sockets(self) -> None:
        if self._stdin_monitor is not None:
            self.sockets["stdin"].socket.disable_monitor()
            self._stdin_monitor.close()
            self._stdin_monitor = None
        self.stdin_ready.clear()
        for socket in self.sockets.values():
            socket.close()
        self.sockets.clear()


def _ports(info: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(info.get(f"{channel}_port") for channel in ("iopub", "shell", "control", "stdin"))


async def _both(a: asyncio.Event, b: asyncio.Event) -> None:
    await a.wait()
    await b.wait()
