"""``/api/nbconvert`` and ``/nbconvert/{format}[/{path}]``: parse, convert, serialise.

What is served, and with which headers, is :mod:`.responses`' rule. ``GET`` of a stored
notebook refuses cross-site requests as ``/files`` does: its answer is the notebook's
content, which a link from another site must not be able to open with the user's cookie.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiohttp import web
from jupyter_core_server import ApiError, BadRequest, keys, read_json

from .keys import CONVERTER
from .responses import attachment, content_type

if TYPE_CHECKING:
    from jupyter_core_server_contents import ContentsService

    from .exporters import Result

__all__ = ["routes"]


def _contents(request: web.Request) -> ContentsService:
    """The contents service, or 503 naming the plugin when it is not active."""
    if not request.config_dict[keys.PLUGIN_MANAGER].is_active("contents"):
        raise ApiError(
            "Converting stored notebooks requires the 'contents' plugin, which is not installed or not enabled; "
            "POST /nbconvert/{format} with the notebook in the body still works.",
            "contents_unavailable",
            status=503,
        )
    from jupyter_core_server_contents import CONTENTS

    return request.config_dict[CONTENTS]


def _respond(result: Result, download: bool) -> web.Response:
    """The answer for a conversion; its sandbox and ``nosniff`` come from the response guard."""
    from_exporter = result.header.get("mimetype_from") == "exporter"
    response = web.Response(status=200, body=result.body)
    response.headers["Content-Type"] = content_type(result.header.get("mimetype", ""), from_exporter=from_exporter)
    if download or result.header.get("zipped"):
        response.headers["Content-Disposition"] = attachment(result.header.get("filename", ""))
    return response


def _download(request: web.Request) -> bool:
    return request.query.get("download", "false").lower() in ("true", "1", "yes")


async def list_exporters(request: web.Request) -> web.Response:
    """``GET /api/nbconvert``: ``{name: {"output_mimetype": ...}}`` for each exporter."""
    return web.json_response(await request.config_dict[CONVERTER].exporters())


async def convert_stored(request: web.Request) -> web.Response:
    """``GET /nbconvert/{format}/{path}``: convert a notebook read through the contents plugin."""
    contents = _contents(request)
    from jupyter_core_server_contents import check_same_site

    check_same_site(request)
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
