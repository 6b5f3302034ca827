"""Hostile kernel and terminal websocket input: the connection, the kernel and the server survive.

Covered elsewhere and not repeated here: malformed v1/legacy binary framings and bad JSON
(core ``test_kernel_websocket.py::test_malformed_frames_are_dropped_and_the_connection_lives_on``
and ``test_kernel_messages.py``), kernel websocket origin and token checks (core
``test_auth.py``), garbage terminal frames (terminals ``test_terminal_websocket.py``).
"""

from __future__ import annotations

import asyncio
import json

import aiohttp
import pytest
from aiohttp import WSMsgType
from jupyter_core_server.pytest_plugin import ServerClient, execute_content, open_kernel_channels, start_kernel
from wire import execute_message, message, needs, terminal_output

pytestmark = pytest.mark.timeout(120)


async def test_unknown_channels_and_odd_headers_are_dropped(jcs_client: ServerClient) -> None:
    kernel_id = await start_kernel(jcs_client, name="python3")
    async with open_kernel_channels(jcs_client, kernel_id, "legacy") as kc:
        ws = kc.ws
        assert (await kc.execute("print('before')")).stream() == "before\n"
        hostile = [
            {**execute_message("print('bogus')"), "channel": "bogus"},  # unknown channel
            {**execute_message("print('iopub')"), "channel": "iopub"},  # clients may not publish
            {**execute_message("print('empty')"), "channel": ""},  # empty means shell, as in jupyter_server
            {"header": "not a dict", "channel": "shell"},
            {"header": {"msg_type": "execute_request"}, "content": "not a dict", "channel": "shell"},
            {"header": {}, "channel": ["shell"]},
            {"header": {}, "channel": None, "content": None},
            "a JSON string, not an object",
            [1, 2, 3],
        ]
        for frame in hostile:
            await ws.send_str(json.dumps(frame))
        await ws.send_str('{"header": {"msg_id": "x", "msg_type": "execute_request"')  # truncated JSON
        await ws.send_str("\u0000\ufffd not json at all")
        await ws.send_bytes(b"\xff\xfe\x00garbage that is not a framing")
        assert not ws.closed
        # The kernel still answers on the same connection, and nothing of the bogus frames ran except shell's.
        reply = await kc.execute("print('after')")
        assert reply.status == "ok" and reply.stream() == "after\n"


def nested(depth: int) -> str:
    """A JSON array ``depth`` levels deep: more than Python's recursive decoder takes when large."""
    return "[" * depth + "]" * depth


@pytest.mark.parametrize("depth", [1_000, 100_000])
async def test_deeply_nested_kernel_frames_are_dropped(jcs_client: ServerClient, depth: int) -> None:
    kernel_id = await start_kernel(jcs_client, name="python3")
    async with open_kernel_channels(jcs_client, kernel_id, "legacy") as kc:
        hostile = [
            nested(depth),
            '{"header": ' + nested(depth) + ', "channel": "shell"}',
            json.dumps(execute_message("print('deep')"))[:-1] + ', "metadata": {"x": ' + nested(depth) + "}}",
        ]
        for frame in hostile:
            await kc.ws.send_str(frame)
            assert not kc.ws.closed
            # The connection stays up and the kernel answers the next request on it.
            reply = await kc.request("kernel_info_request")
            assert reply.reply.msg_type == "kernel_info_reply"
        assert (await kc.execute("print('after')")).stream() == "after\n"
    async with jcs_client.get("api/status") as response:
        assert response.status == 200


@needs("terminals")
@pytest.mark.parametrize("depth", [1_000, 100_000])
async def test_deeply_nested_terminal_frames_are_dropped(jcs_client: ServerClient, depth: int) -> None:
    async with jcs_client.post("api/terminals") as response:
        assert response.status == 200, await response.text()
        name = (await response.json())["name"]
    async with jcs_client.ws_connect(f"terminals/websocket/{name}") as ws:
        for frame in (nested(depth), '["stdin", ' + nested(depth) + "]", '["set_size", ' + nested(depth) + ", 80]"):
            await ws.send_str(frame)
        assert not ws.closed
        assert "ok-42" in await terminal_output(ws, "echo ok-$((40 + 2))", "ok-42")


async def test_unhashable_header_fields_are_dropped(jcs_client: ServerClient) -> None:
    kernel_id = await start_kernel(jcs_client, name="python3")
    async with open_kernel_channels(jcs_client, kernel_id, "legacy") as kc:
        for field in ("msg_id", "msg_type"):
            frame = execute_message("print('x')")
            frame["header"][field] = ["not", "hashable"]
            await kc.ws.send_str(json.dumps(frame))
        assert (await kc.execute("print('after')")).stream() == "after\n"


async def test_invalid_utf8_text_frame_closes_only_that_connection(jcs_client: ServerClient) -> None:
    kernel_id = await start_kernel(jcs_client, name="python3")
    async with jcs_client.ws_connect(f"api/kernels/{kernel_id}/channels") as bad:
        # A text frame must be UTF-8 (RFC 6455 8.1); aiohttp's public API refuses to send one that is not.
        await bad._writer.send_frame(b"\xc3\x28 invalid utf-8", WSMsgType.TEXT)
        for _ in range(100):  # kernel messages sent before the bad frame may still come first
            frame = await asyncio.wait_for(bad.receive(), 30)
            if frame.type in (WSMsgType.CLOSE, WSMsgType.CLOSED, WSMsgType.CLOSING):
                break
        assert frame.type in (WSMsgType.CLOSE, WSMsgType.CLOSED, WSMsgType.CLOSING), frame
        # 1007, or 1006 when the server's close frame is overtaken by the end of the TCP stream.
        assert bad.close_code in (aiohttp.WSCloseCode.INVALID_TEXT, aiohttp.WSCloseCode.ABNORMAL_CLOSURE)
    async with open_kernel_channels(jcs_client, kernel_id, "legacy") as good:
        assert (await good.execute("print('fine')")).stream() == "fine\n"


@pytest.mark.parametrize("jcs_config", [{"KernelService": {"websocket_max_message_size": 64 * 1024}}], indirect=True)
async def test_oversize_frame_closes_the_connection_with_1009(jcs_client: ServerClient) -> None:
    kernel_id = await start_kernel(jcs_client, name="python3")
    async with jcs_client.ws_connect(f"api/kernels/{kernel_id}/channels") as ws:
        await ws.send_str(json.dumps(execute_message("x = '" + "a" * 100_000 + "'")))
        for _ in range(100):  # kernel messages sent before the big frame may still come first
            frame = await asyncio.wait_for(ws.receive(), 30)
            if frame.type in (WSMsgType.CLOSE, WSMsgType.CLOSED, WSMsgType.CLOSING):
                break
        assert frame.type in (WSMsgType.CLOSE, WSMsgType.CLOSED, WSMsgType.CLOSING), frame
        # 1009, or 1006 when the server's close frame is overtaken by the end of the TCP stream.
        assert ws.close_code in (aiohttp.WSCloseCode.MESSAGE_TOO_BIG, aiohttp.WSCloseCode.ABNORMAL_CLOSURE)
    async with open_kernel_channels(jcs_client, kernel_id, "legacy") as kc:
        # Just under the limit still goes through, and the kernel never saw the oversize code.
        assert (await kc.execute("x = '" + "b" * 60_000 + "'; print(len(x), 'a' in x)")).stream() == "60000 False\n"
    async with jcs_client.get("api/status") as response:
        assert response.status == 200


async def test_forged_session_in_header_does_not_steal_replies(jcs_client: ServerClient) -> None:
    kernel_id = await start_kernel(jcs_client, name="python3")
    async with (
        open_kernel_channels(jcs_client, kernel_id, "legacy", session_id="alice") as alice,
        open_kernel_channels(jcs_client, kernel_id, "legacy", session_id="mallory") as mallory,
    ):
        # Mallory claims Alice's session in the message header: the reply still comes back to Mallory.
        forged = execute_message("print('from mallory')", session="alice")
        await mallory.ws.send_str(json.dumps(forged))
        reply = await mallory.collect(forged["header"]["msg_id"])
        assert reply.status == "ok" and reply.stream() == "from mallory\n"
        # Alice sees Mallory's output on IOPub (shared by design) but never Mallory's shell reply.
        probe = await alice.execute("print('alice')")
        assert probe.stream() == "alice\n"
        seen = probe.messages + alice.unclaimed  # everything Alice received
        assert not [m for m in seen if m.channel == "shell" and m.parent_id == forged["header"]["msg_id"]], (
            "Alice got Mallory's reply"
        )


async def test_reused_msg_id_does_not_redirect_another_clients_reply(jcs_client: ServerClient) -> None:
    kernel_id = await start_kernel(jcs_client, name="python3")
    async with (
        open_kernel_channels(jcs_client, kernel_id, "legacy", session_id="alice") as alice,
        open_kernel_channels(jcs_client, kernel_id, "legacy", session_id="mallory") as mallory,
    ):
        msg_id = await alice.send(
            "shell", "execute_request", execute_content("import time; time.sleep(1); print('alice')")
        )
        # Mallory sees the msg_id on IOPub (execute_input) and sends a request with the same msg_id.
        await mallory.receive(lambda m: m.parent_id == msg_id)
        await mallory.ws.send_str(json.dumps(message("kernel_info_request", {}, msg_id=msg_id)))
        reply = await alice.collect(msg_id, timeout=15)
        assert reply.reply.msg_type == "execute_reply" and reply.stream() == "alice\n"


@needs("terminals")
async def test_cross_origin_terminal_websocket_is_refused(jcs_client: ServerClient) -> None:
    async with jcs_client.post("api/terminals") as response:
        assert response.status == 200, await response.text()
        name = (await response.json())["name"]
    for origin in ("http://evil.example", "null", "http://127.0.0.1.evil.example"):
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            async with jcs_client.ws_connect(f"terminals/websocket/{name}", headers={"Origin": origin}):
                pass
        assert refused.value.status == 403, origin
    async with jcs_client.ws_connect(f"terminals/websocket/{name}") as ws:  # same client, no Origin: fine
        assert "ok-42" in await terminal_output(ws, "echo ok-$((40 + 2))", "ok-42")
