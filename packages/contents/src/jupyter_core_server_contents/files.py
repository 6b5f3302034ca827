"""``/files/{path}``: a file's raw bytes, for browsers and downloads.

Same root and hidden-file rules as the API. Responses carry the content type,
``Last-Modified`` and ``ETag`` (and answer ``If-None-Match`` / ``If-Modified-Since`` with
304), honour ``Range``, and answer ``HEAD``; ``?download=1`` (and any notebook) comes as an
attachment. Served documents are sandboxed by a Content-Security-Policy, so a user's
HTML or SVG cannot script the server's origin.

Cross-site inclusion is refused: a request authenticated by a cookie alone (not by the
token, which another site cannot know) must come from this origin. Browsers say so in
``Sec-Fetch-Site``; without that header the ``_xsrf`` cookie echoed in ``X-XSRFToken`` (or
an ``_xsrf`` query argument) or a same-origin ``Referer`` is required. This is the check
jupyter_server added for GHSA-64x5-55rw-9974, made stronger where browsers help.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import mimetypes
import os
import pathlib
import stat
from typing import Any
from urllib.parse import quote, urlsplit

from aiohttp import web
from jupyter_core_server import XSRF_COOKIE, Forbidden, identity_of, keys

from .errors import HiddenPath, NoSuchPath
from .fileio import Located, require
from .keys import CONTENTS
from .models import os_errors

__all__ = ["routes"]

log = logging.getLogger("jupyter_core_server.contents")

_SAME_ORIGIN_FETCH = frozenset({"same-origin", "none"})  # "none": typed, bookmarked or opened by the user
_CSP = "frame-ancestors 'self'; sandbox allow-scripts"


class RawFileResponse(web.FileResponse):
    """A ``FileResponse`` that serves exactly the file asked for.

    aiohttp's would send ``name.gz`` or ``name.br`` instead when the client accepts that
    encoding and such a file exists: right for a static site, wrong for a user's files,
    where ``data.csv.gz`` is a different document from ``data.csv``.
    """

    def _get_file_path_stat_encoding(
        self, accept_encoding: str
    ) -> tuple[pathlib.Path | None, os.stat_result, str | None]:
        path = pathlib.Path(self._path)
        st = path.stat()
        return (path if stat.S_ISREG(st.st_mode) else None), st, None


def content_type(name: str) -> str:
    """The ``Content-Type`` of a file, by name (jupyter_server's choices)."""
    if name.endswith(".ipynb"):
        return "application/x-ipynb+json"
    mime, encoding = mimetypes.guess_type(name)
    if encoding == "gzip":
        return "application/gzip"
    if encoding is not None or mime is None:
        return "application/octet-stream"
    if mime == "text/plain":
        return "text/plain; charset=UTF-8"
    return mime


def _same_origin(request: web.Request, url: str) -> bool:
    netloc = urlsplit(url).netloc.lower()
    return bool(netloc) and netloc == request.headers.get("Host", "").lower()


def _allowed_origin(request: web.Request, url: str) -> bool:
    parts = urlsplit(url)
    origin = f"{parts.scheme}://{parts.netloc}"
    return request.app[keys.SERVER].origin_policy().origin_allowed(origin)


def check_same_site(request: web.Request) -> None:
    """Refuse a cookie-authenticated request that another site may have triggered.

    :raises Forbidden: for cross-site inclusion (``<img src>``, ``<script src>``, links).
    """
    identity = identity_of(request)
    if identity.via == "token":
        return  # another site cannot know the token
    fetch_site = request.headers.get("Sec-Fetch-Site")
    if fetch_site is not None:
        if fetch_site in _SAME_ORIGIN_FETCH:
            return
    else:
        expected = request.cookies.get(XSRF_COOKIE, "")
        given = request.headers.get("X-XSRFToken") or request.query.get(XSRF_COOKIE, "")
        if expected and given and hmac.compare_digest(expected, given):
            return
    referer = request.headers.get("Referer")
    if referer and (_same_origin(request, referer) or _allowed_origin(request, referer)):
        return
    log.warning("Blocking cross-site request for %s (Sec-Fetch-Site: %s)", request.path, fetch_site)
    raise Forbidden("Blocking a cross-site request for a file; open it from this server's pages.", "cross_site")


def _locate(request: web.Request, path: str) -> Located:
    service = request.app[CONTENTS]
    located = service.root.locate(path)
    with os_errors(located.api_path):
        st = require(located)
    if service.root.is_hidden(located, st):
        log.info("Refusing to serve hidden file %s", located.api_path)
        raise HiddenPath(located.api_path)
    if not stat.S_ISREG(st.st_mode):
        raise NoSuchPath(located.api_path, "file")
    return located


async def get_file(request: web.Request) -> web.StreamResponse:
    """``GET``/``HEAD /files/{path}``: the file's bytes."""
    check_same_site(request)
    path = request.match_info["path"]
    located = await asyncio.to_thread(_locate, request, path)
    headers: dict[str, Any] = {
        "Content-Type": content_type(located.name),
        "Content-Security-Policy": _CSP,
        "X-Content-Type-Options": "nosniff",
    }
    if "v" not in request.query:
        headers["Cache-Control"] = "no-cache"  # revalidate each time; 304s keep it cheap
    if request.query.get("download") or located.name.endswith(".ipynb"):
        headers["Content-Disposition"] = f"attachment; filename*=utf-8''{quote(located.name, safe='')}"
    return RawFileResponse(located.real_path, headers=headers)


def routes() -> list[web.RouteDef]:
    """The ``/files`` route (``HEAD`` comes with ``GET``)."""
    return [web.get("/files/{path:.+}", get_file)]
