"""Smoke test of the benchmark suite: ``bench/run.py --quick`` with tiny sizes, end to end.

It runs every scenario of the suite (cold start, REST, kernel start with and without a
pool, execute round trips, IOPub streaming, concurrent executes, RSS, server CPU, contents)
against real servers and real kernels, so a change that breaks the harness or a server's
side of it fails here rather than in the next full benchmark run. It checks that every
benchmark produced results, that all streamed output arrived, and that the Markdown
summary names every scenario. Timing figures are not checked: at these sizes they say
nothing.

jupyter_server is compared when the test environment has it (``nox -s tests-all``
installs it), run from that environment; otherwise the run covers this server, the bare
aiohttp app and direct ZMQ only, and its output must say that jupyter_server was not
measured.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
RUN = ROOT / "bench" / "run.py"
TIMEOUT = 280.0

TINY = [
    "--quick",
    "--no-install-wrk",
    "--repeat", "1",
    "--duration", "1",
    "--start-rounds", "1",
    "--pool-pause", "1",
    "--exec-iterations", "10",
    "--exec-warmup", "2",
    "--prints", "100",
    "--lines", "1000",
    "--chunks", "2",
    "--conc-kernels", "2",
    "--conc-executes", "5",
    "--rss-kernels", "2",
    "--contents-files", "200",
    "--notebook-mb", "0.3",
    "--text-mb", "0.2",
]  # fmt: skip
SCENARIOS = ("startup", "rest", "start", "exec", "iopub", "concurrency", "rss", "cpu", "contents")
SUMMARY_ROWS = (
    "cold start",
    "GET /api/kernelspecs, 32 clients",
    "GET /api/sessions, 1 client",
    "kernel start, warm pool",
    "execute `pass` round trip, v1",
    "IOPub 100 flushed prints, legacy",
    "IOPub 1,000 unflushed lines, v1",
    "IOPub 2 × 1 MiB writes, v1",
    "2 kernels × 5 executes at once",
    "server RSS with 2 kernels",
    "contents: list a folder of 200 files",
)


@pytest.mark.timeout(TIMEOUT + 20)
def test_quick_benchmark_runs_every_scenario(tmp_path: Path) -> None:
    has_js = importlib.util.find_spec("jupyter_server") is not None
    extra = ["--jupyter-server-python", sys.executable] if has_js else ["--servers", "ours,null"]
    out_json, out_md = tmp_path / "bench.json", tmp_path / "bench.md"
    argv = [sys.executable, str(RUN), *TINY, *extra, "--json-out", str(out_json), "--markdown-out", str(out_md)]
    started = time.monotonic()
    proc = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=TIMEOUT, check=False)
    seconds = time.monotonic() - started
    print(proc.stdout)
    print(f"bench smoke run: {seconds:.0f} s, jupyter_server {'compared' if has_js else 'NOT compared'}")
    assert proc.returncode == 0, f"run.py exited {proc.returncode}:\n{proc.stdout[-3000:]}\n{proc.stderr[-5000:]}"

    results = json.loads(out_json.read_text())
    benchmarks = results["benchmarks"]
    assert sorted(benchmarks) == sorted(SCENARIOS)
    failed = {name: r["error"] for name, r in benchmarks.items() if "error" in r}
    assert not failed, failed

    servers = set(results["meta"]["servers"])
    assert servers == ({"ours", "jupyter_server", "null"} if has_js else {"ours", "null"})
    kernel_labels = {"ours legacy", "ours v1", "direct zmq"}
    if has_js:
        kernel_labels |= {"jupyter_server legacy", "jupyter_server v1"}
    assert kernel_labels <= set(benchmarks["exec"]["results"])
    assert kernel_labels <= set(benchmarks["concurrency"]["results"])
    for label in kernel_labels:
        for workload, figures in benchmarks["iopub"]["results"][label].items():
            assert figures["complete"], f"{label} {workload}: output lost {figures['notes']}"
    rest = benchmarks["rest"]["servers"]
    for name in servers:
        for key, figures in rest[name]["results"].items():
            assert figures["non2xx"] == 0 and figures["rps_median"] > 0, (name, key, figures)
    start = benchmarks["start"]["results"]
    assert {"ours", "ours pool", "direct"} <= set(start)
    assert benchmarks["contents"]["servers"]["ours"]["response_bytes"]

    summary = out_md.read_text()
    assert "| measure | this server | jupyter_server | limit | ratio | target | verdict |" in summary
    assert "Targets met:" in summary
    for row in SUMMARY_ROWS:
        assert f"| {row}" in summary, f"summary lacks a row for {row!r}:\n{summary}"
    assert summary in proc.stdout
    if not has_js:
        assert "jupyter_server was NOT measured" in proc.stdout
        assert "jupyter_server was NOT measured" in summary
