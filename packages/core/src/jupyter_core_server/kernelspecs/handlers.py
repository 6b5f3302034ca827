"""Handlers of ``/api/kernelspecs`` and ``/kernelspecs/{name}/{resource}``."""

from __future__ import annotations

from aiohttp import web

from ..keys import KERNEL_SERVICE, KERNELSPECS, SERVER

__all__ = ["routes"]

NAME = r"{kernel_name:[\w.%-]+}"


async def list_specs(request: web.Request) -> web.Response:
    service = request.app.get(KERNEL_SERVICE)  # a configured default or forced kernel name wins
    default = (service.force_kernel_name or service.default_kernel_name or None) if service is not None else None
    body = await request.app[KERNELSPECS].listing(request.app[SERVER].base_url, default)
    return web.Response(body=body, headers={"Content-Type": "application/json; charset=utf-8"})


async def get_spec(request: web.Request) -> web.Response:
    cache = request.app[KERNELSPECS]
    return web.json_response(await cache.model(request.match_info["kernel_name"], request.app[SERVER].base_url))


async def get_resource(request: web.Request) -> web.FileResponse:
    path = await request.app[KERNELSPECS].resource(request.match_info["kernel_name"], request.match_info["resource"])
    # Logos change rarely; a day of caching spares frontends a request per page load.
    return web.FileResponse(path, headers={"Cache-Control": "max-age=86400"})


def routes() -> list[web.RouteDef]:
    return [
        web.get("/api/kernelspecs", list_specs),
        web.get(f"/api/kernelspecs/{NAME}", get_spec),
        web.get(f"/kernelspecs/{NAME}/{{resource}}", get_resource),
    ]
