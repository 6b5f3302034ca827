"""Run the benchmarks: this server vs jupyter_server vs a bare aiohttp app, in one run.

    python bench/run.py                        # every benchmark
    python bench/run.py --only startup,rest    # a selection
    python bench/run.py --repeat 3 --duration 3 --json-out /tmp/r.json
    python bench/run.py --only kernels         # exec,iopub,rss,cpu
    python bench/run.py --only exec,cpu --kernel-rounds 1

Tables go to stdout, progress to stderr, and the full results (every sample) to
``bench/results/<timestamp>.json`` unless ``--json-out`` / ``--no-json`` says otherwise.
See bench/README.md.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import platform
import subprocess
import sys
from pathlib import Path

# ``python bench/run.py`` puts this folder first on sys.path, so the sibling modules import by name.
import aiohttp

import contents
import kernel_cpu
import kernel_exec
import kernel_iopub
import kernel_rss
import loadgen
import rest
import servers
import startup
from common import Context

BENCH_DIR = Path(__file__).resolve().parent

# name -> module with NAME, SERVERS, run(ctx), report(result).
BENCHMARKS = {m.NAME: m for m in (startup, rest, kernel_exec, kernel_iopub, kernel_rss, kernel_cpu, contents)}
# --only accepts these group names too.
GROUPS = {"kernels": (kernel_exec.NAME, kernel_iopub.NAME, kernel_rss.NAME, kernel_cpu.NAME)}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument(
        "--only",
        default=",".join(BENCHMARKS),
        help=f"comma-separated benchmarks or groups (default: all: {','.join(BENCHMARKS)}; "
        f"groups: {'; '.join(g + '=' + ','.join(m) for g, m in GROUPS.items())})",
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
    p.add_argument("--concurrency", type=int, default=32, help="concurrent REST clients (default: %(default)s)")
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
        "--jupyter-server-venv",
        type=Path,
        default=servers.DEFAULT_JS_VENV,
        help="venv for jupyter_server (created on demand)",
    )
    k = p.add_argument_group("kernel benchmarks (exec, iopub, rss, cpu)")
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
    k.add_argument("--chunks", type=int, default=50, help="stdout writes in the bulk workload (default: %(default)s)")
    k.add_argument("--chunk-mib", type=float, default=1.0, help="MiB per bulk write (default: %(default)s)")
    k.add_argument(
        "--rss-kernels", type=int, default=20, help="idle kernels for the rss benchmark (default: %(default)s)"
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
        "--contents-rounds", type=int, default=3, help="rounds of the contents benchmark, alternating order (default: %(default)s)"
    )
    p.add_argument("--json-out", type=Path, default=None, help="results file (default: bench/results/<timestamp>.json)")
    p.add_argument("--no-json", action="store_true", help="write no results file")
    p.add_argument("--check", action="store_true", help="exit 1 if a target is missed")
    args = p.parse_args(argv)
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
    if args.repeat < 1 or args.rest_rounds < 1 or args.duration <= 0 or args.concurrency < 1:
        p.error("--repeat, --rest-rounds, --concurrency must be >= 1 and --duration > 0")
    counts = (
        args.kernel_rounds,
        args.iopub_runs,
        args.exec_iterations,
        args.prints,
        args.chunks,
        args.rss_kernels,
        args.cpu_runs,
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
    try:
        specs = servers.make_specs(wanted, js_venv=args.jupyter_server_venv, log=log)
    except (servers.BenchError, subprocess.SubprocessError, OSError) as exc:
        if servers.JUPYTER_SERVER not in wanted:
            raise
        log(f"WARNING: cannot set up jupyter_server ({exc}); comparing without it.")
        specs = servers.make_specs([s for s in wanted if s != servers.JUPYTER_SERVER], log=log)

    ctx = Context(args=args, specs=specs, log=log)
    results: dict = {
        "meta": {
            "timestamp": started.isoformat(timespec="seconds"),
            "git_commit": git_commit(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "servers": {name: {"version": spec.version} for name, spec in specs.items()},
            "args": {k: (_portable(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
        },
        "benchmarks": {},
    }
    missed = []
    failed = []
    for name in args.only:
        module = BENCHMARKS[name]
        try:
            result = module.run(ctx)
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

    if not args.no_json:
        out = args.json_out or BENCH_DIR / "results" / f"{started:%Y%m%d-%H%M%S}.json"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(results, indent=2) + "\n")
        log(f"\nResults written to {out}")
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
