"""``/login`` and ``/logout``: how a browser trades a token or password for a cookie."""

from __future__ import annotations

import html
import math

from aiohttp import web

from ..auth.authenticate import XSRF_COOKIE, set_login_cookies
from ..errors import ApiError, BadRequest
from ..keys import SERVER
from ..routing import public

__all__ = ["routes", "safe_next"]

_FORM = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Log in: Jupyter Core Server</title></head>
<body><h1>Log in</h1>{error}
<form method="post" action="{action}">
<input type="hidden" name="next" value="{next}">
<label>Password or token <input type="password" name="password" autofocus></label>
<button type="submit">Log in</button></form></body></html>"""


def safe_next(base_url: str, target: str) -> str:
    """Return ``target`` if it is a local path under ``base_url``, else ``base_url``.

    Refuses absolute URLs, scheme-relative ``//host``, backslash tricks and control
    characters or spaces (browsers drop tabs and newlines, so ``/<TAB>/host`` would become
    ``//host``), so that ``/login?next=`` can never redirect off the server.
    """
    if (
        not target.startswith(base_url)
        or target.startswith("//")
        or "\\" in target
        or "://" in target.split("?")[0]
        or any(ord(c) <= 0x20 or ord(c) == 0x7F for c in target)
    ):
        return base_url
    return target


def _form(request: web.Request, error: str = "", status: int = 200) -> web.Response:
    server = request.app[SERVER]
    page = _FORM.format(
        error=f"<p role='alert'>{html.escape(error)}</p>" if error else "",
        action=html.escape(f"{server.base_url}login"),
        next=html.escape(safe_next(server.base_url, request.query.get("next", server.base_url))),
    )
    return web.Response(text=page, content_type="text/html", status=status)


@public
async def get_login(request: web.Request) -> web.Response:
    return _form(request)


@public
async def post_login(request: web.Request) -> web.Response:
    server = request.app[SERVER]
    auth = server.authenticator
    assert auth is not None
    # Behind a reverse proxy this is the proxy's address, shared by all its clients.
    address = request.remote or ""
    wait = auth.login_throttle.admit(address)
    if wait:
        return _throttled(request, wait)
    try:
        form = await request.post()
    except ValueError as exc:  # e.g. multipart/form-data without a boundary
        raise BadRequest(f"Unreadable login form: {exc}", "invalid_form") from None
    secret = str(form.get("password", "") or form.get("token", ""))
    if not secret or not await auth.check_login(secret):
        return _form(request, "Invalid password or token.", status=401)
    auth.login_throttle.reset(address)
    redirect = web.HTTPFound(safe_next(server.base_url, str(form.get("next", server.base_url))))
    set_login_cookies(server, redirect)
    raise redirect


def _throttled(request: web.Request, wait: float) -> web.Response:
    """Refuse a login attempt from an address with too many recent failures (429)."""
    seconds = max(1, math.ceil(wait))
    message = f"Too many failed login attempts; try again in {seconds} seconds."
    headers = {"Retry-After": str(seconds)}
    if "text/html" not in request.headers.get("Accept", ""):
        raise ApiError(message, "too_many_login_attempts", status=429, headers=headers)
    response = _form(request, message, status=429)
    response.headers.update(headers)
    return response


@public
async def get_logout(request: web.Request) -> web.Response:
    server = request.app[SERVER]
    assert server.authenticator is not None
    cookie = request.cookies.get(server.cookie_name)
    if cookie:
        server.authenticator.revoke_cookie(cookie)  # a copy of the cookie kept elsewhere stops working too
    redirect = web.HTTPFound(f"{server.base_url}login")
    redirect.del_cookie(server.cookie_name, path=server.base_url)
    redirect.del_cookie(XSRF_COOKIE, path=server.base_url)
    raise redirect


def routes() -> list[web.RouteDef]:
    """Return the login routes, relative to ``base_url``."""
    return [web.get("/login", get_login), web.post("/login", post_login), web.get("/logout", get_logout)]
