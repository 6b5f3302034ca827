"""``/api/nbconvert`` and ``/nbconvert/{format}[/{path}]``: parse, convert, serialise."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from aiohttp import web
from jupyter_core_server import ApiError, BadRequest
from jupyter_core_server.errors import read_json
from jupyter_core_server.keys import PLUGIN_MANAGER

from .keys import CONVERTER

if TYPE_CHECKING:
    from jupyter_core_server_contents import ContentsService

    from .exporters import Result

__all__ = ["routes"]

# As jupyter_server's nbconvert_csp_sandbox: a notebook's scripts may run, but in an
# opaque origin, without the user's cookies or token.
HTML_CSP = "sandbox allow-scripts"


def _contents(request: web.Request) -> ContentsService:
    """The contents service, or 503 naming the plugin when it is not active."""
    if not request.config_dict[PLUGIN_MANAGER].is_active("contents"):
        raise ApiError(
            "Converting stored notebooks requires the 'contents' plugin, which is not installed or not enabled; "
            "POST /nbconvert/{format} with the notebook in the body still works.",
            "contents_unavailable",
            status=503,
        )
    from jupyter_core_server_contents import CONTENTS

    return request.config_dict[CONTENTS]


def _attachment(filename: str) -> str:
    ascii_name = filename.encode("ascii", "replace").decode().replace('"', "_").replace("\\", "_")
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"


def _respond(result: Result, download: bool) -> web.Response:
    mimetype = result.header["mimetype"]
    response = web.Response(status=200, body=result.body)
    text = mimetype.startswith("text/") or mimetype in ("application/json", "application/x-ipynb+json")
    response.headers["Content-Type"] = f"{mimetype}; charset=utf-8" if text else mimetype
    if download or result.header.get("zipped"):
        response.headers["Content-Disposition"] = _attachment(result.header["filename"])
    if mimetype == "text/html":
        response.headers["Content-Security-Policy"] = HTML_CSP
    return response


def _download(request: web.Request) -> bool:
    return request.query.get("download", "false").lower() in ("true", "1", "yes")


async def list_exporters(request: web.Request) -> web.Response:
    """``GET /api/nbconvert``: ``{name: {"output_mimetype": ...}}`` for each exporter."""
    return web.json_response(await request.config_dict[CONVERTER].exporters())


async def convert_stored(request: web.Request) -> web.Response:
    """``GET /nbconvert/{format}/{path}``: convert a notebook read through the contents plugin."""
    contents = _contents(request)
    converter = request.config_dict[CONVERTER]
    fmt = request.match_info["format"]
    await converter.check_format(fmt)
    model = await contents.get(request.match_info["path"].strip("/"), type="notebook", content=True)
    result = await converter.convert(fmt, model["content"], str(model["name"]))
    return _respond(result, _download(request))


async def convert_posted(request: web.Request) -> web.Response:
    """``POST /nbconvert/{format}``: convert the notebook in the body (``{"content": nb}`` or the notebook)."""
    converter = request.config_dict[CONVERTER]
    fmt = request.match_info["format"]
    await converter.check_format(fmt)
    body: Any = await read_json(request)
    if not isinstance(body, dict):
        raise BadRequest("The body must be a notebook model or a notebook (a JSON object).", "invalid_notebook")
    notebook = body["content"] if isinstance(body.get("content"), dict) else body
    name = str(body.get("name") or "notebook.ipynb") if notebook is not body else "notebook.ipynb"
    result = await converter.convert(fmt, notebook, name)
    return _respond(result, _download(request))


def routes() -> list[web.RouteDef]:
    return [
        web.get("/api/nbconvert", list_exporters),
        web.get("/nbconvert/{format}/{path:.+}", convert_stored),
        web.post("/nbconvert/{format}", convert_posted),
    ]
