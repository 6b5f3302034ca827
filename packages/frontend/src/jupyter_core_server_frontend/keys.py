"""The application key under which the frontend plugin publishes its state."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

if TYPE_CHECKING:
    from .service import FrontendService

__all__ = ["FRONTEND"]

FRONTEND: web.AppKey[FrontendService] = web.AppKey("jupyter_core_server_frontend.service")
