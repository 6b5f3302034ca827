"""Cross-package tests use the same fixtures plugin authors get."""

pytest_plugins = ["jupyter_core_server.pytest_plugin"]
