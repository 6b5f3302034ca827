"""Built-in plugin ``api``: the server's own endpoints."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ..hookspecs import hookimpl
from ..openapi import load_fragment
from . import handlers, login

if TYPE_CHECKING:
    from aiohttp import web

    from ..app import CoreServerApp
    from ..auth.identity import Identity


@hookimpl
def register_routes() -> Sequence[web.RouteDef]:
    return [*handlers.routes(), *login.routes()]


@hookimpl
def openapi_spec() -> Mapping[str, Any]:
    return load_fragment(__package__)


@hookimpl(trylast=True)
def identify(request: web.Request, server: CoreServerApp) -> Identity | None:
    assert server.authenticator is not None
    return server.authenticator.from_request(request, server.cookie_name)


@hookimpl(trylast=True)
def authorize() -> bool:
    return True
