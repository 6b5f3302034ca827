"""IOPub streaming: many small flushed prints, and a few large stdout writes.

Workloads (one execute_request each, timed from send to execute_reply + ``status: idle``):

- ``prints``: ``--prints`` (5,000) ``print(i, flush=True)``: one small stream message each;
- ``lines``: ``--lines`` (100,000) ``print(i)`` without flushing: the kernel batches them;
- ``chunks``: ``--chunks`` (50) ``sys.stdout.write('x' * 1 MiB); sys.stdout.flush()``.

Every stdout byte is collected and checked: the prints must arrive complete and in
order, the chunks must add up to exactly ``chunks x size`` bytes of ``x``. Per round
(``--kernel-rounds``) both servers are started fresh, each with one kernel per framing
and a websocket to it (legacy JSON, v1); the direct-ZMQ limit is a kernel started by
jupyter_client (``direct``: its own message reading, which checks HMACs and parses dates;
``direct-raw``: its sockets read with only the decoding the websocket client does, for
information). After a small warm-up, each target runs both workloads, target after target
in rotating order, ``--iopub-runs`` times (so drift hits all alike). Reports the median over all runs of stdout MB/s
(MB = 10^6 bytes), IOPub messages/s, websocket bytes and the server's CPU time.

Targets (both framings, both workloads, nothing dropped): ours/direct >= 0.9 and
ours/jupyter_server >= 1.5 in throughput, jupyter_server running with its rate limit off
(``--ZMQChannelsWebsocketConnection.limit_rate=False``). A last step starts
jupyter_server once more *without* that flag and runs ``chunks``: it must lose output,
which shows the flag is what kept it complete.
"""

from __future__ import annotations

import time
from typing import Any

from common import Context, fmt_ratio, ratio, spread, summary_row, table
from kernels_common import (
    DIRECT,
    DIRECT_RAW,
    FRAMINGS,
    V1,
    ExecResult,
    Target,
    WSKernel,
    chunks_code,
    delete_kernel,
    fleet,
    http_session,
    kernel_server,
    kernel_servers,
    lines_code,
    med,
    open_targets,
    order_for_round,
    prints_code,
    prints_expected,
    rotated,
    run_async,
    start_kernel,
)
from servers import JUPYTER_SERVER, OURS, BenchError, proc_cpu_seconds, proc_thread_cpu

NAME = "iopub"
SERVERS = (OURS, JUPYTER_SERVER)
TARGET_DIRECT = 0.9
TARGET_JS = 1.5
TIMEOUT = 300.0
WORKLOADS = ("prints", "lines", "chunks")


class Workloads:
    def __init__(self, args: Any) -> None:  # argparse.Namespace with prints, chunks, chunk_mib
        self.prints = args.prints
        self.lines = getattr(args, "lines", 100_000)
        self.chunks = args.chunks
        self.chunk_size = int(args.chunk_mib * 2**20)
        self._expected = {"prints": prints_expected(self.prints), "lines": prints_expected(self.lines)}

    def code(self, workload: str) -> str:
        if workload == "prints":
            return prints_code(self.prints)
        if workload == "lines":
            return lines_code(self.lines)
        return chunks_code(self.chunks, self.chunk_size)

    def expected_bytes(self, workload: str) -> int:
        return len(self._expected[workload]) if workload in self._expected else self.chunks * self.chunk_size

    def check(self, workload: str, res: ExecResult) -> tuple[bool, str]:
        """(complete, note): every byte there, in order, nothing else."""
        text = res.stdout_text()
        if workload in self._expected:
            if text == self._expected[workload]:
                return True, ""
            got = text.splitlines()
            return False, f"{len(got)}/{len(self._expected[workload].splitlines())} lines"
        want = self.chunks * self.chunk_size
        if len(text) == want and text.count("x") == want:
            return True, ""
        return False, f"{len(text)}/{want} bytes"

    def describe(self) -> dict:
        return {"prints": self.prints, "lines": self.lines, "chunks": self.chunks, "chunk_bytes": self.chunk_size}


async def warm(client: Any) -> None:  # a Target, WSKernel or DirectKernel
    for code in (prints_code(200), chunks_code(2, 2**20)):
        res = await client.execute(code, TIMEOUT, collect=True)
        if res.reply_status != "ok":
            raise BenchError(f"warm-up execute answered {res.reply_status}")


async def measure(target: Target, wl: Workloads, workload: str) -> dict:
    """Run one workload; return its figures (stdout checked, then dropped)."""
    server_pid, kernel_pid = target.server_pid, target.kernel_pid
    threads0 = proc_thread_cpu(server_pid) if server_pid else {}
    cpu0 = proc_cpu_seconds(server_pid) if server_pid else 0.0
    kernel0 = proc_cpu_seconds(kernel_pid) if kernel_pid else 0.0
    client0 = time.process_time()
    res = await target.execute(wl.code(workload), TIMEOUT, collect=True)
    client_cpu = time.process_time() - client0
    kernel_cpu = proc_cpu_seconds(kernel_pid) - kernel0 if kernel_pid else None
    cpu_s = proc_cpu_seconds(server_pid) - cpu0 if server_pid else None
    threads = {k: v - threads0.get(k, 0.0) for k, v in proc_thread_cpu(server_pid).items()} if server_pid else {}
    if res.reply_status != "ok":
        raise BenchError(f"{workload}: execute answered {res.reply_status}")
    complete, note = wl.check(workload, res)
    delivered = res.stdout_chars
    return {
        "seconds": res.seconds,
        "stdout_bytes": delivered,
        "expected_bytes": wl.expected_bytes(workload),
        "complete": complete,
        "note": note,
        "rate_limit_notice": "rate exceeded" in res.stderr,
        "stream_msgs": res.stream_msgs,
        "iopub_msgs": res.iopub_msgs,
        "messages": res.messages,
        "frame_bytes": res.frame_bytes,
        "mb_s": delivered / res.seconds / 1e6,
        "msgs_s": res.iopub_msgs / res.seconds,
        "server_cpu_s": cpu_s,
        "server_thread_cpu_s": threads,
        "kernel_cpu_s": kernel_cpu,
        "client_cpu_s": client_cpu,
    }


async def _round(targets: list[Target], wl: Workloads, runs: int) -> dict[str, dict[str, list[dict]]]:
    """Warm every target up, then run the workloads target after target, ``runs`` times, rotating."""
    for t in targets:
        await warm(t)
    out: dict[str, dict[str, list[dict]]] = {t.label: {w: [] for w in WORKLOADS} for t in targets}
    for i in range(runs):
        for t in rotated(targets, i):
            for w in WORKLOADS:
                out[t.label][w].append(await measure(t, wl, w))
    return out


def _ratelimit_check(ctx: Context, wl: Workloads) -> dict:
    """jupyter_server without our flag: the default rate limiter must drop output."""
    with kernel_server(ctx, JUPYTER_SERVER, rate_limit=True) as server:

        async def go() -> dict:
            async with http_session(server) as http:
                kernel_id = await start_kernel(http, server)
                try:
                    client = await WSKernel.connect(http, server, kernel_id, V1)
                    try:
                        target = Target("jupyter_server v1 (rate limited)", JUPYTER_SERVER, V1, client, server.pid)
                        return await measure(target, wl, "chunks")
                    finally:
                        await client.close()
                finally:
                    await delete_kernel(http, server, kernel_id)

        return run_async(go)


def _summary(samples: list[dict]) -> dict:
    return {
        "seconds": med([s["seconds"] for s in samples]),
        "mb_s": med([s["mb_s"] for s in samples]),
        "msgs_s": med([s["msgs_s"] for s in samples]),
        "iopub_msgs": med([s["iopub_msgs"] for s in samples]),
        "frame_bytes": med([s["frame_bytes"] for s in samples]),
        "stdout_bytes": med([s["stdout_bytes"] for s in samples]),
        "expected_bytes": samples[0]["expected_bytes"],
        "complete": all(s["complete"] for s in samples),
        "notes": sorted({s["note"] for s in samples if s["note"]}),
        "server_cpu_s": med([s["server_cpu_s"] for s in samples]) if samples[0]["server_cpu_s"] is not None else None,
        "kernel_cpu_s": med([s["kernel_cpu_s"] for s in samples]) if samples[0]["kernel_cpu_s"] is not None else None,
        "client_cpu_s": med([s["client_cpu_s"] for s in samples]),
        "rounds": samples,
    }


def run(ctx: Context) -> dict:
    wl = Workloads(ctx.args)
    samples: dict[str, dict[str, list[dict]]] = {}  # label -> workload -> samples
    for rnd in range(ctx.args.kernel_rounds):
        with fleet(ctx, order_for_round(kernel_servers(ctx), rnd)) as servers:

            async def go(servers: dict = servers) -> dict[str, dict[str, list[dict]]]:
                async with open_targets(servers) as targets:
                    return await _round(targets, wl, ctx.args.iopub_runs)

            got = run_async(go)
        for label, per_workload in got.items():
            for workload, runs in per_workload.items():
                samples.setdefault(label, {}).setdefault(workload, []).extend(runs)
                bad = [s["note"] for s in runs if not s["complete"]]
                ctx.log(
                    f"[iopub] round {rnd + 1}/{ctx.args.kernel_rounds} {label} {workload}: "
                    + ", ".join(f"{s['seconds']:.3f}" for s in runs)
                    + " s"
                    + (f"  INCOMPLETE ({'; '.join(bad)})" if bad else "")
                )
    results = {label: {w: _summary(ss) for w, ss in per.items()} for label, per in samples.items()}

    check = None
    if JUPYTER_SERVER in ctx.specs and not ctx.args.no_ratelimit_check:
        ctx.log("[iopub] jupyter_server without --ZMQChannelsWebsocketConnection.limit_rate=False (chunks, v1)")
        check = _ratelimit_check(ctx, wl)
        flagged = [s for fr in FRAMINGS for s in samples.get(f"{JUPYTER_SERVER} {fr}", {}).get("chunks", [])]
        check["flagged_complete"] = bool(flagged) and all(s["complete"] for s in flagged)
        check["flag_effective"] = check["flagged_complete"] and not check["complete"]

    def tput(label: str, workload: str) -> float | None:
        return results[label][workload]["mb_s"] if label in results else None

    ratios: dict[str, float | None] = {}
    checks = []
    for workload in WORKLOADS:
        for framing in FRAMINGS:
            ours = f"{OURS} {framing}"
            r_d = ratio(tput(ours, workload), tput(f"{DIRECT} zmq", workload))
            r_js = ratio(tput(ours, workload), tput(f"{JUPYTER_SERVER} {framing}", workload))
            ratios[f"ours/direct {workload} {framing}"] = r_d
            # What a relay costing nothing would score against jupyter_server: the target's ceiling.
            ratios[f"ceiling direct-raw/jupyter_server {workload} {framing}"] = ratio(
                tput(f"{DIRECT_RAW} zmq", workload), tput(f"{JUPYTER_SERVER} {framing}", workload)
            )
            ratios[f"ours/direct-raw {workload} {framing}"] = ratio(
                tput(ours, workload), tput(f"{DIRECT_RAW} zmq", workload)
            )
            ratios[f"ours/jupyter_server {workload} {framing}"] = r_js
            complete = results[ours][workload]["complete"]
            checks.append(
                {
                    "name": f"ours/direct {workload} {framing}",
                    "target": f">= {TARGET_DIRECT}, complete",
                    "value": r_d,
                    "met": r_d is not None and r_d >= TARGET_DIRECT and complete,
                }
            )
            if r_js is not None:
                checks.append(
                    {
                        "name": f"ours/jupyter_server {workload} {framing}",
                        "target": f">= {TARGET_JS}, complete",
                        "value": r_js,
                        "met": r_js >= TARGET_JS and complete,
                    }
                )
    return {
        "workloads": wl.describe(),
        "rounds": ctx.args.kernel_rounds,
        "runs": ctx.args.iopub_runs,
        "versions": {n: ctx.specs[n].version for n in kernel_servers(ctx)},
        "results": results,
        "ratelimit_check": check,
        "ratios": ratios,
        "checks": checks,
        "target": {"met": all(c["met"] for c in checks)},
    }


def report(result: dict) -> list[str]:
    w = result["workloads"]
    lines = [
        (
            f"IOPub streaming: prints = {w['prints']} flushed prints; lines = {w.get('lines', 0)} unflushed lines; "
            f"chunks = {w['chunks']} x {w['chunk_bytes'] / 2**20:g} MiB stdout writes "
            f"(median of {result['rounds']} rounds x {result['runs']} runs)"
        )
    ]
    rows = []
    for label, per in result["results"].items():
        for workload, s in per.items():
            cpu = s["server_cpu_s"]
            kcpu = s["kernel_cpu_s"]
            rows.append(
                (
                    label,
                    workload,
                    f"{s['seconds']:.3f}",
                    f"{s['mb_s']:.2f}",
                    f"{s['msgs_s']:.0f}",
                    f"{s['iopub_msgs']:.0f}",
                    f"{s['frame_bytes'] / 1e6:.2f}" if s["frame_bytes"] else "-",
                    "yes" if s["complete"] else "NO " + ",".join(s["notes"]),
                    "-" if cpu is None else f"{cpu:.2f}",
                    "-" if kcpu is None else f"{kcpu:.2f}",
                    f"{s['client_cpu_s']:.2f}",
                )
            )
    lines += table(
        (
            "client",
            "workload",
            "seconds",
            "stdout MB/s",
            "msg/s",
            "iopub msgs",
            "ws MB",
            "complete",
            "srv CPU s",
            "kernel CPU s",
            "client CPU s",
        ),
        rows,
    )
    for c in result["checks"]:
        lines.append(fmt_ratio(f"ratio {c['name']}", c["value"], c["target"], c["met"]))
    for key, value in result["ratios"].items():
        if key.startswith("ours/direct-raw"):
            lines.append(fmt_ratio(f"ratio {key} (information)", value))
    for key, value in result["ratios"].items():
        if key.startswith("ceiling"):
            lines.append(fmt_ratio(f"{key} (a zero-cost relay's ours/jupyter_server)", value))
    chk = result.get("ratelimit_check")
    if chk:
        frac = chk["stdout_bytes"] / chk["expected_bytes"] if chk["expected_bytes"] else 0
        lines.append(
            f"jupyter_server rate limit: default config delivered {frac:.1%} of chunks "
            f"(notice {'sent' if chk['rate_limit_notice'] else 'not sent'}); with the flag every run was "
            f"{'complete' if chk['flagged_complete'] else 'NOT complete'} -> flag takes effect: "
            f"{'yes' if chk['flag_effective'] else 'NO'}"
        )
    return lines


def summary(result: dict) -> list[dict]:
    res = result["results"]
    w = result["workloads"]
    what = {
        "prints": (f"{w['prints']:,} flushed prints", "msgs_s", "msg/s", 0),
        "lines": (f"{w['lines']:,} unflushed lines", "lines_s", "lines/s", 0),
        "chunks": (f"{w['chunks']} × {w['chunk_bytes'] / 2**20:g} MiB writes", "mb_s", "MB/s", 0),
    }
    rows = []
    for workload in WORKLOADS:
        label, field, unit, digits = what[workload]
        for framing in FRAMINGS:

            def fig(
                name: str, workload: str = workload, field: str = field, unit: str = unit, digits: int = digits
            ) -> str:
                if name not in res:
                    return "–"
                s = res[name][workload]
                values = [w["lines"] / r["seconds"] if field == "lines_s" else r[field] for r in s["rounds"]]
                text = f"{spread(values, 1, digits)} {unit}"
                return text if s["complete"] else text + " (INCOMPLETE)"

            check = next(c for c in result["checks"] if c["name"] == f"ours/direct {workload} {framing}")
            js = result["ratios"].get(f"ours/jupyter_server {workload} {framing}")
            text = "" if check["value"] is None else f"{check['value']:.2f} × direct"
            if js is not None:
                text += f", {js:.2f} × js"
            rows.append(
                summary_row(
                    f"IOPub {label}, {framing}",
                    fig(f"{OURS} {framing}"),
                    fig(f"{JUPYTER_SERVER} {framing}"),
                    fig(f"{DIRECT} zmq"),
                    text,
                    f"≥ {TARGET_DIRECT:g} × direct, every byte",
                    check["met"],
                )
            )
    return rows
