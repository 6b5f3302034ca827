"""Route ownership: who may claim which paths, and what auth a route needs.

Plugins return ``aiohttp`` route definitions; the core checks each against the plugin's
namespace, detects collisions between plugins, prefixes ``base_url`` and records a
:class:`RouteInfo` per route that the security middleware reads on every request.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from aiohttp import web

__all__ = [
    "STANDARD_PATHS",
    "RouteConflict",
    "RouteInfo",
    "auth_resource",
    "check_namespace",
    "method_action",
    "public",
]

F = TypeVar("F", bound=Callable[..., Any])

# Paths of the standard Jupyter services, and the plugin names allowed to serve them.
STANDARD_PATHS: dict[str, tuple[str, ...]] = {
    "api": ("/", "/api", "/login", "/logout"),
    "kernels": ("/api/kernels",),
    "kernelspecs": ("/api/kernelspecs", "/kernelspecs"),
    "sessions": ("/api/sessions",),
    "contents": ("/api/contents", "/files", "/view"),
    "terminals": ("/api/terminals", "/terminals"),
    "nbconvert": ("/api/nbconvert", "/nbconvert"),
    # JupyterLab and Notebook 7 pages, their static files, frontend config and the events stream.
    "frontend": (
        *("/lab", "/doc", "/tree", "/notebooks", "/edit", "/consoles", "/terminals", "/custom"),
        *("/static/lab", "/static/notebook", "/static/favicons", "/api/config", "/api/events"),
    ),
    "hub": ("/oauth_callback",),
}


class RouteConflict(Exception):
    """A route is outside its plugin's namespace, or two plugins claim the same route."""


@dataclass(frozen=True)
class RouteInfo:
    """What the core knows about one registered route."""

    plugin: str
    resource: str
    public: bool
    method: str
    path: str  # as the plugin gave it, relative to base_url


def public(handler: F) -> F:
    """Mark a handler as reachable without authentication (like ``GET /api``)."""
    handler.jcs_public = True  # type: ignore[attr-defined]
    return handler


def auth_resource(name: str) -> Callable[[F], F]:
    """Set the authorization resource of a handler (default: the plugin's name)."""

    def mark(handler: F) -> F:
        handler.jcs_resource = name  # type: ignore[attr-defined]
        return handler

    return mark


_READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def method_action(method: str, websocket: bool) -> str:
    """Map an HTTP method to an authorization action, as jupyter_server does."""
    if websocket:
        return "execute"
    return "read" if method in _READ_METHODS else "write"


def _under(path: str, prefix: str) -> bool:
    if prefix == "/":
        return path == "/"
    return path == prefix or path.startswith((prefix + "/", prefix + "{"))


def check_namespace(plugin: str, path: str) -> None:
    """Raise :class:`RouteConflict` unless ``plugin`` may serve ``path``."""
    if not path.startswith("/"):
        raise RouteConflict(f"Plugin {plugin!r} route {path!r} must start with '/'")
    # A plugin's own prefix ends at "/": "/extension/api/a{x:.*}" would also serve plugin "ab".
    own = (f"/extension/api/{plugin}", f"/static/{plugin}")
    if any(path == prefix or path.startswith(prefix + "/") for prefix in own):
        return
    if any(_under(path, prefix) for prefix in STANDARD_PATHS.get(plugin, ())):
        return
    # name the most specific owner: /api/kernels/x belongs to kernels, not to api's /api
    owners = sorted((len(p), name) for name, prefixes in STANDARD_PATHS.items() for p in prefixes if _under(path, p))
    hint = f" (reserved for the {owners[-1][1]!r} service)" if owners else ""
    raise RouteConflict(
        f"Plugin {plugin!r} may not serve {path!r}{hint}; "
        f"third-party routes belong under /extension/api/{plugin}/ or /static/{plugin}/"
    )


def _handler_attr(handler: Any, name: str, default: Any) -> Any:
    return getattr(handler, name, default)


def plan_routes(
    contributions: Iterable[tuple[str, Iterable[web.RouteDef]]],
) -> list[tuple[web.RouteDef, RouteInfo]]:
    """Check for collisions and return every route with its :class:`RouteInfo`.

    Namespaces are checked per plugin beforehand (:func:`check_namespace`), so that a
    plugin breaking its namespace fails alone.

    :raises RouteConflict: naming both plugins when two claim one method and path.
    """
    claimed: dict[tuple[str, str], str] = {}
    planned: list[tuple[web.RouteDef, RouteInfo]] = []
    for plugin, routes in contributions:
        for route in routes:
            if not isinstance(route, web.RouteDef):
                raise RouteConflict(f"Plugin {plugin!r} returned {route!r}, not an aiohttp RouteDef")
            methods = [route.method]
            if route.method == "GET" and route.kwargs.get("allow_head", True):
                methods.append("HEAD")
            for method in methods:
                key = (method if route.method != "*" else "*", route.path)
                other = claimed.get(key) or claimed.get(("*", route.path))
                if other is not None:
                    raise RouteConflict(
                        f"Route {method} {route.path} is claimed by both plugin {other!r} and plugin {plugin!r}"
                    )
                claimed[key] = plugin
            info = RouteInfo(
                plugin=plugin,
                resource=_handler_attr(route.handler, "jcs_resource", plugin),
                public=bool(_handler_attr(route.handler, "jcs_public", False)),
                method=route.method,
                path=route.path,
            )
            planned.append((route, info))
    return planned


def full_path(base_url: str, path: str) -> str:
    """Prefix a plugin-relative path with ``base_url`` (which ends with ``/``)."""
    return base_url.rstrip("/") + path
