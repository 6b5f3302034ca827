"""Origin, CORS and Host checks: what a browser may do across sites and names."""

from __future__ import annotations

import functools
import ipaddress
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from aiohttp import web

__all__ = ["OriginPolicy", "is_loopback"]

_LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"})
CORS_ALLOW_HEADERS = "Authorization, Content-Type, X-XSRFToken, X-Requested-With"
CORS_ALLOW_METHODS = "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS"


def _host_name(host: str) -> str:
    """Return the host name of a ``Host`` header (no port, no brackets), lower case."""
    if host.startswith("["):
        return host[1 : host.find("]")].lower()
    return host.rsplit(":", 1)[0].lower() if host.count(":") == 1 else host.lower()


@functools.lru_cache(maxsize=256)
def _host_allowed(host: str, local_hostnames: frozenset[str]) -> bool:
    name = _host_name(host)
    return is_loopback(name) or name in local_hostnames


def is_loopback(name: str) -> bool:
    """Return whether a host name or address is a loopback one."""
    if name in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class OriginPolicy:
    """Which origins may call the API and which Host names are served."""

    allow_origin: str
    allow_origin_pat: re.Pattern[str] | None
    allow_credentials: bool
    allow_remote_access: bool
    local_hostnames: frozenset[str]

    def host_allowed(self, request: web.Request) -> bool:
        """Refuse names other than loopback or ``local_hostnames`` (DNS rebinding guard)."""
        if self.allow_remote_access:
            return True
        return _host_allowed(request.headers.get("Host", ""), self.local_hostnames)

    def origin_allowed(self, origin: str) -> bool:
        """Return whether a cross-site ``origin`` is allowed by configuration (full match)."""
        if self.allow_origin == "*":
            return True
        if self.allow_origin and origin in {o.strip() for o in self.allow_origin.split(",")}:
            return True
        return bool(self.allow_origin_pat and self.allow_origin_pat.fullmatch(origin))

    @staticmethod
    def same_origin(request: web.Request, origin: str) -> bool:
        """Return whether ``origin`` names the host the request was sent to."""
        netloc = urlsplit(origin).netloc.lower()
        return bool(netloc) and netloc == request.headers.get("Host", "").lower()

    def cors_headers(self, origin: str) -> dict[str, str]:
        """Return the response headers that grant ``origin`` access."""
        headers = {"Access-Control-Allow-Origin": origin, "Vary": "Origin"}
        if self.allow_credentials:
            headers["Access-Control-Allow-Credentials"] = "true"
        return headers

    def preflight(self, origin: str) -> web.Response:
        """Answer a CORS preflight (``OPTIONS`` with ``Access-Control-Request-Method``)."""
        headers = self.cors_headers(origin)
        headers["Access-Control-Allow-Methods"] = CORS_ALLOW_METHODS
        headers["Access-Control-Allow-Headers"] = CORS_ALLOW_HEADERS
        headers["Access-Control-Max-Age"] = "600"
        return web.Response(status=204, headers=headers)
