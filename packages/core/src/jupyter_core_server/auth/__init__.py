"""Authentication (who), authorization (may they) and browser security checks."""

from __future__ import annotations

from .authenticate import authenticate
from .identity import Identity, identity_of

__all__ = ["Identity", "authenticate", "identity_of"]
