"""Start real servers as subprocesses for cross-package tests, and stop them by PID."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

__all__ = ["RunningServer", "core_server"]

_URL = re.compile(r"(http://127\.0\.0\.1:(\d+)/\S*?)\?token=(\w+)")


@dataclass
class RunningServer:
    process: subprocess.Popen[str]
    url: str
    port: int
    token: str


def wait_for_banner(process: subprocess.Popen[str], timeout: float = 60) -> tuple[str, int, str]:
    """Read the server's stdout until the URL line appears; return (url, port, token)."""
    assert process.stdout is not None
    deadline = time.monotonic() + timeout
    seen = []
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            if process.poll() is not None:
                break
            continue
        seen.append(line)
        match = _URL.search(line)
        if match:
            return match.group(1), int(match.group(2)), match.group(3)
    raise RuntimeError("server did not print its URL; output:\n" + "".join(seen))


def stop(process: subprocess.Popen[str], timeout: float = 30) -> int:
    """Stop a process we started: SIGTERM, then SIGKILL if it does not exit in time."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)
    if process.stdout is not None:
        process.stdout.close()
    return process.returncode


@contextmanager
def core_server(tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> Iterator[RunningServer]:
    """Run ``jupyter-core-server --port 0`` with isolated Jupyter dirs; stop it afterwards."""
    full_env = {
        **os.environ,
        "JUPYTER_CONFIG_DIR": str(tmp_path / "config"),
        "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"),
        **(env or {}),
    }
    root = tmp_path / "root"
    root.mkdir(parents=True, exist_ok=True)
    process = subprocess.Popen(
        [sys.executable, "-m", "jupyter_core_server", "--port", "0", f"--root-dir={root}", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=full_env,
    )
    try:
        url, port, token = wait_for_banner(process)
        yield RunningServer(process, url, port, token)
    finally:
        stop(process)
