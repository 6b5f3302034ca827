"""How conversions are answered: the media type served, the download name, and the headers every answer carries.

A conversion's output is the notebook's content, so it is treated as hostile:

- Every answer of ``/api/nbconvert`` and ``/nbconvert/...`` (errors and refusals of the
  security layer included) is sandboxed by ``Content-Security-Policy: sandbox
  allow-scripts`` and marked ``X-Content-Type-Options: nosniff``. A document's scripts
  may run, but in an opaque origin without the user's cookies or token, and a browser
  never second-guesses the type served.
- A media type the *notebook* chose (the ``script`` exporter takes
  ``metadata.language_info.mimetype``) is served only when it is well formed and on
  :data:`INLINE_TYPES` (or a ``text/x-*`` source type); anything else, ``text/html``
  and the XML and SVG types among them, is served as ``text/plain; charset=utf-8``.
  The body is the cell sources as written, so as text it shows exactly what the user
  exported, and no browser renders text as a document. An exporter's own type (the
  ``html`` exporter's ``text/html``) is served as the exporter declares it.
- Nothing from a notebook reaches a header unchecked: media types are parsed (one
  ``type/subtype``, parameters well formed and not repeated), names lose their control
  characters.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from urllib.parse import quote

from aiohttp import web

__all__ = [
    "INLINE_TYPES",
    "PLAIN_TEXT",
    "attachment",
    "content_type",
    "make_response_guard",
    "media_type",
    "sandboxed_policy",
]

# As jupyter_server's nbconvert_csp_sandbox: a document's scripts run, in an opaque origin.
_SANDBOX_FLAGS = frozenset({"allow-scripts"})

PLAIN_TEXT = "text/plain; charset=utf-8"

#: Types a notebook may choose that browsers show as text or hand to a viewer, never run.
INLINE_TYPES = frozenset(
    {
        "text/plain",
        "text/markdown",
        "text/x-markdown",
        "text/x-rst",
        "text/restructuredtext",
        "text/asciidoc",
        "text/latex",
        "text/x-tex",
        "text/csv",
        "application/json",
        "application/x-ipynb+json",
        "application/pdf",
    }
)
# text/x-* is what kernels declare for source code (text/x-python, text/x-julia, ...);
# these few are script types or documents to a browser.
_ACTIVE_TEXT_X = frozenset({"text/x-javascript", "text/x-ecmascript", "text/x-jscript", "text/x-component"})
_ACTIVE_WORDS = ("html", "xml", "svg")

# RFC 7231 §3.1.1.1: media-type = type "/" subtype *( OWS ";" OWS parameter ),
# parameter = token "=" ( token / quoted-string ); OWS is spaces and tabs.
_TOKEN = r"[!#$%&'*+.^_`|~0-9A-Za-z-]+"
_QUOTED = r'"(?:[\t !#-\[\]-~]|\\[\t -~])*"'
_ESSENCE = re.compile(rf"({_TOKEN})/({_TOKEN})")
_PARAMETER = re.compile(rf"[ \t]*;[ \t]*({_TOKEN})=(?:{_TOKEN}|{_QUOTED})")
_UNSAFE_IN_NAME = re.compile(r"[\x00-\x1f\x7f/\\]")


def media_type(value: str) -> str | None:
    """The ``type/subtype`` of a ``Content-Type`` value, lower-cased, or ``None`` unless well formed.

    One media type only; parameters must be well formed, each named once (``charset``
    twice is refused), and are dropped: the body's encoding is the server's to say.
    """
    value = value.strip(" \t")
    essence = _ESSENCE.match(value)
    if essence is None:
        return None
    seen: set[str] = set()
    position = essence.end()
    while position < len(value):
        parameter = _PARAMETER.match(value, position)
        if parameter is None:
            return None
        name = parameter.group(1).lower()
        if name in seen:
            return None
        seen.add(name)
        position = parameter.end()
    return f"{essence.group(1)}/{essence.group(2)}".lower()


def _inline_safe(essence: str) -> bool:
    if essence in INLINE_TYPES:
        return True
    subtype = essence.partition("/")[2]
    return (
        essence.startswith("text/x-")
        and essence not in _ACTIVE_TEXT_X
        and "+" not in subtype  # a structured suffix (+xml, +html) makes a document of it
        and not any(word in subtype for word in _ACTIVE_WORDS)
    )


def content_type(declared: str, *, from_exporter: bool) -> str:
    """The ``Content-Type`` to serve for an output whose exporter reported ``declared``.

    :param from_exporter: ``True`` when the type is the exporter's own, ``False`` when the
        notebook chose it (or changed it); a notebook's choice must be inline-safe.
    """
    essence = media_type(declared)
    if essence is None or not (from_exporter or _inline_safe(essence)):
        return PLAIN_TEXT
    if essence.startswith("text/") or essence in ("application/json", "application/x-ipynb+json"):
        return f"{essence}; charset=utf-8"
    return essence


def attachment(filename: str) -> str:
    """A ``Content-Disposition: attachment`` value naming ``filename`` (RFC 6266, with a UTF-8 form).

    Control characters and path separators become ``_``: a name is a notebook's to choose.
    """
    name = _UNSAFE_IN_NAME.sub("_", filename) or "download"
    ascii_name = name.encode("ascii", "replace").decode().replace('"', "_")
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"


def sandboxed_policy(existing: str | None) -> str:
    """A Content-Security-Policy holding ``existing``'s directives and the nbconvert sandbox.

    ``existing`` may hold several policies (comma-separated, as headers combine); the
    first directive of each name is kept, as a browser reads one policy. A ``sandbox``
    already there keeps only the flags nbconvert allows (the stricter of the two wins);
    without a ``frame-ancestors``, ``'self'`` is added, as on every other answer.
    """
    kept: dict[str, str] = {}
    sandbox = set(_SANDBOX_FLAGS)
    for directive in re.split(r"[;,]", existing or ""):
        tokens = directive.split()
        if not tokens:
            continue
        name = tokens[0].lower()
        if name == "sandbox":
            sandbox &= {flag.lower() for flag in tokens[1:]}
        else:
            kept.setdefault(name, " ".join(tokens))
    kept.setdefault("frame-ancestors", "frame-ancestors 'self'")
    kept["sandbox"] = " ".join(["sandbox", *sorted(sandbox)])
    return "; ".join(kept.values())


def make_response_guard(base_url: str) -> Callable[[web.Request, web.StreamResponse], Awaitable[None]]:
    """An ``on_response_prepare`` handler giving every answer under nbconvert's paths its headers.

    A signal rather than the handlers: the security layer answers some requests (no
    credentials, a login redirect, a bad ``Host``) before a handler runs, and the router
    answers 404 and 405 without one.
    """
    base = base_url.rstrip("/")
    prefixes = (f"{base}/api/nbconvert", f"{base}/nbconvert")

    async def guard(request: web.Request, response: web.StreamResponse) -> None:
        path = request.path
        if not any(path == prefix or path.startswith(prefix + "/") for prefix in prefixes):
            return
        existing = ", ".join(response.headers.getall("Content-Security-Policy", []))
        response.headers["Content-Security-Policy"] = sandboxed_policy(existing)
        response.headers["X-Content-Type-Options"] = "nosniff"

    return guard
