"""A real server started on migrated configuration loads it cleanly and behaves as configured.

Each test migrates a fixture with the ``jupyter-core-server migrate`` command, then starts
``jupyter-core-server`` (no command-line options: everything comes from the migrated
files) and checks the settings' effects over HTTP.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import Filled, fill
from jupyter_core_server.kernels.manager import KernelService
from jupyter_core_server.pytest_plugin import ServerProcess, server_command


def run_migrate(env: dict[str, str], *args: str) -> str:
    command = [sys.executable, "-m", "jupyter_core_server", "migrate", *args]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def request(
    server: ServerProcess, method: str, path: str, token: str | None = None, **headers: str
) -> tuple[int, dict[str, str], Any]:
    if token:
        headers["Authorization"] = f"token {token}"
    body = b"{}" if method == "POST" else None
    req = urllib.request.Request(server.url + path.lstrip("/"), data=body, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=60) as response:
            raw = response.read()
            return int(response.status), dict(response.headers), json.loads(raw) if raw else None
    except urllib.error.HTTPError as error:
        with error:
            raw = error.read()
            return error.code, dict(error.headers), json.loads(raw) if raw else None


@pytest.fixture
def start(jcs_cli_env: dict[str, str], tmp_path: Path) -> Iterator[Any]:
    """Start ``jupyter-core-server`` with no options (in an empty working directory); stop it after the test."""
    started: list[ServerProcess] = []
    cwd = tmp_path / "cwd"
    cwd.mkdir()

    def run(env: dict[str, str]) -> ServerProcess:
        server = ServerProcess(server_command(), env, cwd)
        started.append(server)
        return server

    yield run
    for server in started:
        server.stop()


#: What the server answers a request without valid credentials (the core answers 403, as jupyter_server's API does).
REFUSED = (401, 403)


def assert_clean_log(server: ServerProcess) -> None:
    log = server.stderr
    assert "is not known" not in log, log
    assert "did you mean" not in log, log


def test_notebook_config_token_port_root_and_cors(jcs_cli_env: dict[str, str], start: Any, tmp_path: Path) -> None:
    config_dir = Path(jcs_cli_env["JUPYTER_CONFIG_DIR"])
    filled: Filled = fill("notebook", config_dir, tmp_path)
    (filled.root / "in-the-root.txt").write_text("here")
    run_migrate(jcs_cli_env)

    server = start(jcs_cli_env)
    assert server.port == filled.port
    assert server.token == filled.token
    assert request(server, "GET", "api/kernels")[0] in REFUSED
    assert request(server, "GET", "api/kernels", token="wrong")[0] in REFUSED
    assert request(server, "GET", "api/kernels", token=filled.token)[0] == 200
    status, _, listing = request(server, "GET", "api/contents", token=filled.token)
    assert status == 200
    assert [item["name"] for item in listing["content"]] == ["in-the-root.txt"]
    _, headers, _ = request(server, "GET", "api/status", token=filled.token, Origin="https://app.example.org")
    assert headers.get("Access-Control-Allow-Origin") == "https://app.example.org"
    assert headers.get("X-Frame-Options") == "DENY"  # tornado_settings['headers']
    _, headers, _ = request(server, "GET", "api/status", token=filled.token, Origin="https://evil.example.org")
    assert "Access-Control-Allow-Origin" not in headers
    assert not list(filled.marker_dir.iterdir())  # the old loop ran neither in the migration nor in the server
    server.stop()
    assert_clean_log(server)


def test_jupyter_server_config_culls_idle_kernels(jcs_cli_env: dict[str, str], start: Any, tmp_path: Path) -> None:
    if "cull_idle_timeout" not in KernelService.class_trait_names():
        pytest.skip("the installed core has no KernelService.cull_idle_timeout")
    config_dir = Path(jcs_cli_env["JUPYTER_CONFIG_DIR"])
    filled = fill("server", config_dir, tmp_path)
    run_migrate(jcs_cli_env)

    server = start(jcs_cli_env)
    assert server.port == filled.port
    token = filled.token
    assert request(server, "GET", "api/terminals", token=token)[0] == 404  # jupyter_server_terminals was disabled
    _, headers, _ = request(server, "GET", "api/status", token=token, Origin="https://lab.example.org")
    assert headers.get("Access-Control-Allow-Origin") == "https://lab.example.org"
    assert headers.get("Content-Security-Policy") == "frame-ancestors 'self' https://portal.example.org"
    status, _, kernel = request(server, "POST", "api/kernels", token=token)
    assert status == 201
    deadline = time.monotonic() + 60
    ids = [kernel["id"]]
    while kernel["id"] in ids and time.monotonic() < deadline:
        time.sleep(0.5)
        ids = [k["id"] for k in request(server, "GET", "api/kernels", token=token)[2]]
    assert kernel["id"] not in ids, "the idle kernel was not culled (cull_idle_timeout=2, cull_interval=1)"
    server.stop()
    assert_clean_log(server)


def test_kernel_gateway_config_and_max_kernels(jcs_cli_env: dict[str, str], start: Any, tmp_path: Path) -> None:
    if "max_kernels" not in KernelService.class_trait_names():
        pytest.skip("the installed core has no KernelService.max_kernels")
    config_dir = Path(jcs_cli_env["JUPYTER_CONFIG_DIR"])
    filled = fill("kernel_gateway", config_dir, tmp_path)
    output = run_migrate({**jcs_cli_env, "KG_MAX_KERNELS": "1", "KG_DEFAULT_KERNEL_NAME": "python3"}, "--kg-env")
    assert "KG_MAX_KERNELS" in output or "KernelGatewayApp.max_kernels -> KernelService.max_kernels" in output

    server = start(jcs_cli_env)  # the KG_* variables are not set for the server itself
    assert server.port == filled.port
    token = filled.token
    assert request(server, "GET", "api/kernels")[0] in REFUSED
    status, _, first = request(server, "POST", "api/kernels", token=token)
    assert status == 201 and first["name"] == "python3"
    status, headers, error = request(server, "POST", "api/kernels", token=token)
    assert status == 429, error
    assert "Retry-After" in headers
    assert request(server, "GET", "api/kernels", token=token)[0] == 200  # list_kernels from the config file
    server.stop()
    assert_clean_log(server)


def test_the_log_check_sees_unknown_options(jcs_cli_env: dict[str, str], start: Any) -> None:
    """The clean-log assertion above can fail: an unknown option is warned about on stderr."""
    config_dir = Path(jcs_cli_env["JUPYTER_CONFIG_DIR"])
    (config_dir / "jupyter_core_server_config.json").write_text(json.dumps({"CoreServerApp": {"port": 0, "prot": 1}}))
    server = start(jcs_cli_env)
    server.stop()
    with pytest.raises(AssertionError):
        assert_clean_log(server)
