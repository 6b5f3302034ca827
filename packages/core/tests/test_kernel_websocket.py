"""The kernel websocket with real ipykernel kernels, through each of the three framings."""

from __future__ import annotations

import asyncio
import os
import signal
import uuid

import aiohttp
import pytest
from kerneltools import wait_until

from jupyter_core_server.pytest_plugin import (
    KERNEL_FRAMINGS,
    V1_KERNEL_PROTOCOL,
    KernelChannels,
    KernelReply,
    encode_v1,
    open_kernel_channels,
    start_kernel,
)

framings = pytest.mark.parametrize("framing", KERNEL_FRAMINGS)

# Published by the kernel on IOPub with binary buffers, as a widget library would.
DISPLAY_WITH_BUFFERS = """
_k = get_ipython().kernel
_k.session.send(_k.iopub_socket, "display_data",
                {"data": {"text/plain": "with buffers"}, "metadata": {}, "transient": {}},
                parent=_k.get_parent(), buffers=[b"\\x00\\x01binary", b"\\xff" * 70000], ident=b"display_data")
"""

# A comm target that answers each message with its buffers' lengths and hex, and the
# buffers themselves reversed: a buffer lost, cut or corrupted on the way in shows.
ECHO_TARGET = """
import comm as _comm

def _echo_target(c, open_msg):
    @c.on_msg
    def _echo(msg):
        bufs = [bytes(b) for b in msg["buffers"]]
        c.send({"lengths": [len(b) for b in bufs], "heads": [b[:8].hex() for b in bufs]},
               buffers=[b[::-1] for b in bufs])

_comm.get_comm_manager().register_target("echo", _echo_target)
"""


async def kernel_info(kc: KernelChannels) -> dict:
    reply = await kc.request("kernel_info_request")
    assert reply.reply.content["status"] == "ok"
    return reply.reply.content


async def answer_input(kc: KernelChannels, value: str) -> None:
    """Run ``input()`` in the kernel, answer its input_request over stdin, check the value arrived."""
    msg_id = await kc.send(
        "shell",
        "execute_request",
        {
            "code": 'print("got", input("prompt> "))',
            "silent": False,
            "store_history": False,
            "user_expressions": {},
            "allow_stdin": True,
        },
    )
    request = await kc.receive(lambda m: m.channel == "stdin" and m.msg_type == "input_request", timeout=30)
    assert request.parent_id == msg_id
    assert request.content["prompt"] == "prompt> "
    await kc.send("stdin", "input_reply", {"value": value})
    reply = await kc.collect(msg_id)
    assert reply.reply.content["status"] == "ok"
    assert reply.stream("stdout") == f"got {value}\n"


def idle(reply: KernelReply) -> bool:
    return any(m.content.get("execution_state") == "idle" for m in reply.of_type("status"))


# -- through each framing ------------------------------------------------------------------


@framings
async def test_kernel_info_execute_stdout_and_stdin(jcs_client, framing: str) -> None:
    kernel_id = await start_kernel(jcs_client, name="python3")
    async with open_kernel_channels(jcs_client, kernel_id, framing) as kc:
        info = await kernel_info(kc)
        assert info["language_info"]["name"] == "python"
        assert info["implementation"] == "ipython"

        reply = await kc.execute("1+1")
        assert reply.reply.content["status"] == "ok"
        [result] = reply.of_type("execute_result")
        assert result.content["data"] == {"text/plain": "2"}
        expected_frame = "binary" if framing == "v1" else "text"
        assert {m.frame for m in reply.messages} == {expected_frame}

        reply = await kc.execute('print("x")')
        assert reply.stream("stdout") == "x\n"

        await answer_input(kc, "hello")


@framings
async def test_binary_buffers_round_trip(jcs_client, framing: str) -> None:
    kernel_id = await start_kernel(jcs_client, name="python3")
    async with open_kernel_channels(jcs_client, kernel_id, framing) as kc:
        # kernel -> client: a display_data and a comm_open, each with buffers
        reply = await kc.execute(DISPLAY_WITH_BUFFERS)
        [display] = reply.of_type("display_data")
        assert display.content["data"] == {"text/plain": "with buffers"}
        assert display.buffers == [b"\x00\x01binary", b"\xff" * 70000]
        assert display.frame == "binary"

        reply = await kc.execute(
            "from comm import create_comm; "
            '_c = create_comm(target_name="t", data={"a": 1}, buffers=[b"\\x00\\x01binary"])'
        )
        [opened] = reply.of_type("comm_open")
        assert opened.content["target_name"] == "t" and opened.content["data"] == {"a": 1}
        assert opened.buffers == [b"\x00\x01binary"]
        # messages without buffers keep their usual frame type
        assert {m.frame for m in reply.messages if not m.buffers} == {"binary" if framing == "v1" else "text"}

        # client -> kernel: a comm_msg with buffers to a comm that echoes them back
        assert (await kc.execute(ECHO_TARGET)).reply.content["status"] == "ok"
        comm_id = uuid.uuid4().hex
        opened_id = await kc.send("shell", "comm_open", {"comm_id": comm_id, "target_name": "echo", "data": {}})
        await kc.collect(opened_id, done=idle)
        sent = [b"\x00\xffabc", bytes(range(256)) * 300]
        msg_id = await kc.send("shell", "comm_msg", {"comm_id": comm_id, "data": {"ping": True}}, buffers=sent)
        echo = await kc.receive(lambda m: m.msg_type == "comm_msg" and m.parent_id == msg_id, timeout=30)
        assert echo.content["comm_id"] == comm_id
        assert echo.content["data"] == {"lengths": [5, 76800], "heads": ["00ff616263", "0001020304050607"]}
        assert echo.buffers == [b[::-1] for b in sent]
        assert echo.frame == "binary"


@framings
async def test_interrupt_restart_and_shutdown(jcs_client, framing: str) -> None:
    kernel_id = await start_kernel(jcs_client, name="python3")
    async with open_kernel_channels(jcs_client, kernel_id, framing) as kc:
        msg_id = await kc.send(
            "shell",
            "execute_request",
            {
                "code": "import time; time.sleep(60)",
                "silent": False,
                "store_history": False,
                "user_expressions": {},
                "allow_stdin": False,
            },
        )
        await kc.receive(lambda m: m.msg_type == "execute_input" and m.parent_id == msg_id)
        await asyncio.sleep(0.3)  # let the kernel get into the sleep
        async with jcs_client.post(f"api/kernels/{kernel_id}/interrupt") as response:
            assert response.status == 204
        reply = await kc.collect(msg_id, timeout=20)
        assert reply.reply.content["status"] == "error"
        assert reply.reply.content["ename"] == "KeyboardInterrupt"
        [error] = reply.of_type("error")
        assert error.content["ename"] == "KeyboardInterrupt"

        assert (await kc.execute("x = 41")).reply.content["status"] == "ok"
        async with jcs_client.post(f"api/kernels/{kernel_id}/restart") as response:
            assert response.status == 200
            assert (await response.json())["id"] == kernel_id
        await kernel_info(kc)  # the same websocket talks to the new kernel process
        reply = await kc.execute("x")
        assert reply.reply.content["status"] == "error" and reply.reply.content["ename"] == "NameError"
        assert (await kc.execute("1+1")).of_type("execute_result")[0].content["data"] == {"text/plain": "2"}
        await answer_input(kc, "after restart")

        async with jcs_client.delete(f"api/kernels/{kernel_id}") as response:
            assert response.status == 204
        await kc.wait_closed(timeout=10)
        assert kc.closed
    async with jcs_client.get(f"api/kernels/{kernel_id}") as response:
        assert response.status == 404


async def test_kernel_death_is_announced_and_the_kernel_restarted(jcs_client) -> None:
    kernel_id = await start_kernel(jcs_client, name="python3")
    async with open_kernel_channels(jcs_client, kernel_id, "v1") as kc:
        pid = int((await kc.execute("import os; print(os.getpid())")).stream())
        os.kill(pid, signal.SIGKILL)
        # the kernel cannot say it died: the server synthesizes the status message
        restarting = await kc.receive(
            lambda m: m.msg_type == "status" and m.content["execution_state"] == "restarting", timeout=30
        )
        assert restarting.channel == "iopub"
        await kernel_info(kc)
        new_pid = int((await kc.execute("import os; print(os.getpid())")).stream())
        assert new_pid != pid
        await answer_input(kc, "after a crash")
        async with jcs_client.get(f"api/kernels/{kernel_id}") as response:
            assert (await response.json())["id"] == kernel_id


@framings
async def test_malformed_frames_are_dropped_and_the_connection_lives_on(jcs_client, framing: str) -> None:
    kernel_id = await start_kernel(jcs_client, name="python3")
    async with open_kernel_channels(jcs_client, kernel_id, framing) as kc:
        if framing == "v1":
            await kc.ws.send_bytes(b"\x01\x02")  # shorter than its offset count
            await kc.ws.send_bytes(encode_v1("shell", [b"{not json", b"{}", b"{}", b"{}"]))
            await kc.ws.send_bytes(encode_v1("shell", [b"[1, 2]", b"{}", b"{}", b"{}"]))  # a header that is no object
        else:
            await kc.ws.send_str("{not json")
            await kc.ws.send_str('{"content": {}}')  # no header
            await kc.ws.send_bytes(b"\x00\x00\x00\x02\x00\x00\x00\x0c\x00\x00\x00\x0d{x")
        await kernel_info(kc)
        assert not kc.closed


# -- protocol selection, access ------------------------------------------------------------


async def test_v1_only_when_offered_and_access_checks(jcs_server, jcs_client) -> None:
    kernel_id = await start_kernel(jcs_client, name="python3")
    path = f"api/kernels/{kernel_id}/channels"
    for protocols, expected in [
        ((), None),
        (("something.else",), None),
        (("something.else", V1_KERNEL_PROTOCOL), V1_KERNEL_PROTOCOL),
    ]:
        async with jcs_client.ws_connect(path, protocols=protocols) as ws:
            assert ws.protocol == expected
    async with jcs_client.ws_connect(path, protocols=("something.else",)) as ws:
        kc = KernelChannels(ws, "legacy", "check")  # without v1 the server speaks legacy JSON text
        await kernel_info(kc)

    # without a token: refused before the upgrade; with the token in the query: accepted
    async with aiohttp.ClientSession() as anonymous:
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await anonymous.ws_connect(jcs_server.ws_url(path))
        assert refused.value.status == 403
        async with anonymous.ws_connect(jcs_server.ws_url(path), params={"token": jcs_server.token}) as ws:
            assert not ws.closed

    # an unknown kernel: 404 before the upgrade
    with pytest.raises(aiohttp.WSServerHandshakeError) as missing:
        await jcs_client.ws_connect(f"api/kernels/{uuid.uuid4()}/channels")
    assert missing.value.status == 404


# -- several clients -------------------------------------------------------------------------


async def test_two_clients_share_iopub_but_not_replies(jcs_client) -> None:
    kernel_id = await start_kernel(jcs_client, name="python3")
    async with (
        open_kernel_channels(jcs_client, kernel_id, "v1") as a,
        open_kernel_channels(jcs_client, kernel_id, "legacy") as b,
    ):
        async with jcs_client.get(f"api/kernels/{kernel_id}") as response:
            assert (await response.json())["connections"] == 2

        reply_a = await a.execute('print("from A")')
        assert reply_a.stream() == "from A\n"
        seen_by_b = await b.collect(reply_a.msg_id, done=idle)
        assert seen_by_b.stream() == "from A\n"

        reply_b = await b.execute('print("from B")')
        assert reply_b.stream() == "from B\n"
        seen_by_a = await a.collect(reply_b.msg_id, done=idle)
        assert seen_by_a.stream() == "from B\n"

        # each execute_reply went only to its sender (the kernel answered A before it saw B's request)
        assert not [m for m in seen_by_b.messages + b.unclaimed if m.channel == "shell"]
        assert not [m for m in seen_by_a.messages + a.unclaimed if m.channel == "shell"]


async def test_same_session_id_replaces_the_stale_connection(jcs_client) -> None:
    kernel_id = await start_kernel(jcs_client, name="python3")
    async with open_kernel_channels(jcs_client, kernel_id, "v1", session_id="shared") as first:
        await kernel_info(first)
        async with open_kernel_channels(jcs_client, kernel_id, "legacy", session_id="shared") as second:
            await first.wait_closed(timeout=10)
            assert first.closed
            await kernel_info(second)
            async with jcs_client.get(f"api/kernels/{kernel_id}") as response:
                assert (await response.json())["connections"] == 1

    async def no_connections() -> bool:
        async with jcs_client.get(f"api/kernels/{kernel_id}") as response:
            return (await response.json())["connections"] == 0

    await wait_until(no_connections)
