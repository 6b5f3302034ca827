"""Start-up and clean-up of single-user mode: the hub client, the version header, activity reports."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING

from aiohttp import web

from .activity import report_activity
from .auth import HubAuth
from .config import JupyterHubSingleUser
from .environment import HubEnvironment
from .handlers import prepare_response
from .hubapi import HubApiError, HubClient
from .keys import HUB

if TYPE_CHECKING:
    from jupyter_core_server import CoreServerApp

__all__ = ["hub_context"]

log = logging.getLogger("jupyter_core_server.hub")


async def _learn_version(hub: HubAuth) -> None:
    try:
        hub.hub_version = await hub.client.version()
    except HubApiError as exc:
        log.warning("JupyterHub: cannot read the hub's version: %s", exc)


def hub_context(
    server: CoreServerApp, env: HubEnvironment, settings: JupyterHubSingleUser
) -> Callable[[web.Application], AsyncIterator[None]]:
    """Return the plugin's cleanup context for one server."""

    async def context(app: web.Application) -> AsyncIterator[None]:
        assert server.authenticator is not None
        hub = HubAuth(env, settings, HubClient(env, settings.request_timeout), server.authenticator.cookie_secret)
        app[HUB] = hub
        # Response signals can still be added while the application starts (it freezes afterwards).
        app.on_response_prepare.append(functools.partial(prepare_response, hub))
        tasks = [asyncio.create_task(_learn_version(hub))]
        if env.activity_url:
            tasks.append(asyncio.create_task(report_activity(app, hub)))
        log.info("JupyterHub single-user server of %s at %s (hub API %s).", env.user or "?", env.prefix, env.api_url)
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await hub.client.close()

    return context
