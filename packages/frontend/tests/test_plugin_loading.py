"""Loading: the entry point, the OpenAPI document, no server code of other frontends, clean disabling."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

from conftest import others_off
from importlib_metadata import entry_points
from jupyter_core_server.openapi import unmatched_routes
from jupyter_core_server.plugins import ENTRY_POINT_GROUP, PluginManager
from jupyter_core_server.pytest_plugin import run_server
from openapi_spec_validator import validate

FORBIDDEN = [
    "jupyter_server",
    "tornado",
    "jupyterlab_server",
    "jupyterlab",
    "notebook",
    "notebook_shim",
    "jupyter_server_terminals",
]


def test_entry_point_names_the_plugin_module() -> None:
    (ep,) = [ep for ep in entry_points(group=ENTRY_POINT_GROUP) if ep.name == "frontend"]
    assert ep.value == "jupyter_core_server_frontend.plugin"
    assert ep.dist is not None and ep.dist.name == "jupyter-core-server-frontend"


async def test_every_route_is_documented_and_the_spec_is_valid(jcs_server) -> None:
    undocumented, unrouted = unmatched_routes(jcs_server.web_app, jcs_server.app.openapi)
    assert not undocumented and not unrouted
    validate(jcs_server.app.openapi)


def loaded_modules(env: dict[str, str], root: Path, plugins: dict[str, bool], paths: tuple[str, ...]) -> list[str]:
    """Run a whole server in a fresh interpreter, GET ``paths``; return the forbidden modules it loaded."""
    probe = textwrap.dedent(
        f"""
        import asyncio, sys
        import aiohttp
        from traitlets.config import Config
        from jupyter_core_server.plugins import PluginManager
        from jupyter_core_server.pytest_plugin import run_server

        async def main():
            config = Config()
            config.CoreServerApp.port = 0
            config.CoreServerApp.root_dir = {str(root)!r}
            config.Authenticator.token = "t"
            pm = PluginManager(strict=True)
            pm.discover({plugins!r})
            async with run_server(config, pm) as server:
                async with aiohttp.ClientSession(headers={{"Authorization": "token t"}}) as session:
                    for path in {paths!r}:
                        async with session.get(server.url + path) as response:
                            assert response.status == 200, (path, response.status)
                server.app.openapi
            loaded = sorted(m for m in {FORBIDDEN!r} if m in sys.modules)
            print("LOADED", loaded)

        asyncio.run(main())
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert out.returncode == 0, out.stderr
    line = next(line for line in out.stdout.splitlines() if line.startswith("LOADED "))
    return list(json.loads(line[len("LOADED ") :].replace("'", '"')))


def test_serving_the_apps_imports_no_jupyter_server_tornado_or_app_code(
    jcs_cli_env: dict[str, str], tmp_path: Path
) -> None:
    pages = (
        "lab",
        "tree",
        "lab/api/settings",
        "lab/api/translations",
        "lab/api/translations/default",
        "lab/api/licenses",
        "lab/api/themes/@jupyterlab/theme-light-extension/index.css",
        "lab/api/extensions",
        "api/config/x",
    )
    with_frontend = loaded_modules(jcs_cli_env, tmp_path, others_off(), pages)
    # jupyter_client itself imports tornado; the frontend must add nothing to what the server loads anyway
    without = loaded_modules(jcs_cli_env, tmp_path, others_off({"contents", "terminals"}), ("api/contents",))
    assert set(with_frontend) <= set(without), with_frontend
    assert not {"jupyter_server", "jupyterlab_server", "jupyterlab", "notebook"} & set(with_frontend)


def run_cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    from jupyter_core_server.pytest_plugin import server_command

    return subprocess.run([*server_command(), *args], env=env, capture_output=True, text=True, timeout=60, check=False)


def test_disabled_plugin_is_not_imported_and_its_routes_are_gone(jcs_cli_env: dict[str, str], jcs_cli_server) -> None:
    config_d = Path(jcs_cli_env["JUPYTER_CONFIG_DIR"]) / "jupyter_core_server_config.d"
    config_d.mkdir(parents=True, exist_ok=True)
    (config_d / "others-off.json").write_text(json.dumps({"CoreServerApp": {"plugins": others_off()}}))
    server = jcs_cli_server()
    for path in ("lab", "lab/api/settings", "static/favicons/favicon.ico"):
        assert server.get(path, token=server.token)[0] == 200, path
    assert server.get("", token=server.token)[0] == 200  # followed the redirect to /lab
    server.stop()

    result = run_cli(jcs_cli_env, "plugin", "disable", "frontend", "--user")
    assert result.returncode == 0, result.stderr
    probe = (
        "import sys\n"
        "from jupyter_core_server.app import CoreServerApp\n"
        "app = CoreServerApp()\n"
        "app.initialize(['--port', '0'])\n"
        "app.make_app()\n"
        "print('imported' if 'jupyter_core_server_frontend.plugin' in sys.modules else 'not imported')"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], env=jcs_cli_env, capture_output=True, text=True, timeout=60, check=False
    )
    assert out.stdout.strip() == "not imported", out.stderr
    server = jcs_cli_server()
    for path in ("lab", "lab/api/settings", "tree", "api/config/x"):
        assert server.get(path, token=server.token)[0] == 404, path
    status, body = server.get("", token=server.token)
    assert status == 200 and b"Jupyter Core Server" in body  # the core's own root page again


async def test_without_contents_the_plugin_fails_with_a_clear_message(jcs_isolated_paths, jcs_config, caplog) -> None:
    pm = PluginManager(strict=False)
    pm.discover(others_off({"frontend", "terminals"}))
    async with run_server(jcs_config, pm) as server:
        record = pm.records["frontend"]
        assert record.state == "failed" and "requires plugin(s) contents" in (record.error or "")
        assert server.app.plugin_manager is pm
