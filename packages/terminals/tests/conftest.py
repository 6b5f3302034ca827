"""The terminals plugin's tests run real shells on real ptys, in real servers on 127.0.0.1.

Servers load the core's built-in plugins and this one; any other plugin installed in
the environment is disabled, so that its failure cannot fail these tests. Terminals
run bash (else sh) without the user's profile and rc files, whose start-up time and
side effects vary from machine to machine; the default login shell has tests of its own.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from importlib_metadata import entry_points
from jupyter_core_server.plugins import ENTRY_POINT_GROUP
from traitlets.config import Config

pytest_plugins = ["jupyter_core_server.pytest_plugin"]

_BASH = shutil.which("bash")
#: The shell of test terminals: predictable and quick to start.
TEST_SHELL = [_BASH, "--noprofile", "--norc"] if _BASH else ["/bin/sh"]


def others_off() -> dict[str, bool]:
    """Plugin settings that disable every installed plugin but this one."""
    return {ep.name: False for ep in entry_points(group=ENTRY_POINT_GROUP) if ep.name != "terminals"}


@pytest.fixture
def jcs_enabled_plugins() -> set[str]:
    """The built-in plugins and ``terminals``."""
    return {"terminals"}


@pytest.fixture
def jcs_config(jcs_config: Config) -> Config:
    """The in-process server's config, with :data:`TEST_SHELL` unless a test names a shell."""
    if "shell_command" not in jcs_config.TerminalManager:
        jcs_config.TerminalManager.shell_command = TEST_SHELL
    return jcs_config


@pytest.fixture
def jcs_cli_env(jcs_cli_env: dict[str, str]) -> dict[str, str]:
    """The CLI's isolated environment: :data:`TEST_SHELL`, every other installed plugin disabled."""
    config_dir = Path(jcs_cli_env["JUPYTER_CONFIG_DIR"])
    config_d = config_dir / "jupyter_core_server_config.d"
    config_d.mkdir(parents=True, exist_ok=True)
    (config_d / "others-off.json").write_text(json.dumps({"CoreServerApp": {"plugins": others_off()}}))
    settings = {"TerminalManager": {"shell_command": TEST_SHELL}}
    (config_dir / "jupyter_core_server_config.json").write_text(json.dumps(settings))
    return jcs_cli_env
