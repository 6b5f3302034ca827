"""Headers every response carries: the Content-Security-Policy, ``nosniff`` and the operator's own.

By default every response says ``Content-Security-Policy: frame-ancestors 'self'`` (no page
of another origin may frame this server's pages, which would let it trick a logged-in
user into clicking) and ``X-Content-Type-Options: nosniff`` (a browser never runs a file
as a script or style unless its declared type says it is one), as jupyter_server does.
They are added from aiohttp's ``on_response_prepare`` signal, so responses made anywhere
get them: handlers of the core and of plugins, the router's 404/405, the security
checks' refusals, redirects, static files and websocket handshakes. The connection
handler adds them to the parser's refusals, which never reach the application.

A handler's own header wins. A handler's own Content-Security-Policy (``/files`` and
nbconvert sandbox what they serve) is kept, and each directive of the configured policy
it does not name is appended to it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from aiohttp import web
from multidict import CIMultiDict

__all__ = ["DEFAULT_CSP", "FORBIDDEN_HEADERS", "ResponseHeaders", "check_header", "merge_policies"]

DEFAULT_CSP = "frame-ancestors 'self'"
CSP = "Content-Security-Policy"
NOSNIFF = ("X-Content-Type-Options", "nosniff")

# RFC 9110 field names are "tokens"; values may hold any visible character, space or tab.
_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
#: Headers that frame the message or describe one particular body: set per response, never for all.
FORBIDDEN_HEADERS = frozenset(
    {
        "connection",
        "content-encoding",
        "content-length",
        "content-type",
        "keep-alive",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    }
)


def check_header(name: str, value: str) -> None:
    """Raise ``ValueError`` unless ``name: value`` is a header the operator may add to every response."""
    if not _TOKEN.fullmatch(name):
        raise ValueError(f"{name!r} is not a valid header name")
    if name.lower() in FORBIDDEN_HEADERS:
        raise ValueError(f"{name} describes one message and cannot be set for every response")
    if _CONTROL.search(value):
        raise ValueError(f"the value of {name} contains a control character (CR, LF, NUL ...)")


def _directives(policy: str) -> list[str]:
    return [part.strip() for part in policy.split(";") if part.strip()]


def _directive_name(directive: str) -> str:
    return directive.split(None, 1)[0].lower()


def merge_policies(own: str, configured: str, present: Iterable[str] = ()) -> str:
    """Return ``own`` with each directive of ``configured`` it does not name appended.

    :param own: The response's policy, kept as it is.
    :param configured: The server's policy.
    :param present: Directive names taken as already set (from other policies of the response).
    """
    names = {_directive_name(d) for d in _directives(own)} | set(present)
    missing = [d for d in _directives(configured) if _directive_name(d) not in names]
    if not missing:
        return own
    kept = own.strip().rstrip(";").strip()
    return "; ".join([kept, *missing] if kept else missing)


@dataclass(frozen=True)
class ResponseHeaders:
    """The headers added to every response, built once from the settings.

    :param policy: The Content-Security-Policy, ``""`` for none.
    :param extra: The operator's other headers, ``(name, value)`` in the order given.
    """

    policy: str
    extra: tuple[tuple[str, str], ...]

    @classmethod
    def from_settings(cls, content_security_policy: str, response_headers: Mapping[str, str]) -> ResponseHeaders:
        """Combine ``CoreServerApp.content_security_policy`` and ``response_headers``.

        A ``Content-Security-Policy`` among ``response_headers`` (any capitalisation)
        replaces ``content_security_policy``, as in jupyter_server's ``headers`` setting.
        """
        policy = content_security_policy
        extra: list[tuple[str, str]] = []
        for name, value in response_headers.items():
            if name.lower() == CSP.lower():
                policy = value
            else:
                extra.append((name, value))
        return cls(policy.strip(), (*extra, NOSNIFF))

    def apply(self, headers: CIMultiDict[str]) -> None:
        """Add the headers to a response's ``headers``, keeping any the response set itself."""
        for name, value in self.extra:
            headers.setdefault(name, value)
        if not self.policy:
            return
        own = headers.getall(CSP, [])
        if not own:
            headers[CSP] = self.policy
            return
        # Several policies are all enforced; directives named by any of them count as set.
        *others, last = own
        present = {_directive_name(d) for policy in others for d in _directives(policy)}
        merged = merge_policies(last, self.policy, present)
        if merged != last:
            del headers[CSP]
            for policy in others:
                headers.add(CSP, policy)
            headers.add(CSP, merged)

    async def on_response_prepare(self, request: web.Request, response: web.StreamResponse) -> None:
        """The ``on_response_prepare`` signal handler."""
        self.apply(response.headers)
