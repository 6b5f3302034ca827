"""The ``web.AppKey`` this plugin publishes on the application."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

if TYPE_CHECKING:
    from .service import Converter

__all__ = ["CONVERTER"]

CONVERTER: web.AppKey[Converter] = web.AppKey("jupyter_core_server_nbconvert.converter")
