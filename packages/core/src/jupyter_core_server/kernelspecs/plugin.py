"""Built-in plugin ``kernelspecs``: ``/api/kernelspecs`` and kernelspec resources."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ..hookspecs import hookimpl
from ..keys import KERNELSPECS
from ..openapi import load_fragment
from . import handlers
from .cache import KernelSpecCache

if TYPE_CHECKING:
    from aiohttp import web

    from ..app import CoreServerApp


@hookimpl
def register_routes() -> Sequence[web.RouteDef]:
    return handlers.routes()


@hookimpl
def openapi_spec() -> Mapping[str, Any]:
    return load_fragment(__package__)


@hookimpl
def app_context(server: CoreServerApp) -> Callable[[web.Application], AsyncIterator[None]]:
    async def kernelspecs(app: web.Application) -> AsyncIterator[None]:
        from jupyter_client.kernelspec import KernelSpecManager

        app[KERNELSPECS] = KernelSpecCache(KernelSpecManager(parent=server))
        yield

    return kernelspecs
