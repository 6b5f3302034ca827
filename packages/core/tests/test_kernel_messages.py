"""The websocket framings of ``kernels/messages.py``, checked against the test client's encoders.

``jupyter_core_server.pytest_plugin``'s encoders follow the protocol descriptions
(jupyter_server's and JupyterLab's), not the server's code:

- v1 (``v1.kernel.websocket.jupyter.org``): little-endian u64 count of offsets, then the
  offsets: start of the channel name, end of the channel name, end of each part; then
  the channel name and the parts ``header, parent_header, metadata, content, *buffers``.
- legacy binary: big-endian u32 count of chunks, one u32 start offset per chunk, then the
  JSON message (without ``buffers``) followed by each buffer.
"""

from __future__ import annotations

import json
import struct
from typing import Any

import pytest
from jupyter_client.session import Session

from jupyter_core_server.kernels.messages import (
    V1_PROTOCOL,
    ProtocolError,
    from_legacy_binary,
    from_legacy_text,
    from_v1,
    to_legacy,
    to_v1,
)
from jupyter_core_server.pytest_plugin import decode_legacy_binary, encode_legacy_binary, encode_v1

SESSION = Session(key=b"", username="test")
BUFFERS = [b"\x00\x01binary", b"", b"\xff" * 1000]


def kernel_parts(
    msg_type: str = "execute_result", content: dict[str, Any] | None = None
) -> tuple[list[bytes], dict[str, Any]]:
    """The four JSON frames of a message as a kernel sends them, and its header."""
    parent = SESSION.msg("execute_request", {"code": "1+1"})
    msg = SESSION.msg(
        msg_type, content or {"data": {"text/plain": "2"}, "metadata": {}, "execution_count": 1}, parent=parent
    )
    return [SESSION.pack(msg[k]) for k in ("header", "parent_header", "metadata", "content")], msg["header"]


def test_v1_protocol_name() -> None:
    assert V1_PROTOCOL == "v1.kernel.websocket.jupyter.org"


# -- v1 -------------------------------------------------------------------------------------


@pytest.mark.parametrize("buffers", [[], BUFFERS], ids=["no-buffers", "buffers"])
@pytest.mark.parametrize("channel", ["iopub", "shell", "stdin", "control"])
def test_v1_round_trip_matches_the_protocol(channel: str, buffers: list[bytes]) -> None:
    parts, _ = kernel_parts()
    parts += buffers
    frame = to_v1(channel, parts)
    assert frame == encode_v1(channel, parts)
    assert from_v1(encode_v1(channel, parts)) == (channel, parts)
    assert from_v1(frame) == (channel, parts)


def test_v1_keeps_bytes_as_they_are() -> None:
    # no decode/re-encode: odd but valid JSON spacing and non-ASCII survive byte for byte
    parts = [b'{"msg_id": "a",  "msg_type": "x"}', b"{}", b"{}", '{"text": "\u00e9\u4e2d"}'.encode()]
    assert from_v1(to_v1("iopub", parts)) == ("iopub", parts)


# -- legacy ---------------------------------------------------------------------------------


def test_legacy_text_without_buffers() -> None:
    parts, header = kernel_parts()
    frame = to_legacy("iopub", parts, header)
    assert isinstance(frame, str)
    msg = json.loads(frame)
    assert msg["channel"] == "iopub"
    assert msg["header"] == json.loads(parts[0])
    assert msg["parent_header"] == json.loads(parts[1])
    assert msg["metadata"] == {}
    assert msg["content"] == {"data": {"text/plain": "2"}, "metadata": {}, "execution_count": 1}
    assert msg["msg_id"] == header["msg_id"] and msg["msg_type"] == "execute_result"
    assert msg["buffers"] == []


def test_legacy_binary_with_buffers_matches_the_protocol() -> None:
    parts, header = kernel_parts("comm_msg", {"comm_id": "c", "data": {}})
    frame = to_legacy("iopub", [*parts, *BUFFERS], header)
    assert isinstance(frame, bytes)
    msg, buffers = decode_legacy_binary(frame)
    assert buffers == BUFFERS
    assert msg["channel"] == "iopub" and msg["msg_type"] == "comm_msg"
    assert msg["content"] == {"comm_id": "c", "data": {}}
    assert msg["header"] == json.loads(parts[0])


def test_legacy_text_from_client_round_trip() -> None:
    msg = SESSION.msg("execute_request", {"code": "1+1"})
    text = SESSION.pack({**msg, "channel": "shell", "buffers": []}).decode()
    channel, parts = from_legacy_text(text, SESSION.pack)
    assert channel == "shell"
    assert [json.loads(p) for p in parts] == [
        json.loads(SESSION.pack(msg[k])) for k in ("header", "parent_header", "metadata", "content")
    ]


def test_legacy_text_without_channel_goes_to_shell() -> None:
    msg = SESSION.msg("kernel_info_request", {})
    channel, parts = from_legacy_text(SESSION.pack(msg).decode(), SESSION.pack)
    assert channel == "shell" and len(parts) == 4


@pytest.mark.parametrize("buffers", [[], BUFFERS], ids=["no-buffers", "buffers"])
def test_legacy_binary_from_client_round_trip(buffers: list[bytes]) -> None:
    msg = json.loads(SESSION.pack({**SESSION.msg("comm_msg", {"comm_id": "c", "data": {"x": 1}}), "channel": "shell"}))
    channel, parts = from_legacy_binary(encode_legacy_binary(msg, buffers), SESSION.pack)
    assert channel == "shell"
    assert [json.loads(p) for p in parts[:4]] == [msg["header"], msg["parent_header"], msg["metadata"], msg["content"]]
    assert parts[4:] == buffers


def test_server_legacy_binary_decodes_its_own_frames() -> None:
    parts, header = kernel_parts("comm_msg", {"comm_id": "c", "data": {}})
    frame = to_legacy("shell", [*parts, *BUFFERS], header)
    assert isinstance(frame, bytes)
    channel, decoded = from_legacy_binary(frame, SESSION.pack)
    assert channel == "shell"
    assert [json.loads(p) for p in decoded[:4]] == [json.loads(p) for p in parts]
    assert decoded[4:] == BUFFERS


# -- malformed frames -------------------------------------------------------------------------


def _valid_v1() -> bytes:
    return encode_v1("shell", kernel_parts()[0])


@pytest.mark.parametrize(
    "frame",
    [
        pytest.param(b"", id="empty"),
        pytest.param(b"\x06\x00\x00", id="shorter-than-count"),
        pytest.param(struct.pack("<Q", 6) + b"\x00" * 16, id="shorter-than-offsets"),
        pytest.param(struct.pack("<Q", 2**62) + b"\x00" * 64, id="huge-count"),
        pytest.param(encode_v1("shell", [b"{}", b"{}", b"{}"]), id="too-few-parts"),
    ],
)
def test_v1_too_short(frame: bytes) -> None:
    with pytest.raises(ProtocolError):
        from_v1(frame)


def test_v1_offsets_out_of_order() -> None:
    frame = bytearray(_valid_v1())
    count = struct.unpack_from("<Q", frame)[0]
    offsets = list(struct.unpack_from(f"<{count}Q", frame, 8))
    offsets[2], offsets[3] = offsets[3], offsets[2]
    struct.pack_into(f"<{count}Q", frame, 8, *offsets)
    with pytest.raises(ProtocolError):
        from_v1(bytes(frame))


def test_v1_offset_past_the_end() -> None:
    frame = _valid_v1()
    with pytest.raises(ProtocolError):
        from_v1(frame[:-1])


@pytest.mark.parametrize(
    "frame",
    [
        pytest.param(b"", id="empty"),
        pytest.param(b"\x00\x00\x00\x01", id="no-offsets"),
        pytest.param(b"\x00\x00\x00\x00\x00\x00\x00\x08", id="zero-count"),
        pytest.param(b"\x00\x00\x00\x05\x00\x00\x00\x18", id="count-beyond-frame"),
    ],
)
def test_legacy_binary_too_short(frame: bytes) -> None:
    with pytest.raises(ProtocolError):
        from_legacy_binary(frame, SESSION.pack)


def test_legacy_binary_offsets_out_of_order() -> None:
    msg = json.loads(SESSION.pack(SESSION.msg("comm_msg", {})))
    frame = bytearray(encode_legacy_binary(msg, [b"abc", b"defg"]))
    offsets = list(struct.unpack_from(">3I", frame, 4))
    struct.pack_into(">3I", frame, 4, offsets[0], offsets[2], offsets[1])
    with pytest.raises(ProtocolError):
        from_legacy_binary(bytes(frame), SESSION.pack)


def test_legacy_binary_offset_past_the_end() -> None:
    msg = json.loads(SESSION.pack(SESSION.msg("comm_msg", {})))
    frame = bytearray(encode_legacy_binary(msg, [b"abc"]))
    struct.pack_into(">I", frame, 8, len(frame) + 10)
    with pytest.raises(ProtocolError):
        from_legacy_binary(bytes(frame), SESSION.pack)


@pytest.mark.parametrize("body", [b"{not json", b"\xff\xfe", b'"a string"', b'{"content": {}}', b'{"header": 3}'])
def test_legacy_binary_bad_json(body: bytes) -> None:
    frame = struct.pack(">II", 1, 8) + body
    with pytest.raises(ProtocolError):
        from_legacy_binary(frame, SESSION.pack)


@pytest.mark.parametrize("text", ["{not json", "", "[1, 2]", '"header"', '{"content": {}}', '{"header": []}'])
def test_legacy_text_bad_json(text: str) -> None:
    with pytest.raises(ProtocolError):
        from_legacy_text(text, SESSION.pack)
