"""The plugin: loaded through its entry point, switched off by the CLI or by config, documented."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import aiohttp
import pytest
from importlib_metadata import entry_points
from jupyter_core_server.openapi import openapi_path, unmatched_routes
from jupyter_core_server.plugins import ENTRY_POINT_GROUP, PluginManager
from jupyter_core_server.pytest_plugin import CliServer, ServerClient, ServerHandle, run_server, server_command
from openapi_spec_validator import validate
from traitlets.config import Config

import jupyter_core_server_terminals
from jupyter_core_server_terminals import plugin

TERMINAL_ROUTES = {
    "GET /api/terminals",
    "POST /api/terminals",
    "GET /api/terminals/{name}",
    "DELETE /api/terminals/{name}",
    "GET /terminals/websocket/{name}",
}


def test_entry_point() -> None:
    (ep,) = [ep for ep in entry_points(group=ENTRY_POINT_GROUP) if ep.name == "terminals"]
    assert ep.value == "jupyter_core_server_terminals.plugin"
    assert ep.dist is not None and ep.dist.name == "jupyter-core-server-terminals"
    assert ep.dist.version == jupyter_core_server_terminals.__version__
    assert ep.load() is plugin


async def test_loaded_through_its_entry_point(jcs_client: ServerClient) -> None:
    async with jcs_client.get("api/plugins") as response:
        records = {r["name"]: r for r in await response.json()}
    record = records["terminals"]
    assert record["state"] == "enabled" and not record["builtin"] and record["error"] is None
    assert record["distribution"] == "jupyter-core-server-terminals"
    assert record["version"] == jupyter_core_server_terminals.__version__
    assert {openapi_path(route) for route in record["routes"]} == TERMINAL_ROUTES


async def test_spec_describes_exactly_the_routes(jcs_server: ServerHandle, jcs_client: ServerClient) -> None:
    async with jcs_client.get("api/spec.json") as response:
        spec = await response.json()
    validate(spec)
    undocumented, unrouted = unmatched_routes(jcs_server.web_app, spec)
    assert (undocumented, unrouted) == (set(), set())
    documented = {f"{m.upper()} {p}" for p, item in spec["paths"].items() for m in item if m != "parameters"}
    assert documented >= TERMINAL_ROUTES


@pytest.mark.parametrize("jcs_config", [{"TerminalManager": {"enabled": False}}], indirect=True)
async def test_switched_off_by_config(jcs_client: ServerClient) -> None:
    for method, path in (("GET", "api/terminals"), ("POST", "api/terminals"), ("GET", "terminals/websocket/1")):
        async with jcs_client.request(method, path) as response:
            assert response.status == 404, (method, path)
    async with jcs_client.get("api/spec.json") as response:
        assert not [p for p in (await response.json())["paths"] if "terminals" in p]
    async with jcs_client.get("api/plugins") as response:
        record = {r["name"]: r for r in await response.json()}["terminals"]
    assert record["state"] == "enabled" and record["routes"] == []


async def test_refused_without_ptys(
    monkeypatch: pytest.MonkeyPatch, jcs_config: Config, jcs_plugin_manager: PluginManager
) -> None:
    # a container without /dev/pts: opening a pty fails with the system's error
    def no_pty() -> tuple[int, int]:
        raise FileNotFoundError(2, "No such file or directory", "/dev/ptmx")

    monkeypatch.setattr(os, "openpty", no_pty)
    async with run_server(jcs_config, jcs_plugin_manager) as server, aiohttp.ClientSession() as session:
        headers = {"Authorization": f"token {server.token}"}
        for method, path in (("GET", "api/terminals"), ("POST", "api/terminals"), ("GET", "terminals/websocket/1")):
            async with session.request(method, server.url + path, headers=headers) as response:
                assert response.status == 503, (method, path)
                body = await response.json()
            assert body["reason"] == "terminals_unavailable"
            assert "pseudo-terminal" in body["message"] and "No such file or directory" in body["message"]


IMPORTED = textwrap.dedent(
    """
    import sys
    from jupyter_core_server.app import CoreServerApp
    app = CoreServerApp()
    app.initialize([])
    app.make_app()
    print(any(name.startswith("jupyter_core_server_terminals") for name in sys.modules))
    """
)


def test_disabled_plugin_is_neither_imported_nor_routed(jcs_cli_env: dict[str, str], jcs_cli_server: CliServer) -> None:
    def imported() -> bool:
        out = subprocess.run(
            [sys.executable, "-c", IMPORTED], env=jcs_cli_env, capture_output=True, text=True, timeout=60, check=False
        )
        assert out.returncode == 0, out.stderr
        return out.stdout.strip() == "True"

    assert imported(), "the check must see the plugin when it is enabled"
    done = subprocess.run(
        [*server_command(), "plugin", "disable", "terminals", "--user"],
        env=jcs_cli_env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert not imported()

    server = jcs_cli_server()
    assert "terminals 0.1.0 [disabled" in server.stdout
    status, body = server.get("api/terminals", token=server.token)
    assert status == 404
    assert server.get("terminals/websocket/1", token=server.token)[0] == 404
    status, body = server.get("api/plugins", token=server.token)
    record = {r["name"]: r for r in json.loads(body)}["terminals"]
    assert (record["state"], record["level"], record["import_ms"], record["routes"]) == ("disabled", "user", None, [])
