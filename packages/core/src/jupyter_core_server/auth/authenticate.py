"""Who made a request: the server's one authentication path, and the login cookie it hands out.

The security middleware (every route, websockets included: their handshake passes
through it) and public routes that authenticate themselves (the frontend's pages) all
call :func:`authenticate`. It asks the ``identify_async`` and ``identify`` hooks in
their declared order and records the answer on the request, where
:func:`~jupyter_core_server.auth.identity.identity_of` finds it; nothing else writes it.

A request authenticated by the core's token, in the ``Authorization`` header or in
``?token=``, gets the login cookie, as jupyter_server does: a page that calls the API
with the token then opens its websockets, which carry no token, with the cookie. Not
when the request carries a valid login cookie already (each cookie is a login session,
see ``logins.py``), not on a websocket handshake or a response already sent, and never
for an identity the core did not make (see ``Identity.login_cookie``). A ``?token=``
visit (a browser opening the start-up URL) starts a login session of its own, as a form
login does; header-token requests share one (``Authenticator.shared_cookie``), whose
``Set-Cookie`` header is rendered once: most of them come from programs that never
send the cookie back, on the REST path.
"""

from __future__ import annotations

import inspect
import logging
import secrets
from http.cookies import Morsel
from typing import TYPE_CHECKING, Any

from aiohttp import web

from .identity import IDENTITY, Identity

if TYPE_CHECKING:
    from ..app import CoreServerApp

__all__ = [
    "AUTHENTICATION",
    "XSRF_COOKIE",
    "Authentication",
    "authenticate",
    "is_websocket_handshake",
    "set_login_cookies",
]

log = logging.getLogger("jupyter_core_server")

XSRF_COOKIE = "_xsrf"


def is_websocket_handshake(request: web.Request) -> bool:
    """Whether ``request`` opens a websocket: a ``GET`` with every handshake header (RFC 6455 4.1).

    Only such a request skips the XSRF check (a browser cannot add a header to a websocket,
    and the Origin check covers it), counts as ``execute`` and gets no login cookie; an
    ``Upgrade`` header on any other request changes nothing.
    """
    headers = request.headers
    if request.method != "GET" or headers.get("Upgrade", "").strip().lower() != "websocket":
        return False
    connection = {token.strip().lower() for value in headers.getall("Connection", ()) for token in value.split(",")}
    return (
        "upgrade" in connection
        and bool(headers.get("Sec-WebSocket-Key"))
        and headers.get("Sec-WebSocket-Version", "").strip() == "13"
    )


class Authentication:
    """How one server tells who made a request: the identify hooks, with the core's fast path.

    Built once, when the application is assembled: the set of plugins implementing the
    hooks does not change after that. When only the core implements them (a server
    without an identity plugin), its token check runs directly, without pluggy and
    without awaiting anything: that is every REST request's path.
    """

    def __init__(self, server: CoreServerApp) -> None:
        pm = server.plugin_manager
        assert pm is not None and server.authenticator is not None
        self._server = server
        self._authenticator = server.authenticator
        self._hook = pm.hook
        self._core_only = not pm.hook.identify_async.get_hookimpls() and [
            impl.plugin_name for impl in pm.hook.identify.get_hookimpls()
        ] == ["api"]
        self._warned_awaitable = False
        self._cookie_name = ""  # known once the server listens (it names the port): read at the first request
        # the shared login cookie's value, and the Set-Cookie headers of it and of its _xsrf cookie
        self._shared_headers = ("", "", "")

    @property
    def cookie_name(self) -> str:
        """The login cookie's name (``CoreServerApp.cookie_name``, read once: a few trait look-ups)."""
        if not self._cookie_name:
            self._cookie_name = self._server.cookie_name
        return self._cookie_name

    async def authenticate(self, request: web.Request) -> Identity | None:
        """Return who made ``request`` (and record it on the request), or ``None``; see :func:`authenticate`."""
        if IDENTITY in request:
            return request[IDENTITY]
        if self._core_only:
            identity = self._authenticator.from_request(request, self.cookie_name)
        else:
            identity = await self._ask_plugins(request)
        if identity is not None:
            request[IDENTITY] = identity
        return identity

    async def _ask_plugins(self, request: web.Request) -> Identity | None:
        # Every identify_async implementation is called at once, which only makes its
        # coroutine; they run one by one, and those after the winner are closed unrun.
        pending = list(self._hook.identify_async(request=request, server=self._server))
        try:
            while pending:
                answer = pending.pop(0)
                identity: Identity | None = await answer if inspect.isawaitable(answer) else answer
                if identity is not None:
                    return identity
        finally:
            for unrun in pending:
                if inspect.iscoroutine(unrun):
                    unrun.close()
        found = self._hook.identify(request=request, server=self._server)
        if inspect.isawaitable(found):
            if not self._warned_awaitable:
                self._warned_awaitable = True
                log.warning(
                    "An identify implementation returned an awaitable; implement the identify_async hook instead."
                )
            found = await found
        return found  # type: ignore[no-any-return]  # pluggy's calls are untyped

    def give_login_cookie(self, request: web.Request, response: web.StreamResponse) -> None:
        """Set the login cookie on ``response`` when the request earned one (see the module's docstring)."""
        if IDENTITY not in request:
            return
        identity = request[IDENTITY]
        if (
            identity.login_cookie
            and not response.prepared
            and not is_websocket_handshake(request)
            and not self._authenticator.has_login_cookie(request, self.cookie_name)
        ):
            if identity.via == "query":
                set_login_cookies(self._server, response)
            else:
                self._give_shared_cookie(response)

    def _give_shared_cookie(self, response: web.StreamResponse) -> None:
        value = self._authenticator.shared_cookie()
        if self._shared_headers[0] != value:  # a new shared session: render its two headers once
            login = _set_cookie_header(self.cookie_name, value, _login_attributes(self._server))
            xsrf = _set_cookie_header(XSRF_COOKIE, secrets.token_hex(16), _xsrf_attributes(self._server))
            self._shared_headers = (value, login, xsrf)
        response.headers.add("Set-Cookie", self._shared_headers[1])
        response.headers.add("Set-Cookie", self._shared_headers[2])


def _xsrf_attributes(server: CoreServerApp) -> dict[str, Any]:
    assert server.authenticator is not None
    return {"path": server.base_url, "samesite": "Lax", "secure": server.uses_tls or server.authenticator.secure_cookie}


def _login_attributes(server: CoreServerApp) -> dict[str, Any]:
    assert server.authenticator is not None
    return {**_xsrf_attributes(server), "httponly": True, "max_age": server.authenticator.cookie_max_age_days * 86400}


def _set_cookie_header(name: str, value: str, attributes: dict[str, Any]) -> str:
    """Render a ``Set-Cookie`` value as ``response.set_cookie`` would (the stdlib's ``Morsel``)."""
    morsel: Morsel[str] = Morsel()
    morsel.set(name, value, value)
    for key, setting in attributes.items():
        if setting is not False:
            morsel[key.replace("_", "-")] = setting if isinstance(setting, bool) else str(setting)
    return morsel.OutputString()


#: The server's :class:`Authentication`, handed by the security middleware to the public
#: routes it lets through unauthenticated (every other route's identity is known by then).
AUTHENTICATION = web.RequestKey("jupyter_core_server.authentication", Authentication)


async def authenticate(request: web.Request) -> Identity | None:
    """Return who made ``request``, or ``None`` when it carries no credentials this server accepts.

    The one way the server authenticates: the security middleware calls it for every
    route that is not public, and a public route that serves both anonymous and known
    users (a page that sends anonymous browsers to a login form) calls it itself. It
    awaits the ``identify_async`` implementations, then asks the ``identify`` ones (the
    core's token, password cookie and ``?token=`` last), and records the answer on the
    request for :func:`~jupyter_core_server.auth.identity.identity_of`. A second call
    for the same request returns the recorded answer. An identity that earned the login
    cookie gets it on the response, whichever route answered.

    :raises ApiError: or an aiohttp ``HTTPException``, when an implementation refuses
        the request (403) or redirects a browser (302), and 503 when an identity
        service cannot be reached.
    """
    if IDENTITY in request:
        return request[IDENTITY]
    if AUTHENTICATION not in request:
        raise RuntimeError("authenticate() runs in requests that passed the server's security middleware")
    return await request[AUTHENTICATION].authenticate(request)


def set_login_cookies(server: CoreServerApp, response: web.StreamResponse) -> None:
    """Start a login session: set the signed login cookie and a fresh ``_xsrf`` cookie on ``response``."""
    assert server.authenticator is not None
    response.set_cookie(server.cookie_name, server.authenticator.make_cookie(), **_login_attributes(server))
    response.set_cookie(XSRF_COOKIE, secrets.token_hex(16), **_xsrf_attributes(server))
