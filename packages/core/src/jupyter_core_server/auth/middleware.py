"""The security middleware: every route of the core and of plugins passes through it.

Order of checks, as the code makes them:

1. Host (DNS rebinding): ``host_not_allowed``.
2. Origin: a cross-origin request from a site not allowed is refused
   (``origin_not_allowed``); an allowed CORS preflight is answered here.
3. Public routes stop here: their handler runs without credentials (a page that
   serves known users calls :func:`~.authenticate.authenticate` itself).
4. Authentication (:func:`~.authenticate.authenticate`: the ``identify_async`` and
   ``identify`` hooks): ``unauthenticated``, or a redirect to ``/login`` for a browser
   navigating to a page.
5. Plugin health: a route of a plugin that failed to start answers 503 ``plugin_failed``.
6. XSRF for cookie-authenticated writes: ``xsrf``.
7. Authorization (the ``authorize`` hook): ``not_authorized``.

Before this middleware, the edge middleware refuses malformed ``Host`` headers and
oversized bodies; around both, the error middleware renders every refusal raised here
(and every error a handler raises) as the one JSON error. After the handler, CORS
headers go on the answer (errors included) and a token-authenticated request gets the
login cookie. Handlers never repeat any of this.
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from aiohttp import web

from ..errors import ApiError, Forbidden
from ..keys import ROUTE_INFO, STATE
from ..routing import method_action
from .authenticate import AUTHENTICATION, XSRF_COOKIE, Authentication, is_websocket_handshake, set_login_cookies

if TYPE_CHECKING:
    from ..app import CoreServerApp
    from .origin import OriginPolicy

# XSRF_COOKIE and set_login_cookies live in authenticate.py; imported from here by existing code.
__all__ = ["XSRF_COOKIE", "make_security_middleware", "set_login_cookies"]

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_UNTRACKED_PATHS = frozenset({"/api/status", "/api/health", "/api/ready"})


def make_security_middleware(
    server: CoreServerApp, policy: OriginPolicy
) -> Callable[..., Awaitable[web.StreamResponse]]:
    """Build the middleware from the server's settings (read once, not per request)."""
    base = server.base_url.rstrip("/")
    pm = server.plugin_manager
    assert pm is not None
    authentication = Authentication(server)
    # authorize runs on every request; when only the core implements it, skip pluggy.
    custom_authorize = [impl for impl in pm.hook.authorize.get_hookimpls() if impl.plugin_name != "api"]
    authorize = pm.hook.authorize if custom_authorize else None

    @web.middleware
    async def security_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if not policy.host_allowed(request):
            raise Forbidden(
                "Host header not allowed; set CoreServerApp.local_hostnames or allow_remote_access.", "host_not_allowed"
            )

        origin = request.headers.get("Origin")
        cors: dict[str, str] | None = None
        if origin is not None and not policy.same_origin(request, origin):
            if not policy.origin_allowed(origin):
                raise Forbidden(f"Cross-origin request from {origin} blocked.", "origin_not_allowed")
            if request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers:
                return policy.preflight(origin)
            cors = policy.cors_headers(origin)

        app = request.app
        info = app[ROUTE_INFO].get(request.match_info.route)
        if info is not None and info.public:
            request[AUTHENTICATION] = authentication  # for a public route that authenticates itself
        else:
            identity = await authentication.authenticate(request)
            if identity is None:
                if (
                    request.method == "GET"
                    and "text/html" in request.headers.get("Accept", "")
                    and "Upgrade" not in request.headers
                ):
                    # A browser navigating to a page: send it to the login page, as jupyter_server does.
                    return web.Response(
                        status=302, headers={"Location": f"{base}/login?{urlencode({'next': request.path_qs})}"}
                    )
                raise Forbidden("Forbidden: missing or invalid credentials.", "unauthenticated")
            if info is not None and info.plugin in pm.failed:
                raise ApiError(
                    f"Plugin {info.plugin!r} failed to start; see the server log.", "plugin_failed", status=503
                )

            websocket = is_websocket_handshake(request)
            if identity.via == "cookie" and request.method not in _SAFE_METHODS and not websocket:
                expected = request.cookies.get(XSRF_COOKIE, "")
                given = request.headers.get("X-XSRFToken", "")
                if not expected or not hmac.compare_digest(expected, given):
                    raise Forbidden("XSRF check failed: send the _xsrf cookie value as X-XSRFToken.", "xsrf")

            if info is not None:
                action = method_action(request.method, websocket)
                if (
                    authorize is not None
                    and authorize(request=request, identity=identity, action=action, resource=info.resource) is False
                ):
                    raise Forbidden(f"Not allowed to {action} {info.resource}.", "not_authorized")

            if request.path[len(base) :] not in _UNTRACKED_PATHS and "no_track_activity" not in request.query:
                app[STATE].last_activity = time.time()

        try:
            response = await handler(request)
        except ApiError as exc:
            if cors:  # a cross-origin client may read the error too, as it reads the answer
                exc.headers = {**exc.headers, **cors}
            raise
        except web.HTTPException as exc:  # a redirect (raised, not returned) or an aiohttp error
            if cors:
                exc.headers.update(cors)
            if exc.status < 400:
                authentication.give_login_cookie(request, exc)
            raise
        if cors:
            response.headers.update(cors)
        authentication.give_login_cookie(request, response)
        return response

    return security_middleware
