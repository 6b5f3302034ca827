"""Server CPU time per relayed IOPub message.

Per round (``--kernel-rounds``) both servers are started fresh, each with one kernel per
framing and a websocket to it (legacy JSON, v1); after a warm-up the ``prints`` workload
(``--prints`` flushed prints, as in iopub) runs ``--cpu-runs`` times on each, target after
target in rotating order. For each run the server process's CPU time
(utime + stime of all its threads, from ``/proc/<pid>/stat``) is read before the
execute_request is sent and after the reply and idle status have arrived, and divided by
the number of messages the client received (stream, status, execute_input, reply).
The median over all runs is kept. The same is done for one ``chunks`` run per round
(server CPU ms per MiB relayed). The CPU clock ticks at 10 ms, so a run costs the server many ticks.
Target: ours/jupyter_server (CPU per message, each framing) <= 0.3.
"""

from __future__ import annotations

from common import Context, fmt_ratio, ratio, summary_row, table
from kernel_iopub import Workloads, measure, warm
from kernels_common import (
    FRAMINGS,
    Target,
    fleet,
    kernel_servers,
    med,
    open_targets,
    order_for_round,
    rotated,
    run_async,
)
from servers import JUPYTER_SERVER, OURS

NAME = "cpu"
SERVERS = (OURS, JUPYTER_SERVER)
TARGET = 0.3


async def _round(targets: list[Target], wl: Workloads, runs: int) -> dict[str, dict[str, list[dict]]]:
    for t in targets:
        await warm(t)
    out: dict[str, dict[str, list[dict]]] = {t.label: {"prints": [], "chunks": []} for t in targets}
    for i in range(runs):
        for t in rotated(targets, i):
            out[t.label]["prints"].append(await measure(t, wl, "prints"))
    for t in rotated(targets, runs):
        out[t.label]["chunks"].append(await measure(t, wl, "chunks"))
    return out


def _summary(prints: list[dict], chunks: list[dict]) -> dict:
    per_msg = [r["server_cpu_s"] * 1000 / r["messages"] for r in prints]
    threads: dict[str, float] = {}
    for r in prints:
        for t, v in r["server_thread_cpu_s"].items():
            threads[t] = threads.get(t, 0.0) + v
    total = sum(threads.values()) or 1.0
    per_mib = [r["server_cpu_s"] * 1000 / (r["stdout_bytes"] / 2**20) for r in chunks if r["stdout_bytes"]]
    return {
        "cpu_ms_per_msg": med(per_msg),
        "cpu_ms_per_msg_runs": per_msg,
        "messages": med([r["messages"] for r in prints]),
        "cpu_s": med([r["server_cpu_s"] for r in prints]),
        "seconds": med([r["seconds"] for r in prints]),
        "complete": all(r["complete"] for r in prints + chunks),
        "cpu_ms_per_mib": med(per_mib),
        "thread_share": {t: v / total for t, v in sorted(threads.items(), key=lambda kv: -kv[1]) if v > 0},
    }


def run(ctx: Context) -> dict:
    wl = Workloads(ctx.args)
    samples: dict[str, dict[str, list[dict]]] = {}
    for rnd in range(ctx.args.kernel_rounds):
        with fleet(ctx, order_for_round(kernel_servers(ctx), rnd)) as servers:

            async def go(servers: dict = servers) -> dict[str, dict[str, list[dict]]]:
                async with open_targets(servers, direct=False) as targets:
                    return await _round(targets, wl, ctx.args.cpu_runs)

            got = run_async(go)
        for label, per in got.items():
            for w, runs in per.items():
                samples.setdefault(label, {}).setdefault(w, []).extend(runs)
            ms = [r["server_cpu_s"] * 1000 / r["messages"] for r in per["prints"]]
            ctx.log(
                f"[cpu] round {rnd + 1}/{ctx.args.kernel_rounds} {label}: "
                + ", ".join(f"{m:.3f}" for m in ms)
                + " ms/msg"
            )
    results: dict[str, dict[str, dict]] = {}
    for label, per in samples.items():
        name, framing = label.rsplit(" ", 1)
        results.setdefault(name, {})[framing] = _summary(per["prints"], per["chunks"])
    ratios: dict[str, float | None] = {}
    checks = []
    for framing in FRAMINGS:
        ours = results[OURS][framing]["cpu_ms_per_msg"]
        js = results[JUPYTER_SERVER][framing]["cpu_ms_per_msg"] if JUPYTER_SERVER in results else None
        r = ratio(ours, js)
        ratios[f"ours/jupyter_server {framing} (ms/msg)"] = r
        js_mib = results[JUPYTER_SERVER][framing]["cpu_ms_per_mib"] if JUPYTER_SERVER in results else None
        ratios[f"ours/jupyter_server {framing} (ms/MiB)"] = ratio(results[OURS][framing]["cpu_ms_per_mib"], js_mib)
        if r is not None:
            checks.append(
                {
                    "name": f"ours/jupyter_server {framing} (ms/msg)",
                    "target": f"<= {TARGET}",
                    "value": r,
                    "met": r <= TARGET,
                }
            )
    return {
        "workloads": wl.describe(),
        "runs": ctx.args.cpu_runs,
        "rounds": ctx.args.kernel_rounds,
        "versions": {n: ctx.specs[n].version for n in kernel_servers(ctx)},
        "results": results,
        "ratios": ratios,
        "checks": checks,
        "target": {"met": all(c["met"] for c in checks) if checks else None},
    }


def _thread_label(name: str) -> str:
    return name if name.startswith("ZMQ") else "python"


def report(result: dict) -> list[str]:
    w = result["workloads"]
    lines = [
        (
            f"Server CPU per relayed message: {w['prints']} flushed prints, median of {result['rounds']} rounds "
            f"x {result['runs']} runs; per MiB: {w['chunks']} x {w['chunk_bytes'] / 2**20:g} MiB, one run per round"
        )
    ]
    rows = []
    for name, per in result["results"].items():
        for framing, s in per.items():
            rows.append(
                (
                    f"{name} {framing}",
                    f"{s['cpu_ms_per_msg']:.4f}",
                    f"{s['messages']:.0f}",
                    f"{s['cpu_s']:.2f}",
                    f"{s['seconds']:.2f}",
                    f"{s['cpu_ms_per_mib']:.2f}",
                    "yes" if s["complete"] else "NO",
                    ", ".join(f"{_thread_label(t)} {v:.0%}" for t, v in s["thread_share"].items() if v >= 0.01),
                )
            )
    lines += table(("server", "CPU ms/msg", "msgs", "CPU s", "wall s", "CPU ms/MiB", "complete", "CPU by thread"), rows)
    for c in result["checks"]:
        lines.append(fmt_ratio(f"ratio {c['name']}", c["value"], c["target"], c["met"]))
    for framing in ("legacy", "v1"):
        key = f"ours/jupyter_server {framing} (ms/MiB)"
        lines.append(fmt_ratio(f"ratio {key}", result["ratios"].get(key)))
    return lines


def summary(result: dict) -> list[dict]:
    res = result["results"]
    rows = []
    for framing in FRAMINGS:

        def fig(name: str, framing: str = framing) -> str:
            if name not in res:
                return "–"
            s = res[name][framing]
            return f"{s['cpu_ms_per_msg']:.3f} ms/msg; {s['cpu_ms_per_mib']:.2f} ms/MiB"

        r = result["ratios"].get(f"ours/jupyter_server {framing} (ms/msg)")
        rows.append(
            summary_row(
                f"server CPU per relayed IOPub message / per MiB, {framing}",
                fig(OURS),
                fig(JUPYTER_SERVER),
                "–",
                "" if r is None else f"{r:.2f} × js (per msg)",
            )
        )
    return rows
