"""Kernel start: ``POST /api/kernels`` -> first ``kernel_info_reply`` over the websocket.

One start is timed from just before the POST until the reply to a ``kernel_info_request``
sent on a freshly opened websocket (v1 framing) to the new kernel; the websocket is
closed, the kernel deleted through the API and its process waited for (untimed) before
the next start. Four ways, each started once and kept for the whole benchmark:

- ``ours``: this server without a pool (every start spawns a kernel);
- ``ours pool``: this server with ``{"KernelService": {"pool": {"python3": 2}}}``; it is
  measured only once ``GET /api/ready`` answers 200 (or, when a plugin failed to load,
  503 with ``"pool_filled": true``): the pool is full; and after each
  start the harness waits until the pool's kernel processes are back and then
  ``--pool-pause`` seconds more, so that every start finds a ready pooled kernel;
- ``jupyter_server``: no pool exists there, so it is measured without;
- ``direct``: jupyter_client's ``AsyncKernelManager.start_kernel`` then a client's first
  ``kernel_info_reply``, with no server (the limit for a start without a pool).

``--start-rounds`` rounds, each starting one kernel with every way in rotating order.
No target is set for this one in the issue; it is reported with ratios.
"""

from __future__ import annotations

import asyncio
import json
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from queue import Empty
from typing import Any

import aiohttp

from common import Context, fmt_ratio, median, ratio, spread, summary_row, table
from kernels_common import (
    DIRECT,
    KERNEL_NAME,
    V1,
    WSKernel,
    delete_kernel,
    http_session,
    kernel_pids,
    kernel_server,
    rotated,
    run_async,
    start_kernel,
)
from servers import JUPYTER_SERVER, OURS, BenchError, ServerProcess

NAME = "start"
SERVERS = (OURS, JUPYTER_SERVER)
POOL = "ours pool"
POOL_SIZE = 2
TIMEOUT = 120.0


async def _wait_pids(server: ServerProcess, count: int, timeout: float = 60.0) -> None:
    """Until exactly ``count`` kernel processes run under ``server`` (bounded)."""
    deadline = time.monotonic() + timeout
    while len(kernel_pids(server.pid)) != count:
        if time.monotonic() > deadline:
            raise BenchError(f"{server.spec.name}: {len(kernel_pids(server.pid))} kernel processes, wanted {count}")
        await asyncio.sleep(0.05)


async def _wait_ready(http: aiohttp.ClientSession, server: ServerProcess, timeout: float = TIMEOUT) -> float:
    """Until ``GET /api/ready`` answers 200, or says ``pool_filled`` (our pool is full); seconds waited.

    A plugin that failed to load keeps the answer at 503 (``failed`` lists it) while the
    pool is full all the same: ``pool_filled`` is what this benchmark needs.
    """
    t0 = time.monotonic()
    while True:
        async with http.get(f"{server.base_url}/api/ready") as r:
            body = await r.read()
            if r.status == 200:
                return time.monotonic() - t0
            try:
                if r.status == 503 and json.loads(body).get("pool_filled") is True:
                    return time.monotonic() - t0
            except ValueError:
                pass
        if time.monotonic() - t0 > timeout:
            raise BenchError(f"{server.spec.name}: /api/ready not 200 within {timeout:g} s")
        await asyncio.sleep(0.1)


async def _ws_start(http: aiohttp.ClientSession, server: ServerProcess) -> tuple[float, str]:
    t0 = time.perf_counter()
    kernel_id = await start_kernel(http, server)
    client = await WSKernel.connect(http, server, kernel_id, V1)
    try:
        await client.kernel_info(TIMEOUT)
        return time.perf_counter() - t0, kernel_id
    finally:
        await client.close()


async def _direct_start() -> float:
    from jupyter_client.manager import AsyncKernelManager

    with tempfile.TemporaryDirectory(prefix="bench-start-") as tmp:
        km: Any = AsyncKernelManager(kernel_name=KERNEL_NAME, connection_file=str(Path(tmp) / "kernel.json"))
        kc: Any = None
        try:
            t0 = time.perf_counter()
            await asyncio.wait_for(km.start_kernel(cwd=tmp), TIMEOUT)
            kc = km.client()
            kc.start_channels()
            msg_id = kc.kernel_info()
            deadline = time.monotonic() + TIMEOUT
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise BenchError("direct: no kernel_info_reply")
                try:
                    msg = await kc.get_shell_msg(timeout=left)
                except Empty:
                    continue
                if msg["msg_type"] == "kernel_info_reply" and msg["parent_header"].get("msg_id") == msg_id:
                    return time.perf_counter() - t0
        finally:
            if kc is not None:
                kc.stop_channels()
            try:
                await asyncio.wait_for(km.shutdown_kernel(now=False), 30)
            except (asyncio.TimeoutError, RuntimeError):
                await asyncio.wait_for(km.shutdown_kernel(now=True), 30)


def run(ctx: Context) -> dict:
    names = [n for n in SERVERS if n in ctx.specs]
    rounds = ctx.args.start_rounds
    samples: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-start-cfg-") as tmp:
        cfg = Path(tmp) / "jupyter_core_server_config.json"
        cfg.write_text(json.dumps({"KernelService": {"pool": {KERNEL_NAME: POOL_SIZE}}}))
        base = ctx.specs[OURS]
        pooled_spec = replace(base, command=lambda port, token: [*base.command(port, token), "--config", str(cfg)])
        pooled_ctx = Context(args=ctx.args, specs={**ctx.specs, POOL: replace(pooled_spec, name=POOL)}, log=ctx.log)
        with kernel_server(ctx, OURS) as ours, kernel_server(pooled_ctx, POOL) as pooled:
            js_cm = kernel_server(ctx, JUPYTER_SERVER) if JUPYTER_SERVER in names else None
            js = js_cm.__enter__() if js_cm else None
            try:
                servers: dict[str, ServerProcess] = {OURS: ours, POOL: pooled}
                if js is not None:
                    servers[JUPYTER_SERVER] = js

                async def go() -> dict[str, list[float]]:
                    https = {n: http_session(s) for n, s in servers.items()}
                    out: dict[str, list[float]] = {n: [] for n in [*servers, DIRECT]}
                    try:
                        waited = await _wait_ready(https[POOL], pooled)
                        ctx.log(f"[start] pool ready after {waited:.1f} s more")
                        await _wait_pids(pooled, POOL_SIZE)
                        await asyncio.sleep(ctx.args.pool_pause)
                        for rnd in range(rounds):
                            for way in rotated(list(out), rnd):
                                if way == DIRECT:
                                    seconds = await _direct_start()
                                else:
                                    server = servers[way]
                                    base_count = POOL_SIZE if way == POOL else 0
                                    seconds, kernel_id = await _ws_start(https[way], server)
                                    status = await delete_kernel(https[way], server, kernel_id)
                                    if status != 204:
                                        raise BenchError(f"{way}: DELETE kernel answered {status}")
                                    await _wait_pids(server, base_count)
                                    if way == POOL:
                                        await asyncio.sleep(ctx.args.pool_pause)
                                out[way].append(seconds)
                                ctx.log(f"[start] round {rnd + 1}/{rounds} {way}: {seconds * 1000:.0f} ms")
                    finally:
                        for h in https.values():
                            await h.close()
                    return out

                samples = run_async(go)
            finally:
                if js_cm is not None:
                    js_cm.__exit__(None, None, None)
    results = {
        way: {"median_ms": median(v) * 1000, "min_ms": min(v) * 1000, "max_ms": max(v) * 1000, "samples_s": v}
        for way, v in samples.items()
    }

    def m(way: str) -> float | None:
        return results[way]["median_ms"] if way in results else None

    ratios = {
        "ours/jupyter_server (no pool)": ratio(m(OURS), m(JUPYTER_SERVER)),
        "ours/direct (no pool)": ratio(m(OURS), m(DIRECT)),
        "ours pool/jupyter_server": ratio(m(POOL), m(JUPYTER_SERVER)),
        "ours pool/ours": ratio(m(POOL), m(OURS)),
    }
    return {"rounds": rounds, "pool_size": POOL_SIZE, "results": results, "ratios": ratios, "target": {"met": None}}


def report(result: dict) -> list[str]:
    lines = [
        (
            f"Kernel start: POST /api/kernels -> first kernel_info_reply on the websocket "
            f"({result['rounds']} starts each, rotating order; pool of {result['pool_size']})"
        )
    ]
    rows = [
        (way, f"{r['median_ms']:.0f}", f"{r['min_ms']:.0f}", f"{r['max_ms']:.0f}")
        for way, r in result["results"].items()
    ]
    lines += table(("way", "median ms", "min ms", "max ms"), rows)
    for k, v in result["ratios"].items():
        lines.append(fmt_ratio(f"ratio {k} (no target)", v))
    return lines


def summary(result: dict) -> list[dict]:
    r = result["results"]

    def fig(way: str) -> str:
        return spread(r[way]["samples_s"], 1000) + " ms" if way in r else "–"

    ratios = result["ratios"]
    no_pool = ", ".join(
        f"{v:.2f} × {lbl}"
        for v, lbl in ((ratios["ours/jupyter_server (no pool)"], "js"), (ratios["ours/direct (no pool)"], "direct"))
        if v is not None
    )
    pool = ratios["ours pool/jupyter_server"]
    return [
        summary_row(
            "kernel start → first kernel_info_reply, no pool", fig(OURS), fig(JUPYTER_SERVER), fig(DIRECT), no_pool
        ),
        summary_row(
            f"kernel start, warm pool of {result['pool_size']} (jupyter_server has no pool)",
            fig(POOL),
            "–",
            "–",
            "" if pool is None else f"{pool:.2f} × js without pool",
        ),
    ]
