"""The network edge: connections, what the HTTP parser refuses, and checks made before any other.

:class:`EdgeRunner` serves the application like ``aiohttp``'s ``AppRunner``, with
:class:`EdgeRequestHandler` connections, which differ from aiohttp's in two ways:

- a connection whose first request's headers are not complete within
  ``CoreServerApp.request_header_timeout`` seconds is closed (aiohttp's own idle timeout,
  an hour, still applies between requests of a keep-alive connection; bodies and
  websockets are never cut);
- a request the parser refuses gets the JSON error shape and the default response
  headers, and is logged as one line naming the kind of problem. aiohttp's own error
  path logs the parser's message, which quotes the raw request line or header, and with
  it any token, password or cookie the client sent.

:func:`make_edge_middleware` refuses, before authentication, a malformed ``Host`` (400)
and a declared body larger than ``max_body_size`` (413, before any of it is read).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from aiohttp import http_exceptions, web
from aiohttp.web_protocol import RequestHandler

from .auth.origin import parse_host
from .errors import ApiError, BadRequest
from .headers import ResponseHeaders

__all__ = ["EdgeRequestHandler", "EdgeRunner", "EdgeServer", "EdgeSettings", "make_edge_middleware"]

log = logging.getLogger("jupyter_core_server.http")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
RequestFactory = Callable[..., web.BaseRequest]

# What each parser exception means, most specific first. Only these words are logged or
# sent: the exceptions' own text quotes the request.
_PROBLEMS: tuple[tuple[type[Exception], str], ...] = (
    (http_exceptions.LineTooLong, "the request line or a header is too long"),
    (http_exceptions.BadHttpMethod, "the method is not valid"),
    (http_exceptions.BadStatusLine, "the request line is not valid (method, target or HTTP version)"),
    (http_exceptions.InvalidHeader, "a header is not valid"),
    (http_exceptions.InvalidURLError, "the request target is not valid"),
    (http_exceptions.HttpProcessingError, "a header or the request line is not valid HTTP/1.1"),
)


@dataclass(frozen=True)
class EdgeSettings:
    """What the connections need from the settings.

    :param header_timeout: Seconds a new connection has to send its first request's
        headers; 0 for no limit.
    :param headers: The headers added to every response.
    """

    header_timeout: float
    headers: ResponseHeaders


def _problem(exc: BaseException) -> str:
    return next(text for kind, text in _PROBLEMS if isinstance(exc, kind))


class EdgeRequestHandler(RequestHandler):
    """aiohttp's connection handler with a first-request deadline and JSON, secret-free parser errors."""

    __slots__ = ("_edge", "_header_timer")

    def __init__(self, manager: web.Server, *, edge: EdgeSettings, **kwargs: Any) -> None:
        super().__init__(manager, **kwargs)
        self._edge = edge
        self._header_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        if self._edge.header_timeout > 0:
            self._header_timer = asyncio.get_running_loop().call_later(
                self._edge.header_timeout, self._headers_too_slow
            )

    def connection_lost(self, exc: BaseException | None) -> None:
        self.headers_received()
        super().connection_lost(exc)

    def headers_received(self) -> None:
        """Stop the first-request deadline: a request's headers are complete."""
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _headers_too_slow(self) -> None:
        self._header_timer = None
        log.debug(
            "Closed a connection from %s: no complete request within %s s (request_header_timeout)",
            self.peername,
            self._edge.header_timeout,
        )
        self.force_close()

    def handle_error(
        self, request: web.BaseRequest, status: int = 500, exc: BaseException | None = None, message: str | None = None
    ) -> web.StreamResponse:
        """Answer a request that never reached the application: the parser refused it, or the response failed.

        aiohttp calls this for parser errors (``exc`` is the parser's exception) and for
        errors raised outside every middleware. The answer closes the connection.
        """
        if isinstance(exc, http_exceptions.HttpProcessingError):
            problem = _problem(exc)
            log.debug("Malformed request from %s: %s", request.remote, problem)
            body: dict[str, str | None] = {
                "message": f"Malformed HTTP request: {problem}.",
                "reason": "malformed_request",
            }
        else:
            # Not the parser's: aiohttp logs the traceback (and refuses if a response was already started).
            super().handle_error(request, status, exc, message)
            reason = "internal_error" if status == HTTPStatus.INTERNAL_SERVER_ERROR else None
            body = {"message": HTTPStatus(status).phrase, "reason": reason}
        response = web.Response(status=status, text=json.dumps(body), content_type="application/json")
        response.force_close()
        self._edge.headers.apply(response.headers)
        return response


class EdgeServer(web.Server):
    """aiohttp's server (the protocol factory) making :class:`EdgeRequestHandler` connections."""

    def __init__(
        self,
        handler: Callable[[web.BaseRequest], Awaitable[web.StreamResponse]],
        *,
        request_factory: RequestFactory,
        edge: EdgeSettings,
        handler_cancellation: bool = False,
        **kwargs: Any,
    ) -> None:
        def make_request(message: Any, payload: Any, protocol: Any, writer: Any, task: Any) -> web.BaseRequest:
            # Called once a request's headers are parsed (or refused), before it is handled.
            if isinstance(protocol, EdgeRequestHandler):
                protocol.headers_received()
            return request_factory(message, payload, protocol, writer, task)

        loop = asyncio.get_running_loop()
        super().__init__(
            handler, request_factory=make_request, handler_cancellation=handler_cancellation, loop=loop, **kwargs
        )
        self._edge_loop = loop
        self._edge = edge
        self._handler_kwargs = kwargs

    def __call__(self) -> RequestHandler:
        return EdgeRequestHandler(self, edge=self._edge, loop=self._edge_loop, **self._handler_kwargs)


class EdgeRunner(web.AppRunner):
    """``web.AppRunner`` whose server is an :class:`EdgeServer`.

    aiohttp offers no argument for the connection class, so this overrides the runner's
    server factory (``BaseRunner._make_server``, the method its subclasses implement):
    the application starts up as usual, then the server is rebuilt around the same
    request handler and request factory. ``test_parser_errors.py`` and
    ``test_slow_clients.py`` fail if a new aiohttp stops calling what is overridden here.
    """

    __slots__ = ("_edge",)

    def __init__(self, app: web.Application, *, edge: EdgeSettings, **kwargs: Any) -> None:
        super().__init__(app, **kwargs)
        self._edge = edge

    async def _make_server(self) -> web.Server:
        plain = await super()._make_server()  # runs the application's start-up
        kwargs = {name: value for name, value in self._kwargs.items() if name != "handler_cancellation"}
        return EdgeServer(
            plain.request_handler,
            request_factory=plain.request_factory,
            handler_cancellation=plain.handler_cancellation,
            edge=self._edge,
            **kwargs,
        )


def make_edge_middleware(max_body_size: int) -> Callable[[web.Request, Handler], Awaitable[web.StreamResponse]]:
    """Return the middleware that refuses malformed ``Host`` headers and declared bodies over ``max_body_size``."""

    @web.middleware
    async def edge_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        host = request.headers.get("Host")
        if host is None:
            # RFC 9112 section 3.2: HTTP/1.1 requires Host; an HTTP/1.0 request is left to the Host check.
            if request.version >= (1, 1):
                raise BadRequest("A Host header is required.", "invalid_host")
        elif parse_host(host) is None:
            raise BadRequest(f"Malformed Host header {host[:100]!r}.", "invalid_host")
        length = request.content_length
        if length is not None and length > max_body_size:
            raise ApiError(
                f"The request body ({length} bytes) is larger than the limit of {max_body_size} bytes "
                "(CoreServerApp.max_body_size).",
                "body_too_large",
                status=413,
            )
        return await handler(request)

    return edge_middleware
