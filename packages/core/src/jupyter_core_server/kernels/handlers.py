"""REST handlers of ``/api/kernels``."""

from __future__ import annotations

from aiohttp import web

from ..auth.identity import identity_of
from ..errors import BadRequest, Forbidden, read_json_object
from ..keys import KERNEL_SERVICE, SERVER
from .manager import KernelService

__all__ = ["routes"]

KERNEL_ID = r"{kernel_id:[\w-]+}"


def _service(request: web.Request) -> KernelService:
    return request.app[KERNEL_SERVICE]


async def list_kernels(request: web.Request) -> web.Response:
    service = _service(request)
    if not service.list_kernels:
        raise Forbidden("Listing kernels is disabled on this server (KernelService.list_kernels)", "listing_disabled")
    return web.json_response(service.models())


async def start_kernel(request: web.Request) -> web.Response:
    body = await read_json_object(request, required=False)
    service = _service(request)
    path, name = body.get("path"), body.get("name")
    for field, value in (("path", path), ("name", name)):
        if value is not None and not isinstance(value, str):
            raise BadRequest(f"{field} must be a string", "invalid_body")
    kernel_id = await service.start(
        name,
        path=path,
        kernel_id=body.get("kernel_id"),
        env=body.get("env"),
        owner=identity_of(request).username,
    )
    location = f"{request.app[SERVER].base_url}api/kernels/{kernel_id}"
    return web.json_response(service.model(kernel_id), status=201, headers={"Location": location})


async def get_kernel(request: web.Request) -> web.Response:
    return web.json_response(_service(request).model(request.match_info["kernel_id"]))


async def delete_kernel(request: web.Request) -> web.Response:
    await _service(request).shutdown(request.match_info["kernel_id"])
    return web.Response(status=204)


async def interrupt_kernel(request: web.Request) -> web.Response:
    await _service(request).interrupt(request.match_info["kernel_id"])
    return web.Response(status=204)


async def restart_kernel(request: web.Request) -> web.Response:
    service = _service(request)
    kernel_id = request.match_info["kernel_id"]
    await service.restart(kernel_id)
    return web.json_response(service.model(kernel_id))


def routes() -> list[web.RouteDef]:
    from .websocket import channels

    return [
        web.get("/api/kernels", list_kernels),
        web.post("/api/kernels", start_kernel),
        web.get(f"/api/kernels/{KERNEL_ID}", get_kernel),
        web.delete(f"/api/kernels/{KERNEL_ID}", delete_kernel),
        web.post(f"/api/kernels/{KERNEL_ID}/interrupt", interrupt_kernel),
        web.post(f"/api/kernels/{KERNEL_ID}/restart", restart_kernel),
        web.get(f"/api/kernels/{KERNEL_ID}/channels", channels),
    ]
