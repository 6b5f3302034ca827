"""Fault and load tests run against a server with every installed plugin (fixtures from ``tests/conformance``)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from jupyter_core_server.plugins import PluginManager

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "conformance"))
from wire import installed_plugin_manager


@pytest.fixture
def jcs_plugin_manager(jcs_isolated_paths: dict[str, Path]) -> PluginManager:
    """Every installed plugin, strict, except the entry-point test fixtures (one is broken on purpose)."""
    return installed_plugin_manager()
