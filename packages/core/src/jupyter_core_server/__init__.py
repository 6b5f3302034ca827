"""A minimal, kernel-only Jupyter server with a plugin system.

The public surface for plugin authors: the ``hookimpl`` marker, the app keys, the
error types and the routing decorators.
"""

from __future__ import annotations

from . import keys
from ._version import __version__
from .errors import MAX_JSON_DEPTH, ApiError, BadRequest, Forbidden, NotFound, loads_json
from .hookspecs import hookimpl
from .routing import auth_resource, public

__all__ = [
    "MAX_JSON_DEPTH",
    "ApiError",
    "BadRequest",
    "Forbidden",
    "NotFound",
    "__version__",
    "auth_resource",
    "hookimpl",
    "keys",
    "loads_json",
    "public",
]
