"""Hooks of the ``nbconvert`` plugin: ``/api/nbconvert`` and ``/nbconvert/{format}[/{path}]``.

The plugin uses the contents plugin when it is active, without requiring it: without
contents the server starts and only ``POST /nbconvert/{format}`` can convert.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from jupyter_core_server import hookimpl, keys, load_fragment

from . import handlers
from .config import NbconvertService
from .responses import make_response_guard
from .service import Converter, log

if TYPE_CHECKING:
    from aiohttp import web
    from jupyter_core_server import CoreServerApp
    from traitlets.config import Configurable

requires: Sequence[str] = ()  # contents is optional: see handlers.contents_service


@hookimpl
def register_configurables() -> Sequence[type[Configurable]]:
    return [NbconvertService]


@hookimpl
def register_routes() -> Sequence[web.RouteDef]:
    return handlers.routes()


@hookimpl
def openapi_spec() -> Mapping[str, Any]:
    return load_fragment("jupyter_core_server_nbconvert")


@hookimpl
def app_context(server: CoreServerApp) -> Callable[[web.Application], AsyncIterator[None]]:
    async def nbconvert(app: web.Application) -> AsyncIterator[None]:
        from .keys import CONVERTER

        # first, so that even a failed start-up leaves these paths' answers sandboxed; response
        # signals may still be added while the application starts (it freezes afterwards)
        app.on_response_prepare.append(make_response_guard(server.base_url))
        if not app[keys.PLUGIN_MANAGER].is_active("contents"):
            log.warning(
                "Plugin nbconvert: optional dependency 'contents' is not active; "
                "GET /nbconvert/{format}/{path} answers 503, POST /nbconvert/{format} works."
            )
        converter = Converter(NbconvertService(parent=server))
        app[CONVERTER] = converter
        yield
        await converter.close()

    return nbconvert
