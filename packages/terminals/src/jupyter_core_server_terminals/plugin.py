"""Hooks of the ``terminals`` plugin: ``/api/terminals`` and ``/terminals/websocket/{name}``."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from jupyter_core_server import hookimpl, load_fragment

from . import handlers
from .config import TerminalManager
from .lifecycle import terminals_context

if TYPE_CHECKING:
    from aiohttp import web
    from jupyter_core_server import CoreServerApp
    from traitlets.config import Configurable

requires: Sequence[str] = ()


@hookimpl
def register_configurables() -> Sequence[type[Configurable]]:
    return [TerminalManager]


@hookimpl
def register_routes(server: CoreServerApp) -> Sequence[web.RouteDef] | None:
    return handlers.routes() if TerminalManager(parent=server).enabled else None


@hookimpl
def openapi_spec(server: CoreServerApp) -> Mapping[str, Any] | None:
    return load_fragment("jupyter_core_server_terminals") if TerminalManager(parent=server).enabled else None


@hookimpl
def app_context(server: CoreServerApp) -> Callable[[web.Application], AsyncIterator[None]] | None:
    settings = TerminalManager(parent=server)
    return terminals_context(server, settings) if settings.enabled else None
