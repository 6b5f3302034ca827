"""Start, probe and stop the servers the benchmarks compare.

Every benchmark module uses these helpers, so a new benchmark (kernel round trips,
IOPub throughput, RSS with many kernels, CPU per message) only has to say what it
measures, not how to launch anything. Three servers:

- ``ours``: this project's ``jupyter-core-server`` from the current environment;
- ``jupyter_server``: ``jupyter server`` 2.x from a separate venv the bench creates
  on demand (``bench/.venv-jupyter-server``, git-ignored), never the current one;
- ``null``: ``null_server.py``, a bare aiohttp app returning fixed JSON (the floor).

All listen on 127.0.0.1 only. Every wait is bounded in time; processes are ended by
the PID we started (SIGTERM, wait, then SIGKILL).
"""

from __future__ import annotations

import http.client
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
DEFAULT_JS_VENV = BENCH_DIR / ".venv-jupyter-server"
JS_REQUIREMENTS = ["jupyter_server==2.*", "ipykernel"]
HOST = "127.0.0.1"

# Plugins of ours left out of the comparison: jupyter_server's venv has no JupyterLab, no
# JupyterHub single-user code and no config migration, so ours runs with what jupyter_server
# has built in (contents, terminals, nbconvert) and without these (run.py --ours-all-plugins
# keeps them). Naming a plugin that is not installed does nothing.
OURS_LEFT_OUT_PLUGINS = ("frontend", "hub", "migrate")

OURS = "ours"
JUPYTER_SERVER = "jupyter_server"
NULL = "null"
ALL_SERVERS = (OURS, JUPYTER_SERVER, NULL)


class BenchError(RuntimeError):
    """A server could not be set up, started or reached."""


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def _bin_dir(venv: Path) -> Path:
    return venv / ("Scripts" if os.name == "nt" else "bin")


def ensure_jupyter_server_venv(
    venv: Path = DEFAULT_JS_VENV, log: Callable[[str], None] = print, timeout: float = 900
) -> Path:
    """Create ``venv`` with jupyter_server 2.x + ipykernel unless it is already complete.

    Returns the venv's ``jupyter`` executable. A marker file written after a
    successful install tells a complete venv from an interrupted one.
    """
    jupyter = _bin_dir(venv) / "jupyter"
    marker = venv / ".bench-complete"
    if marker.exists() and jupyter.exists():
        return jupyter
    log(f"Creating {venv.name} with {' '.join(JS_REQUIREMENTS)} (once; git-ignored) ...")
    if venv.exists():
        shutil.rmtree(venv)
    deadline = time.monotonic() + timeout
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    python = _bin_dir(venv) / "python"
    remaining = max(60.0, deadline - time.monotonic())
    out = subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", *JS_REQUIREMENTS],
        capture_output=True,
        text=True,
        timeout=remaining,
        check=False,
    )
    if out.returncode != 0:
        raise BenchError(f"pip install {' '.join(JS_REQUIREMENTS)} failed ({out.returncode}):\n{out.stderr[-3000:]}")
    if not jupyter.exists():
        raise BenchError(f"{jupyter} missing after install")
    marker.write_text(" ".join(JS_REQUIREMENTS) + "\n")
    return jupyter


def package_version(python: str | Path, dist: str) -> str:
    """The version of distribution ``dist`` as seen by interpreter ``python`` ('' if absent)."""
    code = f"import importlib.metadata as m\ntry: print(m.version({dist!r}))\nexcept Exception: print('')"
    try:
        out = subprocess.run([str(python), "-c", code], capture_output=True, text=True, timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return out.stdout.strip()


def our_command() -> list[str]:
    """The current environment's ``jupyter-core-server`` (or ``python -m jupyter_core_server``)."""
    script = Path(sysconfig.get_path("scripts")) / "jupyter-core-server"
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", "jupyter_core_server"]


@dataclass
class ServerSpec:
    """How to launch one kind of server."""

    name: str
    command: Callable[[int, str], list[str]]  # (port, token) -> argv
    env: dict[str, str] = field(default_factory=dict)
    needs_token: bool = True
    version: str = ""
    python: str = ""  # the interpreter whose environment runs it (for version reports)
    # Probe paths in order; a 404 on one moves to the next (ours may not have kernelspecs yet).
    ready_paths: tuple[str, ...] = ("/api/kernelspecs", "/api/status")


def make_specs(
    names: list[str],
    js_venv: Path = DEFAULT_JS_VENV,
    log: Callable[[str], None] = print,
    js_python: str | None = None,
    ours_left_out: tuple[str, ...] = OURS_LEFT_OUT_PLUGINS,
) -> dict[str, ServerSpec]:
    """Specs for the requested server names; creates the jupyter_server venv if needed.

    With ``js_python``, jupyter_server is run as ``<js_python> -m jupyter_server`` from that
    interpreter's environment instead (no venv is built): the smoke test uses it when its
    own environment has jupyter_server installed.
    """
    specs: dict[str, ServerSpec] = {}
    for name in names:
        if name == OURS:
            specs[name] = ServerSpec(
                name=OURS,
                command=lambda port, token, off=ours_left_out: [
                    *(*our_command(), "--port", str(port), "--ip", HOST),
                    *(f"--CoreServerApp.plugins={name}=False" for name in off),
                ],
                env={"JUPYTER_TOKEN": ""},  # filled per launch
                version=package_version(sys.executable, "jupyter-core-server"),
                python=sys.executable,
            )
        elif name == JUPYTER_SERVER:
            root_flag = ["--allow-root"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []
            if js_python:
                js_python = os.path.abspath(js_python)  # servers run in their own directory; keep venv symlinks
                launcher = [js_python, "-m", "jupyter_server"]
                bin_dir = Path(js_python).parent
                env = {"PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}
                python: str | Path = js_python
            else:
                jupyter = ensure_jupyter_server_venv(js_venv, log=log)
                launcher = [str(jupyter), "server"]
                env = {
                    "PATH": f"{jupyter.parent}{os.pathsep}{os.environ.get('PATH', '')}",
                    "VIRTUAL_ENV": str(jupyter.parent.parent),
                }
                python = jupyter.parent / "python"

            def js_command(
                port: int, token: str, launcher: list[str] = launcher, extra: list[str] = root_flag
            ) -> list[str]:
                return [
                    *launcher,
                    *("--port", str(port), f"--ServerApp.token={token}", "--no-browser"),
                    *(f"--ServerApp.ip={HOST}", "--ServerApp.port_retries=0", *extra),
                ]

            version = package_version(python, "jupyter_server")
            if not version:
                raise BenchError(f"jupyter_server is not importable by {python}")
            specs[name] = ServerSpec(
                name=JUPYTER_SERVER, command=js_command, env=env, version=version, python=str(python)
            )
        elif name == NULL:
            specs[name] = ServerSpec(
                name=NULL,
                command=lambda port, token: [
                    sys.executable,
                    str(BENCH_DIR / "null_server.py"),
                    "--port",
                    str(port),
                    "--host",
                    HOST,
                ],
                needs_token=False,
                version="aiohttp " + package_version(sys.executable, "aiohttp"),
                ready_paths=("/api/kernelspecs",),
            )
        else:
            raise BenchError(f"unknown server {name!r}; known: {', '.join(ALL_SERVERS)}")
    return specs


def http_get(port: int, path: str, headers: dict[str, str], timeout: float = 2.0) -> tuple[int, bytes]:
    """One GET on 127.0.0.1:port; raises OSError if nothing answers."""
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        conn.request("GET", path, headers=headers)
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def http_post(port: int, path: str, headers: dict[str, str], timeout: float = 5.0) -> int:
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        conn.request("POST", path, body=b"", headers=headers)
        resp = conn.getresponse()
        resp.read()
        return resp.status
    finally:
        conn.close()


def proc_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of process ``pid`` (Linux /proc; 0.0 elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    ticks = int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


def proc_rss_mib(pid: int) -> float:
    """Resident set size of ``pid`` in MiB (Linux /proc; 0.0 elsewhere)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


class ServerProcess:
    """One server process: ``start()``, ``wait_ready()``, ``stop()`` (or ``launched()`` below)."""

    def __init__(self, spec: ServerSpec, workdir: Path | None = None, extra_args: Sequence[str] = ()) -> None:
        self.spec = spec
        self.extra_args = list(extra_args)  # appended to the spec's command line
        self.token = secrets.token_hex(24)
        self.port = 0
        self.proc: subprocess.Popen[bytes] | None = None
        self.started_at = 0.0  # perf_counter() just before spawning
        self.ready_path = ""
        self._own_tmp: tempfile.TemporaryDirectory[str] | None = None
        if workdir is None:
            self._own_tmp = tempfile.TemporaryDirectory(prefix=f"bench-{spec.name}-")
            workdir = Path(self._own_tmp.name)
        self.workdir = workdir
        self.log_path = workdir / "server.log"

    # -- helpers for benchmarks -------------------------------------------------------------
    @property
    def pid(self) -> int:
        return self.proc.pid if self.proc else 0

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def ws_base_url(self) -> str:
        return f"ws://{HOST}:{self.port}"

    @property
    def headers(self) -> dict[str, str]:
        """Headers every request sends: the token (harmless for the null server)."""
        return {"Authorization": f"token {self.token}"}

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self) -> None:
        self.port = free_port()
        env = dict(os.environ)
        env.pop("JUPYTER_TOKEN", None)
        env.update(self.spec.env)
        if "JUPYTER_TOKEN" in self.spec.env:
            env["JUPYTER_TOKEN"] = self.token
        runtime = self.workdir / "runtime"
        runtime.mkdir(exist_ok=True)
        env["JUPYTER_RUNTIME_DIR"] = str(runtime)  # keep runtime files out of the user's dirs
        env["PYTHONUNBUFFERED"] = "1"
        argv = [*self.spec.command(self.port, self.token), *self.extra_args]
        log = open(self.log_path, "wb")  # noqa: SIM115 - closed when the child is reaped
        try:
            self.started_at = time.perf_counter()
            self.proc = subprocess.Popen(
                argv, cwd=self.workdir, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
            )
        finally:
            log.close()  # the child holds its own copy

    def wait_ready(self, timeout: float = 60.0, interval: float = 0.005) -> float:
        """Poll until the first HTTP 200; return seconds since spawn.

        Probes ``spec.ready_paths`` in order: a 404 moves to the next path (our
        ``/api/kernelspecs`` may not exist yet, then ``/api/status`` counts).
        """
        assert self.proc is not None, "start() first"
        paths = list(self.spec.ready_paths)
        deadline = self.started_at + timeout
        while time.perf_counter() < deadline:
            if self.proc.poll() is not None:
                raise BenchError(
                    f"{self.spec.name} exited with {self.proc.returncode} before answering:\n{self.log_tail()}"
                )
            try:
                status, body = http_get(self.port, paths[0], self.headers)
            except OSError:
                time.sleep(interval)
                continue
            if status == 200:
                self.ready_path = paths[0]
                return time.perf_counter() - self.started_at
            if status == 404 and len(paths) > 1:
                paths.pop(0)
                continue
            if status not in (404, 503):  # a broken endpoint: say so now rather than at the timeout
                raise BenchError(
                    f"{self.spec.name}: GET {paths[0]} answered {status}: {body[:300]!r}\n{self.log_tail(8)}"
                )
            time.sleep(interval)  # 503 (or a lone 404) while starting up
        raise BenchError(f"{self.spec.name} gave no 200 on {paths[0]} within {timeout:.0f} s:\n{self.log_tail()}")

    def stop(self, timeout: float = 10.0) -> int | None:
        """End the process we started: SIGTERM, wait, then SIGKILL. Returns its exit code."""
        proc, self.proc = self.proc, None
        code: int | None = None
        if proc is not None:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=timeout)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(timeout=timeout)
            code = proc.returncode
        if self._own_tmp is not None:
            self._own_tmp.cleanup()
            self._own_tmp = None
        return code


@contextmanager
def launched(spec: ServerSpec, timeout: float = 60.0, extra_args: Sequence[str] = ()) -> Iterator[ServerProcess]:
    """A started, ready server, stopped on exit: ``with launched(specs["ours"]) as server: ...``."""
    server = ServerProcess(spec, extra_args=extra_args)
    try:
        server.start()
        server.wait_ready(timeout=timeout)
        yield server
    finally:
        server.stop()


def proc_cmdline(pid: int) -> list[str]:
    """The command line of ``pid`` (empty if it is gone)."""
    try:
        return [a.decode(errors="replace") for a in Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0") if a]
    except OSError:
        return []


def proc_status_kib(pid: int, key: str) -> int:
    """One ``kB`` field of ``/proc/<pid>/status`` (``VmRSS``, ``VmHWM`` ...); 0 if absent."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def child_pids(pid: int) -> list[int]:
    """Direct children of ``pid`` (Linux /proc; empty elsewhere)."""
    found = []
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            try:
                found += [int(c) for c in (task / "children").read_text().split()]
            except OSError:
                continue
    except OSError:
        pass
    return sorted(set(found))


def proc_thread_cpu(pid: int) -> dict[str, float]:
    """CPU seconds (utime + stime) per thread name of ``pid``; threads with the same name summed.

    Python threads carry the process name; libzmq names its own (``ZMQbg/IO/0``, ``ZMQbg/Reaper``).
    """
    out: dict[str, float] = {}
    tick = os.sysconf("SC_CLK_TCK")
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
    except OSError:
        return out
    for task in tasks:
        try:
            raw = (task / "stat").read_text()
        except OSError:
            continue
        name = raw[raw.index("(") + 1 : raw.rindex(")")]
        fields = raw.rsplit(")", 1)[1].split()
        out[name] = out.get(name, 0.0) + (int(fields[11]) + int(fields[12])) / tick
    return out
