"""Handlers of ``/api/kernelspecs`` and ``/kernelspecs/{name}/{resource}``."""

from __future__ import annotations

from aiohttp import web

from ..keys import KERNELSPECS, SERVER

__all__ = ["routes"]

NAME = r"{kernel_name:[\w.%-]+}"


async def list_specs(request: web.Request) -> web.Response:
    cache = request.app[KERNELSPECS]
    base_url = request.app[SERVER].base_url
    return web.json_response({"default": await cache.default_name(), "kernelspecs": await cache.models(base_url)})


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
