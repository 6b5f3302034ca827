"""REST throughput and latency: ``GET /api/kernelspecs``, ``/api/kernels`` and ``/api/sessions``.

Each path is loaded with 1 and with 32 keep-alive clients (``--rest-paths``,
``--rest-clients``). All three servers are started once and measured one at a time (the
idle ones use no CPU), for ``--rest-rounds`` rounds; within a round every
(path, clients) pair is measured on every server, the server order alternating from
pair to pair and round to round. Each measurement is ``--duration`` seconds of load,
after ``--rest-warmup`` seconds of discarded load the first time a server sees a pair.
Load comes from ``wrk`` when installed, else from an aiohttp client in a separate
process. Reports req/s (median and range over rounds), latency p50/p99, non-2xx count
and the server's CPU time per request.

The null server (a bare aiohttp app answering every path with fixed JSON) is the HTTP
ceiling. Targets at 32 clients, each path: ours/null >= 0.5 and ours/jupyter_server >= 3.
"""

from __future__ import annotations

import os

from common import Context, fmt_ratio, median, ratio, spread, summary_row, table
from loadgen import run_aiohttp, run_wrk
from servers import JUPYTER_SERVER, NULL, OURS, BenchError, ServerProcess, http_get, proc_cpu_seconds

NAME = "rest"
SERVERS = (OURS, JUPYTER_SERVER, NULL)
TARGET_NULL = 0.5
TARGET_JS = 3.0
TARGET_CLIENTS = 32


def _load(ctx: Context, server: ServerProcess, path: str, clients: int, duration: float) -> dict:
    url = server.base_url + path
    if ctx.args.wrk:
        # Leave a core for the server: wrk threads = half the CPUs, at least 1.
        return run_wrk(ctx.args.wrk, url, server.headers, clients, duration, threads=max(1, (os.cpu_count() or 2) // 2))
    return run_aiohttp(url, server.headers, clients, duration)


def key(path: str, clients: int) -> str:
    return f"{path} c={clients}"


def run(ctx: Context) -> dict:
    names = [n for n in SERVERS if n in ctx.specs]
    paths = list(ctx.args.rest_paths)
    pairs = [(p, c) for p in paths for c in ctx.args.rest_clients]
    running: dict[str, ServerProcess] = {}
    samples: dict[str, dict[str, list[dict]]] = {n: {key(p, c): [] for p, c in pairs} for n in names}
    warmed: set[tuple[str, str]] = set()
    try:
        for name in names:
            server = ServerProcess(ctx.specs[name])
            running[name] = server
            server.start()
            server.wait_ready(timeout=ctx.args.startup_timeout)
            for path in paths:
                status, body = http_get(server.port, path, server.headers)
                if status != 200:
                    raise BenchError(f"{name}: GET {path} answered {status}: {body[:200]!r}")
        step = 0
        for i in range(ctx.args.rest_rounds):
            for path, clients in pairs:
                order = names if step % 2 == 0 else list(reversed(names))
                step += 1
                for name in order:
                    server = running[name]
                    k = key(path, clients)
                    if (name, k) not in warmed and ctx.args.rest_warmup > 0:
                        _load(ctx, server, path, clients, ctx.args.rest_warmup)  # discarded
                        warmed.add((name, k))
                    cpu0 = proc_cpu_seconds(server.pid)
                    sample = _load(ctx, server, path, clients, ctx.args.duration)
                    cpu_s = proc_cpu_seconds(server.pid) - cpu0
                    sample["server_cpu_ms_per_req"] = cpu_s * 1000 / sample["requests"] if sample["requests"] else None
                    samples[name][k].append(sample)
                    ctx.log(
                        f"[rest] round {i + 1}/{ctx.args.rest_rounds} {name} {k}: {sample['rps']:.0f} req/s, "
                        f"p99 {sample['p99_ms']:.2f} ms ({sample['generator']})"
                    )
    finally:
        for server in running.values():
            server.stop()

    servers: dict[str, dict] = {}
    for name in names:
        per: dict[str, dict] = {}
        for k, runs in samples[name].items():
            cpu = [x["server_cpu_ms_per_req"] for x in runs if x["server_cpu_ms_per_req"] is not None]
            per[k] = {
                "rps_median": median([x["rps"] for x in runs]),
                "rps_min": min(x["rps"] for x in runs),
                "rps_max": max(x["rps"] for x in runs),
                "p50_ms_median": median([x["p50_ms"] for x in runs]),
                "p99_ms_median": median([x["p99_ms"] for x in runs]),
                "non2xx": sum(x["non2xx"] for x in runs),
                "socket_errors": sum(x["socket_errors"] for x in runs),
                "server_cpu_ms_per_req": median(cpu) if cpu else None,
                "samples": runs,
            }
        servers[name] = {"version": ctx.specs[name].version, "results": per}

    def rps(name: str, k: str) -> float | None:
        return servers[name]["results"][k]["rps_median"] if name in servers else None

    ratios: dict[str, float | None] = {}
    checks = []
    for path, clients in pairs:
        k = key(path, clients)
        r_null = ratio(rps(OURS, k), rps(NULL, k))
        r_js = ratio(rps(OURS, k), rps(JUPYTER_SERVER, k))
        ratios[f"ours/null {k}"] = r_null
        ratios[f"ours/jupyter_server {k}"] = r_js
        if clients == TARGET_CLIENTS:
            bad = servers[OURS]["results"][k]["non2xx"] + servers[OURS]["results"][k]["socket_errors"]
            for label, value, goal in (("null", r_null, TARGET_NULL), ("jupyter_server", r_js, TARGET_JS)):
                checks.append(
                    {
                        "name": f"REST {path} at {clients} clients: ours/{label} req/s",
                        "target": f">= {goal:g}",
                        "value": value,
                        "met": None if value is None else (value >= goal and bad == 0),
                    }
                )
    known = [c["met"] for c in checks if c["met"] is not None]
    return {
        "paths": paths,
        "clients": list(ctx.args.rest_clients),
        "duration_s": ctx.args.duration,
        "rounds": ctx.args.rest_rounds,
        "generator": "wrk" if ctx.args.wrk else "aiohttp",
        "servers": servers,
        "ratios": ratios,
        "checks": checks,
        "target": {"met": all(known) if known else None},
    }


def report(result: dict) -> list[str]:
    rows = []
    for name, s in result["servers"].items():
        for k, r in s["results"].items():
            cpu = r["server_cpu_ms_per_req"]
            rows.append(
                (
                    name,
                    k,
                    f"{r['rps_median']:.0f}",
                    f"{r['rps_min']:.0f}-{r['rps_max']:.0f}",
                    f"{r['p50_ms_median']:.2f}",
                    f"{r['p99_ms_median']:.2f}",
                    "n/a" if cpu is None else f"{cpu:.3f}",
                    r["non2xx"],
                    r["socket_errors"],
                )
            )
    lines = [
        (
            f"REST: {', '.join(result['paths'])} with {'/'.join(map(str, result['clients']))} keep-alive clients, "
            f"{result['duration_s']:g} s x {result['rounds']} rounds, load by {result['generator']}"
        )
    ]
    lines += table(
        ("server", "path, clients", "req/s med", "range", "p50 ms", "p99 ms", "srv CPU ms/req", "non-2xx", "sock err"),
        rows,
    )
    for c in result["checks"]:
        lines.append(fmt_ratio(f"ratio {c['name']}", c["value"], c["target"], c["met"]))
    for k, v in result["ratios"].items():
        if not any(k.endswith(f"c={TARGET_CLIENTS}") and k.startswith(p) for p in ("ours/null", "ours/jupyter_server")):
            lines.append(fmt_ratio(f"ratio {k} (information)", v))
    return lines


def summary(result: dict) -> list[dict]:
    servers = result["servers"]
    rows = []
    for path in result["paths"]:
        for clients in result["clients"]:
            k = key(path, clients)

            def fig(name: str, k: str = k) -> str:
                if name not in servers:
                    return "–"
                r = servers[name]["results"][k]
                rps = spread([x["rps"] for x in r["samples"]])
                return f"{rps} req/s; p50/p99 {r['p50_ms_median']:.2f}/{r['p99_ms_median']:.2f} ms"

            r_null, r_js = result["ratios"][f"ours/null {k}"], result["ratios"][f"ours/jupyter_server {k}"]
            parts = [f"{v:.2f} × {lbl}" for v, lbl in ((r_null, "null"), (r_js, "js")) if v is not None]
            target, met = "", None
            if clients == TARGET_CLIENTS:
                mets = [c["met"] for c in result["checks"] if c["name"].startswith(f"REST {path} at")]
                target = f"≥ {TARGET_NULL:g} × null, ≥ {TARGET_JS:g} × js"
                known = [m for m in mets if m is not None]
                met = all(known) if known else None
            rows.append(
                summary_row(
                    f"GET {path}, {clients} client{'s' if clients > 1 else ''} ({result['generator']})",
                    fig(OURS),
                    fig(JUPYTER_SERVER),
                    fig(NULL),
                    ", ".join(parts),
                    target,
                    met,
                )
            )
    return rows
