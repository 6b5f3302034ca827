"""Stopping a real ``jupyter-core-server`` process stops every kernel it started: no orphans."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import signal
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, BinaryIO

import aiohttp
import pytest
from importlib_metadata import entry_points

from jupyter_core_server.plugins import ENTRY_POINT_GROUP
from jupyter_core_server.pytest_plugin import open_kernel_channels, start_kernel

BANNER_URL = re.compile(r"^    (http://127\.0\.0\.1:\d+/)\?token=(\w+)$")

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals and process checks")


class RemoteClient:
    """Just enough of ``jcs_client`` for the helpers, pointed at a server in another process."""

    def __init__(self, url: str, session: aiohttp.ClientSession) -> None:
        self.url = url
        self.session = session

    def post(self, path: str, **kwargs: Any) -> Any:
        return self.session.post(self.url + path, **kwargs)

    def ws_connect(self, path: str, **kwargs: Any) -> Any:
        return self.session.ws_connect("ws" + self.url[4:] + path, **kwargs)


def server_command() -> list[str]:
    script = Path(sys.executable).with_name("jupyter-core-server")
    return [str(script)] if script.exists() else [sys.executable, "-m", "jupyter_core_server"]


def is_running(pid: int) -> bool:
    """Whether ``pid`` is a live process (a zombie waiting to be reaped counts as gone)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state != "Z"


def _open_log(path: Path) -> BinaryIO:
    return path.open("wb")


async def wait_for_exit(pid: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while is_running(pid):
        assert time.monotonic() < deadline, f"process {pid} still running after {timeout} s"
        await asyncio.sleep(0.01)


@contextlib.asynccontextmanager
async def server_process(tmp_path: Path) -> AsyncIterator[tuple[asyncio.subprocess.Process, str, str]]:
    """Start the CLI on a free port, core plugins only; yield the process, URL and token."""
    config_dir, runtime_dir, root = tmp_path / "config", tmp_path / "runtime", tmp_path / "root"
    for directory in (config_dir / "jupyter_core_server_config.d", runtime_dir, root):
        directory.mkdir(parents=True)
    # Plugins installed in the environment stay out, as for the in-process test servers.
    others = {ep.name: False for ep in entry_points(group=ENTRY_POINT_GROUP)}
    (config_dir / "jupyter_core_server_config.d" / "plugins-off.json").write_text(
        json.dumps({"CoreServerApp": {"plugins": others}})
    )
    env = {**os.environ, "JUPYTER_CONFIG_DIR": str(config_dir), "JUPYTER_RUNTIME_DIR": str(runtime_dir)}
    env.pop("JUPYTER_TOKEN", None)
    with _open_log(tmp_path / "server.log") as log:
        proc = await asyncio.create_subprocess_exec(
            *server_command(), "--port", "0", cwd=root, env=env, stdout=asyncio.subprocess.PIPE, stderr=log
        )
    drain: asyncio.Task[None] | None = None
    try:
        assert proc.stdout is not None
        url = token = ""
        deadline = time.monotonic() + 30
        while not url:
            line = await asyncio.wait_for(proc.stdout.readline(), max(deadline - time.monotonic(), 0.01))
            assert line, f"server exited before printing its URL; log:\n{(tmp_path / 'server.log').read_text()}"
            if match := BANNER_URL.match(line.decode().rstrip("\n")):
                url, token = match.groups()
        drain = asyncio.create_task(proc.stdout.read())  # keep the pipe from filling up
        yield proc, url, token
    finally:
        if proc.returncode is None:
            proc.kill()
            await asyncio.wait_for(proc.wait(), 10)
        if drain is not None:
            await asyncio.wait_for(drain, 10)


@pytest.mark.parametrize("how", ["SIGTERM", "SIGINT", "POST /api/shutdown"])
async def test_stopping_the_server_stops_every_kernel(tmp_path: Path, how: str) -> None:
    pids: list[int] = []
    try:
        async with server_process(tmp_path) as (proc, url, token):
            headers = {"Authorization": f"token {token}"}
            async with aiohttp.ClientSession(headers=headers) as session:
                client = RemoteClient(url, session)
                kernel_ids = [await start_kernel(client, name="python3") for _ in range(2)]
                for kernel_id in kernel_ids:
                    async with open_kernel_channels(client, kernel_id, "v1") as kc:
                        pids.append(int((await kc.execute("import os; print(os.getpid())")).stream()))
                assert all(is_running(pid) for pid in pids) and len(set(pids)) == 2

                # stop while a client is still connected: the server must not wait for it
                async with open_kernel_channels(client, kernel_ids[0], "v1") as kc:
                    if how == "POST /api/shutdown":
                        async with session.post(url + "api/shutdown") as response:
                            assert response.status == 202
                    else:
                        proc.send_signal(getattr(signal, how))
                    # Not proc.wait(): it also waits for the stdout pipe, which a surviving
                    # kernel would hold open.
                    await wait_for_exit(proc.pid, timeout=30)
                    # Checked at once, with only a short grace: ipykernel's parent poller ends an
                    # orphaned kernel about a second after its server died, which would hide a
                    # server that never stopped its kernels.
                    deadline = time.monotonic() + 0.3
                    while any(is_running(pid) for pid in pids) and time.monotonic() < deadline:
                        await asyncio.sleep(0.02)
                    assert [pid for pid in pids if is_running(pid)] == [], "kernel processes survived the server"
                    assert await asyncio.wait_for(proc.wait(), 10) == 0
                    await kc.wait_closed(timeout=10)
                    assert kc.closed
    finally:
        for pid in pids:  # never leave an orphan behind, even when the test fails
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
