"""Static files of the applications, prebuilt extensions, themes and favicons.

Content-hashed file names (``main.efd36b46f3b45eb8.js``, ``remoteEntry.<hash>.js``,
``<hash>.woff``) and requests with a ``?v=`` version are cached by browsers for a year
(``immutable``); everything else must be revalidated (``no-cache`` with ``ETag`` and
``Last-Modified``). No path ever leaves the folder it is served from: ``..``, absolute
paths, backslashes and symbolic links pointing elsewhere are refused with 404.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlparse

from aiohttp import web
from jupyter_core_server import NotFound

__all__ = ["FAVICONS_DIR", "file_response", "find_file", "is_hashed", "rewrite_theme_css", "safe_join"]

FAVICONS_DIR = Path(__file__).parent / "static" / "favicons"
ONE_YEAR = 365 * 24 * 3600
_HASHED = re.compile(r"(?:^|[.\-_])[0-9a-f]{8,}(?:[.\-_]|$)")
_CSS_URL = re.compile(r"""url\(\s*(['"]?)([^'")]+)\1\s*\)""")


def is_hashed(name: str) -> bool:
    """Whether a file name carries a content hash (so its content never changes)."""
    return bool(_HASHED.search(name))


def safe_join(root: Path, relative: str) -> Path | None:
    """Return the existing file ``root/relative`` if it stays inside ``root``, else ``None``.

    ``root`` itself may be a symbolic link (``jupyter labextension develop`` links a
    source tree in); what lies below it must resolve inside its target.
    """
    if not relative or "\\" in relative or "\x00" in relative or relative.startswith("/"):
        return None
    parts = relative.split("/")
    if any(part in ("", ".", "..") for part in parts):
        return None
    try:
        base = root.resolve()
        target = (base / relative).resolve()
    except (OSError, RuntimeError):
        return None
    if base != target and base not in target.parents:
        return None
    return target if target.is_file() else None


def find_file(roots: list[Path], relative: str) -> Path:
    """Return the first ``root/relative`` that exists among ``roots``; 404 otherwise."""
    for root in roots:
        found = safe_join(root, relative)
        if found is not None:
            return found
    raise NotFound(f"No file {relative!r}", "no_such_file")


def file_response(request: web.Request, path: Path, *, cache: bool = True) -> web.FileResponse:
    """Serve ``path`` with the caching its name allows (see the module docstring)."""
    response = web.FileResponse(path)
    if cache and (is_hashed(path.name) or "v" in request.query):
        response.headers["Cache-Control"] = f"public, max-age={ONE_YEAR}, immutable"
    else:
        response.headers["Cache-Control"] = "no-cache"
    return response


def rewrite_theme_css(css: str, base_url: str) -> str:
    """Make the relative ``url(...)`` references of a theme's CSS absolute under ``base_url``.

    Themes are served from an API path, so ``url('images/x.svg')`` must name that path;
    absolute paths, ``data:`` and other URLs with a scheme are left as they are.
    """

    def replace(match: re.Match[str]) -> str:
        quote, target = match.group(1), match.group(2).strip()
        if target.startswith(("/", "#")) or urlparse(target).scheme:
            return match.group(0)
        return f"url({quote}{base_url.rstrip('/')}/{target.removeprefix('./')}{quote})"

    return _CSS_URL.sub(replace, css)
