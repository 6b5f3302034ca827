"""A fresh virtual environment with ``pip install packages/core`` alone serves a secure API.

This is the first acceptance check of the core: nothing but the core and its declared
dependencies (from PyPI), started through the installed ``jupyter-core-server`` script.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import venv
from pathlib import Path

import pytest
from jupyter_core_server import __version__

REPO = Path(__file__).resolve().parents[1]
INSTALL_TIMEOUT = 240


def venv_bin(environment: Path, name: str) -> Path:
    return environment / ("Scripts" if sys.platform == "win32" else "bin") / name


@pytest.fixture
def fresh_install(tmp_path: Path) -> Path:
    """A new virtual environment holding packages/core and its dependencies only; return its bin dir."""
    environment = tmp_path / "venv"
    venv.create(environment, with_pip=True, clear=True)
    pip = [str(venv_bin(environment, "python")), "-m", "pip", "--disable-pip-version-check", "--no-input"]
    result = subprocess.run(
        [*pip, "install", str(REPO / "packages" / "core")],
        capture_output=True,
        text=True,
        timeout=INSTALL_TIMEOUT,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return venv_bin(environment, "python").parent


@pytest.mark.slow
@pytest.mark.timeout(INSTALL_TIMEOUT + 120)
def test_core_alone_starts_and_guards_every_route(fresh_install: Path, jcs_cli_server) -> None:
    listed = subprocess.run(
        [str(fresh_install / "python"), "-m", "pip", "list", "--format=freeze"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    assert f"jupyter-core-server=={__version__}" in listed.replace("_", "-")
    assert "jcs-demo-plugin" not in listed.replace("_", "-")

    server = jcs_cli_server(command=[str(fresh_install / "jupyter-core-server")])
    assert server.url.startswith("http://127.0.0.1:") and server.token
    for name in ("api", "kernelspecs", "kernels", "sessions"):
        assert f"    {name} {__version__} [enabled" in server.stdout, server.stdout

    assert server.get("api")[0] == 200
    expectations = {"api/status": 200, "api/kernelspecs": 200, "api/kernels": 200, "api/sessions": 200, "nope": 404}
    for path, status in expectations.items():
        assert server.get(path)[0] == 403, path
        assert server.get(path, server.token)[0] == status, path
    assert server.get("api/status", "wrong-token")[0] == 403

    server.send_signal(signal.SIGTERM)
    assert server.wait() == 0
    assert not server.runtime_file.exists()
