"""Origin, CORS and Host checks: what a browser may do across sites and names."""

from __future__ import annotations

import functools
import ipaddress
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from aiohttp import web

__all__ = ["OriginPolicy", "is_loopback", "parse_host"]

_LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"})
CORS_ALLOW_HEADERS = "Authorization, Content-Type, X-XSRFToken, X-Requested-With"
CORS_ALLOW_METHODS = "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS"


# RFC 3986's reg-name narrowed to what DNS and /etc/hosts names use: labels of ASCII
# letters, digits, "-" and "_", an optional final dot. IPv4 addresses have this shape too.
_REG_NAME = re.compile(r"[a-z0-9_-]+(?:\.[a-z0-9_-]+)*\.?")
_IPV6_TEXT = re.compile(r"[0-9a-f:.]+")  # no zone ID: browsers never send one in Host
_PORT = re.compile(r"[0-9]{1,5}")


@functools.lru_cache(maxsize=256)
def parse_host(host: str) -> tuple[str, int | None] | None:
    """Split a ``Host`` header value into its lower-case name and port, or ``None`` if malformed.

    Well formed is a host name or IPv4 address, or an IPv6 address in brackets, then
    optionally ``:`` and a port up to 65535: no user information, no path, nothing after.
    IPv6 names come back without their brackets.
    """
    if not host.isascii():  # before lower(), which maps some non-ASCII letters to ASCII ones
        return None
    text = host.lower()
    if text.startswith("["):
        end = text.find("]")
        name, rest = text[1:end], text[end + 1 :]
        if end == -1 or not _IPV6_TEXT.fullmatch(name):
            return None
        try:
            ipaddress.IPv6Address(name)
        except ValueError:
            return None
    else:
        name, _, _ = text.partition(":")
        rest = text[len(name) :]
        if len(name) > 253 or not _REG_NAME.fullmatch(name):
            return None
    if not rest:
        return name, None
    port = rest[1:]
    if rest[0] != ":" or not _PORT.fullmatch(port) or int(port) > 65535:
        return None
    return name, int(port)


@functools.lru_cache(maxsize=256)
def _host_allowed(host: str, local_hostnames: frozenset[str]) -> bool:
    parsed = parse_host(host)
    if parsed is None:
        return False
    name = parsed[0]
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
        """Refuse names other than loopback or ``local_hostnames`` (DNS rebinding guard).

        A malformed ``Host`` is never allowed; the edge middleware answers it with 400
        before this check runs.
        """
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
