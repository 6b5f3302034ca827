"""Run the benchmarks: this server vs jupyter_server vs a bare aiohttp app, in one run.

    python bench/run.py                        # every benchmark
    python bench/run.py --only startup,rest    # a selection
    python bench/run.py --repeat 3 --duration 3 --json-out /tmp/r.json

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
import loadgen
import rest
import servers
import startup
from common import Context

BENCH_DIR = Path(__file__).resolve().parent

# name -> module with NAME, SERVERS, run(ctx), report(result). Add kernel benchmarks here.
BENCHMARKS = {m.NAME: m for m in (startup, rest)}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument(
        "--only",
        default=",".join(BENCHMARKS),
        help=f"comma-separated benchmarks (default: all: {','.join(BENCHMARKS)})",
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
    p.add_argument("--json-out", type=Path, default=None, help="results file (default: bench/results/<timestamp>.json)")
    p.add_argument("--no-json", action="store_true", help="write no results file")
    p.add_argument("--check", action="store_true", help="exit 1 if a target is missed")
    args = p.parse_args(argv)
    args.only = [n.strip() for n in args.only.split(",") if n.strip()]
    unknown = [n for n in args.only if n not in BENCHMARKS]
    if unknown:
        p.error(f"unknown benchmark(s) {', '.join(unknown)}; known: {', '.join(BENCHMARKS)}")
    args.servers = [n.strip() for n in args.servers.split(",") if n.strip()]
    if servers.OURS not in args.servers:
        p.error("--servers must include 'ours'")
    if args.repeat < 1 or args.rest_rounds < 1 or args.duration <= 0 or args.concurrency < 1:
        p.error("--repeat, --rest-rounds, --concurrency must be >= 1 and --duration > 0")
    return args


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
            "args": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
        },
        "benchmarks": {},
    }
    missed = []
    failed = []
    for name in args.only:
        module = BENCHMARKS[name]
        try:
            result = module.run(ctx)
        except (servers.BenchError, RuntimeError, OSError, subprocess.SubprocessError) as exc:
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


if __name__ == "__main__":
    sys.exit(main())
