"""Terminal floods: server memory and kernel responsiveness while a terminal runs ``yes``.

Per server (ours with the terminals plugin, jupyter_server with jupyter_server_terminals),
started fresh: one python3 kernel with a websocket (legacy JSON framing), one terminal
running ``bash --noprofile --norc`` on both (the same shell, no profile scripts), then:

- ``idle``: execute round trips of ``pass`` with nothing else running (the reference);
- ``pipe``: ``yes | head -c 50000000 > /dev/null`` in the terminal, again and again for
  5 s: 50 MB through a pipe each time and none to the terminal (CPU contention only);
- ``reader``: ``yes`` for 5 s with one websocket client reading every byte as fast as
  it can;
- ``stalled``: ``yes`` for 5 s with one websocket client that reads nothing (a browser
  tab that froze, a client on a dead network).

During each workload the harness runs ``pass`` on the kernel back to back and reports the
round-trip p50/p99; it samples the server's VmRSS every 50 ms and reports the growth over
the idle figure (peak, and at the end of the workload). For ``reader`` it also reports the
terminal throughput the client received. A server whose memory grows by more than
1 GiB stops its flood early (reported as ``capped``).

Targets: ours/jupyter_server <= 0.25 for the memory growth with a stalled client (ours
stops reading the terminal; jupyter_server buffers), and ours <= jupyter_server for the
kernel p99 during the ``reader`` flood.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import signal
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp

from common import Context, fmt_ratio, ratio, table
from kernels_common import (
    LEGACY,
    WSKernel,
    delete_kernel,
    http_session,
    kernel_server,
    kernel_servers,
    percentile,
    run_async,
    start_kernel,
)
from servers import JUPYTER_SERVER, OURS, BenchError, ServerProcess, proc_cpu_seconds, proc_status_kib

NAME = "terminals"
SERVERS = (OURS, JUPYTER_SERVER)
TARGET_STALLED_RSS = 0.25
SHELL = [shutil.which("bash") or "/bin/bash", "--noprofile", "--norc"]
WORKLOADS = ("idle", "pipe", "reader", "stalled")
EXEC_TIMEOUT = 30.0
IDLE_EXECUTES = 200
FLOOD_SECONDS = 5.0  # run.py may pass --flood-seconds
FLOOD_RSS_CAP_MIB = 1024  # and --flood-rss-cap


def _flood_seconds(ctx: Context) -> float:
    return float(getattr(ctx.args, "flood_seconds", FLOOD_SECONDS))


def _server_args(name: str, config_dir: Path) -> list[str]:
    """Flags giving both servers the same shell."""
    if name == OURS:
        path = config_dir / "jupyter_core_server_config.json"
        path.write_text(json.dumps({"TerminalManager": {"shell_command": SHELL}}))
        return ["--config", str(path)]
    path = config_dir / "jupyter_server_config.json"
    path.write_text(json.dumps({"ServerApp": {"terminado_settings": {"shell_command": SHELL}}}))
    return [f"--config={path}"]  # kernel_server() adds the IOPub rate-limit flag


class Terminal:
    """One terminado-protocol websocket client."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self.tail = ""
        self.received = 0  # characters of output

    @classmethod
    @contextlib.asynccontextmanager
    async def connect(cls, http: aiohttp.ClientSession, server: ServerProcess, name: str) -> AsyncIterator[Terminal]:
        url = f"{server.ws_base_url}/terminals/websocket/{name}"
        async with http.ws_connect(url, headers=server.headers, max_msg_size=0, compress=0) as ws:
            yield cls(ws)

    async def stdin(self, text: str) -> None:
        await self.ws.send_str(json.dumps(["stdin", text]))

    async def read(self, timeout: float | None = None) -> bool:
        """Read one frame; ``False`` once the socket is closed."""
        frame = await self.ws.receive(timeout=timeout)
        if frame.type != aiohttp.WSMsgType.TEXT:
            return False
        message = json.loads(frame.data)
        if message[0] == "stdout":
            self.received += len(message[1])
            self.tail = (self.tail + message[1])[-8192:]
        return True

    async def until(self, marker: str, timeout: float) -> None:
        """Read until ``marker`` appears in the output."""
        deadline = time.monotonic() + timeout
        while marker not in self.tail:
            left = deadline - time.monotonic()
            if left <= 0:
                raise BenchError(f"terminal: no {marker!r} within {timeout:g} s; tail {self.tail[-300:]!r}")
            try:
                if not await self.read(left):
                    raise BenchError("terminal: websocket closed")
            except asyncio.TimeoutError:
                continue

    async def run(self, command: str, timeout: float = 60.0) -> str:
        """Type ``command``; return once it has finished (a split marker, so the echo never matches)."""
        token = os.urandom(4).hex()
        await self.stdin(f"{command}; echo '{token[:4]}''{token[4:]}'\r")
        await self.until(token, timeout)
        return self.tail

    async def drain(self) -> None:
        """Read everything, forever (cancel to stop)."""
        while await self.read():
            pass


class Memory:
    """Peak VmRSS of a process while a block runs, sampled every 50 ms."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak_kib = 0

    @contextlib.asynccontextmanager
    async def watch(self) -> AsyncIterator[None]:
        self.peak_kib = proc_status_kib(self.pid, "VmRSS")

        async def sample() -> None:
            while True:
                self.peak_kib = max(self.peak_kib, proc_status_kib(self.pid, "VmRSS"))
                await asyncio.sleep(0.05)

        task = asyncio.create_task(sample())
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def now_mib(self) -> float:
        return proc_status_kib(self.pid, "VmRSS") / 1024


async def _executes(kernel: WSKernel, until: asyncio.Future[Any] | None, count: int = 0) -> list[float]:
    """``pass`` back to back until ``until`` is done (or ``count`` times); the round trips in ms."""
    times: list[float] = []
    while (until is not None and not until.done()) or len(times) < max(count, 1):
        res = await kernel.execute("pass", EXEC_TIMEOUT)
        if res.reply_status != "ok":
            raise BenchError(f"execute answered {res.reply_status}")
        times.append(res.seconds * 1000)
    return times


async def _stop_yes(term: Terminal, reader: asyncio.Task[None] | None) -> None:
    """Ctrl-C, then make sure the shell answers again."""
    await term.stdin("\x03")
    if reader is not None:
        reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await reader
    await term.run("true", timeout=120)


async def _flood(
    ctx: Context, server: ServerProcess, kernel: WSKernel, term: Terminal, memory: Memory, reading: bool
) -> dict[str, Any]:
    """``yes`` for the flood duration (or until the RSS cap) with the client reading or not."""
    seconds = _flood_seconds(ctx)
    cap_kib = memory.peak_kib + getattr(ctx.args, "flood_rss_cap", FLOOD_RSS_CAP_MIB) * 1024
    capped = False

    async def timer() -> None:
        nonlocal capped
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            if proc_status_kib(server.pid, "VmRSS") > cap_kib:
                capped = True
                return
            await asyncio.sleep(0.05)

    reader = asyncio.create_task(term.drain()) if reading else None
    received0 = term.received
    cpu0 = proc_cpu_seconds(server.pid)
    async with memory.watch():
        start = time.perf_counter()
        await term.stdin("yes\r")
        times = await _executes(kernel, asyncio.ensure_future(timer()))
        elapsed = time.perf_counter() - start
        end_mib = memory.now_mib()
        cpu = proc_cpu_seconds(server.pid) - cpu0
    received = term.received - received0
    return {
        "times_ms": times,
        "end_mib": end_mib,
        "peak_mib": memory.peak_kib / 1024,
        "capped": capped,
        "seconds": elapsed,
        "server_cpu_s": cpu,
        "received_mb": received / 1e6,
        "reader": reader,
    }


async def _measure(ctx: Context, name: str, server: ServerProcess) -> dict[str, Any]:
    memory = Memory(server.pid)
    out: dict[str, Any] = {"workloads": {}}
    async with http_session(server) as http:
        kernel_id = await start_kernel(http, server)
        kernel = await WSKernel.connect(http, server, kernel_id, LEGACY)
        term_name = ""
        shell_pid = 0
        try:
            for _ in range(ctx.args.exec_warmup):
                await kernel.execute("pass", EXEC_TIMEOUT)
            async with http.post(f"{server.base_url}/api/terminals", json={}) as response:
                if response.status != 200:
                    raise BenchError(f"{name}: POST /api/terminals answered {response.status}: {await response.text()}")
                term_name = (await response.json())["name"]
            async with Terminal.connect(http, server, term_name) as term:
                tail = await term.run("echo PID=$$")
                shell_pid = int(tail.split("PID=")[-1].split()[0])
                await asyncio.sleep(1.0)
                idle_mib = memory.now_mib()
                out["idle_rss_mib"] = idle_mib

                async with memory.watch():
                    times = await _executes(kernel, None, IDLE_EXECUTES)
                out["workloads"]["idle"] = _summary(times, idle_mib, memory.peak_kib / 1024, idle_mib)
                ctx.log(f"[terminals] {name} idle: p50 {percentile(times, 50):.2f} ms")

                cpu0 = proc_cpu_seconds(server.pid)
                seconds = int(max(1, round(_flood_seconds(ctx))))
                loop = (
                    f"end=$((SECONDS+{seconds})); n=0; while [ $SECONDS -lt $end ]; do "
                    "yes | head -c 50000000 > /dev/null; n=$((n+1)); done; echo PIPES''=$n"
                )
                async with memory.watch():
                    start = time.perf_counter()
                    command = asyncio.ensure_future(term.run(loop, timeout=300))
                    times = await _executes(kernel, command)
                    pipe_s = time.perf_counter() - start
                    end_mib = memory.now_mib()
                pipes = int(command.result().split("PIPES=")[-1].split()[0])
                out["workloads"]["pipe"] = _summary(times, idle_mib, memory.peak_kib / 1024, end_mib)
                out["workloads"]["pipe"].update(
                    seconds=pipe_s, server_cpu_s=proc_cpu_seconds(server.pid) - cpu0, pipe_mb_per_s=pipes * 50 / pipe_s
                )
                ctx.log(f"[terminals] {name} pipe: p99 {percentile(times, 99):.2f} ms")

                flood = await _flood(ctx, server, kernel, term, memory, reading=True)
                await _stop_yes(term, flood.pop("reader"))
                out["workloads"]["reader"] = _flood_summary(flood, idle_mib)
                ctx.log(
                    f"[terminals] {name} reader: p99 {percentile(flood['times_ms'], 99):.2f} ms, "
                    f"{flood['received_mb'] / flood['seconds']:.1f} MB/s"
                )

            async with Terminal.connect(http, server, term_name) as stalled:
                flood = await _flood(ctx, server, kernel, stalled, memory, reading=False)
                flood.pop("reader")
                await stalled.stdin("\x03")
            out["workloads"]["stalled"] = _flood_summary(flood, idle_mib)
            ctx.log(f"[terminals] {name} stalled: RSS +{flood['peak_mib'] - idle_mib:.1f} MiB")
            async with Terminal.connect(http, server, term_name) as term:
                await term.run("true", timeout=300)  # the terminal recovered
        finally:
            await kernel.close()
            await delete_kernel(http, server, kernel_id)
            if term_name:
                with contextlib.suppress(aiohttp.ClientError, asyncio.TimeoutError):
                    async with http.delete(f"{server.base_url}/api/terminals/{term_name}") as response:
                        await response.read()
            if shell_pid:
                _kill_if_running(shell_pid, ctx)
    return out


def _kill_if_running(pid: int, ctx: Context) -> None:
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)
    ctx.log(f"  terminal shell {pid} outlived its deletion; ending it")
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)


def _summary(times: list[float], idle_mib: float, peak_mib: float, end_mib: float) -> dict[str, Any]:
    return {
        "executes": len(times),
        "p50_ms": percentile(times, 50),
        "p99_ms": percentile(times, 99),
        "max_ms": max(times),
        "rss_peak_growth_mib": peak_mib - idle_mib,
        "rss_end_growth_mib": end_mib - idle_mib,
        "samples_ms": [round(t, 3) for t in times],
    }


def _flood_summary(flood: dict[str, Any], idle_mib: float) -> dict[str, Any]:
    summary = _summary(flood["times_ms"], idle_mib, flood["peak_mib"], flood["end_mib"])
    summary.update(
        seconds=flood["seconds"],
        capped=flood["capped"],
        server_cpu_s=flood["server_cpu_s"],
        terminal_mb_per_s=flood["received_mb"] / flood["seconds"] if flood["seconds"] else 0.0,
    )
    return summary


def run(ctx: Context) -> dict:
    results: dict[str, Any] = {"flood_seconds": _flood_seconds(ctx), "servers": {}}
    for name in kernel_servers(ctx):
        ctx.log(f"[terminals] {name} ...")
        with tempfile.TemporaryDirectory(prefix="bench-terminals-") as tmp:
            server_ctx = _with_args(ctx, name, _server_args(name, Path(tmp)))
            with kernel_server(server_ctx, name) as server:
                results["servers"][name] = run_async(lambda server=server, name=name: _measure(ctx, name, server))

    def get(server: str, workload: str, key: str) -> float | None:
        value = results["servers"].get(server, {}).get("workloads", {}).get(workload, {}).get(key)
        return None if value is None else float(value)

    stalled = ratio(
        max(get(OURS, "stalled", "rss_peak_growth_mib") or 0.0, 1.0),
        get(JUPYTER_SERVER, "stalled", "rss_peak_growth_mib"),
    )
    reader_p99 = ratio(get(OURS, "reader", "p99_ms"), get(JUPYTER_SERVER, "reader", "p99_ms"))
    results["ratios"] = {
        "ours/jupyter_server stalled RSS growth (peak)": stalled,
        "ours/jupyter_server reader exec p99": reader_p99,
        "ours/jupyter_server reader exec p50": ratio(
            get(OURS, "reader", "p50_ms"), get(JUPYTER_SERVER, "reader", "p50_ms")
        ),
        "ours/jupyter_server pipe exec p99": ratio(get(OURS, "pipe", "p99_ms"), get(JUPYTER_SERVER, "pipe", "p99_ms")),
        "ours/jupyter_server reader throughput": ratio(
            get(OURS, "reader", "terminal_mb_per_s"), get(JUPYTER_SERVER, "reader", "terminal_mb_per_s")
        ),
    }
    met = None
    if stalled is not None and reader_p99 is not None:
        met = stalled <= TARGET_STALLED_RSS and reader_p99 <= 1.0
    results["target"] = {"stalled_rss": f"<= {TARGET_STALLED_RSS}", "reader_p99": "<= 1.0", "met": met}
    return results


def _with_args(ctx: Context, name: str, extra: list[str]) -> Context:
    """A context whose ``name`` spec starts with ``extra`` flags appended."""
    from dataclasses import replace

    spec = ctx.specs[name]
    base = spec.command
    patched = replace(spec, command=lambda port, token: [*base(port, token), *extra])
    return Context(args=ctx.args, specs={**ctx.specs, name: patched}, log=ctx.log)


def report(result: dict) -> list[str]:
    rows = []
    for name, s in result["servers"].items():
        for workload in WORKLOADS:
            w = s["workloads"].get(workload)
            if w is None:
                continue
            rows.append(
                (
                    name,
                    workload,
                    f"{w['p50_ms']:.2f}",
                    f"{w['p99_ms']:.2f}",
                    f"{w['max_ms']:.1f}",
                    w["executes"],
                    f"{w['rss_peak_growth_mib']:+.1f}",
                    f"{w['rss_end_growth_mib']:+.1f}",
                    f"{w['terminal_mb_per_s']:.1f}" if "terminal_mb_per_s" in w else "",
                    f"{w['pipe_mb_per_s']:.0f}" if "pipe_mb_per_s" in w else "",
                    f"{w['server_cpu_s']:.2f}" if "server_cpu_s" in w else "",
                    "capped" if w.get("capped") else "",
                )
            )
    lines = [
        "Terminal floods: kernel `pass` round trips and server RSS (idle: "
        + ", ".join(f"{n} {s['idle_rss_mib']:.1f} MiB" for n, s in result["servers"].items())
        + f"); floods of {result['flood_seconds']:g} s"
    ]
    lines += table(
        (
            "server",
            "workload",
            "exec p50 ms",
            "p99 ms",
            "max ms",
            "n",
            "RSS peak +MiB",
            "end +MiB",
            "term MB/s",
            "pipe MB/s",
            "server CPU s",
            "",
        ),
        rows,
    )
    r = result["ratios"]
    met = result["target"]["met"]
    lines.append(
        fmt_ratio(
            "ratio ours/jupyter_server stalled RSS growth (peak; ours floored at 1 MiB)",
            r["ours/jupyter_server stalled RSS growth (peak)"],
            f"<= {TARGET_STALLED_RSS}",
            met,
        )
    )
    lines.append(
        fmt_ratio("ratio ours/jupyter_server reader exec p99", r["ours/jupyter_server reader exec p99"], "<= 1.0", met)
    )
    lines.append(fmt_ratio("ratio ours/jupyter_server reader exec p50", r["ours/jupyter_server reader exec p50"]))
    lines.append(fmt_ratio("ratio ours/jupyter_server pipe exec p99", r["ours/jupyter_server pipe exec p99"]))
    lines.append(
        fmt_ratio("ratio ours/jupyter_server reader terminal throughput", r["ours/jupyter_server reader throughput"])
    )
    return lines
