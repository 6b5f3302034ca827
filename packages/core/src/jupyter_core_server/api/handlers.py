"""Handlers of ``/api``, ``/api/status``, ``/api/me``, ``/api/plugins``, the spec, probes and shutdown."""

from __future__ import annotations

import html
from typing import Any

from aiohttp import web

from .._version import __version__
from ..auth.identity import identity_of
from ..errors import BadRequest, loads_json
from ..keys import DEFAULT_URL, KERNEL_SERVICE, PLUGIN_MANAGER, SERVER, STATE
from ..routing import auth_resource, public
from ..times import iso_time

__all__ = ["routes"]


@public
async def get_version(request: web.Request) -> web.Response:
    return web.json_response({"version": __version__})


@public
async def get_health(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


@public
async def get_ready(request: web.Request) -> web.Response:
    app = request.app
    failed = sorted(app[PLUGIN_MANAGER].failed)
    service = app.get(KERNEL_SERVICE)
    pool_filled = service is None or not service.pool_ready or service.warm_pool.filled.is_set()
    ready = app[STATE].ready and not failed and pool_filled
    body = {"ready": ready, "failed": failed, "pool_filled": pool_filled}
    return web.json_response(body, status=200 if ready else 503)


async def get_status(request: web.Request) -> web.Response:
    app = request.app
    state = app[STATE]
    kernels = connections = 0
    service = app.get(KERNEL_SERVICE)
    if service is not None:
        kernels, connections = service.count(), service.connection_count()
    running = {kind: count() for kind, count in state.running.items()}
    return web.json_response(
        {
            **running,
            "started": iso_time(state.started),
            "last_activity": iso_time(state.activity.latest()),
            "kernels": kernels,
            "connections": connections,
            "ready": state.ready,
        }
    )


async def get_me(request: web.Request) -> web.Response:
    identity = identity_of(request)
    wanted: dict[str, Any] = {}
    raw = request.query.get("permissions")
    if raw:
        try:
            wanted = loads_json(raw, "permissions")
        except BadRequest as exc:
            if exc.reason == "json_too_deep":
                raise
            raise BadRequest(exc.message, "invalid_permissions") from None
        if not isinstance(wanted, dict) or not all(isinstance(v, list) for v in wanted.values()):
            raise BadRequest("permissions must map resource names to lists of actions", "invalid_permissions")
    authorize = request.app[PLUGIN_MANAGER].hook.authorize
    permissions = {
        resource: [
            a
            for a in actions
            if authorize(request=request, identity=identity, action=a, resource=resource) is not False
        ]
        for resource, actions in wanted.items()
    }
    return web.json_response({"identity": identity.model(), "permissions": permissions})


async def get_plugins(request: web.Request) -> web.Response:
    records = request.app[PLUGIN_MANAGER].records.values()
    return web.json_response([r.model() for r in records])


def _spec(request: web.Request) -> dict[str, Any]:
    spec: dict[str, Any] = request.app[SERVER].openapi
    return spec


async def get_spec_json(request: web.Request) -> web.Response:
    return web.json_response(_spec(request))


async def get_spec_yaml(request: web.Request) -> web.Response:
    import yaml

    return web.Response(text=yaml.safe_dump(_spec(request), sort_keys=False), content_type="application/yaml")


@auth_resource("server")
async def post_shutdown(request: web.Request) -> web.Response:
    request.app[SERVER].request_stop()
    return web.json_response({"message": "Shutting down: stopping kernels and closing connections."}, status=202)


async def get_root(request: web.Request) -> web.Response:
    server = request.app[SERVER]
    base = server.base_url
    default_url = request.app.get(DEFAULT_URL)
    if default_url:
        # Returned, not raised, so that a ?token= visit still gets its login cookie.
        return web.Response(status=302, headers={"Location": base + default_url.lstrip("/")})
    items = "".join(
        f"<tr><td>{html.escape(r.name)}</td><td>{html.escape(r.distribution)}</td>"
        f"<td>{html.escape(r.version)}</td><td>{r.state}</td></tr>"
        for r in request.app[PLUGIN_MANAGER].records.values()
    )
    links = "".join(
        f'<li><a href="{base}{p}">{base}{p}</a></li>'
        for p in ("api", "api/status", "api/plugins", "api/kernelspecs", "api/spec.yaml")
    )
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Jupyter Core Server</title></head>
<body><h1>Jupyter Core Server {__version__} is running</h1>
<p>This server has no web interface of its own; connect a Jupyter client to it.</p>
<h2>Plugins</h2><table><tr><th>name</th><th>distribution</th><th>version</th><th>state</th></tr>{items}</table>
<h2>API</h2><ul>{links}</ul></body></html>"""
    return web.Response(text=page, content_type="text/html")


def routes() -> list[web.RouteDef]:
    """Return the routes of this module, relative to ``base_url``."""
    return [
        web.get("/", get_root),
        web.get("/api", get_version),
        web.get("/api/health", get_health),
        web.get("/api/ready", get_ready),
        web.get("/api/status", get_status),
        web.get("/api/me", get_me),
        web.get("/api/plugins", get_plugins),
        web.get("/api/spec.json", get_spec_json),
        web.get("/api/spec.yaml", get_spec_yaml),
        web.post("/api/shutdown", post_shutdown),
    ]
