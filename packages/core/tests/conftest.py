"""The core's tests use the same fixtures plugin authors get.

They test the core alone: whatever other plugins happen to be installed in the
environment (a developer's venv often holds them all) are disabled for the in-process
servers, so that a third-party plugin's failure cannot break a core test under strict
mode. Cross-package behaviour is tested in the repository's root ``tests/``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from importlib_metadata import entry_points

from jupyter_core_server.plugins import ENTRY_POINT_GROUP, PluginManager

pytest_plugins = ["jupyter_core_server.pytest_plugin"]


@pytest.fixture
def jcs_plugin_manager(jcs_isolated_paths: dict[str, Path]) -> PluginManager:
    """A strict plugin manager with the built-in plugins only."""
    pm = PluginManager(strict=True)
    pm.discover({ep.name: False for ep in entry_points(group=ENTRY_POINT_GROUP)})
    return pm
