"""A small kernel websocket client for the tests, in each of the three framings.

Written from the protocol descriptions, not from the server's code, so that a test
fails when the server's framing drifts from what frontends speak:

- ``legacy-text``: every message is one JSON text frame (a client that never sends
  buffers); messages with buffers arrive as legacy binary frames.
- ``legacy-binary``: the same, but the client sends a legacy binary frame whenever it
  has buffers: big-endian u32 part count, one u32 start offset per part, then the JSON
  message followed by each buffer.
- ``v1``: the ``v1.kernel.websocket.jupyter.org`` subprotocol: little-endian u64 offset
  count, then offsets (start of the channel name, end of the channel name, end of each
  part), then the channel name and the raw ZMQ parts.

Clients never sign: the server signs what it forwards to the kernel.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import struct
import sys
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from jupyter_client.session import Session

__all__ = [
    "FRAMINGS",
    "V1_PROTOCOL",
    "KernelClient",
    "Message",
    "Reply",
    "decode_legacy_binary",
    "decode_v1",
    "encode_legacy_binary",
    "encode_v1",
    "open_channels",
    "start_kernel",
    "wait_until",
]

FRAMINGS = ("legacy-text", "legacy-binary", "v1")
V1_PROTOCOL = "v1.kernel.websocket.jupyter.org"
TIMEOUT = 30.0


# -- framings, written from the protocol description ------------------------------------


def encode_v1(channel: str, parts: Sequence[bytes]) -> bytes:
    """Encode ``(channel, parts)`` as a v1 frame."""
    name = channel.encode("utf-8")
    offset_count = 2 + len(parts)  # start of channel, end of channel, end of each part
    start = 8 + 8 * offset_count
    offsets = [start, start + len(name)]
    for part in parts:
        offsets.append(offsets[-1] + len(part))
    head = offset_count.to_bytes(8, "little") + b"".join(o.to_bytes(8, "little") for o in offsets)
    return head + name + b"".join(parts)


def decode_v1(data: bytes) -> tuple[str, list[bytes]]:
    """Decode a v1 frame into ``(channel, parts)``."""
    count = int.from_bytes(data[:8], "little")
    offsets = [int.from_bytes(data[8 * (i + 1) : 8 * (i + 2)], "little") for i in range(count)]
    assert offsets == sorted(offsets) and offsets[-1] == len(data), f"bad v1 offsets {offsets} for {len(data)} bytes"
    channel = data[offsets[0] : offsets[1]].decode("utf-8")
    return channel, [data[offsets[i] : offsets[i + 1]] for i in range(1, count - 1)]


def encode_legacy_binary(msg: dict[str, Any], buffers: Sequence[bytes]) -> bytes:
    """Encode a legacy binary frame: the JSON message (without ``buffers``) then each buffer."""
    body = json.dumps({k: v for k, v in msg.items() if k != "buffers"}, default=str).encode("utf-8")
    chunks = [body, *buffers]
    offsets = [4 * (len(chunks) + 1)]
    for chunk in chunks[:-1]:
        offsets.append(offsets[-1] + len(chunk))
    return struct.pack(f">{len(chunks) + 1}I", len(chunks), *offsets) + b"".join(chunks)


def decode_legacy_binary(data: bytes) -> tuple[dict[str, Any], list[bytes]]:
    """Decode a legacy binary frame into ``(message, buffers)``."""
    (count,) = struct.unpack(">I", data[:4])
    offsets = list(struct.unpack(f">{count}I", data[4 : 4 * (count + 1)])) + [len(data)]
    chunks = [data[offsets[i] : offsets[i + 1]] for i in range(count)]
    return json.loads(chunks[0]), chunks[1:]


# -- messages ---------------------------------------------------------------------------


@dataclass
class Message:
    """A message as a client sees it, and how it travelled (``text`` or ``binary`` frame)."""

    channel: str
    header: dict[str, Any]
    parent_header: dict[str, Any]
    metadata: dict[str, Any]
    content: dict[str, Any]
    buffers: list[bytes]
    frame: str

    @property
    def msg_type(self) -> str:
        return str(self.header.get("msg_type", ""))

    @property
    def parent_id(self) -> str | None:
        return self.parent_header.get("msg_id") if self.parent_header else None


@dataclass
class Reply:
    """Every message that answered one request: the reply and the IOPub traffic it caused."""

    msg_id: str
    messages: list[Message] = field(default_factory=list)

    @property
    def reply(self) -> Message:
        replies = [m for m in self.messages if m.channel in ("shell", "control") and m.msg_type.endswith("_reply")]
        assert len(replies) == 1, f"expected one reply to {self.msg_id}, got {[m.msg_type for m in self.messages]}"
        return replies[0]

    @property
    def iopub(self) -> list[Message]:
        return [m for m in self.messages if m.channel == "iopub"]

    def of_type(self, msg_type: str) -> list[Message]:
        return [m for m in self.messages if m.msg_type == msg_type]

    def stream(self, name: str = "stdout") -> str:
        return "".join(m.content["text"] for m in self.of_type("stream") if m.content.get("name") == name)


def _finished(reply: Reply) -> bool:
    has_reply = any(m.channel in ("shell", "control") and m.msg_type.endswith("_reply") for m in reply.messages)
    idle = any(m.msg_type == "status" and m.content.get("execution_state") == "idle" for m in reply.iopub)
    return has_reply and idle


class ConnectionClosed(Exception):
    """The server closed the websocket."""


class KernelClient:
    """One websocket connection to a kernel, speaking one framing."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse, framing: str, session_id: str) -> None:
        assert framing in FRAMINGS, framing
        self.ws = ws
        self.framing = framing
        self.session_id = session_id
        self.session = Session(key=b"", username="test", session=session_id)
        self.unclaimed: list[Message] = []  # received but not yet returned by a helper
        self.closed = False

    # -- sending ---------------------------------------------------------------------------

    def build(self, channel: str, msg_type: str, content: dict[str, Any], metadata: dict[str, Any] | None = None) -> dict[str, Any]:
        msg = self.session.msg(msg_type, content, metadata=metadata or {})
        msg["channel"] = channel
        return msg

    async def send(
        self,
        channel: str,
        msg_type: str,
        content: dict[str, Any],
        buffers: Iterable[bytes] = (),
        *,
        metadata: dict[str, Any] | None = None,
    ) -> str:
        """Send a message; return its ``msg_id``."""
        msg = self.build(channel, msg_type, content, metadata)
        await self.send_msg(msg, list(buffers))
        return str(msg["header"]["msg_id"])

    async def send_msg(self, msg: dict[str, Any], buffers: list[bytes]) -> None:
        pack = self.session.pack
        if self.framing == "v1":
            parts = [pack(msg[k]) for k in ("header", "parent_header", "metadata", "content")]
            await self.ws.send_bytes(encode_v1(msg["channel"], [*parts, *buffers]))
        elif buffers:
            if self.framing == "legacy-text":
                raise ValueError("a legacy-text client cannot send buffers")
            await self.ws.send_bytes(encode_legacy_binary(json.loads(pack(msg)), buffers))
        else:
            await self.ws.send_str(pack({**msg, "buffers": []}).decode("utf-8"))

    # -- receiving -------------------------------------------------------------------------

    def _decode(self, raw: aiohttp.WSMessage) -> Message:
        if raw.type == aiohttp.WSMsgType.TEXT:
            assert self.framing != "v1", "a v1 connection must only carry binary frames"
            msg, buffers, frame = json.loads(raw.data), [], "text"
        elif self.framing == "v1":
            channel, parts = decode_v1(raw.data)
            header, parent, metadata, content = (json.loads(p) for p in parts[:4])
            return Message(channel, header, parent, metadata, content, parts[4:], "binary")
        else:
            msg, buffers = decode_legacy_binary(raw.data)
            frame = "binary"
            assert buffers, "a legacy binary frame from the server must carry buffers"
        assert msg["msg_type"] == msg["header"]["msg_type"] and msg["msg_id"] == msg["header"]["msg_id"]
        return Message(msg["channel"], msg["header"], msg["parent_header"], msg["metadata"], msg["content"], buffers, frame)

    async def _read(self, timeout: float) -> Message:
        while True:
            raw = await asyncio.wait_for(self.ws.receive(), timeout)
            if raw.type in (aiohttp.WSMsgType.TEXT, aiohttp.WSMsgType.BINARY):
                return self._decode(raw)
            if raw.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSING, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR):
                self.closed = True
                raise ConnectionClosed(f"websocket closed ({raw.type.name}, {raw.data!r}, {raw.extra!r})")

    async def receive(self, predicate: Callable[[Message], bool] = lambda m: True, timeout: float = TIMEOUT) -> Message:
        """Return the first message (kept from earlier, or new) that ``predicate`` accepts."""
        for i, msg in enumerate(self.unclaimed):
            if predicate(msg):
                return self.unclaimed.pop(i)
        deadline = time.monotonic() + timeout
        while True:
            try:
                msg = await self._read(max(deadline - time.monotonic(), 0.001))
            except asyncio.TimeoutError:
                seen = [(m.channel, m.msg_type, m.content.get("execution_state")) for m in self.unclaimed]
                raise TimeoutError(f"no matching message in {timeout} s; unclaimed: {seen}") from None
            if predicate(msg):
                return msg
            self.unclaimed.append(msg)

    async def collect(self, msg_id: str, done: Callable[[Reply], bool] = _finished, timeout: float = TIMEOUT) -> Reply:
        """Gather every message whose parent is ``msg_id`` until ``done`` (default: reply and idle)."""
        reply = Reply(msg_id)
        deadline = time.monotonic() + timeout
        while not done(reply):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"no complete answer to {msg_id} in {timeout} s: {[m.msg_type for m in reply.messages]}")
            try:
                reply.messages.append(await self.receive(lambda m: m.parent_id == msg_id, remaining))
            except TimeoutError as exc:
                raise TimeoutError(f"no complete answer to {msg_id} in {timeout} s: {[m.msg_type for m in reply.messages]}; {exc}") from None
        return reply

    async def request(self, msg_type: str, content: dict[str, Any] | None = None, channel: str = "shell", timeout: float = TIMEOUT) -> Reply:
        msg_id = await self.send(channel, msg_type, content or {})
        return await self.collect(msg_id, timeout=timeout)

    async def execute(self, code: str, timeout: float = TIMEOUT, **options: Any) -> Reply:
        content = {"code": code, "silent": False, "store_history": False, "user_expressions": {}, "allow_stdin": False, **options}
        return await self.request("execute_request", content, timeout=timeout)

    # -- closing ---------------------------------------------------------------------------

    async def disconnect(self, timeout: float = 10.0) -> list[Message]:
        """Close as a well-behaved client does: send Close, keep what arrives until the server's Close.

        aiohttp's ``close()`` would discard the frames the server sent before it saw our
        Close; those were delivered, so a test counting messages must keep them.
        """
        if self.closed:
            return []
        await self.ws.send_frame(struct.pack("!H", 1000), aiohttp.WSMsgType.CLOSE)
        kept: list[Message] = []
        deadline = time.monotonic() + timeout
        with contextlib.suppress(ConnectionClosed):
            while True:
                kept.append(await self._read(max(deadline - time.monotonic(), 0.001)))
        self.unclaimed.extend(kept)
        return kept

    async def wait_closed(self, timeout: float = 10.0) -> list[Message]:
        """Wait for the server to close the connection; return what arrived before."""
        kept: list[Message] = []
        deadline = time.monotonic() + timeout
        with contextlib.suppress(ConnectionClosed):
            while True:
                kept.append(await self._read(max(deadline - time.monotonic(), 0.001)))
        return kept


# -- helpers ----------------------------------------------------------------------------


async def start_kernel(client: Any, **body: Any) -> str:
    """Start a kernel through ``POST /api/kernels``; return its id."""
    async with client.post("api/kernels", json=body) as response:
        assert response.status == 201, await response.text()
        return str((await response.json())["id"])


@contextlib.asynccontextmanager
async def open_channels(
    client: Any, kernel_id: str, framing: str, session_id: str | None = None, timeout: float = TIMEOUT
) -> AsyncIterator[KernelClient]:
    """Connect to ``/api/kernels/{id}/channels`` in ``framing``; close on exit."""
    session_id = session_id or uuid.uuid4().hex
    protocols = (V1_PROTOCOL,) if framing == "v1" else ()
    ws = await asyncio.wait_for(
        client.ws_connect(f"api/kernels/{kernel_id}/channels", params={"session_id": session_id}, protocols=protocols, max_msg_size=0),
        timeout,
    )
    try:
        assert ws.protocol == (V1_PROTOCOL if framing == "v1" else None)
        yield KernelClient(ws, framing, session_id)
    finally:
        await asyncio.wait_for(ws.close(), timeout)


async def wait_until(condition: Callable[[], Any], timeout: float = 10.0, interval: float = 0.05) -> Any:
    """Poll an async or plain ``condition`` until it is truthy; return its value."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"condition not met within {timeout} s")
        await asyncio.sleep(interval)


def python_kernelspec(jupyter_path: Path, name: str, display_name: str, **metadata: Any) -> str:
    """Write an ipykernel kernelspec ``name`` under ``jupyter_path/kernels``; return ``name``.

    Put ``jupyter_path`` on ``JUPYTER_PATH`` before the server starts so that it is found.
    """
    spec_dir = jupyter_path / "kernels" / name
    spec_dir.mkdir(parents=True)
    spec = {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": display_name,
        "language": "python",
        "metadata": metadata,
    }
    (spec_dir / "kernel.json").write_text(json.dumps(spec))
    return name
