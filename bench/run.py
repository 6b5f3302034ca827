"""Run the benchmarks: this server vs jupyter_server vs a bare aiohttp app vs direct ZMQ, in one run.

    python bench/run.py                        # every benchmark (what `nox -s bench` runs)
    python bench/run.py --quick                # every scenario of the issue, small sizes (< 3 minutes)
    python bench/run.py --only startup,rest    # a selection
    python bench/run.py --only kernels         # start,exec,iopub,concurrency,rss,cpu

Tables go to stdout, then a Markdown summary (machine, versions, date, one row per figure
with the ratios and the targets met or missed); progress goes to stderr. The full results
(every sample) go to ``bench/results/<timestamp>.json`` and the summary to
``bench/results/<timestamp>.md`` unless ``--json-out`` / ``--markdown-out`` / ``--no-json``
say otherwise. See bench/README.md.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

# ``python bench/run.py`` puts this folder first on sys.path, so the sibling modules import by name.
import aiohttp

import contents
import kernel_concurrency
import kernel_cpu
import kernel_exec
import kernel_iopub
import kernel_rss
import kernel_start
import loadgen
import rest
import servers
import startup
import summary
from common import Context

BENCH_DIR = Path(__file__).resolve().parent

# name -> module with NAME, SERVERS, run(ctx), report(result) and, for the summary, summary(result).
BENCHMARKS = {
    m.NAME: m
    for m in (
        startup,
        rest,
        kernel_start,
        kernel_exec,
        kernel_iopub,
        kernel_concurrency,
        kernel_rss,
        kernel_cpu,
        contents,
    )
}
# --only accepts these group names too.
GROUPS = {
    "kernels": (
        kernel_start.NAME,
        kernel_exec.NAME,
        kernel_iopub.NAME,
        kernel_concurrency.NAME,
        kernel_rss.NAME,
        kernel_cpu.NAME,
    )
}
# What the issue asks for (``--quick`` runs these; the full run adds the terminal floods).
ISSUE_BENCHMARKS = tuple(BENCHMARKS)

# --quick: these defaults shrink (an option given on the command line keeps its value).
QUICK = {
    "repeat": 2,
    "duration": 1.0,
    "rest_rounds": 1,
    "rest_warmup": 0.0,
    "start_rounds": 2,
    "pool_pause": 2.0,
    "kernel_rounds": 1,
    "exec_iterations": 40,
    "exec_warmup": 5,
    "iopub_runs": 1,
    "prints": 1000,
    "lines": 20_000,
    "chunks": 10,
    "conc_kernels": 4,
    "conc_executes": 10,
    "conc_rounds": 1,
    "rss_kernels": 4,
    "cpu_runs": 1,
    "contents_rounds": 1,
    "contents_files": 1000,
    "notebook_mb": 2.0,
    "text_mb": 1.0,
    "no_ratelimit_check": True,
}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument(
        "--only",
        default=None,
        help=f"comma-separated benchmarks or groups (default: all: {','.join(BENCHMARKS)}; with --quick: "
        f"{','.join(ISSUE_BENCHMARKS)}; groups: {'; '.join(g + '=' + ','.join(m) for g, m in GROUPS.items())})",
    )
    p.add_argument(
        "--quick",
        action="store_true",
        help="every scenario of the issue with small sizes and one round (under 3 minutes); options given "
        "explicitly keep their value",
    )
    p.add_argument(
        "--servers",
        default=",".join(servers.ALL_SERVERS),
        help="comma-separated servers to compare (default: %(default)s)",
    )
    p.add_argument("--repeat", type=int, default=5, help="cold-start launches per server (default: %(default)s)")
    p.add_argument(
        "--duration", type=float, default=5.0, help="seconds of load per REST measurement (default: %(default)s)"
    )
    p.add_argument(
        "--rest-rounds",
        type=int,
        default=3,
        help="REST measurements per server, alternating order (default: %(default)s)",
    )
    p.add_argument(
        "--rest-paths",
        default="/api/kernelspecs,/api/kernels,/api/sessions",
        help="comma-separated GET paths for the REST benchmark (default: %(default)s)",
    )
    p.add_argument(
        "--rest-clients", default="1,32", help="comma-separated concurrent REST clients (default: %(default)s)"
    )
    p.add_argument(
        "--rest-warmup",
        type=float,
        default=1.0,
        help="seconds of discarded load before a server's first measurement of a path (default: %(default)s; 0: none)",
    )
    p.add_argument(
        "--loadgen",
        choices=("auto", "wrk", "aiohttp"),
        default="auto",
        help="REST load generator (default: wrk if available)",
    )
    p.add_argument("--no-install-wrk", action="store_true", help="do not try 'apt-get install wrk' when wrk is missing")
    p.add_argument(
        "--startup-timeout",
        type=float,
        default=120.0,
        help="seconds a server may take to answer (default: %(default)s)",
    )
    p.add_argument(
        "--jupyter-server-python",
        default=None,
        help="run jupyter_server as '<PYTHON> -m jupyter_server' from that interpreter's environment instead of "
        "building the separate venv",
    )
    p.add_argument(
        "--ours-all-plugins",
        action="store_true",
        help=f"run ours with every installed plugin (default: without {', '.join(servers.OURS_LEFT_OUT_PLUGINS)}, "
        "which jupyter_server has no counterpart of)",
    )
    p.add_argument(
        "--jupyter-server-venv",
        type=Path,
        default=servers.DEFAULT_JS_VENV,
        help="venv for jupyter_server (created on demand)",
    )
    k = p.add_argument_group("kernel benchmarks (exec, iopub, rss, cpu)")
    k.add_argument("--start-rounds", type=int, default=5, help="kernel starts per way (default: %(default)s)")
    k.add_argument(
        "--pool-pause",
        type=float,
        default=3.0,
        help="seconds to let the warm pool's new kernel get ready between starts (default: %(default)s)",
    )
    k.add_argument(
        "--kernel-rounds",
        type=int,
        default=3,
        help="rounds of exec, iopub and cpu, each with fresh servers and kernels (default: %(default)s)",
    )
    k.add_argument(
        "--exec-iterations", type=int, default=200, help="timed executes per measurement (default: %(default)s)"
    )
    k.add_argument("--exec-warmup", type=int, default=20, help="discarded executes first (default: %(default)s)")
    k.add_argument(
        "--iopub-runs", type=int, default=5, help="runs of each iopub workload per round (default: %(default)s)"
    )
    k.add_argument(
        "--prints", type=int, default=5000, help="flushed prints in the iopub/cpu workload (default: %(default)s)"
    )
    k.add_argument(
        "--lines", type=int, default=100_000, help="unflushed lines in the iopub workload (default: %(default)s)"
    )
    k.add_argument("--chunks", type=int, default=50, help="stdout writes in the bulk workload (default: %(default)s)")
    k.add_argument("--chunk-mib", type=float, default=1.0, help="MiB per bulk write (default: %(default)s)")
    k.add_argument(
        "--rss-kernels", type=int, default=20, help="idle kernels for the rss benchmark (default: %(default)s)"
    )
    k.add_argument(
        "--conc-kernels", type=int, default=20, help="kernels in the concurrency benchmark (default: %(default)s)"
    )
    k.add_argument(
        "--conc-executes",
        type=int,
        default=50,
        help="executes per kernel in the concurrency benchmark (default: %(default)s)",
    )
    k.add_argument(
        "--conc-rounds", type=int, default=3, help="rounds of the concurrency benchmark (default: %(default)s)"
    )
    k.add_argument(
        "--cpu-runs", type=int, default=5, help="measured workloads per framing for cpu (default: %(default)s)"
    )
    k.add_argument(
        "--no-ratelimit-check",
        action="store_true",
        help="skip the iopub check that jupyter_server's rate limiter is off only because of our flag",
    )
    p.add_argument(
        "--contents-rounds",
        type=int,
        default=3,
        help="rounds of the contents benchmark, alternating order (default: %(default)s)",
    )
    p.add_argument(
        "--contents-files", type=int, default=10_000, help="files in the listed folder (default: %(default)s)"
    )
    p.add_argument("--notebook-mb", type=float, default=20.0, help="size of each test notebook (default: %(default)s)")
    p.add_argument("--text-mb", type=float, default=5.0, help="size of the test text file (default: %(default)s)")
    p.add_argument("--json-out", type=Path, default=None, help="results file (default: bench/results/<timestamp>.json)")
    p.add_argument(
        "--markdown-out", type=Path, default=None, help="Markdown summary (default: bench/results/<timestamp>.md)"
    )
    p.add_argument("--no-json", action="store_true", help="write no results or summary file")
    p.add_argument("--check", action="store_true", help="exit 1 if a target is missed")
    args = p.parse_args(argv)
    if args.quick:
        for dest, value in QUICK.items():
            if getattr(args, dest) == p.get_default(dest):
                setattr(args, dest, value)
    if args.only is None:
        args.only = ",".join(ISSUE_BENCHMARKS if args.quick else BENCHMARKS)
    try:
        args.rest_clients = [int(c) for c in args.rest_clients.split(",") if c.strip()]
    except ValueError:
        p.error("--rest-clients takes comma-separated integers")
    args.rest_paths = [x.strip() for x in args.rest_paths.split(",") if x.strip()]
    if not args.rest_paths or any(not x.startswith("/") for x in args.rest_paths):
        p.error("--rest-paths takes comma-separated absolute paths")
    only: list[str] = []
    for n in (n.strip() for n in args.only.split(",")):
        for m in GROUPS.get(n, (n,) if n else ()):
            if m not in only:
                only.append(m)
    args.only = only
    unknown = [n for n in args.only if n not in BENCHMARKS]
    if unknown:
        p.error(f"unknown benchmark(s) {', '.join(unknown)}; known: {', '.join(BENCHMARKS)}")
    args.servers = [n.strip() for n in args.servers.split(",") if n.strip()]
    if servers.OURS not in args.servers:
        p.error("--servers must include 'ours'")
    if args.repeat < 1 or args.rest_rounds < 1 or args.duration <= 0 or min(args.rest_clients or [0]) < 1:
        p.error("--repeat, --rest-rounds, --rest-clients must be >= 1 and --duration > 0")
    counts = (
        args.kernel_rounds,
        args.iopub_runs,
        args.exec_iterations,
        args.prints,
        args.chunks,
        args.rss_kernels,
        args.cpu_runs,
        args.lines,
        args.start_rounds,
        args.conc_kernels,
        args.conc_executes,
        args.conc_rounds,
        args.contents_files,
    )
    if min(counts) < 1 or args.exec_warmup < 0 or args.chunk_mib <= 0:
        p.error("kernel benchmark counts must be >= 1 (--exec-warmup >= 0, --chunk-mib > 0)")
    return args


def _portable(path: Path) -> str:
    """A path relative to the repository when it lies inside it (no machine paths in results)."""
    try:
        return str(path.resolve().relative_to(servers.REPO_ROOT))
    except ValueError:
        return path.name


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def git_commit() -> str:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=servers.REPO_ROOT,
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
        return out.stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        return ""


def resolve_wrk(args: argparse.Namespace) -> str | None:
    if args.loadgen == "aiohttp":
        return None
    wrk = loadgen.find_wrk() or (None if args.no_install_wrk else loadgen.install_wrk(log=log))
    if wrk is None:
        if args.loadgen == "wrk":
            raise SystemExit("wrk requested but not available")
        log("wrk not available: using the aiohttp client load generator (it saturates earlier; see README).")
    return wrk


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = _dt.datetime.now()
    args.wrk = resolve_wrk(args) if "rest" in args.only else None

    wanted = [
        s for s in servers.ALL_SERVERS if s in args.servers and any(s in BENCHMARKS[b].SERVERS for b in args.only)
    ]
    notes: list[str] = []
    if not args.ours_all_plugins:
        notes.append(
            f"this server ran with its plugins except {', '.join(servers.OURS_LEFT_OUT_PLUGINS)} "
            "(jupyter_server has no counterpart of them; --ours-all-plugins keeps them)."
        )
    if servers.JUPYTER_SERVER not in args.servers:
        notes.append("jupyter_server was NOT measured (--servers leaves it out): its columns are empty.")
    try:
        specs = servers.make_specs(
            wanted,
            js_venv=args.jupyter_server_venv,
            log=log,
            js_python=args.jupyter_server_python,
            ours_left_out=() if args.ours_all_plugins else servers.OURS_LEFT_OUT_PLUGINS,
        )
    except (servers.BenchError, subprocess.SubprocessError, OSError) as exc:
        if servers.JUPYTER_SERVER not in wanted:
            raise
        log(f"WARNING: cannot set up jupyter_server ({exc}); comparing without it.")
        notes.append(f"jupyter_server was NOT measured (it could not be set up: {str(exc).splitlines()[0]}).")
        specs = servers.make_specs(
            [s for s in wanted if s != servers.JUPYTER_SERVER],
            log=log,
            ours_left_out=() if args.ours_all_plugins else servers.OURS_LEFT_OUT_PLUGINS,
        )
    for note in notes:
        print(f"NOTE: {note}", flush=True)

    ctx = Context(args=args, specs=specs, log=log)
    load_before = summary.load_average()
    results: dict = {
        "meta": {
            "timestamp": started.isoformat(timespec="seconds"),
            "git_commit": git_commit(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "servers": {name: {"version": spec.version} for name, spec in specs.items()},
            "args": {
                k: (_portable(v) if isinstance(v, Path) else ("python" if k == "jupyter_server_python" and v else v))
                for k, v in vars(args).items()
            },
            "machine": summary.machine(),
            "packages": summary.package_versions(specs),
            "notes": notes,
        },
        "benchmarks": {},
    }
    missed = []
    failed = []
    for name in args.only:
        module = BENCHMARKS[name]
        t0 = time.monotonic()
        try:
            result = module.run(ctx)
            result["elapsed_s"] = round(time.monotonic() - t0, 1)
            log(f"[{name}] done in {result['elapsed_s']:.0f} s")
        except (servers.BenchError, RuntimeError, OSError, subprocess.SubprocessError, aiohttp.ClientError) as exc:
            log(f"ERROR in benchmark {name}: {exc}")
            results["benchmarks"][name] = {"error": str(exc)}
            failed.append(name)
            continue
        results["benchmarks"][name] = result
        print()
        print("\n".join(module.report(result)), flush=True)
        if result.get("target", {}).get("met") is False:
            missed.append(name)

    results["meta"]["load_average"] = {"before": load_before, "after": summary.load_average()}
    results["meta"]["minutes"] = round((_dt.datetime.now() - started).total_seconds() / 60, 2)
    markdown = summary.markdown(results, BENCHMARKS)
    print()
    print(markdown, flush=True)
    if not args.no_json:
        out = args.json_out or BENCH_DIR / "results" / f"{started:%Y%m%d-%H%M%S}.json"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(results, indent=2) + "\n")
        md = args.markdown_out or out.with_suffix(".md")
        md.parent.mkdir(parents=True, exist_ok=True)
        md.write_text(markdown + "\n")
        log(f"\nResults written to {out}, summary to {md}")
    if failed:
        return 2
    if args.check and missed:
        log(f"Targets missed: {', '.join(missed)}")
        return 1
    return 0


# Terminal floods (``--only terminals``): registered down here, apart from the list above.
import terminals

BENCHMARKS[terminals.NAME] = terminals

if __name__ == "__main__":
    sys.exit(main())
