"""pytest fixtures for testing plugins against a real server (opt-in).

Enable in a ``conftest.py``::

    pytest_plugins = ["jupyter_core_server.pytest_plugin"]

Fixtures start a real server on ``127.0.0.1`` at a free port, inside the test's event
loop, with every installed and enabled plugin plus any in-test plugin objects. Config
directories are isolated under ``tmp_path`` so the machine's settings do not leak in.
Requires ``pytest-asyncio``.
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, Protocol

import aiohttp
import pytest
import pytest_asyncio
from jupyter_core import paths
from traitlets.config import Config

from .app import CoreServerApp
from .plugins import PluginManager
from .serve import start

__all__ = ["RegisterPlugin", "ServerClient", "ServerHandle", "run_server"]


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


@pytest.fixture
def jcs_plugin_manager(jcs_isolated_paths: dict[str, Path]) -> PluginManager:
    """The plugin manager of the test server: installed plugins, strict about failures."""
    pm = PluginManager(strict=True)
    pm.discover()
    return pm


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
