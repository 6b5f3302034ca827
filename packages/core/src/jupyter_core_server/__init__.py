"""A minimal, kernel-only Jupyter server with a plugin system.

This package is the public plugin API: everything a plugin needs is exported here and
listed in ``__all__`` (tests add :mod:`jupyter_core_server.pytest_plugin`). Those names
follow semantic versioning; every submodule is private and may change in any release,
so plugins import from here only::

    from jupyter_core_server import ApiError, hookimpl, keys

Importing the package stays cheap (aiohttp and pluggy): the names whose modules need
traitlets or jupyter_client (the application class, identities, config paths) are
imported on first use.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from . import keys
from ._version import __version__
from .activity import ActivityRegistry
from .errors import MAX_JSON_DEPTH, ApiError, BadRequest, Forbidden, NotFound, loads_json, read_json, read_json_object
from .files import write_text_atomic
from .headers import check_header
from .hookspecs import hookimpl
from .openapi import load_fragment
from .routing import auth_resource, public
from .times import iso_time

__all__ = [
    "CONFIG_BASENAME",
    "CONFIG_LEVELS",
    "MAX_JSON_DEPTH",
    "XSRF_COOKIE",
    "ActivityRegistry",
    "ApiError",
    "Authenticator",
    "BadRequest",
    "CoreServerApp",
    "Forbidden",
    "Identity",
    "KernelModel",
    "NotFound",
    "PluginManager",
    "SessionModel",
    "__version__",
    "auth_resource",
    "authenticate",
    "check_header",
    "config_dirs",
    "config_level_dir",
    "hookimpl",
    "identity_of",
    "iso_time",
    "keys",
    "load_fragment",
    "loads_json",
    "public",
    "read_json",
    "read_json_object",
    "safe_next",
    "set_login_cookies",
    "write_text_atomic",
]

# Public name -> the private module that defines it, imported on first use: these
# modules import traitlets, jupyter_core or jupyter_client, which a plugin's import
# (and the command line's start-up) should not pay for before it needs them.
_LAZY = {
    "CoreServerApp": ".app",
    "PluginManager": ".plugins",
    "Authenticator": ".auth.identity",
    "Identity": ".auth.identity",
    "identity_of": ".auth.identity",
    "XSRF_COOKIE": ".auth.authenticate",
    "authenticate": ".auth.authenticate",
    "set_login_cookies": ".auth.authenticate",
    "safe_next": ".api.login",
    "CONFIG_BASENAME": ".config",
    "CONFIG_LEVELS": ".config",
    "config_dirs": ".config",
    "config_level_dir": ".config",
    "KernelModel": ".kernels.records",
    "SessionModel": ".sessions.manager",
}

if TYPE_CHECKING:
    from .api.login import safe_next
    from .app import CoreServerApp
    from .auth.authenticate import XSRF_COOKIE, authenticate, set_login_cookies
    from .auth.identity import Authenticator, Identity, identity_of
    from .config import CONFIG_BASENAME, CONFIG_LEVELS, config_dirs, config_level_dir
    from .kernels.records import KernelModel
    from .plugins import PluginManager
    from .sessions.manager import SessionModel
else:  # type checkers see the imports above; at run time they happen on first use

    def __getattr__(name: str) -> object:
        module = _LAZY.get(name)
        if module is None:
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module, __name__), name)
        globals()[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted({*globals(), *_LAZY})
