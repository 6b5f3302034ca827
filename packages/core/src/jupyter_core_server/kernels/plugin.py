"""Built-in plugin ``kernels``: ``/api/kernels`` and the kernel websocket."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ..hookspecs import hookimpl
from ..keys import KERNEL_SERVICE, KERNELSPECS, PLUGIN_MANAGER, STATE
from ..openapi import load_fragment
from . import handlers, persistence
from .manager import KernelService

if TYPE_CHECKING:
    from aiohttp import web
    from traitlets.config import Configurable

    from ..app import CoreServerApp

requires = ("kernelspecs",)

log = logging.getLogger("jupyter_core_server")


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
        app[STATE].running["kernels"] = service.count
        if service.persistence_file:
            taken = await persistence.restore(service)
            if taken:
                log.info("Took back %d running kernel(s) from %s", len(taken), service.persistence_file)
        elif service.keep_kernels:
            log.warning("KernelService.keep_kernels needs KernelService.persistence_file; kernels will be stopped at exit.")
        service.warm_pool.open()
        loops = [asyncio.create_task(_sweep(service))]
        if service.cull_idle_timeout > 0:
            log.info("Culling kernels idle for %d s, checking every %d s", service.cull_idle_timeout, service.cull_interval)
            loops.append(asyncio.create_task(_cull(service)))
        yield
        for loop in loops:
            loop.cancel()
        await service.warm_pool.close()
        if service.keep_kernels and service.persistence_file:
            log.info("Leaving %d kernel(s) running for the next server (keep_kernels)", service.count())
            await service.release_all()
        else:
            await service.shutdown_all()

    return kernels


async def _sweep(service: KernelService) -> None:
    while True:
        await asyncio.sleep(60)
        now = time.time()
        for bridge in list(service.bridges.values()):
            bridge.sweep(now)


async def _cull(service: KernelService) -> None:
    while True:
        await asyncio.sleep(max(service.cull_interval, 1))
        try:
            await service.cull_idle(time.time())
        except Exception:
            log.exception("Culling idle kernels failed")
