"""Entry-point discovery, enable/disable and failure isolation with a really installed plugin.

Needs the test distribution ``tests/fixtures/jcs-demo-plugin`` installed (``nox -s tests-all``
does it): plugin ``demo`` serves ``GET /extension/api/demo/hello``, plugin ``broken``
raises ``ImportError`` when imported.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap

import aiohttp
import pytest
from importlib_metadata import PackageNotFoundError, version
from jupyter_core_server.openapi import unmatched_routes
from jupyter_core_server.plugins import PluginManager
from jupyter_core_server.pytest_plugin import run_server, server_command

try:
    DEMO_VERSION = version("jcs-demo-plugin")
except PackageNotFoundError:
    DEMO_VERSION = ""


@pytest.fixture
def demo_installed() -> None:
    if not DEMO_VERSION:
        pytest.fail("jcs-demo-plugin is not installed: pip install -e tests/fixtures/jcs-demo-plugin", pytrace=False)


pytestmark = pytest.mark.usefixtures("demo_installed")

# What a fresh process sees after discovery and loading, decided by the config it finds.
PROBE = textwrap.dedent(
    """
    import json, sys
    from jupyter_core_server.plugins import PluginManager
    pm = PluginManager()
    pm.discover()
    pm.load_enabled()
    demo = pm.records["demo"]
    print(json.dumps({
        "imported": "jcs_demo_plugin.plugin" in sys.modules,
        "registered": pm.has_plugin("demo"),
        "state": demo.state,
        "level": demo.level,
    }))
    """
)


def cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*server_command(), *args], env=env, capture_output=True, text=True, timeout=60, check=False)


def probe(env: dict[str, str]) -> dict[str, object]:
    result = subprocess.run(
        [sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_discovery_finds_both_plugins_with_their_distribution(jcs_isolated_paths) -> None:
    pm = PluginManager()
    pm.discover()
    for name in ("demo", "broken"):
        record = pm.records[name]
        assert (record.distribution, record.version, record.builtin) == ("jcs-demo-plugin", DEMO_VERSION, False)
        assert (record.state, record.level) == ("enabled", "default")
    assert pm.records["demo"].import_ms is None and not pm.has_plugin("demo")  # discovery imports nothing


async def test_broken_plugin_is_recorded_and_the_server_starts(jcs_isolated_paths, jcs_config) -> None:
    pm = PluginManager()  # not strict: a real server's behaviour
    pm.discover()
    async with run_server(jcs_config, pm) as server:
        broken = pm.records["broken"]
        assert broken.state == "failed"
        assert "ImportError" in broken.error and "broken on purpose" in broken.error
        assert isinstance(broken.import_ms, float)
        assert pm.records["demo"].state == "enabled" and isinstance(pm.records["demo"].import_ms, float)
        async with aiohttp.ClientSession() as anonymous:
            async with anonymous.get(server.url + "extension/api/demo/hello") as response:
                assert response.status == 403
            async with anonymous.get(server.url + "api/ready") as response:
                # an enabled plugin that is not set up: up, but not ready
                assert response.status == 503
                assert await response.json() == {"ready": False, "failed": ["broken"], "pool_filled": True}
        async with aiohttp.ClientSession(headers={"Authorization": f"token {server.token}"}) as session:
            async with session.get(server.url + "extension/api/demo/hello") as response:
                assert response.status == 200
                assert await response.json() == {"hello": "demo"}
            async with session.get(server.url + "api/plugins") as response:
                plugins = {p["name"]: p for p in await response.json()}
            async with session.get(server.url + "api/spec.json") as response:
                spec = await response.json()
        assert plugins["broken"]["state"] == "failed" and plugins["demo"]["version"] == DEMO_VERSION
        assert "/extension/api/demo/hello" in spec["paths"]
        assert unmatched_routes(server.web_app, spec) == (set(), set())


def test_cli_reports_the_broken_plugin_and_serves_the_demo(jcs_cli_server) -> None:
    server = jcs_cli_server()
    assert re.search(
        rf"^\s+broken {re.escape(DEMO_VERSION)} \[failed.*broken on purpose", server.stdout, re.MULTILINE
    ), server.stdout
    assert re.search(rf"^\s+demo {re.escape(DEMO_VERSION)} \[enabled", server.stdout, re.MULTILINE)
    assert server.get("extension/api/demo/hello")[0] == 403
    assert server.get("extension/api/demo/hello", server.token) == (200, b'{"hello": "demo"}')


def test_disabled_plugin_is_never_imported(jcs_cli_env) -> None:
    assert probe(jcs_cli_env) == {"imported": True, "registered": True, "state": "enabled", "level": "default"}

    result = cli(jcs_cli_env, "plugin", "disable", "demo", "--user")
    assert result.returncode == 0, result.stderr
    assert probe(jcs_cli_env) == {"imported": False, "registered": False, "state": "disabled", "level": "user"}
    listed = cli(jcs_cli_env, "plugin", "list").stdout
    assert re.search(rf"^demo\s+jcs-demo-plugin\s+{re.escape(DEMO_VERSION)}\s+disabled\s+user", listed, re.MULTILINE), (
        listed
    )

    result = cli(jcs_cli_env, "plugin", "enable", "demo", "--user")
    assert result.returncode == 0, result.stderr
    assert probe(jcs_cli_env) == {"imported": True, "registered": True, "state": "enabled", "level": "user"}


def test_disabled_plugin_is_not_served(jcs_cli_env, jcs_cli_server) -> None:
    assert cli(jcs_cli_env, "plugin", "disable", "demo", "--user").returncode == 0
    server = jcs_cli_server()
    assert re.search(r"^\s+demo \S+ \[disabled\]", server.stdout, re.MULTILINE), server.stdout
    assert server.get("extension/api/demo/hello", server.token)[0] == 404


def test_disabling_the_broken_plugin_silences_it(jcs_cli_env, jcs_cli_server) -> None:
    assert cli(jcs_cli_env, "plugin", "disable", "broken", "--user").returncode == 0
    server = jcs_cli_server()
    assert re.search(r"^\s+broken \S+ \[disabled\]", server.stdout, re.MULTILINE), server.stdout
    assert "broken on purpose" not in server.stdout + server.stderr
    assert server.get("api/ready") == (200, b'{"ready": true, "failed": [], "pool_filled": true}')


def test_version_lists_the_plugins(jcs_cli_env) -> None:
    result = cli(jcs_cli_env, "--version")
    assert result.returncode == 0
    assert f"demo: jcs-demo-plugin {DEMO_VERSION} (enabled)" in result.stdout
    assert f"broken: jcs-demo-plugin {DEMO_VERSION} (failed)" in result.stdout
