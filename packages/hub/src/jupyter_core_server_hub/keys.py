"""The ``web.AppKey`` under which the hub plugin keeps its per-server state."""

from __future__ import annotations

from aiohttp import web

from .auth import HubAuth

__all__ = ["HUB"]

#: Present only while the server runs in JupyterHub single-user mode.
HUB: web.AppKey[HubAuth] = web.AppKey("jupyter_core_server_hub.hub", HubAuth)
