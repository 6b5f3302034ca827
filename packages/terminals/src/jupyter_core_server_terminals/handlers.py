"""REST handlers of ``/api/terminals``, with jupyter_server's models and status codes."""

from __future__ import annotations

from aiohttp import web
from jupyter_core_server import BadRequest, read_json

from .keys import TERMINALS
from .manager import Terminals

__all__ = ["NAME", "routes", "terminals_of"]

#: The route pattern of a terminal name (jupyter_server's ``\w+``).
NAME = r"{name:\w+}"


def terminals_of(request: web.Request) -> Terminals:
    """Return the server's terminals; answer 503 when this platform cannot run any."""
    terminals = request.app[TERMINALS]
    terminals.check_available()
    return terminals


async def list_terminals(request: web.Request) -> web.Response:
    """``GET /api/terminals``: the models of every running terminal."""
    return web.json_response(terminals_of(request).models())


async def create_terminal(request: web.Request) -> web.Response:
    """``POST /api/terminals``: start a terminal; the body ``{name?, cwd?}`` is optional."""
    terminals = terminals_of(request)
    body = await read_json(request, required=False) or {}
    if not isinstance(body, dict):
        raise BadRequest('Request body must be a JSON object such as {"cwd": "work"}', "invalid_body")
    name, cwd = body.get("name") or None, body.get("cwd") or None
    if cwd is not None and not isinstance(cwd, str):
        raise BadRequest(f"cwd must be a string, not {cwd!r}", "invalid_cwd")
    terminal = terminals.create(name=name, cwd=cwd)
    return web.json_response(terminals.model(terminal.name))


async def get_terminal(request: web.Request) -> web.Response:
    """``GET /api/terminals/{name}``: one terminal's model, or 404."""
    return web.json_response(terminals_of(request).model(request.match_info["name"]))


async def delete_terminal(request: web.Request) -> web.Response:
    """``DELETE /api/terminals/{name}``: end the terminal and its processes; 204, or 404."""
    await terminals_of(request).delete(request.match_info["name"])
    return web.Response(status=204)


def routes() -> list[web.RouteDef]:
    """Return the plugin's routes, relative to ``base_url``."""
    from .websocket import terminal_websocket

    return [
        web.get("/api/terminals", list_terminals),
        web.post("/api/terminals", create_terminal),
        web.get(f"/api/terminals/{NAME}", get_terminal),
        web.delete(f"/api/terminals/{NAME}", delete_terminal),
        web.get(f"/terminals/websocket/{NAME}", terminal_websocket),
    ]
