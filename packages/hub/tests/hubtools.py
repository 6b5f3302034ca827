"""A real JupyterHub for tests: its config, its process, the processes it started, and code run through its proxy."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import aiohttp
from jupyter_core_server.pytest_plugin import KernelChannels

PASSWORD = "correct horse battery staple"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def venv_command(name: str) -> str:
    """An executable installed next to this test run's Python."""
    path = Path(sys.executable).with_name(name)
    assert path.exists(), f"{name} is not installed in {path.parent}"
    return str(path)


class RunningHub:
    """A ``jupyterhub`` process on loopback ports with the dummy authenticator and the simple local spawner.

    Spawned servers run ``jupyter-core-server`` with the hub's environment and no
    arguments. Each spawned process (and every child: kernels, shells) carries
    ``marker`` in its environment, so that a test can find any that survive.
    """

    def __init__(self, workdir: Path, proxy: str, server_cmd: list[str], plugins: dict[str, bool]) -> None:
        self.workdir = workdir
        self.port, self.hub_port, self.proxy_api_port = free_port(), free_port(), free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.api_token = uuid.uuid4().hex
        self.marker = uuid.uuid4().hex
        jupyter = workdir / "user-jupyter"
        config_d = jupyter / "config" / "jupyter_core_server_config.d"
        config_d.mkdir(parents=True)
        (config_d / "plugins.json").write_text(json.dumps({"CoreServerApp": {"plugins": plugins}}))
        environment = {
            "JUPYTERHUB_ACTIVITY_INTERVAL": "2",
            "JUPYTER_CONFIG_DIR": str(jupyter / "config"),
            "JUPYTER_RUNTIME_DIR": str(jupyter / "runtime"),
            "JUPYTER_PLATFORM_DIRS": "1",
            "JCS_HUB_TEST_MARKER": self.marker,
        }
        settings = {
            "JupyterHub.ip": "127.0.0.1",
            "JupyterHub.port": self.port,
            "JupyterHub.hub_ip": "127.0.0.1",
            "JupyterHub.hub_port": self.hub_port,
            "JupyterHub.db_url": f"sqlite:///{workdir / 'jupyterhub.sqlite'}",
            "JupyterHub.cookie_secret_file": str(workdir / "jupyterhub_cookie_secret"),
            "JupyterHub.authenticator_class": "dummy",
            "JupyterHub.spawner_class": "simple",
            "JupyterHub.last_activity_interval": 3600,
            "JupyterHub.tornado_settings": {"slow_spawn_timeout": 30},
            "JupyterHub.services": [{"name": "tester", "api_token": self.api_token}],
            "JupyterHub.load_roles": [
                {
                    "name": "tester",
                    "scopes": ["admin:users", "admin:servers", "tokens", "read:users:activity", "list:users"],
                    "services": ["tester"],
                }
            ],
            "DummyAuthenticator.password": PASSWORD,
            "Authenticator.allowed_users": {"alice", "bob"},
            "ConfigurableHTTPProxy.command": [proxy],
            "ConfigurableHTTPProxy.api_url": f"http://127.0.0.1:{self.proxy_api_port}",
            "ConfigurableHTTPProxy.pid_file": str(workdir / "proxy.pid"),
            "SimpleLocalProcessSpawner.home_dir_template": str(workdir / "home" / "{username}"),
            "Spawner.cmd": server_cmd,
            "Spawner.environment": environment,
            "Spawner.http_timeout": 60,
            "Spawner.start_timeout": 60,
        }
        lines = [f"c.{name} = {value!r}" for name, value in settings.items()]
        config = workdir / "jupyterhub_config.py"
        config.write_text("\n".join(lines) + "\n")
        self.log_path = workdir / "jupyterhub.log"
        env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTERHUB_", "JUPYTER_"))}
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                [venv_command("jupyterhub"), "-f", str(config)],
                cwd=workdir,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self._wait_ready(90)

    @property
    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"jupyterhub exited with {self.process.returncode}:\n{self.log}")
            try:
                with urllib.request.urlopen(f"{self.url}/hub/api", timeout=5) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.25)
        self.stop()
        raise AssertionError(f"jupyterhub did not answer within {timeout}s:\n{self.log}")

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"token {self.api_token}"}

    def stop(self) -> None:
        """Stop the hub (it stops its proxy and the servers it spawned), by its pid."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=30)


def processes_with(marker: str) -> list[int]:
    """Live (not zombie) processes whose environment carries ``JCS_HUB_TEST_MARKER=marker``."""
    needle = f"JCS_HUB_TEST_MARKER={marker}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if needle not in (entry / "environ").read_bytes().split(b"\0"):
                continue
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z":
            found.append(int(entry.name))
    return found


async def run_code(ws: aiohttp.ClientWebSocketResponse, code: str, timeout: float = 60) -> str:
    """Run ``code`` on the kernel behind ``ws`` (legacy JSON protocol); return the result's text/plain."""
    result = await KernelChannels(ws, "legacy").execute(code, timeout=timeout)
    if result.error is not None:
        raise AssertionError(f"kernel error: {result.error}")
    (value,) = [bundle["text/plain"] for bundle in result.data]
    return str(value)
