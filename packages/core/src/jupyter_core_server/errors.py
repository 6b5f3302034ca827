"""Errors that become JSON responses, and the middleware that renders every error.

Domain code raises :class:`ApiError` subclasses; handlers raise them or aiohttp's
``web.HTTPException``. The middleware turns each into ``{"message", "reason"}`` with the
right status. Anything unexpected is a 500 with a generic message; its traceback goes to
the log, and to the client only when the server runs with ``--debug``.
"""

from __future__ import annotations

import json
import logging
import traceback
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

log = logging.getLogger("jupyter_core_server")

__all__ = ["ApiError", "BadRequest", "Forbidden", "NotFound", "error_middleware", "json_error", "read_json", "read_json_object"]


class ApiError(Exception):
    """An error with an HTTP status, a human ``message`` and an optional machine ``reason``."""

    status = 500

    def __init__(
        self, message: str, reason: str | None = None, *, status: int | None = None, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.reason = reason
        self.headers = headers or {}
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
    """Build the JSON error response every route family uses."""
    body = {"message": message, "reason": reason, **extra}
    return web.Response(status=status, text=json.dumps(body), content_type="application/json")


async def read_json(request: web.Request, *, required: bool = True) -> Any:
    """Return the decoded JSON body, or raise :class:`BadRequest` naming what is wrong."""
    raw = await request.read()
    if not raw.strip():
        if required:
            raise BadRequest("Request body is empty; a JSON document is required.", "missing_body")
        return None
    try:
        return json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BadRequest(f"Request body is not valid JSON: {exc}", "invalid_json") from None


async def read_json_object(request: web.Request, *, required: bool = True) -> dict[str, Any]:
    """Return the decoded JSON body, which must be an object (``{}`` for an optional empty body)."""
    body = await read_json(request, required=required)
    if body is None:
        return {}
    if not isinstance(body, dict):
        raise BadRequest("Request body must be a JSON object", "invalid_body")
    return body


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def make_error_middleware(debug: bool) -> Callable[[web.Request, Handler], Awaitable[web.StreamResponse]]:
    """Return the middleware that renders every error as a JSON body."""

    @web.middleware
    async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            return await handler(request)
        except ApiError as exc:
            response = json_error(exc.status, exc.message, exc.reason)
            response.headers.update(exc.headers)
            return response
        except web.HTTPException as exc:
            if exc.status < 400:
                raise
            message = exc.text if exc.text and exc.text != f"{exc.status}: {exc.reason}" else exc.reason
            response = json_error(exc.status, message)
            for name in ("Allow", "Retry-After", "WWW-Authenticate"):
                if name in exc.headers:
                    response.headers[name] = exc.headers[name]
            return response
        except Exception:
            log.exception("Unhandled error in %s %s", request.method, request.rel_url.path)
            extra: dict[str, Any] = {}
            if debug:
                extra["traceback"] = traceback.format_exc()
            return json_error(500, "Unhandled error", "internal_error", **extra)

    return error_middleware


error_middleware = make_error_middleware(debug=False)
