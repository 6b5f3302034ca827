"""Authentication (who), authorization (may they) and browser security checks."""

from __future__ import annotations

from .identity import Identity

__all__ = ["Identity"]
