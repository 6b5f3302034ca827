"""The application keys the terminals plugin publishes.

Other plugins (a frontend that reports ``terminalsAvailable``, for example) read them
with ``request.config_dict.get(TERMINALS)``; the key is absent when the plugin is not
loaded or is switched off.
"""

from __future__ import annotations

from aiohttp import web

from .manager import Terminals

__all__ = ["TERMINALS"]

TERMINALS: web.AppKey[Terminals] = web.AppKey("jupyter_core_server_terminals.terminals", Terminals)
