"""Runaway output (``yes``) neither grows the server's memory without bound nor starves kernels.

The server runs as its own process so that its resident memory can be measured. The
figures themselves (and the comparison with jupyter_server) are in the benchmark
``bench/terminals.py``; here the bounds are generous and only catch unbounded growth
or a kernel that stops answering.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
import time
from collections.abc import AsyncIterator, Awaitable

import aiohttp
import pytest
from jupyter_core_server.pytest_plugin import (
    CliServer,
    KernelChannels,
    open_kernel_channels,
    shutdown_kernel,
    start_kernel,
)
from terminal_client import Remote, TermClient, new_terminal, open_terminal, rss_kib

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc for the server's memory")

# With flow control the server grows by about 2 MiB during these floods; without it, 2 s of
# `yes` to a client that reads nothing queues about 13 MiB more (the pty's own pace, ~7 MB/s).
RSS_GROWTH_LIMIT_MIB = 8
KERNEL_ROUND_TRIP_LIMIT = 5.0  # seconds; a starved kernel would not answer at all


class Sampler:
    """The server's peak resident memory while a workload runs."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak = rss_kib(pid)

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        async def sample() -> None:
            while True:
                self.peak = max(self.peak, rss_kib(self.pid))
                await asyncio.sleep(0.05)

        task = asyncio.create_task(sample())
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


async def consume(term: TermClient) -> int:
    """Read a terminal's output as fast as it comes, keeping only its tail; return characters read."""
    total = 0
    while True:
        frame = await term.ws.receive()
        if frame.type != aiohttp.WSMsgType.TEXT:
            return total
        message = json.loads(frame.data)
        if message[0] == "stdout":
            total += len(message[1])
            term.output = (term.output + message[1])[-4096:]


async def round_trip(kernel: KernelChannels, timeout: float = KERNEL_ROUND_TRIP_LIMIT) -> float:
    """Run ``pass``; return the seconds until the kernel answered and was idle again."""
    start = time.perf_counter()
    assert (await kernel.execute("pass", timeout=timeout)).status == "ok"
    return time.perf_counter() - start


async def executes_while(kernel: KernelChannels, work: Awaitable[object]) -> list[float]:
    """Run ``pass`` on the kernel again and again until ``work`` is done; return the round trips."""
    task = asyncio.ensure_future(work)
    times: list[float] = []
    while not task.done() or not times:
        times.append(await round_trip(kernel))
    await task
    return times


async def test_floods_stay_bounded_and_kernels_answer(jcs_cli_server: CliServer) -> None:
    server = jcs_cli_server()
    async with aiohttp.ClientSession(headers={"Authorization": f"token {server.token}"}) as session:
        remote = Remote(server.url, session)
        kernel_id = await start_kernel(remote, name="python3")
        async with open_kernel_channels(remote, kernel_id, "legacy") as kernel:
            for _ in range(10):
                await round_trip(kernel, timeout=60)
            name = await new_terminal(remote)
            async with open_terminal(remote, name) as term:
                await term.run("true")
                baseline = rss_kib(server.pid)
                sampler = Sampler(server.pid)

                # 1. a pipe flood: 50 MB through a pipe, none of it to the terminal
                async with sampler.running():
                    await term.stdin("yes | head -c 50000000 > /dev/null; echo fl''ood-done\r")
                    times = await executes_while(kernel, term.read_until(r"flood-done", timeout=60))
                assert max(times) < KERNEL_ROUND_TRIP_LIMIT

                # 2. raw `yes` for 2 s to a client that reads everything
                reader = asyncio.create_task(consume(term))
                async with sampler.running():
                    await term.stdin("yes\r")
                    times = await executes_while(kernel, asyncio.sleep(2))
                    await term.stdin("\x03")
                    await term.stdin("echo ye''s-stopped\r")
                    deadline = time.monotonic() + 30
                    while "yes-stopped" not in term.output:
                        assert time.monotonic() < deadline, "yes did not stop"
                        await asyncio.sleep(0.05)
                reader.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await reader
                assert max(times) < KERNEL_ROUND_TRIP_LIMIT

            # 3. raw `yes` for 2 s to a client that reads nothing
            async with open_terminal(remote, name) as stalled, sampler.running():
                await stalled.stdin("yes\r")
                times = await executes_while(kernel, asyncio.sleep(2))
                grown = (rss_kib(server.pid) - baseline) / 1024
                await stalled.stdin("\x03")
            assert max(times) < KERNEL_ROUND_TRIP_LIMIT
            assert grown < RSS_GROWTH_LIMIT_MIB

            # the terminal is still usable afterwards
            async with open_terminal(remote, name) as term:
                assert (await term.run("echo al''ive", timeout=60)).strip() == "alive"

        await shutdown_kernel(remote, kernel_id)

    growth = (sampler.peak - baseline) / 1024
    assert growth < RSS_GROWTH_LIMIT_MIB, f"server memory grew by {growth:.1f} MiB during the floods"
