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
from jupyter_core_server.pytest_plugin import ServerClient
from wire import execute, message, needs, receive, reply_to, run_code, start_kernel, terminal_output

pytestmark = pytest.mark.timeout(120)


async def test_unknown_channels_and_odd_headers_are_dropped(jcs_client: ServerClient) -> None:
    kernel_id = await start_kernel(jcs_client)
    async with jcs_client.ws_connect(f"api/kernels/{kernel_id}/channels") as ws:
        assert await run_code(ws, "print('before')") == "before\n"
        hostile = [
            {**execute("print('bogus')"), "channel": "bogus"},  # unknown channel
            {**execute("print('iopub')"), "channel": "iopub"},  # clients may not publish
            {**execute("print('empty')"), "channel": ""},  # empty means shell, as in jupyter_server
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
        assert await run_code(ws, "print('after')") == "after\n"


def nested(depth: int) -> str:
    """A JSON array ``depth`` levels deep: more than Python's recursive decoder takes when large."""
    return "[" * depth + "]" * depth


@pytest.mark.parametrize("depth", [1_000, 100_000])
async def test_deeply_nested_kernel_frames_are_dropped(jcs_client: ServerClient, depth: int) -> None:
    kernel_id = await start_kernel(jcs_client)
    async with jcs_client.ws_connect(f"api/kernels/{kernel_id}/channels") as ws:
        hostile = [
            nested(depth),
            '{"header": ' + nested(depth) + ', "channel": "shell"}',
            json.dumps(execute("print('deep')"))[:-1] + ', "metadata": {"x": ' + nested(depth) + "}}",
        ]
        for frame in hostile:
            await ws.send_str(frame)
            assert not ws.closed
            # The connection stays up and the kernel answers the next request on it.
            probe = message("kernel_info_request", {})
            await ws.send_str(json.dumps(probe))
            reply, _ = await reply_to(ws, probe["header"]["msg_id"])
            assert reply["header"]["msg_type"] == "kernel_info_reply"
        assert await run_code(ws, "print('after')") == "after\n"
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
    kernel_id = await start_kernel(jcs_client)
    async with jcs_client.ws_connect(f"api/kernels/{kernel_id}/channels") as ws:
        for field in ("msg_id", "msg_type"):
            frame = execute("print('x')")
            frame["header"][field] = ["not", "hashable"]
            await ws.send_str(json.dumps(frame))
        assert await run_code(ws, "print('after')") == "after\n"


async def test_invalid_utf8_text_frame_closes_only_that_connection(jcs_client: ServerClient) -> None:
    kernel_id = await start_kernel(jcs_client)
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
    async with jcs_client.ws_connect(f"api/kernels/{kernel_id}/channels") as good:
        assert await run_code(good, "print('fine')") == "fine\n"


@pytest.mark.parametrize("jcs_config", [{"KernelService": {"websocket_max_message_size": 64 * 1024}}], indirect=True)
async def test_oversize_frame_closes_the_connection_with_1009(jcs_client: ServerClient) -> None:
    kernel_id = await start_kernel(jcs_client)
    async with jcs_client.ws_connect(f"api/kernels/{kernel_id}/channels") as ws:
        await ws.send_str(json.dumps(execute("x = '" + "a" * 100_000 + "'")))
        for _ in range(100):  # kernel messages sent before the big frame may still come first
            frame = await asyncio.wait_for(ws.receive(), 30)
            if frame.type in (WSMsgType.CLOSE, WSMsgType.CLOSED, WSMsgType.CLOSING):
                break
        assert frame.type in (WSMsgType.CLOSE, WSMsgType.CLOSED, WSMsgType.CLOSING), frame
        # 1009, or 1006 when the server's close frame is overtaken by the end of the TCP stream.
        assert ws.close_code in (aiohttp.WSCloseCode.MESSAGE_TOO_BIG, aiohttp.WSCloseCode.ABNORMAL_CLOSURE)
    async with jcs_client.ws_connect(f"api/kernels/{kernel_id}/channels") as ws:
        # Just under the limit still goes through, and the kernel never saw the oversize code.
        assert await run_code(ws, "x = '" + "b" * 60_000 + "'; print(len(x), 'a' in x)") == "60000 False\n"
    async with jcs_client.get("api/status") as response:
        assert response.status == 200


async def test_forged_session_in_header_does_not_steal_replies(jcs_client: ServerClient) -> None:
    kernel_id = await start_kernel(jcs_client)
    url = f"api/kernels/{kernel_id}/channels"
    async with jcs_client.ws_connect(url + "?session_id=alice") as alice, jcs_client.ws_connect(url + "?session_id=mallory") as mallory:
        # Mallory claims Alice's session in the message header: the reply still comes back to Mallory.
        forged = execute("print('from mallory')", session="alice")
        await mallory.send_str(json.dumps(forged))
        reply, stdout = await reply_to(mallory, forged["header"]["msg_id"])
        assert reply["content"]["status"] == "ok" and stdout == "from mallory\n"
        # Alice sees Mallory's output on IOPub (shared by design) but never Mallory's shell reply.
        probe = execute("print('alice')")
        await alice.send_str(json.dumps(probe))
        while True:
            msg = await receive(alice)
            assert msg is not None
            parent = msg.get("parent_header", {}).get("msg_id")
            assert not (msg.get("channel") == "shell" and parent == forged["header"]["msg_id"]), "Alice got Mallory's reply"
            if msg.get("channel") == "shell" and parent == probe["header"]["msg_id"]:
                break


async def test_reused_msg_id_does_not_redirect_another_clients_reply(jcs_client: ServerClient) -> None:
    kernel_id = await start_kernel(jcs_client)
    url = f"api/kernels/{kernel_id}/channels"
    async with jcs_client.ws_connect(url + "?session_id=alice") as alice, jcs_client.ws_connect(url + "?session_id=mallory") as mallory:
        request = execute("import time; time.sleep(1); print('alice')")
        await alice.send_str(json.dumps(request))
        # Mallory sees the msg_id on IOPub (execute_input) and sends a request with the same msg_id.
        while True:
            seen = await receive(mallory)
            assert seen is not None
            if seen.get("parent_header", {}).get("msg_id") == request["header"]["msg_id"]:
                break
        await mallory.send_str(json.dumps(message("kernel_info_request", {}, msg_id=request["header"]["msg_id"])))
        reply, stdout = await reply_to(alice, request["header"]["msg_id"], timeout=15)
        assert reply["header"]["msg_type"] == "execute_reply" and stdout == "alice\n"


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
