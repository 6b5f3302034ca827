"""The ``contents`` plugin: ``/api/contents``, ``/files`` and checkpoints, on the core's hooks."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from jupyter_core_server import hookimpl, load_fragment

from . import files, handlers
from .checkpoints import FileCheckpoints
from .config import ContentsManager
from .keys import CONTENTS
from .manager import ContentsService

if TYPE_CHECKING:
    from aiohttp import web
    from jupyter_core_server import CoreServerApp
    from traitlets.config import Configurable


@hookimpl
def register_configurables() -> Sequence[type[Configurable]]:
    return [ContentsManager, FileCheckpoints]


@hookimpl
def register_routes() -> Sequence[web.RouteDef]:
    return [*handlers.routes(), *files.routes()]


@hookimpl
def openapi_spec() -> Mapping[str, Any]:
    return load_fragment(__package__)


@hookimpl
def app_context(server: CoreServerApp) -> Callable[[web.Application], AsyncIterator[None]]:
    async def contents(app: web.Application) -> AsyncIterator[None]:
        service = ContentsService(ContentsManager(parent=server))
        app[CONTENTS] = service
        yield
        service.close()

    return contents


@hookimpl
def kernel_cwd(app: web.Application, path: str) -> str | None:
    service = app.get(CONTENTS)
    if service is None:  # not running (yet): the core decides
        return None
    return ContentsService.kernel_cwd_for(service.settings, path)
