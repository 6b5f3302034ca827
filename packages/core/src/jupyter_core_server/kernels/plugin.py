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
from . import handlers
from .manager import KernelModel, KernelService

if TYPE_CHECKING:
    from aiohttp import web
    from traitlets.config import Configurable

    from ..app import CoreServerApp
    from ..plugins import PluginManager

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
        events = HookEvents(app[PLUGIN_MANAGER], server, app)
        service = KernelService(server, kernel_spec_manager=app[KERNELSPECS].manager, events=events)
        app[KERNEL_SERVICE] = service
        app[STATE].running["kernels"] = service.count
        app[STATE].activity.register("kernels", service.last_activity)
        if service.persistence_file:
            taken = await service.restore()
            if taken:
                log.info("Took back %d running kernel(s) from %s", len(taken), service.persistence_file)
        elif service.keep_kernels:
            log.warning(
                "KernelService.keep_kernels needs KernelService.persistence_file; kernels will be stopped at exit."
            )
        service.warm_pool.open()
        loops = [asyncio.create_task(_sweep(service))]
        if service.cull_idle_timeout > 0:
            log.info(
                "Culling kernels idle for %d s, checking every %d s", service.cull_idle_timeout, service.cull_interval
            )
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


class HookEvents:
    """The kernel service's events, relayed to the plugin hooks (``kernel_started``, ...)."""

    def __init__(self, pm: PluginManager, server: CoreServerApp, app: web.Application) -> None:
        self.pm, self.server, self.app = pm, server, app

    def started(self, kernel: KernelModel) -> None:
        self.pm.notify("kernel_started", kernel=kernel)

    def stopped(self, kernel_id: str) -> None:
        self.pm.notify("kernel_stopped", kernel_id=kernel_id)

    def cwd(self, path: str) -> str | None:
        answer: str | None = self.pm.hook.kernel_cwd(server=self.server, app=self.app, path=path)
        return answer


async def _sweep(service: KernelService) -> None:
    while True:
        await asyncio.sleep(60)
        service.sweep(time.time())


async def _cull(service: KernelService) -> None:
    while True:
        await asyncio.sleep(max(service.cull_interval, 1))
        try:
            await service.cull_idle(time.time())
        except Exception:
            log.exception("Culling idle kernels failed")
