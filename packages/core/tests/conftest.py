"""The core's tests use the same fixtures plugin authors get.

They test the core alone: whatever other plugins happen to be installed in the
environment (a developer's venv often holds them all) are disabled for the in-process
servers, so that a third-party plugin's failure cannot break a core test under strict
mode. Cross-package behaviour is tested in the repository's root ``tests/``.
"""

from __future__ import annotations

import pytest

pytest_plugins = ["jupyter_core_server.pytest_plugin"]


@pytest.fixture
def jcs_enabled_plugins() -> tuple[str, ...]:
    """The built-in plugins only."""
    return ()
