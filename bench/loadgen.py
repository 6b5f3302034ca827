"""HTTP load generators for the REST benchmark.

``wrk`` when it is installed (it reaches 2–3× the request rate of a Python client,
so it is the one to trust for fast servers), otherwise an aiohttp client running in a
separate process (``python bench/loadgen.py ...``, prints one JSON line). Both keep
connections alive, run for a bounded time, and report requests/s, non-2xx count,
socket errors and latency percentiles.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

MAX_REQUESTS = 50_000_000  # a hard count bound on the aiohttp loop, on top of the time bound

WRK_SCRIPT = r"""
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '\nBENCH_JSON {"requests": %d, "duration_us": %d, "non2xx": %d, "socket_errors": %d, ' ..
    '"p50_ms": %.3f, "p90_ms": %.3f, "p99_ms": %.3f}\n',
    summary.requests, summary.duration, e.status, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000))
end
"""


def find_wrk() -> str | None:
    return shutil.which("wrk")


def install_wrk(log=print, timeout: float = 300) -> str | None:
    """Try ``apt-get install -y wrk`` (root on Debian/Ubuntu only); None if it cannot."""
    if find_wrk():
        return find_wrk()
    if not shutil.which("apt-get") or not hasattr(os, "geteuid") or os.geteuid() != 0:
        return None
    log("wrk not found; installing it with apt-get (use --no-install-wrk to skip) ...")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    for cmds in (
        [["apt-get", "install", "-y", "-qq", "wrk"]],
        [["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "wrk"]],
    ):
        try:
            ok = all(
                subprocess.run(
                    c, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=timeout, check=False
                ).returncode
                == 0
                for c in cmds
            )
        except (OSError, subprocess.TimeoutExpired):
            ok = False
        if ok and find_wrk():
            return find_wrk()
    return None


def run_wrk(wrk: str, url: str, headers: dict[str, str], concurrency: int, duration: float, threads: int = 1) -> dict:
    """Run wrk once for ``duration`` seconds; return the parsed summary."""
    with tempfile.TemporaryDirectory(prefix="bench-wrk-") as tmp:
        script = Path(tmp) / "report.lua"
        script.write_text(WRK_SCRIPT)
        argv = [
            wrk,
            f"-t{max(1, min(threads, concurrency))}",
            f"-c{concurrency}",
            f"-d{max(1, round(duration))}s",
            "-s",
            str(script),
        ]
        for key, value in {**headers, "Connection": "keep-alive"}.items():
            argv += ["-H", f"{key}: {value}"]
        argv.append(url)
        out = subprocess.run(argv, capture_output=True, text=True, timeout=duration + 30, check=False)
    for line in out.stdout.splitlines():
        if line.startswith("BENCH_JSON "):
            data = json.loads(line[len("BENCH_JSON ") :])
            seconds = data.pop("duration_us") / 1e6
            data["seconds"] = seconds
            data["rps"] = data["requests"] / seconds if seconds else 0.0
            data["generator"] = "wrk"
            return data
    raise RuntimeError(f"wrk failed ({out.returncode}): {out.stderr.strip() or out.stdout.strip()}")


def run_aiohttp(url: str, headers: dict[str, str], concurrency: int, duration: float) -> dict:
    """Run the aiohttp client generator in a separate process; return its summary."""
    argv = [sys.executable, str(Path(__file__).resolve()), "--url", url, "-c", str(concurrency), "-d", str(duration)]
    for key, value in headers.items():
        argv += ["-H", f"{key}: {value}"]
    out = subprocess.run(argv, capture_output=True, text=True, timeout=duration + 60, check=False)
    if out.returncode != 0:
        raise RuntimeError(f"aiohttp load generator failed ({out.returncode}): {out.stderr.strip()[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


async def _aiohttp_load(url: str, headers: dict[str, str], concurrency: int, duration: float) -> dict:
    import aiohttp

    latencies: list[float] = []
    counts = {"requests": 0, "non2xx": 0, "socket_errors": 0}
    connector = aiohttp.TCPConnector(limit=concurrency, force_close=False)
    timeout = aiohttp.ClientTimeout(total=10)
    headers = {**headers, "Connection": "keep-alive"}
    async with aiohttp.ClientSession(connector=connector, timeout=timeout, headers=headers) as session:
        start = time.perf_counter()
        deadline = start + duration

        async def worker() -> None:
            while counts["requests"] < MAX_REQUESTS:
                t0 = time.perf_counter()
                if t0 >= deadline:
                    return
                try:
                    async with session.get(url) as resp:
                        await resp.read()
                        if not 200 <= resp.status < 300:
                            counts["non2xx"] += 1
                except (TimeoutError, aiohttp.ClientError, OSError):
                    counts["socket_errors"] += 1
                    await asyncio.sleep(0.001)
                    continue
                counts["requests"] += 1
                latencies.append(time.perf_counter() - t0)

        await asyncio.gather(*(worker() for _ in range(concurrency)))
        seconds = time.perf_counter() - start
    latencies.sort()

    def pct(p: float) -> float:
        return latencies[min(len(latencies) - 1, int(p / 100 * len(latencies)))] * 1000 if latencies else 0.0

    return {
        **counts,
        "seconds": seconds,
        "rps": counts["requests"] / seconds if seconds else 0.0,
        "p50_ms": pct(50),
        "p90_ms": pct(90),
        "p99_ms": pct(99),
        "generator": "aiohttp",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description="aiohttp-client load generator; prints one JSON line.")
    parser.add_argument("--url", required=True)
    parser.add_argument("-c", "--concurrency", type=int, default=32)
    parser.add_argument("-d", "--duration", type=float, default=5.0)
    parser.add_argument("-H", "--header", action="append", default=[])
    args = parser.parse_args()
    headers = dict(h.split(": ", 1) for h in args.header)
    print(json.dumps(asyncio.run(_aiohttp_load(args.url, headers, args.concurrency, args.duration))))


if __name__ == "__main__":
    main()
