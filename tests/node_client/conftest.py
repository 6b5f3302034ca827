"""The node client's server runs terminals with bash without profile or rc files (else sh).

A login shell reads the machine's start-up files, whose run time (and prompt) this
test has no business depending on.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest
from jupyter_core_server.plugins import PluginManager
from traitlets.config import Config

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "conformance"))
from wire import installed_plugin_manager

_BASH = shutil.which("bash")
TEST_SHELL = [_BASH, "--noprofile", "--norc"] if _BASH else ["/bin/sh"]


@pytest.fixture
def jcs_config(jcs_config: Config) -> Config:
    jcs_config.TerminalManager.shell_command = TEST_SHELL
    return jcs_config


@pytest.fixture
def jcs_plugin_manager(jcs_isolated_paths: dict[str, Path]) -> PluginManager:
    """Every installed plugin, strict, except the entry-point test fixtures (one is broken on purpose)."""
    return installed_plugin_manager()
