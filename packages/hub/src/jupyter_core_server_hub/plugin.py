"""Hooks of the ``hub`` plugin: JupyterHub single-user mode, active only in a hub's environment."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from jupyter_core_server import hookimpl, load_fragment

from .config import JupyterHubSingleUser
from .configure import apply_environment, hub_environment
from .keys import HUB

if TYPE_CHECKING:
    from aiohttp import web
    from jupyter_core_server import CoreServerApp, Identity
    from traitlets.config import Application, Configurable

requires: Sequence[str] = ()


@hookimpl
def register_configurables() -> Sequence[type[Configurable]]:
    return [JupyterHubSingleUser]


@hookimpl
def register_subcommands() -> Mapping[str, tuple[type[Application], str]]:
    from .command import HubServerApp

    return {"hub": (HubServerApp, "Serve as a JupyterHub single-user server (fails without the hub's environment).")}


@hookimpl
def configure_server(server: CoreServerApp) -> None:
    env = hub_environment(server)
    if env is not None:
        apply_environment(server, env)


@hookimpl
def register_routes(server: CoreServerApp) -> Sequence[web.RouteDef] | None:
    from . import handlers

    return handlers.routes() if hub_environment(server) else None


@hookimpl
def openapi_spec(server: CoreServerApp) -> Mapping[str, Any] | None:
    return load_fragment("jupyter_core_server_hub") if hub_environment(server) else None


@hookimpl
def app_context(server: CoreServerApp) -> Callable[[web.Application], AsyncIterator[None]] | None:
    env = hub_environment(server)
    if env is None:
        return None
    from .lifecycle import hub_context

    return hub_context(server, env, JupyterHubSingleUser(parent=server))


@hookimpl(tryfirst=True)
async def identify_async(request: web.Request) -> Identity | None:
    hub = request.config_dict.get(HUB)
    return None if hub is None else await hub.identify(request)
