"""The security middleware: every route of the core and of plugins passes through it.

Order of checks: Host (DNS rebinding), Origin/CORS, plugin health, public routes,
authentication (the ``identify`` hook), XSRF for cookie-authenticated writes,
authorization (the ``authorize`` hook). Handlers never repeat any of this.
"""

from __future__ import annotations

import hmac
import inspect
import secrets
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from aiohttp import web

from ..errors import json_error
from ..keys import ROUTE_INFO, STATE
from ..routing import method_action
from .identity import IDENTITY, Identity

if TYPE_CHECKING:
    from ..app import CoreServerApp
    from .origin import OriginPolicy

__all__ = ["XSRF_COOKIE", "make_security_middleware", "set_login_cookies"]

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
XSRF_COOKIE = "_xsrf"
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_UNTRACKED_PATHS = frozenset({"/api/status", "/api/health", "/api/ready"})


def _is_websocket_handshake(request: web.Request) -> bool:
    """Whether ``request`` opens a websocket: a ``GET`` with every handshake header (RFC 6455 4.1).

    Only such a request skips the XSRF check (a browser cannot add a header to a websocket,
    and the Origin check covers it) and counts as ``execute``; an ``Upgrade`` header on any
    other request changes nothing.
    """
    headers = request.headers
    if request.method != "GET" or headers.get("Upgrade", "").strip().lower() != "websocket":
        return False
    connection = {token.strip().lower() for value in headers.getall("Connection", ()) for token in value.split(",")}
    return "upgrade" in connection and bool(headers.get("Sec-WebSocket-Key")) and headers.get("Sec-WebSocket-Version", "").strip() == "13"


def make_security_middleware(server: CoreServerApp, policy: OriginPolicy) -> Callable[..., Awaitable[web.StreamResponse]]:
    """Build the middleware from the server's settings (read once, not per request)."""
    base = server.base_url.rstrip("/")
    pm = server.plugin_manager
    assert pm is not None and server.authenticator is not None
    authenticator = server.authenticator
    # The hooks run on every request; when only the core implements them, call the core
    # directly instead of going through pluggy (measurably cheaper on the REST path).
    identify: Callable[..., Identity | Awaitable[Identity | None] | None]
    if [impl.plugin_name for impl in pm.hook.identify.get_hookimpls()] == ["api"]:
        identify = lambda request, server: authenticator.from_request(request, server.cookie_name)
    else:
        identify = pm.hook.identify
    custom_authorize = [impl for impl in pm.hook.authorize.get_hookimpls() if impl.plugin_name != "api"]
    authorize = pm.hook.authorize if custom_authorize else None

    @web.middleware
    async def security_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if not policy.host_allowed(request):
            return json_error(403, "Host header not allowed; set CoreServerApp.local_hostnames or allow_remote_access.", "host_not_allowed")

        origin = request.headers.get("Origin")
        cors: dict[str, str] | None = None
        if origin is not None and not policy.same_origin(request, origin):
            if not policy.origin_allowed(origin):
                return json_error(403, f"Cross-origin request from {origin} blocked.", "origin_not_allowed")
            if request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers:
                return policy.preflight(origin)
            cors = policy.cors_headers(origin)

        app = request.app
        info = app[ROUTE_INFO].get(request.match_info.route)
        if info is not None and info.public:
            response = await handler(request)
            if cors:
                response.headers.update(cors)
            return response

        identity = identify(request=request, server=server)
        if inspect.isawaitable(identity):  # a plugin that must ask another service (see the hookspec)
            identity = await identity
        if identity is None:
            if request.method == "GET" and "text/html" in request.headers.get("Accept", "") and "Upgrade" not in request.headers:
                # A browser navigating to a page: send it to the login page, as jupyter_server does.
                return web.Response(status=302, headers={"Location": f"{base}/login?{urlencode({'next': request.path_qs})}"})
            return json_error(403, "Forbidden: missing or invalid credentials.", "unauthenticated")
        if info is not None and info.plugin in pm.failed:
            return json_error(503, f"Plugin {info.plugin!r} failed to start; see the server log.", "plugin_failed")

        websocket = _is_websocket_handshake(request)
        if identity.via == "cookie" and request.method not in _SAFE_METHODS and not websocket:
            expected = request.cookies.get(XSRF_COOKIE, "")
            given = request.headers.get("X-XSRFToken", "")
            if not expected or not hmac.compare_digest(expected, given):
                return json_error(403, "XSRF check failed: send the _xsrf cookie value as X-XSRFToken.", "xsrf")

        if info is not None:
            action = method_action(request.method, websocket)
            if authorize is not None and authorize(request=request, identity=identity, action=action, resource=info.resource) is False:
                return json_error(403, f"Not allowed to {action} {info.resource}.", "not_authorized")

        request[IDENTITY] = identity
        if request.path[len(base) :] not in _UNTRACKED_PATHS and "no_track_activity" not in request.query:
            app[STATE].last_activity = time.time()

        response = await handler(request)
        if cors:
            response.headers.update(cors)
        if identity.via == "query" and not websocket and not response.prepared:
            set_login_cookies(server, response)
        return response

    return security_middleware


def set_login_cookies(server: CoreServerApp, response: web.StreamResponse) -> None:
    """Set the signed login cookie and a fresh ``_xsrf`` cookie on ``response``."""
    assert server.authenticator is not None
    secure = server.uses_tls or server.authenticator.secure_cookie
    response.set_cookie(
        server.cookie_name,
        server.authenticator.make_cookie(),
        path=server.base_url,
        httponly=True,
        samesite="Lax",
        secure=secure,
        max_age=server.authenticator.cookie_max_age_days * 86400,
    )
    response.set_cookie(XSRF_COOKIE, secrets.token_hex(16), path=server.base_url, samesite="Lax", secure=secure)
