"""Profile our server while it relays a kernel workload; print where its CPU time goes.

    python bench/profile_kernel.py --workload prints --framing v1
    python bench/profile_kernel.py --workload exec --framing legacy --profiler cprofile

Starts ``jupyter-core-server``, starts one kernel through REST, connects one websocket,
warms up, then profiles the server only while the workload runs ``--repeat`` times (the
same workloads as ``iopub`` / ``exec``): py-spy attaches to the server's PID for that
window, or cProfile (``bench/cprofile_server.py``) is switched on and off by signals.
Prints:

- CPU seconds per thread of the server (``/proc/<pid>/task``: the event loop thread,
  ZMQ's I/O thread, ...), per relayed message;
- with ``--profiler py-spy`` (default; ``pip install py-spy`` anywhere and pass
  ``--py-spy`` or put it on PATH): on-CPU samples of the Python threads, by leaf
  function (self), by function anywhere on the stack (inclusive) and by package;
- with ``--profiler cprofile``: the top functions by internal and cumulative time
  (deterministic; inflates many small calls, so read shares, not absolute times).

The profiler slows the server: compare shares, not the figures of ``run.py``.
Every wait is bounded; the server is ended by its PID.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import os
import pstats
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from kernel_iopub import Workloads, warm
from kernels_common import V1, WSKernel, delete_kernel, http_session, start_kernel
from servers import OURS, BenchError, ServerProcess, launched, make_specs, our_command, proc_thread_cpu

_SHORT = re.compile(r".*/(site-packages|lib/python3\.\d+|src)/")


def short(frame: str) -> str:
    """``func (path/to/file.py)`` -> ``func (pkg/file.py)``: no machine paths."""
    return _SHORT.sub("", frame)


def package_of(frame: str) -> str:
    m = re.search(r"\(([^)]*)\)", frame)
    path = short(m.group(1)) if m else frame
    top = path.split("/", 1)[0].removesuffix(".py")
    return top or "?"


# Leaves where a thread waits (py-spy's idle detection does not work everywhere, so drop these).
IDLE_LEAVES = (
    "EpollSelector.select",
    "epoll_wait (",
    "_worker (concurrent/",
    "Condition.wait",
    "Event.wait",
    "_wait_for_tstate_lock",
)


def report_raw(path: Path, top: int) -> list[str]:
    self_t: collections.Counter[str] = collections.Counter()
    incl: collections.Counter[str] = collections.Counter()
    pkg: collections.Counter[str] = collections.Counter()
    total = idle = 0
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        frames = [short(f) for f in stack.split(";") if f]
        # py-spy puts the thread/process first; the leaf is last.
        frames = [f for f in frames if "(" in f] or frames
        if frames[-1].startswith(IDLE_LEAVES):
            idle += n
            continue
        total += n
        self_t[frames[-1]] += n
        pkg[package_of(frames[-1])] += n
        for f in set(frames):
            incl[f] += n
    if not total:
        return ["(no samples)"]
    lines = [f"{total} on-CPU samples of the Python threads (left out: {idle} samples of waiting threads)"]
    lines.append("\nself time by package (leaf frame):")
    lines += [f"  {n / total:6.1%}  {name}" for name, n in pkg.most_common(12)]
    lines.append("\nself time by function:")
    lines += [f"  {n / total:6.1%}  {name}" for name, n in self_t.most_common(top)]
    lines.append("\ninclusive time by function (anywhere on the stack):")
    lines += [f"  {n / total:6.1%}  {name}" for name, n in incl.most_common(top)]
    return lines


def report_cprofile(path: Path, top: int) -> list[str]:
    import io

    buf = io.StringIO()
    stats = pstats.Stats(str(path), stream=buf)
    stats.strip_dirs()
    for key in ("tottime", "cumulative"):
        buf.write(f"\n--- by {key} ---\n")
        stats.sort_stats(key).print_stats(top)
    return [ln for ln in buf.getvalue().splitlines() if ln.strip()]


class Profiler:
    """Starts and stops profiling of the running server around the measured window only."""

    def __init__(self, args: argparse.Namespace, out: Path) -> None:
        self.args = args
        self.out = out
        self.proc: subprocess.Popen[bytes] | None = None
        self.pid = 0

    def start(self, pid: int) -> None:
        self.pid = pid
        if self.args.profiler == "py-spy":
            extra = ["--native"] if self.args.native else []
            argv = [self.args.py_spy, "record", "--format", "raw", "--nolineno", "-r", str(self.args.rate), *extra]
            self.proc = subprocess.Popen(
                [*argv, "-o", str(self.out), "--pid", str(pid)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
            )
            time.sleep(1.0)  # let py-spy attach before the workload starts
            if self.proc.poll() is not None:
                raise BenchError(f"py-spy failed: {self.proc.stderr.read().decode(errors='replace')[-500:]}")
        elif self.args.profiler == "cprofile":
            os.kill(pid, signal.SIGUSR1)

    def stop(self) -> None:
        if self.args.profiler == "py-spy" and self.proc is not None:
            self.proc.send_signal(signal.SIGINT)  # py-spy writes its output on SIGINT
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        elif self.args.profiler == "cprofile":
            os.kill(self.pid, signal.SIGUSR2)
            deadline = time.monotonic() + 30
            while not self.out.exists() and time.monotonic() < deadline:
                time.sleep(0.1)
            time.sleep(0.5)  # let the dump finish


async def drive(server: ServerProcess, args: argparse.Namespace, profiler: Profiler) -> dict:
    wl = Workloads(args)
    code = "pass" if args.workload == "exec" else wl.code(args.workload)
    per = args.exec_iterations if args.workload == "exec" else 1
    async with http_session(server) as http:
        kernel_id = await start_kernel(http, server)
        try:
            client = await WSKernel.connect(http, server, kernel_id, args.framing)
            try:
                await warm(client)
                profiler.start(server.pid)
                try:
                    cpu0, t0, msgs = proc_thread_cpu(server.pid), time.perf_counter(), 0
                    for _ in range(args.repeat):
                        for _ in range(per):
                            res = await client.execute(code, 300.0, collect=False)
                            msgs += res.messages
                    wall = time.perf_counter() - t0
                    cpu1 = proc_thread_cpu(server.pid)
                finally:
                    profiler.stop()
            finally:
                await client.close()
        finally:
            await delete_kernel(http, server, kernel_id)
    threads = {k: cpu1.get(k, 0.0) - cpu0.get(k, 0.0) for k in cpu1}
    return {"wall": wall, "messages": msgs, "threads": threads}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--workload", choices=("prints", "chunks", "exec"), default="prints")
    p.add_argument("--framing", choices=("legacy", V1), default=V1)
    p.add_argument("--repeat", type=int, default=5, help="workload runs (exec: batches of --exec-iterations)")
    p.add_argument("--exec-iterations", type=int, default=200)
    p.add_argument("--prints", type=int, default=5000)
    p.add_argument("--chunks", type=int, default=50)
    p.add_argument("--chunk-mib", type=float, default=1.0)
    p.add_argument("--profiler", choices=("py-spy", "cprofile", "none"), default="py-spy")
    p.add_argument("--py-spy", default=shutil.which("py-spy") or "", help="py-spy executable")
    p.add_argument("--rate", type=int, default=1000, help="py-spy samples per second")
    p.add_argument("--native", action="store_true", help="py-spy: include C frames")
    p.add_argument("--top", type=int, default=30)
    p.add_argument("--keep", type=Path, default=None, help="also copy the raw profile here")
    args = p.parse_args()
    if args.profiler == "py-spy" and not args.py_spy:
        p.error("py-spy not found: pip install py-spy (in any venv) and pass --py-spy PATH, or use --profiler cprofile")

    tmp = tempfile.TemporaryDirectory(prefix="bench-profile-")
    out = Path(tmp.name) / ("profile.txt" if args.profiler == "py-spy" else "profile.pstats")
    spec = make_specs([OURS])[OURS]
    if args.profiler == "cprofile":
        base = spec.command
        launcher = [sys.executable, str(Path(__file__).resolve().parent / "cprofile_server.py"), str(out)]

        def command(port: int, token: str) -> list[str]:
            return [*launcher, *base(port, token)[len(our_command()) :]]

        spec.command = command
    profiler = Profiler(args, out)
    with launched(spec, timeout=120) as server:
        result = asyncio.run(drive(server, args, profiler))
    print(f"# our server, workload {args.workload} x {args.repeat}, framing {args.framing}, profiler {args.profiler}")
    msgs = result["messages"]
    total_cpu = sum(result["threads"].values())
    print(f"wall {result['wall']:.2f} s, {msgs} messages relayed, server CPU {total_cpu:.2f} s")
    note = " (py-spy pauses the server per sample: fewer wake-ups, so read shares)" if args.profiler == "py-spy" else ""
    note = " (inflated by cProfile)" if args.profiler == "cprofile" else note
    print(f"server CPU per message: {total_cpu * 1000 / max(msgs, 1):.4f} ms{note}")
    for name, cpu in sorted(result["threads"].items(), key=lambda kv: -kv[1]):
        if cpu > 0:
            print(f"  thread {name!r}: {cpu:.2f} s ({cpu / max(total_cpu, 1e-9):.0%})")
    if args.profiler != "none":
        if not out.exists():
            print("(no profile written)")
            return 1
        if args.keep:
            shutil.copy(out, args.keep)
        lines = report_raw(out, args.top) if args.profiler == "py-spy" else report_cprofile(out, args.top)
        print("\n".join(lines))
    tmp.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
