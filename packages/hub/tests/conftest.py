"""The hub plugin's tests: a real JupyterHub with its real proxy spawning real servers, plus in-process servers.

Servers load the core's built-in plugins and this one (and, where a test says so, the
terminals plugin); any other installed plugin is disabled, so that its failure cannot
fail these tests. The JupyterHub proxy, configurable-http-proxy, is a Node.js program:
it is used from ``PATH`` when there, else installed once from the npm registry into
pytest's cache folder.
"""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest
from importlib_metadata import entry_points
from jupyter_core_server.plugins import ENTRY_POINT_GROUP

pytest_plugins = ["jupyter_core_server.pytest_plugin"]

PROXY_PACKAGE = "configurable-http-proxy@5"


def others_off(keep: tuple[str, ...] = ("hub",)) -> dict[str, bool]:
    """Plugin settings that disable every installed plugin but ``keep``."""
    return {ep.name: False for ep in entry_points(group=ENTRY_POINT_GROUP) if ep.name not in keep}


@pytest.fixture
def jcs_enabled_plugins(request: pytest.FixtureRequest) -> set[str]:
    """The built-in plugins and ``hub``, unless a test parametrizes others."""
    enabled: set[str] = getattr(request, "param", {"hub"})
    return enabled


@pytest.fixture
def hub_env_clean(monkeypatch: pytest.MonkeyPatch) -> None:
    """Remove any ``JUPYTERHUB_*`` variable of the test run's own environment."""
    for name in list(os.environ):
        if name.startswith("JUPYTERHUB_") or name == "JPY_API_TOKEN":
            monkeypatch.delenv(name)


@pytest.fixture(scope="session")
def proxy_command(pytestconfig: pytest.Config, tmp_path_factory: pytest.TempPathFactory) -> str:
    """The ``configurable-http-proxy`` executable, installed from npm on first use."""
    found = shutil.which("configurable-http-proxy")
    if found:
        return found
    cache = getattr(pytestconfig, "cache", None)  # absent with -p no:cacheprovider
    prefix = cache.mkdir("configurable-http-proxy") if cache is not None else tmp_path_factory.mktemp("proxy")
    command = prefix / "node_modules" / ".bin" / "configurable-http-proxy"
    if not command.exists():
        npm = shutil.which("npm")
        if npm is None:
            pytest.fail("the JupyterHub tests need configurable-http-proxy: install Node.js and npm, or put it on PATH")
        subprocess.run(
            [npm, "install", "--no-audit", "--no-fund", "--prefix", str(prefix), PROXY_PACKAGE],
            check=True,
            timeout=600,
            stdout=subprocess.DEVNULL,
        )
    return str(command)
