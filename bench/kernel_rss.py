"""Server memory with idle kernels: VmRSS of the server process only (not its kernels).

Each server is started fresh; its RSS is sampled once it answers (``idle``), then
``--rss-kernels`` (20) kernels are started through ``POST /api/kernels`` (4 at a time),
each is connected once with a websocket (legacy and v1 alternately) that does a
kernel_info round trip and closes. After 3 s of quiet the server's VmRSS (from
``/proc/<server pid>/status``) is sampled 10 times, 0.2 s apart, and the median kept;
VmHWM (peak) is reported too. The kernels are deleted through the API afterwards.
Target: ours/jupyter_server (RSS with the kernels) <= 0.6.
"""

from __future__ import annotations

import asyncio
import time

from common import Context, fmt_ratio, ratio, summary_row, table
from kernels_common import (
    FRAMINGS,
    WSKernel,
    delete_kernel,
    http_session,
    kernel_pids,
    kernel_server,
    kernel_servers,
    med,
    run_async,
    start_kernel,
)
from servers import JUPYTER_SERVER, OURS, BenchError, proc_cmdline, proc_status_kib

NAME = "rss"
SERVERS = (OURS, JUPYTER_SERVER)
TARGET = 0.6
CONCURRENT_STARTS = 4
SETTLE_S = 3.0


async def _rss_samples(pid: int, n: int = 10, interval: float = 0.2) -> float:
    values = []
    for _ in range(n):
        values.append(proc_status_kib(pid, "VmRSS") / 1024)
        await asyncio.sleep(interval)
    return med(values)


def _group(ctx: Context, name: str) -> dict:
    n = ctx.args.rss_kernels
    with kernel_server(ctx, name) as server:
        pid = server.pid
        argv = proc_cmdline(pid)

        async def go() -> dict:
            await asyncio.sleep(1.0)
            idle = await _rss_samples(pid, 5)
            ids: list[str] = []
            sem = asyncio.Semaphore(CONCURRENT_STARTS)

            async def one(i: int) -> None:
                async with sem:
                    kernel_id = await start_kernel(http, server)
                    ids.append(kernel_id)
                    client = await WSKernel.connect(http, server, kernel_id, FRAMINGS[i % 2])
                    try:
                        await client.kernel_info()
                    finally:
                        await client.close()

            async with http_session(server) as http:
                try:
                    t0 = time.perf_counter()
                    outcomes = await asyncio.gather(*(one(i) for i in range(n)), return_exceptions=True)
                    started_s = time.perf_counter() - t0
                    errors = [o for o in outcomes if isinstance(o, BaseException)]
                    if errors:
                        raise BenchError(f"{name}: {len(errors)} of {n} kernels failed: {errors[0]!r}")
                    kernel_procs = len(kernel_pids(pid))
                    await asyncio.sleep(SETTLE_S)
                    loaded = await _rss_samples(pid)
                    hwm = proc_status_kib(pid, "VmHWM") / 1024
                    anon = proc_status_kib(pid, "RssAnon") / 1024
                    files = proc_status_kib(pid, "RssFile") / 1024
                finally:
                    for kernel_id in ids:
                        await delete_kernel(http, server, kernel_id)
            return {
                "idle_mib": idle,
                "with_kernels_mib": loaded,
                "delta_mib": loaded - idle,
                "hwm_mib": hwm,
                "anon_mib": anon,
                "file_mib": files,
                "kernels": n,
                "kernel_processes": kernel_procs,
                "start_and_connect_s": started_s,
            }

        result = run_async(go)
    result["process"] = " ".join(a.rsplit("/", 1)[-1] for a in argv[:3])  # no machine paths
    return result


def run(ctx: Context) -> dict:
    servers = {}
    for name in kernel_servers(ctx):
        ctx.log(f"[rss] {name}: {ctx.args.rss_kernels} kernels")
        servers[name] = _group(ctx, name)
        s = servers[name]
        ctx.log(f"[rss] {name}: idle {s['idle_mib']:.1f} MiB, with kernels {s['with_kernels_mib']:.1f} MiB")

    def rss(name: str) -> float | None:
        return servers[name]["with_kernels_mib"] if name in servers else None

    r = ratio(rss(OURS), rss(JUPYTER_SERVER))
    return {
        "kernels": ctx.args.rss_kernels,
        "versions": {n: ctx.specs[n].version for n in kernel_servers(ctx)},
        "servers": servers,
        "ratios": {
            "ours/jupyter_server (with kernels)": r,
            "ours/jupyter_server (idle)": ratio(
                servers[OURS]["idle_mib"], servers[JUPYTER_SERVER]["idle_mib"] if JUPYTER_SERVER in servers else None
            ),
        },
        "target": {"ours/jupyter_server <=": TARGET, "met": None if r is None else r <= TARGET},
    }


def report(result: dict) -> list[str]:
    rows = [
        (
            name,
            f"{s['idle_mib']:.1f}",
            f"{s['with_kernels_mib']:.1f}",
            f"{s['delta_mib']:+.1f}",
            f"{s['hwm_mib']:.1f}",
            f"{s['anon_mib']:.1f} / {s['file_mib']:.1f}",
            s["kernel_processes"],
            f"{s['start_and_connect_s']:.1f}",
            s["process"],
        )
        for name, s in result["servers"].items()
    ]
    lines = [f"Server RSS (server process only) with {result['kernels']} idle kernels, each connected once"]
    lines += table(
        (
            "server",
            "idle MiB",
            f"{result['kernels']} kernels MiB",
            "delta",
            "peak MiB",
            "anon / file MiB",
            "kernel procs",
            "start s",
            "process",
        ),
        rows,
    )
    r = result["ratios"]
    lines.append(
        fmt_ratio(
            "ratio ours/jupyter_server (with kernels)",
            r["ours/jupyter_server (with kernels)"],
            f"<= {TARGET}",
            result["target"]["met"],
        )
    )
    lines.append(fmt_ratio("ratio ours/jupyter_server (idle)", r["ours/jupyter_server (idle)"]))
    return lines


def summary(result: dict) -> list[dict]:
    servers = result["servers"]
    r = result["ratios"]

    def fig(name: str, key: str) -> str:
        return f"{servers[name][key]:.1f} MiB" if name in servers else "–"

    idle = r["ours/jupyter_server (idle)"]
    loaded = r["ours/jupyter_server (with kernels)"]
    return [
        summary_row(
            "server RSS, idle (server process only)",
            fig(OURS, "idle_mib"),
            fig(JUPYTER_SERVER, "idle_mib"),
            "–",
            "" if idle is None else f"{idle:.2f} × js",
        ),
        summary_row(
            f"server RSS with {result['kernels']} kernels (server process only)",
            fig(OURS, "with_kernels_mib"),
            fig(JUPYTER_SERVER, "with_kernels_mib"),
            "–",
            "" if loaded is None else f"{loaded:.2f} × js",
            f"≤ {TARGET:g} × js",
            result["target"]["met"],
        ),
    ]
