"""Cold start: process spawn -> first HTTP 200.

- ours: ``/api/kernelspecs`` (or ``/api/status`` while kernelspecs answers 404);
- jupyter_server: ``/api/kernelspecs`` with the token;
- null: any path (bare aiohttp app).

Each server is launched ``--repeat`` times, alternating the order of servers
between rounds, after one untimed launch per server (equal disk-cache state).
Reports median and min per server; target: ours <= 1/4 of jupyter_server.
"""

from __future__ import annotations

from common import Context, fmt_ratio, median, ratio, spread, summary_row, table
from servers import JUPYTER_SERVER, NULL, OURS, ServerProcess, proc_rss_mib

NAME = "startup"
SERVERS = (OURS, JUPYTER_SERVER, NULL)
TARGET = 0.25


def _launch_once(ctx: Context, name: str) -> dict:
    server = ServerProcess(ctx.specs[name])
    try:
        server.start()
        seconds = server.wait_ready(timeout=ctx.args.startup_timeout)
        rss = proc_rss_mib(server.pid)
        return {"seconds": seconds, "rss_mib": rss, "path": server.ready_path}
    finally:
        server.stop()


def run(ctx: Context) -> dict:
    names = [n for n in SERVERS if n in ctx.specs]
    for name in names:
        ctx.log(f"[startup] warm-up launch: {name}")
        _launch_once(ctx, name)
    samples: dict[str, list[dict]] = {n: [] for n in names}
    for i in range(ctx.args.repeat):
        order = names if i % 2 == 0 else list(reversed(names))
        for name in order:
            sample = _launch_once(ctx, name)
            samples[name].append(sample)
            ms = sample["seconds"] * 1000
            ctx.log(f"[startup] round {i + 1}/{ctx.args.repeat} {name}: {ms:.0f} ms ({sample['path']})")
    servers = {}
    for name in names:
        secs = [s["seconds"] for s in samples[name]]
        servers[name] = {
            "version": ctx.specs[name].version,
            "median_s": median(secs),
            "min_s": min(secs),
            "max_s": max(secs),
            "rss_mib_median": median([s["rss_mib"] for s in samples[name]]),
            "ready_paths": sorted({s["path"] for s in samples[name]}),
            "samples": samples[name],
        }

    def med(name: str) -> float | None:
        return servers[name]["median_s"] if name in servers else None

    def mn(name: str) -> float | None:
        return servers[name]["min_s"] if name in servers else None

    r_js = ratio(med(OURS), med(JUPYTER_SERVER))
    return {
        "repeat": ctx.args.repeat,
        "servers": servers,
        "ratios": {
            "ours/jupyter_server (median)": r_js,
            "ours/jupyter_server (min)": ratio(mn(OURS), mn(JUPYTER_SERVER)),
            "ours/null (median)": ratio(med(OURS), med(NULL)),
        },
        "target": {"ours/jupyter_server (median) <=": TARGET, "met": None if r_js is None else r_js <= TARGET},
    }


def report(result: dict) -> list[str]:
    rows = [
        (
            name,
            f"{s['median_s'] * 1000:.0f}",
            f"{s['min_s'] * 1000:.0f}",
            f"{s['max_s'] * 1000:.0f}",
            f"{s['rss_mib_median']:.0f}",
            ",".join(s["ready_paths"]),
            s["version"],
        )
        for name, s in result["servers"].items()
    ]
    lines = [f"Cold start: spawn -> first HTTP 200 (n={result['repeat']}, alternating order)"]
    lines += table(("server", "median ms", "min ms", "max ms", "RSS MiB", "probe", "version"), rows)
    r = result["ratios"]
    lines.append(
        fmt_ratio(
            "ratio ours/jupyter_server (median)",
            r["ours/jupyter_server (median)"],
            f"<= {TARGET}",
            result["target"]["met"],
        )
    )
    lines.append(fmt_ratio("ratio ours/jupyter_server (min)", r["ours/jupyter_server (min)"]))
    lines.append(fmt_ratio("ratio ours/null (median)", r["ours/null (median)"]))
    return lines


def summary(result: dict) -> list[dict]:
    servers = result["servers"]

    def fig(name: str) -> str:
        return spread([x["seconds"] for x in servers[name]["samples"]], 1000) + " ms" if name in servers else "–"

    r = result["ratios"]["ours/jupyter_server (median)"]
    return [
        summary_row(
            "cold start: spawn → first 200 on /api/kernelspecs (limit: bare aiohttp)",
            fig(OURS),
            fig(JUPYTER_SERVER),
            fig(NULL),
            "" if r is None else f"{r:.2f} × js",
            f"≤ {TARGET:g} × js",
            result["target"]["met"],
        )
    ]
