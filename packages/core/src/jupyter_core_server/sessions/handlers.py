"""REST handlers of ``/api/sessions``."""

from __future__ import annotations

import logging

from aiohttp import web

from ..auth.identity import identity_of
from ..errors import BadRequest, Forbidden, read_json_object
from ..keys import KERNEL_SERVICE, SERVER, SESSION_MANAGER

__all__ = ["routes"]

log = logging.getLogger("jupyter_core_server")
SESSION_ID = r"{session_id:[\w-]+}"


async def list_sessions(request: web.Request) -> web.Response:
    if not request.app[KERNEL_SERVICE].list_kernels:
        raise Forbidden("Listing sessions is disabled on this server (KernelService.list_kernels)", "listing_disabled")
    return web.json_response(request.app[SESSION_MANAGER].list())


async def create_session(request: web.Request) -> web.Response:
    body = await read_json_object(request)
    if "path" not in body and isinstance(body.get("notebook"), dict):
        log.warning("Sessions API: 'notebook.path' is deprecated; send 'path'.")
        body["path"] = body["notebook"].get("path")
    path = body.get("path")
    if not isinstance(path, str):
        raise BadRequest("path is required and must be a string", "missing_path")
    name = body.get("name") or ""
    type_ = body.get("type") or ""
    if not isinstance(name, str) or not isinstance(type_, str):
        raise BadRequest("name and type must be strings", "invalid_body")
    owner = identity_of(request).username
    model, _created = await request.app[SESSION_MANAGER].create(path, name, type_, body.get("kernel"), owner)
    location = f"{request.app[SERVER].base_url}api/sessions/{model['id']}"
    return web.json_response(model, status=201, headers={"Location": location})


async def get_session(request: web.Request) -> web.Response:
    return web.json_response(request.app[SESSION_MANAGER].get(request.match_info["session_id"]))


async def patch_session(request: web.Request) -> web.Response:
    body = await read_json_object(request)
    model = await request.app[SESSION_MANAGER].update(
        request.match_info["session_id"], body, identity_of(request).username
    )
    return web.json_response(model)


async def delete_session(request: web.Request) -> web.Response:
    await request.app[SESSION_MANAGER].delete(request.match_info["session_id"])
    return web.Response(status=204)


def routes() -> list[web.RouteDef]:
    return [
        web.get("/api/sessions", list_sessions),
        web.post("/api/sessions", create_session),
        web.get(f"/api/sessions/{SESSION_ID}", get_session),
        web.patch(f"/api/sessions/{SESSION_ID}", patch_session),
        web.delete(f"/api/sessions/{SESSION_ID}", delete_session),
    ]
