"""The plugin loads through its entry point; disabled (or not installed), it is not even imported."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

from importlib_metadata import entry_points
from jupyter_core_server.openapi import unmatched_routes
from jupyter_core_server.plugins import ENTRY_POINT_GROUP
from jupyter_core_server.pytest_plugin import server_command
from openapi_spec_validator import validate

import jupyter_core_server_contents


def test_entry_point_names_the_plugin_module() -> None:
    (ep,) = [ep for ep in entry_points(group=ENTRY_POINT_GROUP) if ep.name == "contents"]
    assert ep.value == "jupyter_core_server_contents.plugin"
    assert ep.dist is not None and ep.dist.name == "jupyter-core-server-contents"


async def test_plugin_is_loaded_and_serves(jcs_client) -> None:
    async with jcs_client.get("api/plugins") as response:
        plugins = {plugin["name"]: plugin for plugin in await response.json()}
    contents = plugins["contents"]
    assert contents["state"] == "enabled" and not contents["builtin"]
    assert contents["distribution"] == "jupyter-core-server-contents"
    assert contents["version"] == jupyter_core_server_contents.__version__
    assert "GET /api/contents/{path:.*}" in contents["routes"] and "GET /files/{path:.+}" in contents["routes"]
    async with jcs_client.get("api/contents") as response:
        assert response.status == 200


async def test_every_route_is_documented_and_the_spec_is_valid(jcs_server) -> None:
    undocumented, unrouted = unmatched_routes(jcs_server.web_app, jcs_server.app.openapi)
    ours = {route for route in undocumented | unrouted if "/contents" in route or "/files" in route}
    assert not ours
    validate(jcs_server.app.openapi)
    assert "/api/contents/{path}/checkpoints/{checkpoint_id}" in jcs_server.app.openapi["paths"]


def run_cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*server_command(), *args], env=env, capture_output=True, text=True, timeout=60, check=False)


def test_disabled_plugin_is_not_imported_and_its_routes_are_gone(
    jcs_cli_env: dict[str, str], jcs_cli_server, tmp_path: Path
) -> None:
    result = run_cli(jcs_cli_env, "plugin", "disable", "contents", "--user")
    assert result.returncode == 0, result.stderr
    written = list((Path(jcs_cli_env["JUPYTER_CONFIG_DIR"]) / "jupyter_core_server_config.d").glob("*.json"))
    assert written and json.loads(written[0].read_text())["CoreServerApp"]["plugins"]["contents"] is False

    listing = run_cli(jcs_cli_env, "plugin", "list")
    assert any(line.split()[:1] == ["contents"] and "disabled" in line for line in listing.stdout.splitlines()), (
        listing.stdout
    )

    # a server assembled from that configuration never imports the module
    probe = textwrap.dedent(
        """
        import sys
        from jupyter_core_server.app import CoreServerApp
        app = CoreServerApp()
        app.initialize(["--port", "0"])
        app.make_app()
        print("imported" if "jupyter_core_server_contents" in sys.modules else "not imported")
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], env=jcs_cli_env, capture_output=True, text=True, timeout=60, check=False
    )
    assert out.stdout.strip() == "not imported", out.stderr

    server = jcs_cli_server()
    for path in ("api/contents", "api/contents/x.txt", "files/x.txt"):
        status, _ = server.get(path, token=server.token)
        assert status == 404, path
    status, body = server.get("api/plugins", token=server.token)
    assert {p["name"]: p["state"] for p in json.loads(body)}["contents"] == "disabled"

    result = run_cli(jcs_cli_env, "plugin", "enable", "contents", "--user")
    assert result.returncode == 0
    server = jcs_cli_server()
    status, _ = server.get("api/contents", token=server.token)
    assert status == 200
