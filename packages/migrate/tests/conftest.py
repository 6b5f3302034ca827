"""Fixtures of the migrate plugin's tests: old configuration files in isolated config dirs.

Fixture files under ``fixtures/`` are templates: ``@PORT@`` (quoted, so the files stay
valid JSON and Python), ``@TOKEN@``, ``@ROOT@`` and ``@MARKER_DIR@`` are filled in per
test. Servers started by these tests load the core's built-in plugins plus
``contents``, ``terminals`` and ``migrate``; any other installed plugin is disabled at
the ``env`` config level, so that the migrated files at the user level decide the rest.
"""

from __future__ import annotations

import json
import secrets
import shutil
import socket
from dataclasses import dataclass
from pathlib import Path

import pytest
from importlib_metadata import entry_points
from jupyter_core_server.plugins import ENTRY_POINT_GROUP

pytest_plugins = ["jupyter_core_server.pytest_plugin"]

FIXTURES = Path(__file__).parent / "fixtures"
#: Plugins the tests' servers may load besides the built-in ones.
TEST_PLUGINS = {"contents", "terminals", "migrate"}


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Filled:
    """The values a fixture template was filled with."""

    directory: Path
    port: int
    token: str
    root: Path
    marker_dir: Path


def fill(kind: str, directory: Path, tmp_path: Path) -> Filled:
    """Copy the ``kind`` fixture (``notebook``, ``server``, ``kernel_gateway``) into ``directory``, filled in."""
    values = Filled(directory, free_port(), secrets.token_hex(16), tmp_path / "served-root", tmp_path / "markers")
    values.root.mkdir(exist_ok=True)
    values.marker_dir.mkdir(exist_ok=True)
    shutil.copytree(FIXTURES / kind, directory, dirs_exist_ok=True)
    for path in directory.rglob("*"):
        if path.suffix in (".json", ".py") and path.is_file():
            text = path.read_text(encoding="utf-8")
            text = text.replace('"@PORT@"', str(values.port)).replace("@TOKEN@", values.token)
            text = text.replace("@ROOT@", str(values.root)).replace("@MARKER_DIR@", str(values.marker_dir))
            path.write_text(text, encoding="utf-8")
    return values


@pytest.fixture
def user_dir(jcs_isolated_paths: dict[str, Path]) -> Path:
    """The (isolated) user config directory, where the old files go."""
    return jcs_isolated_paths["user"]


@pytest.fixture
def jcs_cli_env(jcs_cli_env: dict[str, str], tmp_path: Path) -> dict[str, str]:
    """The CLI's isolated environment, with every plugin but :data:`TEST_PLUGINS` disabled at the env level."""
    env_level = tmp_path / "cli" / "env-level"
    (env_level / "jupyter_core_server_config.d").mkdir(parents=True)
    off = {ep.name: False for ep in entry_points(group=ENTRY_POINT_GROUP) if ep.name not in TEST_PLUGINS}
    (env_level / "jupyter_core_server_config.d" / "others-off.json").write_text(
        json.dumps({"CoreServerApp": {"plugins": off}})
    )
    jcs_cli_env["JUPYTER_CONFIG_PATH"] = str(env_level)
    jcs_cli_env["JUPYTER_DATA_DIR"] = str(tmp_path / "cli" / "data")
    Path(jcs_cli_env["JUPYTER_CONFIG_DIR"]).mkdir(parents=True, exist_ok=True)
    return jcs_cli_env
