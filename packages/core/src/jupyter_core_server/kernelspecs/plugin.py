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
        from jupyter_core.paths import jupyter_path

        manager = KernelSpecManager(parent=server)
        if "kernel_dirs" not in server.config.KernelSpecManager:
            # jupyter_client's default also looks in the legacy IPython directory, which
            # costs an IPython import at start-up; Jupyter's own paths are what is used today.
            manager.kernel_dirs = jupyter_path("kernels")
        app[KERNELSPECS] = KernelSpecCache(manager)
        yield

    return kernelspecs
