"""``GET {prefix}oauth_callback``, and what the plugin adds to every response (version header, hub logout)."""

from __future__ import annotations

import secrets
from http.cookies import SimpleCookie

from aiohttp import web
from jupyter_core_server import XSRF_COOKIE, BadRequest, Forbidden, public, safe_next

from ._version import __version__
from .auth import HubAuth
from .hubapi import HubApiError
from .keys import HUB

__all__ = ["oauth_callback", "prepare_response", "routes"]


@public  # the browser has no credentials yet: the state cookie is what this checks
async def oauth_callback(request: web.Request) -> web.StreamResponse:
    """Finish hub OAuth: check the state, trade the code for a token, set the login cookie, go back."""
    hub = request.config_dict[HUB]
    query = request.query
    if "error" in query:
        detail = query.get("error_description") or query["error"]
        raise Forbidden(f"JupyterHub refused the login: {detail}", "oauth_refused")
    code, state = query.get("code", ""), query.get("state", "")
    if not code or not state:
        raise BadRequest("The OAuth callback needs the code and state parameters JupyterHub sends.", "oauth_parameters")
    login = hub.pending_login(request, state)
    if login is None:
        raise BadRequest(
            "OAuth state mismatch: this browser did not start this login, or it took too long.", "oauth_state"
        )
    try:
        token = await hub.client.exchange_code(code, login.verifier)
    except HubApiError as exc:
        raise Forbidden(f"Login failed: {exc}", "oauth_exchange") from None
    await hub.user_of(token)  # refuses another user (403) before any cookie is set
    redirect = web.HTTPFound(next_url(hub, login.next_url))
    options = hub.cookie_options(request)
    max_age = int(hub.settings.cookie_max_age_days * 86400)
    redirect.set_cookie(hub.env.cookie_name, hub.start_session(token), **{"max_age": max_age, **options})
    # the core's XSRF check applies to cookie-authenticated writes; frontends read this cookie
    redirect.set_cookie(
        XSRF_COOKIE, secrets.token_hex(16), path=hub.env.prefix, samesite="Lax", secure=bool(options["secure"])
    )
    redirect.del_cookie(hub.state_cookie_name, path=hub.env.cookie_path)
    raise redirect


def next_url(hub: HubAuth, wanted: str) -> str:
    """Where the browser goes after login: where it was going, or the hub's default URL from the prefix itself."""
    prefix = hub.env.prefix
    target = safe_next(prefix, wanted or prefix)
    if target == prefix and hub.env.default_url:
        default = hub.env.default_url
        return safe_next(prefix, default if default.startswith(prefix) else prefix + default.lstrip("/"))
    return target


async def prepare_response(hub: HubAuth, request: web.Request, response: web.StreamResponse) -> None:
    """Mark every response with the hub version; turn the core's logout into a hub logout."""
    response.headers["X-JupyterHub-Version"] = hub.hub_version or __version__
    if request.method == "GET" and request.path == f"{hub.env.prefix}logout" and 300 <= response.status < 400:
        hub.end_session(request)
        # cookies were already turned into headers when this signal runs: add the header itself
        expired = SimpleCookie()
        expired[hub.env.cookie_name] = ""
        expired[hub.env.cookie_name].update(
            {"path": hub.env.cookie_path, "max-age": "0", "expires": "Thu, 01 Jan 1970 00:00:00 GMT"}
        )
        response.headers.add("Set-Cookie", expired[hub.env.cookie_name].OutputString())
        response.headers["Location"] = hub.env.logout_url


def routes() -> list[web.RouteDef]:
    """Return the plugin's routes, relative to ``base_url``."""
    return [web.get("/oauth_callback", oauth_callback)]
