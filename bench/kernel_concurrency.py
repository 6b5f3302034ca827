"""Concurrency: ``--conc-kernels`` (20) kernels, one client each, ``--conc-executes`` (50)
executes of ``pass`` each, all at once.

Per server, 20 kernels are started through ``POST /api/kernels`` (4 at a time) and kept
for the whole benchmark; the direct-ZMQ limit is 20 kernels started by jupyter_client's
``AsyncKernelManager`` in the harness, each with its own ``AsyncKernelClient``. A
measurement opens one websocket per kernel (all legacy JSON, or all v1), does a
kernel_info round trip and 3 untimed executes on each, then starts the clock and lets
the 20 clients run their 50 executes (each waits for its reply and ``status: idle``
before sending the next) concurrently; the wall time runs until the last client is done.
Every execute's round trip is kept for p50/p99. ``--conc-rounds`` rounds, the targets
(``ours legacy``, ``ours v1``, ``jupyter_server legacy``, ``jupyter_server v1``,
``direct``) in rotating order. Target: ours/direct wall time <= 1.3, each framing.
"""

from __future__ import annotations

import asyncio
import time
from contextlib import ExitStack
from typing import Any

import aiohttp

from common import Context, fmt_ratio, median, ratio, spread, summary_row, table
from kernels_common import (
    DIRECT,
    FRAMINGS,
    DirectKernel,
    WSKernel,
    delete_kernel,
    http_session,
    kernel_server,
    kernel_servers,
    percentile,
    rotated,
    run_async,
    start_kernel,
)
from servers import JUPYTER_SERVER, OURS, BenchError, ServerProcess

NAME = "concurrency"
SERVERS = (OURS, JUPYTER_SERVER)
TARGET = 1.3
CODE = "pass"
TIMEOUT = 120.0
WARMUP = 3
CONCURRENT_STARTS = 4


async def _drive(clients: list[Any], executes: int) -> tuple[float, list[float]]:
    """Every client runs ``executes`` executes back to back, all clients at once."""

    async def one(c: Any) -> list[float]:
        times = []
        for _ in range(executes):
            res = await c.execute(CODE, TIMEOUT)
            if res.reply_status != "ok":
                raise BenchError(f"execute {CODE!r} answered {res.reply_status}")
            times.append(res.seconds)
        return times

    for c in clients:  # warm-up, untimed
        for _ in range(WARMUP):
            await c.execute(CODE, TIMEOUT)
    t0 = time.perf_counter()
    per_client = await asyncio.gather(*(one(c) for c in clients))
    wall = time.perf_counter() - t0
    return wall, [t for times in per_client for t in times]


async def _measure_ws(
    http: aiohttp.ClientSession, server: ServerProcess, ids: list[str], framing: str, executes: int
) -> tuple[float, list[float]]:
    clients = await asyncio.gather(*(WSKernel.connect(http, server, k, framing) for k in ids))
    try:
        for c in clients:
            await c.kernel_info()
        return await _drive(list(clients), executes)
    finally:
        for c in clients:
            try:
                await c.close()
            except (asyncio.TimeoutError, aiohttp.ClientError):
                pass


def run(ctx: Context) -> dict:
    n, executes, rounds = ctx.args.conc_kernels, ctx.args.conc_executes, ctx.args.conc_rounds
    names = kernel_servers(ctx)

    with ExitStack() as stack:
        servers = {name: stack.enter_context(kernel_server(ctx, name)) for name in names}

        async def go() -> dict[str, list[dict]]:
            https = {name: http_session(s) for name, s in servers.items()}
            ids: dict[str, list[str]] = {name: [] for name in servers}
            direct: list[DirectKernel] = []
            sem = asyncio.Semaphore(CONCURRENT_STARTS)

            async def start_ws(name: str) -> None:
                async with sem:
                    ids[name].append(await start_kernel(https[name], servers[name]))

            async def start_direct() -> None:
                k = DirectKernel()
                direct.append(k)
                async with sem:
                    await k.start()

            out: dict[str, list[dict]] = {}
            try:
                t0 = time.perf_counter()
                for name in servers:
                    await asyncio.gather(*(start_ws(name) for _ in range(n)))
                await asyncio.gather(*(start_direct() for _ in range(n)))
                ctx.log(
                    f"[concurrency] {n} kernels on each of {', '.join([*servers, DIRECT])} "
                    f"in {time.perf_counter() - t0:.0f} s"
                )
                labels = [f"{name} {fr}" for name in servers for fr in FRAMINGS] + [f"{DIRECT} zmq"]
                for rnd in range(rounds):
                    for label in rotated(labels, rnd):
                        name, framing = label.split(" ")
                        if name == DIRECT:
                            wall, times = await _drive(list(direct), executes)
                        else:
                            wall, times = await _measure_ws(https[name], servers[name], ids[name], framing, executes)
                        if len(times) != n * executes:
                            raise BenchError(f"{label}: {len(times)} executes done, wanted {n * executes}")
                        out.setdefault(label, []).append(
                            {
                                "wall_s": wall,
                                "p50_ms": percentile(times, 50) * 1000,
                                "p99_ms": percentile(times, 99) * 1000,
                                "max_ms": max(times) * 1000,
                            }
                        )
                        ctx.log(
                            f"[concurrency] round {rnd + 1}/{rounds} {label}: wall {wall:.2f} s, "
                            f"p99 {out[label][-1]['p99_ms']:.1f} ms"
                        )
            finally:
                for name, kernel_ids in ids.items():
                    for kernel_id in kernel_ids:
                        try:
                            await delete_kernel(https[name], servers[name], kernel_id)
                        except (asyncio.TimeoutError, aiohttp.ClientError):
                            pass
                    await https[name].close()
                await asyncio.gather(*(k.stop() for k in direct), return_exceptions=True)
            return out

        samples = run_async(go)

    results = {
        label: {
            "wall_s": median([r["wall_s"] for r in rs]),
            "p50_ms": median([r["p50_ms"] for r in rs]),
            "p99_ms": median([r["p99_ms"] for r in rs]),
            "rounds": rs,
        }
        for label, rs in samples.items()
    }

    def wall(label: str) -> float | None:
        return results[label]["wall_s"] if label in results else None

    checks, ratios = [], {}
    for framing in FRAMINGS:
        r = ratio(wall(f"{OURS} {framing}"), wall(f"{DIRECT} zmq"))
        ratios[f"ours/direct {framing} (wall)"] = r
        ratios[f"ours/jupyter_server {framing} (wall)"] = ratio(
            wall(f"{OURS} {framing}"), wall(f"{JUPYTER_SERVER} {framing}")
        )
        checks.append(
            {
                "name": f"{n} x {executes} concurrent executes, ours/direct wall {framing}",
                "target": f"<= {TARGET}",
                "value": r,
                "met": None if r is None else r <= TARGET,
            }
        )
    known = [c["met"] for c in checks if c["met"] is not None]
    return {
        "kernels": n,
        "executes": executes,
        "rounds": rounds,
        "results": results,
        "ratios": ratios,
        "checks": checks,
        "target": {"met": all(known) if known else None},
    }


def report(result: dict) -> list[str]:
    lines = [
        (
            f"Concurrency: {result['kernels']} kernels x {result['executes']} executes of 'pass', "
            "one client per kernel, "
            f"all at once (median of {result['rounds']} rounds)"
        )
    ]
    rows = [
        (label, f"{r['wall_s']:.2f}", f"{r['p50_ms']:.1f}", f"{r['p99_ms']:.1f}")
        for label, r in result["results"].items()
    ]
    lines += table(("client", "wall s", "p50 ms", "p99 ms"), rows)
    for c in result["checks"]:
        lines.append(fmt_ratio(f"ratio {c['name']}", c["value"], c["target"], c["met"]))
    for k, v in result["ratios"].items():
        if "jupyter_server" in k:
            lines.append(fmt_ratio(f"ratio {k} (information)", v))
    return lines


def summary(result: dict) -> list[dict]:
    res = result["results"]
    rows = []

    def fig(label: str) -> str:
        if label not in res:
            return "–"
        r = res[label]
        return f"{spread([x['wall_s'] for x in r['rounds']], 1, 2)} s; p99 {r['p99_ms']:.1f} ms"

    for c, framing in zip(result["checks"], FRAMINGS, strict=True):
        js = result["ratios"][f"ours/jupyter_server {framing} (wall)"]
        text = "" if c["value"] is None else f"{c['value']:.2f} × direct"
        if js is not None:
            text += f", {js:.2f} × js"
        rows.append(
            summary_row(
                f"{result['kernels']} kernels × {result['executes']} executes at once, wall, {framing}",
                fig(f"{OURS} {framing}"),
                fig(f"{JUPYTER_SERVER} {framing}"),
                fig(f"{DIRECT} zmq"),
                text,
                f"≤ {TARGET:g} × direct",
                c["met"],
            )
        )
    return rows
