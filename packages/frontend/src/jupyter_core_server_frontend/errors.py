"""Errors of the frontend plugin; the core renders each as ``{"message", "reason"}``."""

from __future__ import annotations

from jupyter_core_server import BadRequest, NotFound

__all__ = ["BadSettings", "BadWorkspace", "SettingsNotFound"]


class SettingsNotFound(NotFound):
    """No settings schema has this plugin id (404)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, "no_such_settings")


class BadSettings(BadRequest):
    """Settings that cannot be stored (400), or a schema that cannot be used (500)."""


class BadWorkspace(BadRequest):
    """A workspace that cannot be stored (400)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, "invalid_workspace")
