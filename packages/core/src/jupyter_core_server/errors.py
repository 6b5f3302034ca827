"""Errors that become JSON responses, and the middleware that renders every error.

Domain code raises :class:`ApiError` subclasses; handlers raise them or aiohttp's
``web.HTTPException``, and so do the middlewares that refuse requests. The error
middleware is the one place that turns each into ``{"message", "reason"}`` (plus the
error's :attr:`~ApiError.extra` fields) with the right status: nothing else builds an
error response. Anything unexpected is a 500 with a generic message; its traceback goes
to the log, and to the client only when the server runs with ``--debug``.

JSON from clients is decoded with :func:`loads_json` (bodies through :func:`read_json`),
which refuses documents nested deeper than :data:`MAX_JSON_DEPTH`.
"""

from __future__ import annotations

import json
import logging
import re
import traceback
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from aiohttp import web

log = logging.getLogger("jupyter_core_server")

__all__ = [
    "MAX_JSON_DEPTH",
    "ApiError",
    "BadRequest",
    "Forbidden",
    "NotFound",
    "check_json_depth",
    "json_error",
    "loads_json",
    "read_json",
    "read_json_object",
]

#: The deepest nesting of arrays and objects accepted in JSON from a client: a request
#: body, a kernel or terminal websocket frame. Python's decoder recurses once per level
#: and fails past the interpreter's recursion limit (1000 frames, shared with the stack
#: the request already sits on), and code that walks a decoded document (nbformat's
#: signature, the pretty-printing encoder) recurses again, so the limit sits well below
#: that. Real documents stay far under it: a notebook's own structure takes 7 levels down
#: to an output's MIME data, a kernel message 4, and widget states, Plotly and Vega specs
#: or GeoJSON nest a few dozen at most.
MAX_JSON_DEPTH = 100

_NOT_BRACKETS = re.compile(r"[^\[\]{}]+")


_RESERVED_FIELDS = frozenset({"message", "reason"})


class ApiError(Exception):
    """An error with an HTTP status, a human ``message`` and an optional machine ``reason``.

    :param message: What went wrong, for people; names the value at fault.
    :param reason: A short, stable word for programs to branch on, or ``None``.
    :param status: The HTTP status, when not the class's own :attr:`status`.
    :param headers: Response headers the answer carries (``Retry-After``, ``Allow``).
    :param extra: More fields of the JSON body, after ``message`` and ``reason``
        (a conflict's current ``hash``, a ``short_message``); they cannot replace those two.
    """

    status = 500

    def __init__(
        self,
        message: str,
        reason: str | None = None,
        *,
        status: int | None = None,
        headers: dict[str, str] | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.reason = reason
        self.headers = headers or {}
        fields = dict(extra or {})
        if _RESERVED_FIELDS & fields.keys():
            raise ValueError(f"extra fields of an ApiError cannot be named {sorted(_RESERVED_FIELDS & fields.keys())}")
        #: Fields of the JSON body besides ``message`` and ``reason``.
        self.extra: dict[str, Any] = fields
        if status is not None:
            self.status = status


class BadRequest(ApiError):
    """The request is malformed (400)."""

    status = 400


class Forbidden(ApiError):
    """The request is not allowed (403)."""

    status = 403


class NotFound(ApiError):
    """The resource does not exist (404)."""

    status = 404


def json_error(status: int, message: str, reason: str | None = None, **extra: Any) -> web.Response:
    """Build the JSON error response every route family uses.

    The error middleware renders every error with it; handlers and other middlewares
    raise an :class:`ApiError` instead of calling it, so that each error passes through
    the middleware (its logging, its headers) the same way.
    """
    body: dict[str, Any] = {"message": message, "reason": reason}
    body.update((name, value) for name, value in extra.items() if name not in _RESERVED_FIELDS)
    return web.Response(status=status, text=json.dumps(body), content_type="application/json")


def _too_deep(raw: str | bytes) -> bool:
    """Whether ``raw`` nests arrays and objects deeper than :data:`MAX_JSON_DEPTH`."""
    # Fast path, nearly free for ordinary messages: with no more opening brackets than the
    # limit the nesting cannot exceed it. Every encoding json.loads accepts writes "[" and
    # "{" with their ASCII byte, so counting bytes never undercounts.
    if isinstance(raw, str):
        if raw.count("[") + raw.count("{") <= MAX_JSON_DEPTH:
            return False
        text = raw
    else:
        if raw.count(b"[") + raw.count(b"{") <= MAX_JSON_DEPTH:
            return False
        try:  # as json.loads reads bytes: UTF-8, -16 or -32; a quote byte may sit inside a UTF-16 character
            text = raw.decode(json.detect_encoding(raw), "surrogatepass")
        except UnicodeDecodeError:
            return False  # json.loads refuses it before decoding anything
    # Outside strings a valid document has no backslash, inside one each escape is a
    # backslash and one character: without the escaped backslashes and quotes, every
    # quote left opens or closes a string, and the even pieces between them lie outside.
    # (str methods only: linear, and no regular expression to backtrack on hostile input.)
    unescaped = text.replace("\\\\", "").replace('\\"', "")
    brackets = _NOT_BRACKETS.sub("", "".join(unescaped.split('"')[::2]))
    if len(brackets) <= MAX_JSON_DEPTH:
        return False
    depth = 0
    for bracket in brackets:
        if bracket in "[{":
            depth += 1
            if depth > MAX_JSON_DEPTH:
                return True
        else:
            depth -= 1
            if depth < 0:  # the decoder stops at an unmatched bracket: nothing after it is read
                return False
    return False


def check_json_depth(raw: str | bytes, what: str = "JSON document") -> None:
    """Raise :class:`BadRequest` (``json_too_deep``) when ``raw`` nests deeper than :data:`MAX_JSON_DEPTH`.

    For JSON that is passed on without being decoded here (a kernel message's parts).
    """
    if _too_deep(raw):
        raise BadRequest(f"{what} is nested deeper than {MAX_JSON_DEPTH} levels", "json_too_deep")


def loads_json(raw: str | bytes, what: str = "JSON document") -> Any:
    """Decode JSON from a client, as :func:`json.loads`, refusing what it must not decode.

    :param raw: The document, as text or bytes (UTF-8, -16 or -32, like :func:`json.loads`).
    :param what: How messages name the document (``"Request body"``).
    :raises BadRequest: ``invalid_json`` when it is not JSON, ``json_too_deep`` when it
        nests deeper than :data:`MAX_JSON_DEPTH`.
    """
    check_json_depth(raw, what)
    try:
        return json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BadRequest(f"{what} is not valid JSON: {exc}", "invalid_json") from None
    except RecursionError:  # the check above bounds the depth; kept in case the stack is deep already
        raise BadRequest(f"{what} is nested too deeply", "json_too_deep") from None


async def read_json(request: web.Request, *, required: bool = True) -> Any:
    """Return the decoded JSON body, or raise :class:`BadRequest` naming what is wrong."""
    raw = await request.read()
    if not raw.strip():
        if required:
            raise BadRequest("Request body is empty; a JSON document is required.", "missing_body")
        return None
    return loads_json(raw, "Request body")


async def read_json_object(request: web.Request, *, required: bool = True) -> dict[str, Any]:
    """Return the decoded JSON body, which must be an object (``{}`` for an optional empty body)."""
    body = await read_json(request, required=required)
    if body is None:
        return {}
    if not isinstance(body, dict):
        raise BadRequest("Request body must be a JSON object", "invalid_body")
    return body


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

# A websocket close frame with status 1011 (internal error): FIN and the close opcode,
# a 2-byte payload, the code (RFC 6455 5.5.1, 7.4.1); unmasked as a server's frame must
# be, and never compressed, whatever extension the connection negotiated (control frame).
_CLOSE_INTERNAL_ERROR = b"\x88\x02\x03\xf3"


class _AlreadyStarted(web.StreamResponse):
    """Stands in for a response whose handler failed after sending its start: nothing more is written."""

    def __init__(self) -> None:
        super().__init__(status=500)

    async def prepare(self, request: web.BaseRequest) -> None:
        return None

    async def write_eof(self, data: bytes = b"") -> None:
        return None


def _end_started_response(request: web.Request) -> web.StreamResponse:
    """End a connection whose response had started (a websocket after its upgrade) when the handler failed.

    An HTTP error written now would land inside the websocket stream (or the body being
    sent) and the client would read garbage: close the websocket with 1011 instead, or
    cut a half-sent HTTP response short, the only signal left.
    """
    transport = request.transport
    if transport is not None and not transport.is_closing():
        if request.headers.get("Upgrade", "").strip().lower() == "websocket":
            transport.write(_CLOSE_INTERNAL_ERROR)
        transport.close()
    return _AlreadyStarted()


# Headers of an aiohttp HTTPException that say something about the error itself; its
# Content-Type and body are replaced by the JSON error.
_KEPT_HEADERS = frozenset({"allow", "retry-after", "www-authenticate"})


def make_error_middleware(debug: bool) -> Callable[[web.Request, Handler], Awaitable[web.StreamResponse]]:
    """Return the middleware that renders every error as a JSON body."""

    def render(request: web.Request, exc: Exception) -> web.StreamResponse:
        if isinstance(exc, ApiError):
            response = json_error(exc.status, exc.message, exc.reason, **exc.extra)
            response.headers.update(exc.headers)
            return response
        if isinstance(exc, web.HTTPException):
            if exc.status < 400:
                raise exc
            message = exc.text if exc.text and exc.text != f"{exc.status}: {exc.reason}" else exc.reason
            response = json_error(exc.status, message)
            for name, value in exc.headers.items():
                kept = name.lower()
                if kept in _KEPT_HEADERS or kept.startswith("access-control-"):  # CORS: see the security middleware
                    response.headers.add(name, value)
            return response
        log.exception("Unhandled error in %s %s", request.method, request.rel_url.path)
        extra: dict[str, Any] = {}
        if debug:
            extra["traceback"] = traceback.format_exc()
        return json_error(500, "Unhandled error", "internal_error", **extra)

    @web.middleware
    async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        written = request.writer.output_size  # not 0 when a "100 Continue" went out already
        try:
            return await handler(request)
        except Exception as exc:
            if request.writer.output_size > written:
                log.exception("Error in %s %s after its response started", request.method, request.rel_url.path)
                return _end_started_response(request)
            return render(request, exc)

    return error_middleware
