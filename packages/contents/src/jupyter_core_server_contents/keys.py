"""The ``web.AppKey`` this plugin publishes for handlers and for other plugins.

A plugin that declares ``requires = ["contents"]`` (nbconvert, for one) reads files with
``app[CONTENTS]``, the same service the REST API uses, with its root and hidden-file rules.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

if TYPE_CHECKING:
    from .manager import ContentsService

__all__ = ["CONTENTS"]

CONTENTS: web.AppKey[ContentsService] = web.AppKey("jupyter_core_server_contents.service")
