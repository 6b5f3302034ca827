"""Execute round trip of ``pass``: execute_request sent -> execute_reply and ``status: idle`` received.

Per round (``--kernel-rounds``) both servers are started fresh, each with one kernel per
framing (started through REST) and one websocket to it (legacy JSON, v1); the direct-ZMQ
limit is a kernel started by jupyter_client with no server, read two ways (``direct``:
jupyter_client's own message reading, the targets' reference; ``direct-raw``: its sockets
read with only the decoding the websocket client does, for information). Every target
gets ``--exec-warmup`` discarded executes, then ``--exec-iterations`` timed ones in
interleaved batches of 20 in rotating order, so that drift on a shared machine hits all
alike. Reports the median over rounds of each round's p50, p90 and p99.
Targets (p50, both framings): ours/direct <= 1.2 and ours/jupyter_server <= 0.3.
"""

from __future__ import annotations

from common import Context, fmt_ratio, ratio, spread, summary_row, table
from kernels_common import (
    DIRECT,
    DIRECT_RAW,
    FRAMINGS,
    Target,
    fleet,
    kernel_servers,
    med,
    open_targets,
    order_for_round,
    percentile,
    rotated,
    run_async,
)
from servers import JUPYTER_SERVER, OURS, BenchError

NAME = "exec"
SERVERS = (OURS, JUPYTER_SERVER)
TARGET_DIRECT = 1.2
TARGET_JS = 0.3
CODE = "pass"
TIMEOUT = 30.0


BATCH = 20  # executes per target before moving on to the next one


async def _round(targets: list[Target], warmup: int, iterations: int) -> dict[str, list[float]]:
    """Warm every target up, then time them in interleaved batches (so drift hits all alike)."""
    for t in targets:
        for _ in range(warmup):
            await _one(t)
    times: dict[str, list[float]] = {t.label: [] for t in targets}
    batch = 0
    while any(len(v) < iterations for v in times.values()):
        for t in rotated(targets, batch):
            for _ in range(min(BATCH, iterations - len(times[t.label]))):
                times[t.label].append(await _one(t))
        batch += 1
    return times


async def _one(t: Target) -> float:
    res = await t.execute(CODE, TIMEOUT)
    if res.reply_status != "ok":
        raise BenchError(f"{t.label}: execute {CODE!r} answered {res.reply_status}")
    return res.seconds


def run(ctx: Context) -> dict:
    rounds: dict[str, list[dict]] = {}
    for rnd in range(ctx.args.kernel_rounds):
        with fleet(ctx, order_for_round(kernel_servers(ctx), rnd)) as servers:

            async def go(servers: dict = servers) -> dict[str, list[float]]:
                async with open_targets(servers) as targets:
                    return await _round(targets, ctx.args.exec_warmup, ctx.args.exec_iterations)

            got = run_async(go)
        for label, times in got.items():
            stats = {
                "p50_ms": percentile(times, 50) * 1000,
                "p90_ms": percentile(times, 90) * 1000,
                "p99_ms": percentile(times, 99) * 1000,
                "mean_ms": sum(times) / len(times) * 1000,
                "min_ms": min(times) * 1000,
                "samples_ms": [round(t * 1000, 3) for t in times],
            }
            rounds.setdefault(label, []).append(stats)
            ctx.log(
                f"[exec] round {rnd + 1}/{ctx.args.kernel_rounds} {label}: "
                f"p50 {stats['p50_ms']:.2f} ms, p99 {stats['p99_ms']:.2f} ms"
            )
    results = {
        label: {
            "p50_ms": med([r["p50_ms"] for r in rs]),
            "p90_ms": med([r["p90_ms"] for r in rs]),
            "p99_ms": med([r["p99_ms"] for r in rs]),
            "mean_ms": med([r["mean_ms"] for r in rs]),
            "min_ms": min(r["min_ms"] for r in rs),
            "rounds": rs,
        }
        for label, rs in rounds.items()
    }

    def p50(label: str) -> float | None:
        return results[label]["p50_ms"] if label in results else None

    ratios: dict[str, float | None] = {}
    checks = []
    for framing in FRAMINGS:
        r_direct = ratio(p50(f"{OURS} {framing}"), p50(f"{DIRECT} zmq"))
        r_js = ratio(p50(f"{OURS} {framing}"), p50(f"{JUPYTER_SERVER} {framing}"))
        ratios[f"ours/direct {framing} (p50)"] = r_direct
        ratios[f"ours/direct-raw {framing} (p50)"] = ratio(p50(f"{OURS} {framing}"), p50(f"{DIRECT_RAW} zmq"))
        ratios[f"ours/jupyter_server {framing} (p50)"] = r_js
        checks.append(
            (
                f"ours/direct {framing} (p50)",
                f"<= {TARGET_DIRECT}",
                r_direct,
                r_direct is not None and r_direct <= TARGET_DIRECT,
            )
        )
        if r_js is not None:
            checks.append((f"ours/jupyter_server {framing} (p50)", f"<= {TARGET_JS}", r_js, r_js <= TARGET_JS))
    return {
        "code": CODE,
        "warmup": ctx.args.exec_warmup,
        "iterations": ctx.args.exec_iterations,
        "rounds": ctx.args.kernel_rounds,
        "versions": {n: ctx.specs[n].version for n in kernel_servers(ctx)},
        "results": results,
        "ratios": ratios,
        "checks": [{"name": c[0], "target": c[1], "value": c[2], "met": c[3]} for c in checks],
        "target": {"met": all(c[3] for c in checks)},
    }


def report(result: dict) -> list[str]:
    lines = [
        (
            f"Execute round trip of {result['code']!r}: request -> reply + idle "
            f"({result['warmup']} warm-up + {result['iterations']} timed, median over {result['rounds']} rounds)"
        )
    ]
    rows = [
        (
            label,
            f"{s['p50_ms']:.2f}",
            f"{s['p90_ms']:.2f}",
            f"{s['p99_ms']:.2f}",
            f"{s['mean_ms']:.2f}",
            f"{s['min_ms']:.2f}",
        )
        for label, s in result["results"].items()
    ]
    lines += table(("client", "p50 ms", "p90 ms", "p99 ms", "mean ms", "min ms"), rows)
    for c in result["checks"]:
        lines.append(fmt_ratio(f"ratio {c['name']}", c["value"], c["target"], c["met"]))
    for key, value in result["ratios"].items():
        if "direct-raw" in key:
            lines.append(fmt_ratio(f"ratio {key} (information)", value))
    return lines


def summary(result: dict) -> list[dict]:
    res = result["results"]

    def fig(label: str) -> str:
        if label not in res:
            return "–"
        s = res[label]
        p50 = spread([r["p50_ms"] for r in s["rounds"]], 1, 2)
        return f"p50 {p50} ms; p99 {s['p99_ms']:.2f} ms"

    rows = []
    for framing in FRAMINGS:
        check = next(c for c in result["checks"] if c["name"] == f"ours/direct {framing} (p50)")
        js = result["ratios"].get(f"ours/jupyter_server {framing} (p50)")
        text = "" if check["value"] is None else f"{check['value']:.2f} × direct"
        if js is not None:
            text += f", {js:.2f} × js"
        rows.append(
            summary_row(
                f"execute `pass` round trip, {framing}",
                fig(f"{OURS} {framing}"),
                fig(f"{JUPYTER_SERVER} {framing}"),
                fig(f"{DIRECT} zmq"),
                text,
                f"p50 ≤ {TARGET_DIRECT:g} × direct",
                check["met"],
            )
        )
    return rows
