"""No silent loss: output produced while a client is away is replayed when it comes back."""

from __future__ import annotations

import asyncio

import pytest
from kerneltools import wait_until

from jupyter_core_server.pytest_plugin import KERNEL_FRAMINGS, KernelMessage, open_kernel_channels, start_kernel

LOOP = """
import time
for i in range({count}):
    print(i, flush=True)
    time.sleep({pause})
"""

EXECUTE = {"silent": False, "store_history": False, "user_expressions": {}, "allow_stdin": False}


def stdout_lines(messages: list[KernelMessage], msg_id: str) -> list[int]:
    text = "".join(
        m.content["text"]
        for m in messages
        if m.parent_id == msg_id and m.msg_type == "stream" and m.content["name"] == "stdout"
    )
    return [int(line) for line in text.splitlines()]


async def disconnect_and_reconnect(client, framing: str, count: int, pause: float, away_after: int) -> None:
    """Run a printing loop, leave after ``away_after`` lines, come back 0.5 s later; check every line."""
    kernel_id = await start_kernel(client, name="python3")
    session_id = f"reconnecting-{framing}"

    async with open_kernel_channels(client, kernel_id, framing, session_id=session_id) as first:
        msg_id = await first.send(
            "shell", "execute_request", {"code": LOOP.format(count=count, pause=pause), **EXECUTE}
        )
        before: list[KernelMessage] = []
        while len(stdout_lines(before, msg_id)) < away_after:
            before.append(await first.receive(lambda m: m.parent_id == msg_id, timeout=30))
        before += [m for m in await first.disconnect() if m.parent_id == msg_id]
    lines_before = stdout_lines(before, msg_id)
    assert len(lines_before) < count, "the loop ended before the client went away; the test proves nothing"

    await asyncio.sleep(0.5)  # the kernel keeps printing while nobody listens

    async with open_kernel_channels(client, kernel_id, framing, session_id=session_id) as second:
        after = await second.collect(msg_id, timeout=60)
        assert after.reply.content["status"] == "ok"
        assert not after.stream("stderr"), after.stream("stderr")  # no loss notice: nothing was lost
    lines_after = stdout_lines(after.messages, msg_id)

    assert lines_after, "nothing was replayed"
    assert lines_before + lines_after == list(range(count))


@pytest.mark.parametrize("framing", KERNEL_FRAMINGS)
async def test_every_line_arrives_once_in_order_across_a_reconnect(jcs_client, framing: str) -> None:
    await disconnect_and_reconnect(jcs_client, framing, count=1000, pause=0.002, away_after=150)


async def test_messages_queued_for_a_slow_client_are_replayed_when_it_leaves(jcs_client) -> None:
    # A client that does not read makes the server queue its output; whatever is still
    # queued when the client leaves was never written, so it must be replayed, not dropped.
    kernel_id = await start_kernel(jcs_client, name="python3")
    code = 'for i in range(300):\n    print(i, "x" * 50_000, flush=True)'
    async with open_kernel_channels(jcs_client, kernel_id, "v1", session_id="slow-reader") as first:
        msg_id = await first.send("shell", "execute_request", {"code": code, **EXECUTE})
        await asyncio.sleep(1.0)  # not reading: the socket buffers fill up and the server queues the rest
        before = [m for m in await first.disconnect() if m.parent_id == msg_id]

    async with open_kernel_channels(jcs_client, kernel_id, "v1", session_id="slow-reader") as second:
        after = await second.collect(msg_id, timeout=30)
        assert not after.stream("stderr"), after.stream("stderr")

    def numbers(messages: list[KernelMessage]) -> list[int]:
        text = "".join(m.content["text"] for m in messages if m.msg_type == "stream" and m.content["name"] == "stdout")
        return [int(line.split()[0]) for line in text.splitlines()]

    assert numbers(after.messages), "nothing was queued when the client left; the test proves nothing"
    assert numbers(before) + numbers(after.messages) == list(range(300))


@pytest.mark.parametrize("jcs_config", [{"KernelService": {"buffer_max_bytes": 2000}}], indirect=True)
async def test_client_is_told_when_the_replay_buffer_overflowed(jcs_client) -> None:
    kernel_id = await start_kernel(jcs_client, name="python3")
    code = 'import time\nfor i in range(300):\n    print("line", i, "x" * 40, flush=True)\n    time.sleep(0.001)'

    async with open_kernel_channels(jcs_client, kernel_id, "v1", session_id="small-buffer") as first:
        msg_id = await first.send("shell", "execute_request", {"code": code, **EXECUTE})
        await first.receive(lambda m: m.parent_id == msg_id and m.msg_type == "stream", timeout=30)
        await first.disconnect()

    async def idle() -> bool:
        async with jcs_client.get(f"api/kernels/{kernel_id}") as response:
            return (await response.json())["execution_state"] == "idle"

    await wait_until(idle, timeout=30)

    async with open_kernel_channels(jcs_client, kernel_id, "v1", session_id="small-buffer") as second:
        notice = await second.receive(lambda m: m.msg_type == "stream" and m.content["name"] == "stderr", timeout=10)
        assert "lost" in notice.content["text"]
        # what the buffer kept is the newest output, replayed after the notice
        replayed = await second.receive(
            lambda m: m.msg_type == "stream" and "line 299 " in m.content["text"], timeout=10
        )
        assert replayed.parent_id == msg_id
