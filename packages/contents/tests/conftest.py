"""Fixtures of the contents plugin's tests: a real server with this plugin, files under ``tmp_path``.

The server runs with the core's built-in plugins and ``contents`` only, whatever else is
installed in the environment. Notebook signatures are kept under ``tmp_path`` and
deletions skip the trash (one test turns it on with its own trash folder).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from traitlets.config import Config

pytest_plugins = ["jupyter_core_server.pytest_plugin"]


@pytest.fixture
def jcs_enabled_plugins() -> set[str]:
    """The built-in plugins and ``contents`` only."""
    return {"contents"}


@pytest.fixture
def jcs_config(jcs_config: Config, tmp_path: Path) -> Config:
    jcs_config.NotebookNotary.data_dir = str(tmp_path / "notary")
    jcs_config.ContentsManager.delete_to_trash = False
    return jcs_config


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """The contents root of the test server."""
    path = tmp_path / "root"
    path.mkdir(exist_ok=True)
    return path
