"""REST throughput: ``GET /api/status`` with 32 keep-alive clients.

All three servers are started once and measured one at a time (the idle ones use no
CPU), for ``--rest-rounds`` rounds in alternating order; each measurement is a
1 s warm-up then ``--duration`` seconds of load. Load comes from ``wrk`` when
installed, else from an aiohttp client in a separate process. Reports req/s (median
over rounds), latency, non-2xx count and the server's CPU time per request.
Targets: ours/null >= 0.5; ours/jupyter_server is reported.
"""

from __future__ import annotations

import os

from common import Context, fmt_ratio, median, ratio, table
from loadgen import run_aiohttp, run_wrk
from servers import JUPYTER_SERVER, NULL, OURS, BenchError, ServerProcess, http_get, proc_cpu_seconds

NAME = "rest"
SERVERS = (OURS, JUPYTER_SERVER, NULL)
PATH = "/api/status"
TARGET = 0.5


def _load(ctx: Context, server: ServerProcess, duration: float) -> dict:
    url = server.base_url + PATH
    c = ctx.args.concurrency
    if ctx.args.wrk:
        # Leave a core for the server: wrk threads = half the CPUs, at least 1.
        return run_wrk(ctx.args.wrk, url, server.headers, c, duration, threads=max(1, (os.cpu_count() or 2) // 2))
    return run_aiohttp(url, server.headers, c, duration)


def run(ctx: Context) -> dict:
    names = [n for n in SERVERS if n in ctx.specs]
    running: dict[str, ServerProcess] = {}
    samples: dict[str, list[dict]] = {n: [] for n in names}
    try:
        for name in names:
            server = ServerProcess(ctx.specs[name])
            running[name] = server
            server.start()
            server.wait_ready(timeout=ctx.args.startup_timeout)
            status, body = http_get(server.port, PATH, server.headers)
            if status != 200:
                raise BenchError(f"{name}: GET {PATH} answered {status}: {body[:200]!r}")
        for i in range(ctx.args.rest_rounds):
            order = names if i % 2 == 0 else list(reversed(names))
            for name in order:
                server = running[name]
                _load(ctx, server, 1.0)  # warm-up, discarded
                cpu0 = proc_cpu_seconds(server.pid)
                sample = _load(ctx, server, ctx.args.duration)
                cpu_s = proc_cpu_seconds(server.pid) - cpu0
                sample["server_cpu_ms_per_req"] = cpu_s * 1000 / sample["requests"] if sample["requests"] else None
                samples[name].append(sample)
                rnd = f"{i + 1}/{ctx.args.rest_rounds}"
                ctx.log(f"[rest] round {rnd} {name}: {sample['rps']:.0f} req/s ({sample['generator']})")
    finally:
        for server in running.values():
            server.stop()

    servers = {}
    for name in names:
        runs = samples[name]
        cpu = [x["server_cpu_ms_per_req"] for x in runs if x["server_cpu_ms_per_req"] is not None]
        servers[name] = {
            "version": ctx.specs[name].version,
            "rps_median": median([x["rps"] for x in runs]),
            "rps_max": max(x["rps"] for x in runs),
            "p50_ms_median": median([x["p50_ms"] for x in runs]),
            "p99_ms_median": median([x["p99_ms"] for x in runs]),
            "non2xx": sum(x["non2xx"] for x in runs),
            "socket_errors": sum(x["socket_errors"] for x in runs),
            "server_cpu_ms_per_req": median(cpu) if cpu else None,
            "samples": runs,
        }

    def rps(name: str) -> float | None:
        return servers[name]["rps_median"] if name in servers else None

    r_null = ratio(rps(OURS), rps(NULL))
    return {
        "path": PATH,
        "concurrency": ctx.args.concurrency,
        "duration_s": ctx.args.duration,
        "rounds": ctx.args.rest_rounds,
        "generator": "wrk" if ctx.args.wrk else "aiohttp",
        "servers": servers,
        "ratios": {"ours/null": r_null, "ours/jupyter_server": ratio(rps(OURS), rps(JUPYTER_SERVER))},
        "target": {"ours/null >=": TARGET, "met": None if r_null is None else r_null >= TARGET},
    }


def report(result: dict) -> list[str]:
    rows = []
    for name, s in result["servers"].items():
        cpu = s["server_cpu_ms_per_req"]
        rows.append(
            (
                name,
                f"{s['rps_median']:.0f}",
                f"{s['rps_max']:.0f}",
                f"{s['p50_ms_median']:.2f}",
                f"{s['p99_ms_median']:.2f}",
                "n/a" if cpu is None else f"{cpu:.3f}",
                s["non2xx"],
                s["socket_errors"],
                s["version"],
            )
        )
    lines = [
        (
            f"REST throughput: GET {result['path']}, {result['concurrency']} keep-alive clients, "
            f"{result['duration_s']:g} s x {result['rounds']} rounds, load by {result['generator']}"
        )
    ]
    lines += table(
        ("server", "req/s med", "req/s max", "p50 ms", "p99 ms", "srv CPU ms/req", "non-2xx", "sock err", "version"),
        rows,
    )
    r = result["ratios"]
    lines.append(fmt_ratio("ratio ours/null", r["ours/null"], f">= {TARGET}", result["target"]["met"]))
    lines.append(fmt_ratio("ratio ours/jupyter_server", r["ours/jupyter_server"]))
    return lines
