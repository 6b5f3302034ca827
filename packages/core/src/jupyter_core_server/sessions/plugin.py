"""Built-in plugin ``sessions``: ``/api/sessions``."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ..hookspecs import hookimpl
from ..keys import KERNEL_SERVICE, PLUGIN_MANAGER, SESSION_MANAGER
from ..openapi import load_fragment
from . import handlers
from .manager import SessionManager

if TYPE_CHECKING:
    from aiohttp import web
    from traitlets.config import Configurable

    from ..app import CoreServerApp

requires = ("kernels",)


@hookimpl
def register_configurables() -> Sequence[type[Configurable]]:
    return [SessionManager]


@hookimpl
def register_routes() -> Sequence[web.RouteDef]:
    return handlers.routes()


@hookimpl
def openapi_spec() -> Mapping[str, Any]:
    return load_fragment(__package__)


@hookimpl
def app_context(server: CoreServerApp) -> Callable[[web.Application], AsyncIterator[None]]:
    async def sessions(app: web.Application) -> AsyncIterator[None]:
        pm = app[PLUGIN_MANAGER]
        manager = SessionManager(server, app[KERNEL_SERVICE])
        manager.announce = lambda model, change: pm.notify("session_changed", session=model, change=change)
        app[SESSION_MANAGER] = manager
        yield
        manager.close()

    return sessions
