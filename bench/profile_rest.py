"""Profile our server under REST load: py-spy on the server while wrk (or the aiohttp client) loads a path.

    python bench/profile_rest.py --path /api/kernelspecs --py-spy PATH-TO-py-spy
    python bench/profile_rest.py --path /api/sessions --clients 32 --seconds 10

Starts ``jupyter-core-server`` as the rest benchmark does, warms the path up, then records
on-CPU samples of the server (py-spy attached to its PID) while ``--clients`` keep-alive
clients load ``--path`` for ``--seconds``. Prints the request rate, the server's CPU per
request (profiled, so higher than in run.py), then the share of samples by package, by leaf
function and inclusive (as profile_kernel.py does).
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from loadgen import find_wrk, run_aiohttp, run_wrk
from profile_kernel import report_raw
from servers import OURS, BenchError, launched, make_specs, proc_cpu_seconds


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--path", default="/api/kernelspecs")
    p.add_argument("--clients", type=int, default=32)
    p.add_argument("--seconds", type=float, default=10.0)
    p.add_argument("--py-spy", default=shutil.which("py-spy") or "", help="py-spy executable")
    p.add_argument("--rate", type=int, default=200, help="py-spy samples per second")
    p.add_argument("--top", type=int, default=25)
    args = p.parse_args()
    if not args.py_spy:
        p.error("py-spy not found: pip install py-spy (in any venv) and pass --py-spy PATH")
    wrk = find_wrk()
    spec = make_specs([OURS])[OURS]
    with tempfile.TemporaryDirectory(prefix="bench-profile-rest-") as tmp, launched(spec, timeout=120) as server:
        url = server.base_url + args.path

        def load(seconds: float) -> dict:
            threads = max(1, (os.cpu_count() or 2) // 2)
            if wrk:
                return run_wrk(wrk, url, server.headers, args.clients, seconds, threads=threads)
            return run_aiohttp(url, server.headers, args.clients, seconds)

        load(1.0)
        out = Path(tmp) / "profile.txt"
        argv = [args.py_spy, "record", "--format", "raw", "--nolineno", "-r", str(args.rate), "-o", str(out)]
        spy = subprocess.Popen([*argv, "--pid", str(server.pid)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            time.sleep(1.0)
            if spy.poll() is not None:
                raise BenchError(
                    f"py-spy failed: {spy.stderr.read().decode(errors='replace')[-500:] if spy.stderr else ''}"
                )
            cpu0 = proc_cpu_seconds(server.pid)
            result = load(args.seconds)
            cpu = proc_cpu_seconds(server.pid) - cpu0
        finally:
            spy.send_signal(signal.SIGINT)  # py-spy writes its output on SIGINT
            try:
                spy.wait(timeout=60)
            except subprocess.TimeoutExpired:
                spy.kill()
                spy.wait(timeout=10)
        print(
            f"# our server, GET {args.path}, {args.clients} clients, {args.seconds:g} s "
            f"under py-spy ({result['generator']})"
        )
        print(
            f"{result['rps']:.0f} req/s, p50 {result['p50_ms']:.2f} ms, p99 {result['p99_ms']:.2f} ms, "
            f"server CPU {cpu * 1000 / max(result['requests'], 1):.3f} ms/request (profiled)"
        )
        if not out.exists():
            print("(no profile written)")
            return 1
        print("\n".join(report_raw(out, args.top)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
