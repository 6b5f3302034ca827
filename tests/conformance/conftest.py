"""Conformance tests: hostile input, paths and logs against a server with whatever plugins are installed.

Terminals run bash without profile or rc files (else sh), so the machine's start-up
files neither slow the tests nor change the prompt.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from jupyter_core_server.plugins import PluginManager
from traitlets.config import Config
from wire import installed_plugin_manager

_BASH = shutil.which("bash")
TEST_SHELL = [_BASH, "--noprofile", "--norc"] if _BASH else ["/bin/sh"]


@pytest.fixture
def jcs_config(jcs_config: Config) -> Config:
    if "shell_command" not in jcs_config.TerminalManager:
        jcs_config.TerminalManager.shell_command = TEST_SHELL
    return jcs_config


@pytest.fixture
def jcs_plugin_manager(jcs_isolated_paths: dict[str, Path]) -> PluginManager:
    """Every installed plugin, strict, except the entry-point test fixtures (one is broken on purpose)."""
    return installed_plugin_manager()
