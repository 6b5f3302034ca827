"""Kernel websocket framings: the legacy JSON protocol and ``v1.kernel.websocket.jupyter.org``.

A message travels inside the server as ``(channel, parts)``, where ``parts`` are the raw
ZMQ frames ``[header, parent_header, metadata, content, *buffers]``. The v1 framing
carries those bytes unchanged; the legacy framing wraps them into one JSON document by
byte concatenation, so neither direction decodes ``content`` on the way to a client.

JSON from a client nested deeper than :data:`~jupyter_core_server.errors.MAX_JSON_DEPTH`
is a :class:`ProtocolError` in both framings (the v1 parts are checked, not decoded).
"""

from __future__ import annotations

import json
import struct
from itertools import pairwise
from typing import Any

from ..errors import MAX_JSON_DEPTH, BadRequest, check_json_depth, loads_json

__all__ = [
    "V1_PROTOCOL",
    "ProtocolError",
    "from_legacy_binary",
    "from_legacy_text",
    "from_v1",
    "legacy_frame",
    "to_legacy",
    "to_v1",
    "websocket_header",
]

V1_PROTOCOL = "v1.kernel.websocket.jupyter.org"
CHANNELS = frozenset({"shell", "iopub", "stdin", "control"})

Parts = list[bytes]


class ProtocolError(ValueError):
    """A websocket frame that cannot be decoded."""


def to_v1(channel: str, parts: Parts) -> bytes:
    """Encode for the v1 subprotocol: little-endian u64 offset count, offsets, then the parts."""
    channel_bytes = channel.encode()
    count = len(parts) + 2
    offsets = [8 * (count + 1)]
    offsets.append(offsets[0] + len(channel_bytes))
    for part in parts:
        offsets.append(offsets[-1] + len(part))
    return b"".join([struct.pack(f"<{count + 1}Q", count, *offsets), channel_bytes, *parts])


def from_v1(data: bytes) -> tuple[str, Parts]:
    """Decode a v1 frame into ``(channel, parts)``."""
    if len(data) < 8:
        raise ProtocolError("v1 frame shorter than its offset count")
    (count,) = struct.unpack_from("<Q", data)
    if count < 6 or len(data) < 8 * (count + 1):
        raise ProtocolError(f"v1 frame has {count} offsets; at least 6 are needed")
    offsets = struct.unpack_from(f"<{count}Q", data, 8)
    if any(b < a for a, b in pairwise(offsets)) or offsets[-1] > len(data):
        raise ProtocolError("v1 frame offsets are out of order or past its end")
    channel = data[offsets[0] : offsets[1]].decode("utf-8", "replace")
    parts = [data[offsets[i] : offsets[i + 1]] for i in range(1, count - 1)]
    # The JSON parts (header, parent_header, metadata, content; buffers are no JSON) lie
    # side by side: with no more opening brackets among them all than the depth limit,
    # none can nest deeper, and the parts need no look of their own (the common case).
    start, end = offsets[1], offsets[5]
    if data.count(b"[", start, end) + data.count(b"{", start, end) > MAX_JSON_DEPTH:
        try:
            for part in parts[:4]:
                check_json_depth(part, "v1 frame part")
        except BadRequest as exc:
            raise ProtocolError(exc.message) from None
    return channel, parts


def websocket_header(size: int, *, text: bool) -> bytes:
    """Return the header of one unmasked, uncompressed websocket message of ``size`` bytes (RFC 6455)."""
    first = 0x81 if text else 0x82  # FIN + text/binary opcode
    if size < 126:
        return struct.pack("!BB", first, size)
    if size < 1 << 16:
        return struct.pack("!BBH", first, 126, size)
    return struct.pack("!BBQ", first, 127, size)


def _legacy_json(channel: str, parts: Parts, header: dict[str, Any]) -> bytes:
    # The kernel's frames are JSON documents already: splice them, do not re-encode.
    return b"".join(
        [
            b'{"header":',
            parts[0],
            b',"msg_id":',
            json.dumps(header.get("msg_id", "")).encode(),
            b',"msg_type":',
            json.dumps(header.get("msg_type", "")).encode(),
            b',"parent_header":',
            parts[1],
            b',"metadata":',
            parts[2],
            b',"content":',
            parts[3],
            b',"buffers":[],"channel":"' if len(parts) == 4 else b',"channel":"',
            channel.encode(),
            b'"}',
        ]
    )


def legacy_frame(channel: str, parts: Parts, header: dict[str, Any]) -> tuple[bytes, bool]:
    """Encode for the legacy protocol; return the frame's bytes and whether it is a text frame.

    A message without buffers is one JSON document (a text frame). With buffers it is a
    binary frame, big-endian u32: the number of parts, one offset per part, then the JSON
    message followed by each buffer (as jupyter_server and JupyterLab do).
    """
    body = _legacy_json(channel, parts, header)
    buffers = parts[4:]
    if not buffers:
        return body, True
    chunks = [body, *buffers]
    offsets = [4 * (len(chunks) + 1)]
    for chunk in chunks[:-1]:
        offsets.append(offsets[-1] + len(chunk))
    return b"".join([struct.pack(f"!{len(chunks) + 1}I", len(chunks), *offsets), *chunks]), False


def to_legacy(channel: str, parts: Parts, header: dict[str, Any]) -> str | bytes:
    """Encode for the legacy protocol: ``str`` for a text frame, ``bytes`` for a binary one."""
    data, text = legacy_frame(channel, parts, header)
    return data.decode("utf-8") if text else data


def _parts_from_dict(msg: Any, buffers: list[bytes], pack: Any) -> tuple[str, Parts]:
    if not isinstance(msg, dict) or not isinstance(msg.get("header"), dict):
        raise ProtocolError("message must be a JSON object with a header")
    channel = msg.get("channel") or "shell"
    parts = [
        pack(msg["header"]),
        pack(msg.get("parent_header") or {}),
        pack(msg.get("metadata") or {}),
        pack(msg.get("content") or {}),
    ]
    return str(channel), parts + buffers


def from_legacy_text(text: str, pack: Any) -> tuple[str, Parts]:
    """Decode a legacy JSON text frame; ``pack`` serialises each part as the kernel session does."""
    try:
        msg = loads_json(text, "frame")
    except BadRequest as exc:
        raise ProtocolError(exc.message) from None
    return _parts_from_dict(msg, [], pack)


def from_legacy_binary(data: bytes, pack: Any) -> tuple[str, Parts]:
    """Decode a legacy binary frame (big-endian u32 offsets; the JSON message first)."""
    if len(data) < 8:
        raise ProtocolError("binary frame too short")
    (count,) = struct.unpack_from("!I", data)
    if count < 1 or len(data) < 4 * (count + 1):
        raise ProtocolError("binary frame has a bad part count")
    offsets = [*struct.unpack_from(f"!{count}I", data, 4), len(data)]
    if any(b < a for a, b in pairwise(offsets)):
        raise ProtocolError("binary frame offsets are out of order")
    chunks = [data[offsets[i] : offsets[i + 1]] for i in range(count)]
    try:
        msg = loads_json(chunks[0], "binary frame message")
    except BadRequest as exc:
        raise ProtocolError(exc.message) from None
    return _parts_from_dict(msg, chunks[1:], pack)
