"""Start-up and shutdown of the terminals service on the server's application."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING

from aiohttp import web
from jupyter_core_server import keys

from .config import TerminalManager
from .keys import TERMINALS
from .manager import Terminals, connection_url

if TYPE_CHECKING:
    from jupyter_core_server import CoreServerApp

__all__ = ["terminals_context"]


def terminals_context(
    server: CoreServerApp, settings: TerminalManager
) -> Callable[[web.Application], AsyncIterator[None]]:
    """Return the cleanup context that owns the server's terminals.

    Start-up publishes :class:`~.manager.Terminals` under :data:`~.keys.TERMINALS`,
    registers its input and output as the server's ``terminals`` activity and starts
    the culler; shutdown (after the core closed every websocket) stops the culler and
    ends every terminal with every process in its session.
    """

    async def terminals_service(app: web.Application) -> AsyncIterator[None]:
        terminals = Terminals(settings, server.root_dir, lambda: connection_url(server))
        app[TERMINALS] = terminals
        app[keys.STATE].activity.register("terminals", terminals.last_activity)
        culler = asyncio.create_task(terminals.run_culler()) if settings.cull_inactive_timeout > 0 else None
        try:
            yield
        finally:
            if culler is not None:
                culler.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await culler
            await terminals.shutdown()

    return terminals_service
