"""The ``jupyter-core-server`` command, run as a real subprocess."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

import aiohttp
import pytest

from jupyter_core_server import __version__
from jupyter_core_server.pytest_plugin import CliServer, server_command

COMMAND = server_command()


@pytest.fixture
def env(jcs_cli_env: dict[str, str]) -> dict[str, str]:
    """Every subprocess's environment: config and runtime directories under tmp_path."""
    return jcs_cli_env


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """The servers' working directory, their default root directory."""
    directory = tmp_path / "root"
    directory.mkdir(exist_ok=True)
    return directory


@pytest.fixture
def start(jcs_cli_server: CliServer, root: Path) -> CliServer:
    """Start ``jupyter-core-server --port 0 ...`` in ``root``; each is stopped after the test."""
    return jcs_cli_server


def run(env: dict[str, str], *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Run a short-lived command (``--version``, ``plugin list`` ...) to completion."""
    return subprocess.run([*COMMAND, *args], env=env, capture_output=True, text=True, timeout=timeout, check=False)


# -- starting --------------------------------------------------------------------------------------


def test_banner_names_url_token_root_and_plugins(start, root: Path) -> None:
    server = start()
    assert server.url.startswith("http://127.0.0.1:") and server.port > 0
    assert len(server.token) >= 32
    assert f"Root directory: {root}" in server.stdout
    for name in ("api", "kernelspecs", "kernels", "sessions"):
        assert re.search(rf"^\s+{name} {re.escape(__version__)} \[enabled", server.stdout, re.MULTILINE), server.stdout
    assert server.get("api")[0] == 200
    assert server.get("api/status")[0] == 403
    assert server.get("api/status", server.token)[0] == 200
    assert server.token not in server.stderr


def test_base_url(start) -> None:
    server = start("--base-url", "/x/")
    assert server.url.endswith(f":{server.port}/x/")
    assert server.get("api") == (200, json.dumps({"version": __version__}).encode())
    assert server.get("api/status", server.token)[0] == 200
    server.url = server.url.replace("/x/", "/")
    assert server.get("api", server.token)[0] == 404


def test_root_dir_and_token_options(start, tmp_path: Path) -> None:
    other = tmp_path / "elsewhere"
    other.mkdir()
    server = start("--root-dir", str(other), "--token", "my-token")
    assert server.token == "my-token"
    assert f"Root directory: {other}" in server.stdout


def test_jupyter_token_from_the_environment(start) -> None:
    server = start(env={"JUPYTER_TOKEN": "from-env"})
    assert server.token == "from-env"
    assert server.get("api/status", "from-env")[0] == 200


def test_config_file_option(start, tmp_path: Path) -> None:
    config = tmp_path / "my_config.py"
    config.write_text("c.CoreServerApp.base_url = '/from-file/'\nc.Authenticator.token = 'file-token'\n")
    server = start("--config", str(config))
    assert server.url.endswith("/from-file/") and server.token == "file-token"


def test_debug_logs_requests_without_the_token(start) -> None:
    server = start("--debug")
    assert server.get(f"api/status?token={server.token}")[0] == 200
    assert server.get("nope", server.token)[0] == 404
    server.send_signal(signal.SIGTERM)
    assert server.wait() == 0
    assert "GET /api/status?token=[secret]" in server.stderr
    assert "404 GET /nope" in server.stderr
    assert server.token not in server.stderr


def test_refuses_remote_listening_without_auth(env: dict[str, str], root: Path) -> None:
    result = subprocess.run(
        [*COMMAND, "--ip", "0.0.0.0", "--port", "0", "--token="],
        env=env, cwd=root, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode != 0
    assert "Refusing to listen on 0.0.0.0 with authentication disabled" in result.stdout + result.stderr
    assert not list(Path(env["JUPYTER_RUNTIME_DIR"]).glob("jpcoreserver-*.json"))


def test_remote_listening_without_auth_when_explicitly_allowed(start) -> None:
    server = start("--ip", "0.0.0.0", "--token=", "--CoreServerApp.allow_unauthenticated_access_remote=True")
    assert "authentication is disabled" in server.stdout
    assert server.get("api/status")[0] == 200


# -- information -------------------------------------------------------------------------------------


def test_version(env: dict[str, str]) -> None:
    result = run(env, "--version")
    assert result.returncode == 0
    assert f"jupyter-core-server {__version__}" in result.stdout


def test_help_all_lists_configurables(env: dict[str, str]) -> None:
    result = run(env, "--help-all")
    assert result.returncode == 0
    assert "CoreServerApp" in result.stdout and "Authenticator" in result.stdout
    assert "--CoreServerApp.allow_origin" in result.stdout and "--Authenticator.token" in result.stdout


def test_generate_config_writes_into_the_config_dir(env: dict[str, str]) -> None:
    result = run(env, "--generate-config")
    assert result.returncode == 0, result.stderr
    written = Path(env["JUPYTER_CONFIG_DIR"]) / "jupyter_core_server_config.py"
    assert written.is_file()
    text = written.read_text()
    assert "c.CoreServerApp.port" in text and "c.Authenticator.token" in text


def test_show_config(env: dict[str, str]) -> None:
    result = run(env, "--show-config", "--CoreServerApp.shutdown_timeout=3")
    assert result.returncode == 0, result.stderr
    assert "shutdown_timeout" in result.stdout and "3" in result.stdout


BIN = Path(sys.executable).parent


@pytest.mark.skipif(shutil.which("jupyter", path=str(BIN)) is None, reason="jupyter_core's launcher is not installed")
def test_reachable_as_jupyter_subcommand(env: dict[str, str]) -> None:
    result = subprocess.run(
        [str(BIN / "jupyter"), "core-server", "--version"],
        env={**env, "PATH": f"{BIN}{os.pathsep}{env.get('PATH', '')}"},
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert f"jupyter-core-server {__version__}" in result.stdout


# -- plugin management ----------------------------------------------------------------------------------


def plugin_table(env: dict[str, str]) -> dict[str, dict]:
    result = run(env, "plugin", "list", "--json")
    assert result.returncode == 0, result.stderr
    return {p["name"]: p for p in json.loads(result.stdout)}


def test_plugin_disable_and_enable_at_user_level(env: dict[str, str]) -> None:
    before = plugin_table(env)["sessions"]
    assert (before["state"], before["level"], before["distribution"]) == ("enabled", "default", "jupyter-core-server")

    result = run(env, "plugin", "disable", "sessions", "--user")
    assert result.returncode == 0, result.stderr
    written = Path(env["JUPYTER_CONFIG_DIR"]) / "jupyter_core_server_config.d" / "plugin-sessions.json"
    assert str(written) in result.stdout and written.is_file()
    after = plugin_table(env)["sessions"]
    assert (after["state"], after["level"]) == ("disabled", "user")

    table = run(env, "plugin", "list").stdout
    assert re.search(
        rf"^sessions\s+jupyter-core-server\s+{re.escape(__version__)}\s+disabled\s+user\b", table, re.MULTILINE
    ), table

    assert run(env, "plugin", "enable", "sessions", "--user").returncode == 0
    again = plugin_table(env)["sessions"]
    assert (again["state"], again["level"]) == ("enabled", "user")


def test_disabled_plugin_is_not_served(env: dict[str, str], start) -> None:
    assert run(env, "plugin", "disable", "sessions", "--user").returncode == 0
    server = start()
    assert re.search(r"^\s+sessions \S+ \[disabled\]", server.stdout, re.MULTILINE), server.stdout
    assert server.get("api/sessions", server.token)[0] == 404


def test_essential_plugin_cannot_be_disabled(env: dict[str, str]) -> None:
    result = run(env, "plugin", "disable", "api", "--user")
    assert result.returncode == 1
    assert "essential" in result.stderr


def test_plugin_toggle_needs_a_name(env: dict[str, str]) -> None:
    result = run(env, "plugin", "disable", "--user")
    assert result.returncode == 1 and "Name the plugin" in result.stderr


# -- running servers ---------------------------------------------------------------------------------------


def test_list_and_stop(env: dict[str, str], start) -> None:
    assert "No running servers." in run(env, "list").stdout
    server = start()
    assert server.runtime_file.is_file()
    assert server.runtime_file.stat().st_mode & 0o777 == 0o600  # it holds the token
    listed = run(env, "list")
    assert listed.returncode == 0
    assert f"{server.url}?token={server.token}" in listed.stdout
    infos = [json.loads(line) for line in run(env, "list", "--json").stdout.splitlines()]
    assert [(i["pid"], i["port"]) for i in infos] == [(server.pid, server.port)]

    stopped = run(env, "stop", str(server.port))
    assert stopped.returncode == 0, stopped.stderr
    assert server.wait() == 0
    assert not server.runtime_file.exists()
    assert "No running servers." in run(env, "list").stdout


def test_stop_unknown_port(env: dict[str, str]) -> None:
    result = run(env, "stop", "1")
    assert result.returncode == 1 and "No running server on 1" in result.stderr


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_signal_shuts_down_cleanly(start, sig: signal.Signals) -> None:
    server = start()
    assert server.runtime_file.is_file()
    server.send_signal(sig)
    assert server.wait() == 0
    assert not server.runtime_file.exists()
    assert "Traceback" not in server.stderr


def test_post_shutdown_stops_the_server(start) -> None:
    server = start()
    request = urllib.request.Request(
        server.url + "api/shutdown", method="POST", headers={"Authorization": f"token {server.token}"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 202
    assert server.wait() == 0
    assert not server.runtime_file.exists()


# -- Unix socket and TLS ---------------------------------------------------------------------------------------


@pytest.mark.skipif(sys.platform == "win32", reason="Unix sockets")
async def test_unix_socket(start) -> None:
    with tempfile.TemporaryDirectory(prefix="jcs-") as directory:  # short: socket paths are limited to ~100 bytes
        sock = os.path.join(directory, "server.sock")
        server = start("--sock", sock, "--sock-mode", "0640")
        assert server.url.startswith("http+unix://")
        assert os.stat(sock).st_mode & 0o777 == 0o640
        connector = aiohttp.UnixConnector(path=sock)
        # no cookie jar: a token request sets the login cookie, and the second request must come without it
        async with aiohttp.ClientSession(connector=connector, cookie_jar=aiohttp.DummyCookieJar()) as session:
            async with session.get(
                "http://localhost/api/status", headers={"Authorization": f"token {server.token}"}
            ) as response:
                assert response.status == 200
            async with session.get("http://localhost/api/status") as response:
                assert response.status == 403
        infos = [json.loads(line) for line in run(server.env, "list", "--json").stdout.splitlines()]
        assert [i["sock"] for i in infos] == [sock]
        server.send_signal(signal.SIGTERM)
        assert server.wait() == 0
        assert not os.path.exists(sock)


@pytest.fixture
def certificate(tmp_path: Path) -> tuple[Path, Path]:
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("openssl is not installed")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    return cert, key


def test_tls(start, certificate: tuple[Path, Path]) -> None:
    cert, key = certificate
    server = start("--certfile", str(cert), "--keyfile", str(key))
    assert server.url.startswith("https://127.0.0.1:")
    context = ssl.create_default_context(cafile=str(cert))
    assert server.get("api/status", server.token, context=context)[0] == 200
    assert server.get("api", context=context)[0] == 200
    with pytest.raises(urllib.error.URLError):  # an unverified certificate is refused by a default client
        urllib.request.urlopen(server.url + "api", timeout=10)
    plain = server.url.replace("https://", "http://") + "api"
    with pytest.raises((urllib.error.URLError, ConnectionError, OSError)):
        urllib.request.urlopen(plain, timeout=10)
