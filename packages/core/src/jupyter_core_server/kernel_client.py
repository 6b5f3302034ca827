"""A client of the kernel websocket, for tests: both framings, execute, replies and outputs.

Written from the protocol descriptions, not from the server's code, so that a test fails
when the server's framing drifts from what frontends speak. Plugin authors use it through
:mod:`jupyter_core_server.pytest_plugin`, which exports every name here.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import struct
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

import aiohttp
from jupyter_client.session import Session

#: A kernel websocket framing (see :data:`KERNEL_FRAMINGS`).
Framing = Literal["legacy", "v1"]


class PathClient(Protocol):
    """A client whose paths are relative to the server's ``base_url``.

    :class:`~jupyter_core_server.pytest_plugin.ServerClient` is one.
    """

    def post(self, path: str, **kwargs: Any) -> Any: ...

    def delete(self, path: str, **kwargs: Any) -> Any: ...

    def ws_connect(self, path: str, **kwargs: Any) -> Any: ...


# Clients never sign: the server signs what it forwards to the kernel.

#: The kernel websocket subprotocol JupyterLab offers first.
V1_KERNEL_PROTOCOL = "v1.kernel.websocket.jupyter.org"
#: ``legacy``: JSON text frames (legacy binary frames for messages with buffers), the
#: protocol without a subprotocol; ``v1``: :data:`V1_KERNEL_PROTOCOL`.
KERNEL_FRAMINGS: tuple[Framing, ...] = ("legacy", "v1")
KERNEL_TIMEOUT = 30.0
_CLOSED = (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSING, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR)
_OUTPUT_TYPES = frozenset({"stream", "display_data", "update_display_data", "execute_result", "error"})


def encode_v1(channel: str, parts: Sequence[bytes]) -> bytes:
    """Encode a v1 frame: little-endian u64 offset count, the offsets, the channel name, the parts.

    The offsets are the start and end of the channel name, then the end of each part;
    ``parts`` are the raw ZMQ frames (header, parent header, metadata, content, buffers).
    """
    name = channel.encode("utf-8")
    count = 2 + len(parts)
    offsets = [8 * (count + 1)]
    offsets.append(offsets[0] + len(name))
    for part in parts:
        offsets.append(offsets[-1] + len(part))
    return b"".join([count.to_bytes(8, "little"), *(o.to_bytes(8, "little") for o in offsets), name, *parts])


def decode_v1(data: bytes) -> tuple[str, list[bytes]]:
    """Decode a v1 frame into ``(channel, parts)``.

    :raises KernelProtocolError: When the offsets do not describe the frame.
    """
    count = int.from_bytes(data[:8], "little")
    if count < 2 or len(data) < 8 * (count + 1):
        raise KernelProtocolError(f"v1 frame of {len(data)} bytes with {count} offsets")
    offsets = [int.from_bytes(data[8 * (i + 1) : 8 * (i + 2)], "little") for i in range(count)]
    if offsets != sorted(offsets) or offsets[-1] != len(data):
        raise KernelProtocolError(f"bad v1 offsets {offsets} for {len(data)} bytes")
    channel = data[offsets[0] : offsets[1]].decode("utf-8")
    return channel, [data[offsets[i] : offsets[i + 1]] for i in range(1, count - 1)]


def encode_legacy_binary(message: Mapping[str, Any] | bytes, buffers: Sequence[bytes]) -> bytes:
    """Encode a legacy binary frame: big-endian u32 part count, u32 start offsets, the JSON, the buffers.

    :param message: The message (a ``buffers`` field is left out), or its JSON already
        encoded (for tests that send malformed JSON).
    """
    if isinstance(message, bytes):
        body = message
    else:
        body = json.dumps({k: v for k, v in message.items() if k != "buffers"}, default=str).encode("utf-8")
    chunks = [body, *buffers]
    offsets = [4 * (len(chunks) + 1)]
    for chunk in chunks[:-1]:
        offsets.append(offsets[-1] + len(chunk))
    return struct.pack(f">{len(chunks) + 1}I", len(chunks), *offsets) + b"".join(chunks)


def decode_legacy_binary(data: bytes) -> tuple[dict[str, Any], list[bytes]]:
    """Decode a legacy binary frame into ``(message, buffers)``.

    :raises KernelProtocolError: When the offsets do not describe the frame.
    """
    count = int.from_bytes(data[:4], "big")
    if count < 1 or len(data) < 4 * (count + 1):
        raise KernelProtocolError(f"legacy binary frame of {len(data)} bytes with {count} parts")
    offsets = [*struct.unpack(f">{count}I", data[4 : 4 * (count + 1)]), len(data)]
    if offsets != sorted(offsets):
        raise KernelProtocolError(f"bad legacy binary offsets {offsets[:-1]} for {len(data)} bytes")
    chunks = [data[offsets[i] : offsets[i + 1]] for i in range(count)]
    message: dict[str, Any] = json.loads(chunks[0])
    return message, chunks[1:]


class KernelProtocolError(AssertionError):
    """The server sent a frame that breaks the kernel websocket protocol (a failed test)."""


class KernelConnectionClosed(Exception):
    """The websocket closed while the client waited for a message."""


@dataclass
class KernelMessage:
    """A kernel message as a websocket client received it.

    ``frame`` says how it travelled: ``"text"`` or ``"binary"``.
    """

    channel: str
    header: dict[str, Any]
    parent_header: dict[str, Any]
    metadata: dict[str, Any]
    content: dict[str, Any]
    buffers: list[bytes]
    frame: str

    @property
    def msg_type(self) -> str:
        """The header's ``msg_type``."""
        return str(self.header.get("msg_type", ""))

    @property
    def parent_id(self) -> str | None:
        """The ``msg_id`` of the request this message answers, if any."""
        parent = self.parent_header.get("msg_id") if self.parent_header else None
        return str(parent) if parent is not None else None


@dataclass
class KernelReply:
    """Every message that answered one request: its reply and the IOPub traffic it caused, in order."""

    msg_id: str
    messages: list[KernelMessage] = field(default_factory=list)

    @property
    def reply(self) -> KernelMessage:
        """The one ``*_reply`` message (shell or control)."""
        replies = [m for m in self.messages if m.channel in ("shell", "control") and m.msg_type.endswith("_reply")]
        if len(replies) != 1:
            raise AssertionError(f"expected one reply to {self.msg_id}, got {[m.msg_type for m in self.messages]}")
        return replies[0]

    @property
    def status(self) -> str:
        """The reply's ``status``: ``ok``, ``error`` or ``aborted``."""
        return str(self.reply.content.get("status", ""))

    @property
    def iopub(self) -> list[KernelMessage]:
        """The IOPub messages, status and ``execute_input`` included."""
        return [m for m in self.messages if m.channel == "iopub"]

    @property
    def outputs(self) -> list[KernelMessage]:
        """The output messages (stream, display data, results, errors), as a notebook would keep them."""
        return [m for m in self.iopub if m.msg_type in _OUTPUT_TYPES]

    @property
    def data(self) -> list[dict[str, Any]]:
        """The MIME bundles of every ``execute_result`` and ``display_data``, in order."""
        return [dict(m.content["data"]) for m in self.outputs if m.msg_type in ("execute_result", "display_data")]

    @property
    def error(self) -> dict[str, Any] | None:
        """The ``error`` output's content (``ename``, ``evalue``, ``traceback``), or ``None``."""
        errors = self.of_type("error")
        return errors[-1].content if errors else None

    def of_type(self, msg_type: str) -> list[KernelMessage]:
        """The messages of one ``msg_type``."""
        return [m for m in self.messages if m.msg_type == msg_type]

    def stream(self, name: str = "stdout") -> str:
        """Everything written to one stream (``stdout`` or ``stderr``)."""
        return "".join(str(m.content["text"]) for m in self.of_type("stream") if m.content.get("name") == name)


def reply_and_idle(reply: KernelReply) -> bool:
    """Whether the request is answered: its reply came, and the kernel's ``idle`` status after it.

    IOPub and shell are separate channels, so output may arrive after the reply; the
    ``idle`` status is what says the output is complete.
    """
    replied = any(m.channel in ("shell", "control") and m.msg_type.endswith("_reply") for m in reply.messages)
    idle = any(m.msg_type == "status" and m.content.get("execution_state") == "idle" for m in reply.iopub)
    return replied and idle


class KernelChannels:
    """One websocket connection to a kernel's channels, speaking one framing.

    Messages that arrive while the client waits for others are kept in :attr:`unclaimed`
    and handed out by later :meth:`receive` calls. The aiohttp websocket is :attr:`ws`,
    for tests that send frames of their own.

    :param ws: A connected ``api/kernels/{id}/channels`` websocket.
    :param framing: ``"v1"`` (the websocket must have negotiated :data:`V1_KERNEL_PROTOCOL`)
        or ``"legacy"``.
    :param session_id: The client's session id, used in the headers of sent messages.
    """

    def __init__(self, ws: aiohttp.ClientWebSocketResponse, framing: Framing = "v1", session_id: str = "") -> None:
        if framing not in KERNEL_FRAMINGS:
            raise ValueError(f"framing must be one of {KERNEL_FRAMINGS}, not {framing!r}")
        self.ws = ws
        self.framing: Framing = framing
        self.session_id = session_id or uuid.uuid4().hex
        self.session = Session(key=b"", username="test", session=self.session_id)
        #: Received but not yet returned by :meth:`receive`.
        self.unclaimed: list[KernelMessage] = []
        #: Whether the server closed the connection.
        self.closed = False

    # -- sending ----------------------------------------------------------------------------------

    def build(
        self, channel: str, msg_type: str, content: Mapping[str, Any], metadata: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        """Return a new message (header, parent header, metadata, content, channel) without sending it."""
        msg: dict[str, Any] = self.session.msg(msg_type, dict(content), metadata=dict(metadata or {}))
        msg["channel"] = channel
        return msg

    async def send(
        self,
        channel: str,
        msg_type: str,
        content: Mapping[str, Any],
        buffers: Iterable[bytes] = (),
        *,
        metadata: Mapping[str, Any] | None = None,
    ) -> str:
        """Send a new message; return its ``msg_id``."""
        msg = self.build(channel, msg_type, content, metadata)
        await self.send_message(msg, list(buffers))
        return str(msg["header"]["msg_id"])

    async def send_message(self, msg: Mapping[str, Any], buffers: Sequence[bytes] = ()) -> None:
        """Send a message built by :meth:`build` (and changed by the test, if it likes) in this framing."""
        pack = self.session.pack
        if self.framing == "v1":
            parts = [pack(msg[key]) for key in ("header", "parent_header", "metadata", "content")]
            await self.ws.send_bytes(encode_v1(str(msg["channel"]), [*parts, *buffers]))
        elif buffers:
            await self.ws.send_bytes(
                encode_legacy_binary(pack({k: v for k, v in msg.items() if k != "buffers"}), buffers)
            )
        else:
            await self.ws.send_str(pack({**msg, "buffers": []}).decode("utf-8"))

    # -- receiving --------------------------------------------------------------------------------

    def _decode(self, raw: aiohttp.WSMessage) -> KernelMessage:
        buffers: list[bytes] = []
        if raw.type == aiohttp.WSMsgType.TEXT:
            if self.framing == "v1":
                raise KernelProtocolError(f"a text frame on a v1 connection: {raw.data[:200]!r}")
            msg, frame = json.loads(raw.data), "text"
        elif self.framing == "v1":
            channel, parts = decode_v1(raw.data)
            if len(parts) < 4:
                raise KernelProtocolError(f"a v1 frame with {len(parts)} parts")
            header, parent, metadata, content = (json.loads(part) for part in parts[:4])
            return KernelMessage(channel, header, parent, metadata, content, parts[4:], "binary")
        else:
            msg, buffers = decode_legacy_binary(raw.data)
            frame = "binary"
            if not buffers:
                raise KernelProtocolError("a legacy binary frame without buffers")
        if msg.get("msg_type") != msg["header"]["msg_type"] or msg.get("msg_id") != msg["header"]["msg_id"]:
            raise KernelProtocolError(f"legacy message without matching msg_type and msg_id: {msg['header']}")
        return KernelMessage(
            msg["channel"], msg["header"], msg["parent_header"], msg["metadata"], msg["content"], buffers, frame
        )

    async def _read(self, timeout: float) -> KernelMessage:
        while True:
            raw = await asyncio.wait_for(self.ws.receive(), max(timeout, 0.001))
            if raw.type in (aiohttp.WSMsgType.TEXT, aiohttp.WSMsgType.BINARY):
                return self._decode(raw)
            if raw.type in _CLOSED:
                self.closed = True
                raise KernelConnectionClosed(f"websocket closed ({raw.type.name}, {raw.data!r}, {raw.extra!r})")

    async def receive(
        self, predicate: Callable[[KernelMessage], bool] = lambda m: True, timeout: float = KERNEL_TIMEOUT
    ) -> KernelMessage:
        """Return the first message, kept from earlier or new, that ``predicate`` accepts.

        :raises TimeoutError: When none came within ``timeout`` seconds.
        :raises KernelConnectionClosed: When the connection closed first.
        """
        for i, msg in enumerate(self.unclaimed):
            if predicate(msg):
                return self.unclaimed.pop(i)
        deadline = time.monotonic() + timeout
        while True:
            try:
                msg = await self._read(deadline - time.monotonic())
            except asyncio.TimeoutError:
                seen = [(m.channel, m.msg_type, m.content.get("execution_state")) for m in self.unclaimed[-20:]]
                raise TimeoutError(f"no matching message in {timeout} s; last unclaimed: {seen}") from None
            if predicate(msg):
                return msg
            self.unclaimed.append(msg)

    async def collect(
        self, msg_id: str, done: Callable[[KernelReply], bool] = reply_and_idle, timeout: float = KERNEL_TIMEOUT
    ) -> KernelReply:
        """Gather every message whose parent is ``msg_id`` until ``done`` says so (default: :func:`reply_and_idle`)."""
        reply = KernelReply(msg_id)
        deadline = time.monotonic() + timeout
        while not done(reply):
            try:
                reply.messages.append(await self.receive(lambda m: m.parent_id == msg_id, deadline - time.monotonic()))
            except TimeoutError as exc:
                got = [m.msg_type for m in reply.messages]
                raise TimeoutError(f"no complete answer to {msg_id} in {timeout} s (got {got}); {exc}") from None
        return reply

    async def request(
        self,
        msg_type: str,
        content: Mapping[str, Any] | None = None,
        channel: str = "shell",
        timeout: float = KERNEL_TIMEOUT,
    ) -> KernelReply:
        """Send a request (``kernel_info_request``, ``complete_request``, ...) and collect its answer."""
        msg_id = await self.send(channel, msg_type, content or {})
        return await self.collect(msg_id, timeout=timeout)

    async def execute(self, code: str, timeout: float = KERNEL_TIMEOUT, **options: Any) -> KernelReply:
        """Run ``code``; return the ``execute_reply`` and the outputs once the kernel is idle again.

        :param options: Fields of the ``execute_request`` content to set (``silent``,
            ``store_history``, ``allow_stdin``, ...); by default the code runs without
            history or stdin.
        """
        return await self.request("execute_request", execute_content(code, **options), timeout=timeout)

    # -- closing ----------------------------------------------------------------------------------

    async def disconnect(self, timeout: float = 10.0) -> list[KernelMessage]:
        """Close as a well-behaved client does: send Close, keep what arrives until the server's Close.

        aiohttp's ``close()`` would drop the frames the server sent before it saw the
        Close; they were delivered, so they are returned (and kept in :attr:`unclaimed`).
        """
        if self.closed:
            return []
        await self.ws.send_frame(struct.pack("!H", 1000), aiohttp.WSMsgType.CLOSE)
        kept = await self.wait_closed(timeout)
        self.unclaimed.extend(kept)
        return kept

    async def wait_closed(self, timeout: float = 10.0) -> list[KernelMessage]:
        """Wait until the server closes the connection; return what arrived before.

        :raises TimeoutError: When it is still open after ``timeout`` seconds.
        """
        kept: list[KernelMessage] = []
        deadline = time.monotonic() + timeout
        with contextlib.suppress(KernelConnectionClosed):
            while True:
                try:
                    kept.append(await self._read(deadline - time.monotonic()))
                except asyncio.TimeoutError:
                    raise TimeoutError(f"the connection is still open after {timeout} s") from None
        return kept


def execute_content(code: str, **options: Any) -> dict[str, Any]:
    """The content of an ``execute_request`` for ``code``: no history, no stdin, unless ``options`` say so."""
    return {
        "code": code,
        "silent": False,
        "store_history": False,
        "user_expressions": {},
        "allow_stdin": False,
        **options,
    }


async def start_kernel(client: PathClient, **body: Any) -> str:
    """Start a kernel through ``POST api/kernels`` with ``body`` (``name``, ``path``, ``env``); return its id."""
    async with client.post("api/kernels", json=body) as response:
        if response.status != 201:
            raise AssertionError(f"POST api/kernels answered {response.status}: {await response.text()}")
        return str((await response.json())["id"])


async def shutdown_kernel(client: PathClient, kernel_id: str) -> None:
    """Shut a kernel down through ``DELETE api/kernels/{id}``; one already gone is fine."""
    async with client.delete(f"api/kernels/{kernel_id}") as response:
        if response.status not in (204, 404):
            raise AssertionError(f"DELETE api/kernels/{kernel_id} answered {response.status}: {await response.text()}")


@contextlib.asynccontextmanager
async def open_kernel_channels(
    client: PathClient,
    kernel_id: str,
    framing: Framing = "v1",
    *,
    session_id: str | None = None,
    connect_timeout: float = KERNEL_TIMEOUT,
    **ws_options: Any,
) -> AsyncIterator[KernelChannels]:
    """Connect to ``api/kernels/{kernel_id}/channels`` in ``framing``; close the websocket on exit.

    :param client: ``jcs_client``, or any client with path-relative ``ws_connect``.
    :param framing: ``"v1"`` offers :data:`V1_KERNEL_PROTOCOL` and checks the server chose
        it; ``"legacy"`` offers no subprotocol.
    :param session_id: The ``session_id`` query parameter; a new one by default. A second
        connection with the same id replaces the first, as a reconnecting frontend does.
    :param connect_timeout: Seconds to wait for the handshake, and for the close on exit.
    :param ws_options: Passed on to ``ws_connect`` (``headers``, ``origin``, aiohttp's ``timeout``, ...).
    """
    session_id = session_id or uuid.uuid4().hex
    protocols = (V1_KERNEL_PROTOCOL,) if framing == "v1" else ()
    ws_options.setdefault("max_msg_size", 0)  # the server enforces its own limit
    ws = await asyncio.wait_for(
        client.ws_connect(
            f"api/kernels/{kernel_id}/channels", params={"session_id": session_id}, protocols=protocols, **ws_options
        ),
        connect_timeout,
    )
    try:
        expected = V1_KERNEL_PROTOCOL if framing == "v1" else None
        if ws.protocol != expected:
            raise KernelProtocolError(f"the server chose subprotocol {ws.protocol!r}, not {expected!r}")
        yield KernelChannels(ws, framing, session_id)
    finally:
        await asyncio.wait_for(ws.close(), connect_timeout)
