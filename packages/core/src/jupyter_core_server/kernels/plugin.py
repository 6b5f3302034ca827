"""Built-in plugin ``kernels``: ``/api/kernels`` and the kernel websocket."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ..hookspecs import hookimpl
from ..keys import KERNEL_SERVICE, KERNELSPECS, PLUGIN_MANAGER
from ..openapi import load_fragment
from . import handlers
from .manager import KernelService

if TYPE_CHECKING:
    from aiohttp import web
    from traitlets.config import Configurable

    from ..app import CoreServerApp

requires = ("kernelspecs",)


@hookimpl
def register_configurables() -> Sequence[type[Configurable]]:
    return [KernelService]


@hookimpl
def register_routes() -> Sequence[web.RouteDef]:
    return handlers.routes()


@hookimpl
def openapi_spec() -> Mapping[str, Any]:
    return load_fragment(__package__)


@hookimpl
def app_context(server: CoreServerApp) -> Callable[[web.Application], AsyncIterator[None]]:
    async def kernels(app: web.Application) -> AsyncIterator[None]:
        service = KernelService(server, kernel_spec_manager=app[KERNELSPECS].manager)
        pm = app[PLUGIN_MANAGER]
        service.started_hook = lambda model: pm.notify("kernel_started", kernel=model)
        service.stopped_hook = lambda kernel_id: pm.notify("kernel_stopped", kernel_id=kernel_id)
        service.cwd_hook = lambda path: pm.hook.kernel_cwd(server=server, path=path)
        app[KERNEL_SERVICE] = service
        sweeper = asyncio.create_task(_sweep(service))
        yield
        sweeper.cancel()
        await service.shutdown_all()

    return kernels


async def _sweep(service: KernelService) -> None:
    while True:
        await asyncio.sleep(60)
        now = time.time()
        for bridge in list(service.bridges.values()):
            bridge.sweep(now)
