"""The terminals plugin's tests run real shells on real ptys, in real servers on 127.0.0.1.

Servers load the core's built-in plugins and this one; any other plugin installed in
the environment is disabled, so that its failure cannot fail these tests.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from importlib_metadata import entry_points
from jupyter_core_server.plugins import ENTRY_POINT_GROUP, PluginManager

pytest_plugins = ["jupyter_core_server.pytest_plugin"]


def others_off() -> dict[str, bool]:
    """Plugin settings that disable every installed plugin but this one."""
    return {ep.name: False for ep in entry_points(group=ENTRY_POINT_GROUP) if ep.name != "terminals"}


@pytest.fixture
def jcs_plugin_manager(jcs_isolated_paths: dict[str, Path]) -> PluginManager:
    """A strict plugin manager with the built-in plugins and ``terminals``."""
    pm = PluginManager(strict=True)
    pm.discover(others_off())
    return pm


@pytest.fixture
def jcs_cli_env(jcs_cli_env: dict[str, str]) -> dict[str, str]:
    """The CLI's isolated environment, with every other installed plugin disabled at the user level."""
    config_d = Path(jcs_cli_env["JUPYTER_CONFIG_DIR"]) / "jupyter_core_server_config.d"
    config_d.mkdir(parents=True, exist_ok=True)
    (config_d / "others-off.json").write_text(json.dumps({"CoreServerApp": {"plugins": others_off()}}))
    return jcs_cli_env
