"""pytest fixtures for testing plugins against a real server (opt-in).

Enable in a ``conftest.py``::

    pytest_plugins = ["jupyter_core_server.pytest_plugin"]

Fixtures start a real server on ``127.0.0.1`` at a free port, inside the test's event
loop, with the installed plugins (all of them, or those ``jcs_enabled_plugins`` names)
plus any in-test plugin objects. Config directories are isolated under ``tmp_path`` so
the machine's settings do not leak in. Requires ``pytest-asyncio``.

``jcs_kernel`` starts a kernel through the REST API and ``jcs_kernel_client`` talks to
it over the kernel websocket (:class:`KernelChannels`, in either framing);
:func:`open_kernel_channels` opens more connections.

``jcs_cli_server`` starts the ``jupyter-core-server`` command itself as a subprocess
(:class:`ServerProcess`), for tests of the command line, signals and installed plugins.
"""

from __future__ import annotations

import contextlib
import os
import queue
import re
import secrets
import signal
import ssl
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import AsyncIterator, Callable, Collection, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO, Any, Protocol

import aiohttp
import pytest
import pytest_asyncio
from importlib_metadata import entry_points
from jupyter_core import paths
from traitlets.config import Config

from .app import CoreServerApp
from .kernel_client import (
    KERNEL_FRAMINGS,
    V1_KERNEL_PROTOCOL,
    Framing,
    KernelChannels,
    KernelConnectionClosed,
    KernelMessage,
    KernelProtocolError,
    KernelReply,
    PathClient,
    decode_legacy_binary,
    decode_v1,
    encode_legacy_binary,
    encode_v1,
    execute_content,
    open_kernel_channels,
    reply_and_idle,
    shutdown_kernel,
    start_kernel,
)
from .openapi import unmatched_routes
from .plugins import ENTRY_POINT_GROUP, PluginManager
from .serve import start

__all__ = [
    "KERNEL_FRAMINGS",
    "V1_KERNEL_PROTOCOL",
    "CliServer",
    "Framing",
    "KernelChannels",
    "KernelConnectionClosed",
    "KernelMessage",
    "KernelProtocolError",
    "KernelReply",
    "PathClient",
    "RegisterPlugin",
    "ServerClient",
    "ServerHandle",
    "ServerProcess",
    "decode_legacy_binary",
    "decode_v1",
    "encode_legacy_binary",
    "encode_v1",
    "execute_content",
    "make_plugin_manager",
    "open_kernel_channels",
    "reply_and_idle",
    "run_server",
    "server_command",
    "shutdown_kernel",
    "start_kernel",
    "unmatched_routes",
]


class RegisterPlugin(Protocol):
    """``jcs_register_plugin(plugin, name)``: add an in-test plugin object before start."""

    def __call__(self, plugin: object, name: str) -> None: ...


class ServerHandle:
    """A running test server: its app object, URL, token and aiohttp application."""

    def __init__(self, app: CoreServerApp, url: str, web_app: Any) -> None:
        self.app = app
        self.url = url  # ends with base_url, e.g. http://127.0.0.1:41234/
        self.web_app = web_app
        assert app.authenticator is not None
        self.token = app.authenticator.token

    def ws_url(self, path: str) -> str:
        """Return the websocket URL of an API path relative to ``base_url``."""
        return "ws" + self.url[len("http") :] + path.lstrip("/")


class ServerClient:
    """An authenticated aiohttp client whose paths are relative to the server's ``base_url``."""

    def __init__(self, server: ServerHandle, session: aiohttp.ClientSession) -> None:
        self.server = server
        self.session = session

    def url(self, path: str) -> str:
        return self.server.url + path.lstrip("/")

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        return self.session.request(method, self.url(path), **kwargs)

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> Any:
        return self.request("POST", path, **kwargs)

    def patch(self, path: str, **kwargs: Any) -> Any:
        return self.request("PATCH", path, **kwargs)

    def put(self, path: str, **kwargs: Any) -> Any:
        return self.request("PUT", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> Any:
        return self.request("DELETE", path, **kwargs)

    def ws_connect(self, path: str, **kwargs: Any) -> Any:
        return self.session.ws_connect(self.server.ws_url(path), **kwargs)


@pytest.fixture
def jcs_isolated_paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    """Point every Jupyter config level and the runtime dir at fresh folders under ``tmp_path``."""
    dirs = {name: tmp_path / "jupyter" / name for name in ("user", "sys-prefix", "system", "runtime")}
    for directory in dirs.values():
        directory.mkdir(parents=True)
    monkeypatch.setenv("JUPYTER_CONFIG_DIR", str(dirs["user"]))
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(dirs["runtime"]))
    monkeypatch.delenv("JUPYTER_CONFIG_PATH", raising=False)
    monkeypatch.delenv("JUPYTER_TOKEN", raising=False)
    monkeypatch.delenv("JUPYTER_TOKEN_FILE", raising=False)
    monkeypatch.setattr(paths, "ENV_CONFIG_PATH", [str(dirs["sys-prefix"])])
    monkeypatch.setattr(paths, "SYSTEM_CONFIG_PATH", [str(dirs["system"])])
    return dirs


@pytest.fixture
def jcs_config(tmp_path: Path, request: pytest.FixtureRequest) -> Config:
    """The server's config; change it in a test before ``jcs_server`` starts.

    Or parametrize it indirectly with the sections to set::

        @pytest.mark.parametrize("jcs_config", [{"CoreServerApp": {"debug": True}}], indirect=True)
    """
    root = tmp_path / "root"
    root.mkdir(exist_ok=True)
    config = Config()
    config.CoreServerApp.ip = "127.0.0.1"
    config.CoreServerApp.port = 0
    config.CoreServerApp.root_dir = str(root)
    config.CoreServerApp.strict_plugins = True
    config.Authenticator.token = secrets.token_hex(16)
    for section, values in getattr(request, "param", {}).items():
        for name, value in values.items():
            config[section][name] = value
    return config


# -- which plugins -------------------------------------------------------------------------------


def make_plugin_manager(
    enabled: Iterable[str] | None = None, *, disabled: Iterable[str] = (), strict: bool = True
) -> PluginManager:
    """Build a plugin manager from the installed entry points, restricted to some names.

    The core's built-in plugins are always on. Nothing is imported yet: the server loads
    the enabled plugins when it starts. Call it where the Jupyter config levels are
    isolated (a fixture that depends on ``jcs_isolated_paths``), since the levels are
    read here.

    :param enabled: Names of installed plugins to load; ``None`` loads every installed one.
        A name that no installed distribution provides is an error.
    :param disabled: Names of installed plugins to leave out (ignored when not installed).
    :param strict: Re-raise a plugin's failure to load or start instead of recording it.
    :raises ValueError: When ``enabled`` names a plugin that is not installed.
    """
    if isinstance(enabled, str):  # one name, not its letters
        enabled = [enabled]
    if isinstance(disabled, str):
        disabled = [disabled]
    installed = {ep.name for ep in entry_points(group=ENTRY_POINT_GROUP)}
    wanted = set(installed if enabled is None else enabled)
    missing = sorted(wanted - installed)
    if missing:
        raise ValueError(f"plugin(s) not installed: {', '.join(missing)} (installed: {', '.join(sorted(installed))})")
    wanted -= set(disabled)
    pm = PluginManager(strict=strict)
    pm.discover({name: name in wanted for name in installed})
    return pm


@pytest.fixture
def jcs_enabled_plugins(request: pytest.FixtureRequest) -> Collection[str] | None:
    """Names of the installed plugins the test server loads besides the built-ins; ``None``: all of them.

    Parametrize it indirectly for one test, or override it in a ``conftest.py`` to test
    a plugin with only what it needs (reading ``request.param`` keeps the former working)::

        @pytest.mark.parametrize("jcs_enabled_plugins", [{"contents"}], indirect=True)

        @pytest.fixture
        def jcs_enabled_plugins(request):
            return getattr(request, "param", {"contents", "hello"})
    """
    names: Collection[str] | None = getattr(request, "param", None)
    return names


@pytest.fixture
def jcs_plugin_manager(
    jcs_isolated_paths: dict[str, Path], jcs_enabled_plugins: Collection[str] | None
) -> PluginManager:
    """The plugin manager of the test server: the built-ins and ``jcs_enabled_plugins``, strict about failures."""
    return make_plugin_manager(jcs_enabled_plugins)


@pytest.fixture
def jcs_register_plugin(jcs_plugin_manager: PluginManager) -> RegisterPlugin:
    """Register an in-test plugin object (a class instance or module with ``@hookimpl``s)."""

    def register(plugin: object, name: str) -> None:
        jcs_plugin_manager.register_object(plugin, name)

    return register


@contextlib.asynccontextmanager
async def run_server(config: Config, plugin_manager: PluginManager) -> AsyncIterator[ServerHandle]:
    """Start a real server in the running event loop; stop it, plugins' clean-up included, on exit.

    ``jcs_server`` uses this; call it directly to test start-up errors or what happens at shutdown.
    """
    app = CoreServerApp(config=config)
    plugin_manager.load_enabled()
    app.initialize([], plugin_manager=plugin_manager)
    runner, url = await start(app)
    try:
        yield ServerHandle(app, url, runner.app)
    finally:
        await runner.cleanup()


@pytest_asyncio.fixture
async def jcs_server(jcs_config: Config, jcs_plugin_manager: PluginManager) -> AsyncIterator[ServerHandle]:
    """A real server on 127.0.0.1 at a free port; stopped (kernels included) after the test."""
    async with run_server(jcs_config, jcs_plugin_manager) as server:
        yield server


@pytest_asyncio.fixture
async def jcs_client(jcs_server: ServerHandle) -> AsyncIterator[ServerClient]:
    """An aiohttp client authenticated with the server's token."""
    headers = {"Authorization": f"token {jcs_server.token}"}
    async with aiohttp.ClientSession(headers=headers) as session:
        yield ServerClient(jcs_server, session)


# -- kernels over the websocket (the client lives in kernel_client) ---------------------------


@pytest_asyncio.fixture
async def jcs_kernel(jcs_client: ServerClient, request: pytest.FixtureRequest) -> AsyncIterator[str]:
    """The id of a kernel started through ``POST api/kernels``; shut down after the test.

    The server's default kernel, or parametrize the request body indirectly::

        @pytest.mark.parametrize("jcs_kernel", [{"name": "python3", "path": "sub"}], indirect=True)
    """
    kernel_id = await start_kernel(jcs_client, **getattr(request, "param", {}))
    try:
        yield kernel_id
    finally:
        await shutdown_kernel(jcs_client, kernel_id)


@pytest_asyncio.fixture
async def jcs_kernel_client(
    jcs_client: ServerClient, jcs_kernel: str, request: pytest.FixtureRequest
) -> AsyncIterator[KernelChannels]:
    """A websocket client of ``jcs_kernel`` in the v1 framing; closed after the test.

    Parametrize it indirectly for the other framing, or both::

        @pytest.mark.parametrize("jcs_kernel_client", KERNEL_FRAMINGS, indirect=True)
    """
    async with open_kernel_channels(jcs_client, jcs_kernel, getattr(request, "param", "v1")) as channels:
        yield channels


# -- the command line, as a subprocess ------------------------------------------------------------

_BANNER_URL = re.compile(r"^\s+((?:https?|http\+unix)://\S+?/)(?:\?token=(\S+))?$", re.MULTILINE)


def server_command() -> list[str]:
    """Return the ``jupyter-core-server`` command of the running Python environment."""
    script = Path(sys.executable).with_name("jupyter-core-server")
    return [str(script)] if script.exists() else [sys.executable, "-m", "jupyter_core_server"]


class ServerProcess:
    """A ``jupyter-core-server`` subprocess started by a test, and what its start-up banner said.

    :param command: The full command line (see :func:`server_command`).
    :param env: Its environment; ``jcs_cli_env`` isolates the Jupyter directories.
    :param cwd: Its working directory, the server's default root directory.
    :param start_timeout: Seconds to wait for the banner before giving up (and stopping it).
    """

    def __init__(self, command: Sequence[str], env: Mapping[str, str], cwd: Path, start_timeout: float = 60) -> None:
        self.env = dict(env)
        self.process = subprocess.Popen(
            list(command), env=self.env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        self._lines: queue.Queue[str | None] = queue.Queue()
        self._stderr: list[str] = []
        self.stdout = ""
        self._pumps = [
            threading.Thread(target=self._pump, args=(self.process.stdout, self._lines.put), daemon=True),
            threading.Thread(target=self._pump, args=(self.process.stderr, self._stderr.append), daemon=True),
        ]
        for pump in self._pumps:
            pump.start()
        self.url, self.token = self._wait_for_banner(start_timeout)

    @staticmethod
    def _pump(stream: IO[str] | None, sink: Callable[[str | None], None]) -> None:
        assert stream is not None
        for line in stream:
            sink(line)
        sink(None)

    def _next_line(self, timeout: float) -> str | None:
        line = self._lines.get(timeout=timeout)
        if line is not None:
            self.stdout += line
        return line

    def _wait_for_banner(self, timeout: float) -> tuple[str, str]:
        deadline = time.monotonic() + timeout
        try:
            while self._next_line(max(0.0, deadline - time.monotonic())) is not None:
                match = _BANNER_URL.search(self.stdout)
                if match and "Plugins:" in self.stdout:
                    with contextlib.suppress(queue.Empty):  # the rest of the banner, printed at once
                        while self._next_line(0.3) is not None:
                            pass
                    return match.group(1), match.group(2) or ""
        except queue.Empty:
            pass
        self.stop()
        raise AssertionError(f"no start-up banner within {timeout}s; stdout:\n{self.stdout}\nstderr:\n{self.stderr}")

    @property
    def stderr(self) -> str:
        """Everything the process wrote to stderr so far (all of it once it has exited)."""
        return "".join(line for line in self._stderr if line)

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def port(self) -> int:
        """The TCP port from the banner's URL (0 for a Unix socket)."""
        match = re.match(r"https?://[^/]*:(\d+)/", self.url)
        return int(match.group(1)) if match else 0

    @property
    def runtime_file(self) -> Path:
        """The file ``jupyter-core-server list`` reads; it exists while the server runs."""
        return Path(self.env["JUPYTER_RUNTIME_DIR"]) / f"jpcoreserver-{self.pid}.json"

    def get(self, path: str, token: str | None = None, context: ssl.SSLContext | None = None) -> tuple[int, bytes]:
        """GET a path relative to the server's URL; return the status and body."""
        headers = {"Authorization": f"token {token}"} if token else {}
        request = urllib.request.Request(self.url + path.lstrip("/"), headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=10, context=context) as response:
                return int(response.status), response.read()
        except urllib.error.HTTPError as error:
            with error:
                return error.code, error.read()

    def send_signal(self, sig: signal.Signals) -> None:
        self.process.send_signal(sig)

    def wait(self, timeout: float = 30) -> int:
        """Wait for the process to exit and collect all its output; return its exit code."""
        code = self.process.wait(timeout=timeout)
        self._close()
        return code

    def stop(self, timeout: float = 30) -> None:
        """End this process if it still runs: SIGTERM, then SIGKILL after ``timeout`` seconds."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=timeout)
        self._close()

    def _close(self) -> None:
        for pump in self._pumps:
            pump.join(timeout=10)
        while not self._lines.empty():
            self.stdout += self._lines.get() or ""
        for stream in (self.process.stdout, self.process.stderr):
            if stream is not None:
                stream.close()


class CliServer(Protocol):
    """``jcs_cli_server(*args, command=None, env=None)``: start ``jupyter-core-server --port 0 *args``."""

    def __call__(
        self, *args: str, command: Sequence[str] | None = None, env: Mapping[str, str] | None = None
    ) -> ServerProcess: ...


@pytest.fixture
def jcs_cli_env(tmp_path: Path) -> dict[str, str]:
    """The environment for ``jupyter-core-server`` subprocesses: config and runtime dirs under ``tmp_path``.

    Other ``JUPYTER_*`` variables (a token, extra config paths) are left out.
    """
    env = {key: value for key, value in os.environ.items() if not key.startswith("JUPYTER_")}
    env["JUPYTER_CONFIG_DIR"] = str(tmp_path / "cli" / "config")
    env["JUPYTER_RUNTIME_DIR"] = str(tmp_path / "cli" / "runtime")
    env["JUPYTER_PLATFORM_DIRS"] = "1"
    env["PYTHONUNBUFFERED"] = "1"
    return env


@pytest.fixture
def jcs_cli_server(jcs_cli_env: dict[str, str], tmp_path: Path) -> Iterator[CliServer]:
    """Start ``jupyter-core-server --port 0`` (plus arguments) in ``tmp_path/root``; stop each after the test."""
    root = tmp_path / "root"
    root.mkdir(exist_ok=True)
    started: list[ServerProcess] = []

    def start(*args: str, command: Sequence[str] | None = None, env: Mapping[str, str] | None = None) -> ServerProcess:
        full = [*(command or server_command()), "--port", "0", *args]
        server = ServerProcess(full, {**jcs_cli_env, **(env or {})}, root)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()
