"""Who a request comes from, according to the hub: hub tokens, OAuth login cookies, the login redirect.

A request proves itself with ``Authorization: token <hub token>`` (API clients) or with
the login cookie set after hub OAuth (browsers). Either way the hub says whom the token
belongs to and which scopes it holds (``GET $JUPYTERHUB_API_URL/user``); the user is let
in only if the scopes include one of ``JUPYTERHUB_OAUTH_ACCESS_SCOPES``. Answers are
cached for ``JupyterHubSingleUser.cache_seconds`` so that most requests need no I/O.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import logging
import secrets
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from aiohttp import web
from jupyter_core_server import ApiError, Forbidden, Identity

from .config import JupyterHubSingleUser
from .environment import HubEnvironment
from .hubapi import HubApiError, HubClient

__all__ = ["HubAuth", "HubUser", "LoginState"]

log = logging.getLogger("jupyter_core_server.hub")

_PAGE_METHODS = frozenset({"GET", "HEAD"})
STATE_COOKIE_SECONDS = 600


@dataclass(frozen=True)
class HubUser:
    """The hub's answer about one token: who owns it, and whether they may use this server."""

    name: str
    allowed: bool
    model: dict[str, Any]

    def identity(self, via: str) -> Identity:
        display = self.model.get("display_name") or self.name
        return Identity(
            username=self.name, name=self.name, display_name=str(display), initials=self.name[:1].upper(), via=via
        )


@dataclass(frozen=True)
class LoginState:
    """What the OAuth state cookie remembers between the redirect to the hub and the callback."""

    state: str
    verifier: str
    next_url: str


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class HubAuth:
    """Hub authentication for one server.

    :param env: The hub's environment.
    :param settings: The plugin's configurable.
    :param client: The hub API client.
    :param secret: Key that signs this server's cookies.
    """

    def __init__(self, env: HubEnvironment, settings: JupyterHubSingleUser, client: HubClient, secret: str) -> None:
        self.env = env
        self.settings = settings
        self.client = client
        self.hub_version = ""
        self._key = hashlib.sha256(b"jupyter-core-server-hub\0" + secret.encode()).digest()
        self._users: dict[str, tuple[float, HubUser]] = {}
        self._pending: dict[str, asyncio.Future[HubUser | None]] = {}
        # login cookie -> (issued, access token); the token never leaves this process
        self._sessions: OrderedDict[str, tuple[float, str]] = OrderedDict()

    # -- signed values ---------------------------------------------------------------------

    def sign(self, purpose: str, payload: dict[str, Any]) -> str:
        """Return ``payload`` as a cookie value only this server can have made (for ``purpose``)."""
        body = _b64(json.dumps({"p": purpose, "t": int(time.time()), **payload}, separators=(",", ":")).encode())
        return f"{body}.{_b64(hmac.new(self._key, body.encode(), hashlib.sha256).digest())}"

    def unsign(self, purpose: str, value: str, max_age: float) -> dict[str, Any] | None:
        """Return the payload of a value made by :meth:`sign`, or ``None`` if forged, expired or for another purpose."""
        body, _, signature = value.partition(".")
        expected = _b64(hmac.new(self._key, body.encode(), hashlib.sha256).digest())
        if not signature or not hmac.compare_digest(signature, expected):
            return None
        try:
            payload = json.loads(_unb64(body))
        except (ValueError, UnicodeDecodeError):
            return None
        if not isinstance(payload, dict) or payload.get("p") != purpose:
            return None
        if not isinstance(payload.get("t"), int) or time.time() - payload["t"] > max_age:
            return None
        return payload

    # -- identification (the identify_async hook) ------------------------------------------

    async def identify(self, request: web.Request) -> Identity | None:
        """Answer the ``identify_async`` hook: who the hub says sent ``request``, or a refusal.

        Answers from the cache without I/O when the hub was asked about the token less
        than ``cache_seconds`` ago. Returns ``None`` only when the request carries no hub
        credentials and the server's own token is allowed (``allow_server_token``), so
        that the core decides. Hub identities never get the core's login cookie (the
        browser has the hub login cookie instead).

        :raises web.HTTPFound: for a browser asking for a page without credentials: the
            start of hub OAuth.
        :raises Forbidden: for credentials the hub does not vouch for.
        """
        header = request.headers.get("Authorization", "")
        if header:
            scheme, _, value = header.partition(" ")
            if scheme.lower() in ("token", "bearer") and value.strip():
                return await self._resolve(value.strip(), "token")
        cookie = request.cookies.get(self.env.cookie_name)
        if cookie:
            token = self._session_token(cookie)
            if token is not None:
                return await self._resolve(token, "cookie")
        if self.settings.allow_server_token:
            return None
        if self._is_page(request):
            raise self.login_redirect(request)
        raise Forbidden("Forbidden: log in through JupyterHub or send a hub token.", "unauthenticated")

    def _is_page(self, request: web.Request) -> bool:
        if request.method not in _PAGE_METHODS or request.headers.get("Upgrade", "").lower() == "websocket":
            return False
        relative = (
            request.path[len(self.env.prefix) - 1 :] if request.path.startswith(self.env.prefix) else request.path
        )
        return not (relative == "/api" or relative.startswith("/api/"))

    async def _resolve(self, token: str, via: str) -> Identity:
        key = hashlib.sha256(token.encode()).hexdigest()
        cached = self._users.get(key)
        if cached is not None and cached[0] > time.monotonic():
            return self._decide(cached[1], via)
        return await self._lookup(key, token, via)

    def _decide(self, user: HubUser | None, via: str) -> Identity:
        if user is None:
            raise Forbidden("Forbidden: JupyterHub does not know this token.", "invalid_token")
        if not user.allowed:
            raise Forbidden(f"Not allowing user {user.name}: this server belongs to another user.", "not_allowed")
        return user.identity(via)

    async def _lookup(self, key: str, token: str, via: str) -> Identity:
        # concurrent requests with one new token share a single question to the hub
        pending = self._pending.get(key)
        if pending is None:
            pending = asyncio.ensure_future(self._ask_hub(key, token))
            self._pending[key] = pending
            pending.add_done_callback(lambda done: self._forget_pending(key, done))
        try:
            user = await asyncio.shield(pending)
        except HubApiError as exc:
            log.warning("JupyterHub: cannot check a token: %s", exc)
            raise ApiError(
                "JupyterHub could not be asked who sent this request; try again.", "hub_unavailable", status=503
            ) from None
        return self._decide(user, via)

    def _forget_pending(self, key: str, done: asyncio.Future[HubUser | None]) -> None:
        self._pending.pop(key, None)
        if not done.cancelled():
            done.exception()  # retrieved, even when every waiter went away

    async def _ask_hub(self, key: str, token: str) -> HubUser | None:
        model = await self.client.token_owner(token)
        if model is None:
            return None
        scopes = model.get("scopes") or []
        name = str(model.get("name", ""))
        user = HubUser(name=name, allowed=bool(self.env.access_scopes.intersection(scopes)), model=model)
        if not user.allowed:
            log.info("JupyterHub: refusing user %s, who holds none of %s.", name, sorted(self.env.access_scopes))
        self._remember(key, user)
        return user

    def _remember(self, key: str, user: HubUser) -> None:
        now = time.monotonic()
        if len(self._users) > 4 * self.settings.max_sessions:
            self._users = {k: v for k, v in self._users.items() if v[0] > now}
        self._users[key] = (now + self.settings.cache_seconds, user)

    # -- browser login ---------------------------------------------------------------------

    @property
    def state_cookie_name(self) -> str:
        return f"{self.env.cookie_name}-oauth-state"

    def cookie_options(self, request: web.Request) -> dict[str, Any]:
        """Options of every cookie this plugin sets: path, HttpOnly, Secure, and the hub's own options."""
        secure = (
            self.env.cookie_host_prefix
            or request.secure
            or request.headers.get("X-Forwarded-Proto", "").lower() == "https"
        )
        if self.env.public_url:
            secure = secure or self.env.public_url.startswith("https:")
        options: dict[str, Any] = {"path": self.env.cookie_path, "httponly": True, "samesite": "Lax", "secure": secure}
        for name, value in self.env.cookie_options.items():
            if name in ("secure", "samesite", "domain") and not self.env.cookie_host_prefix:
                options[name] = value
            elif name == "expires_days" and isinstance(value, (int, float)):
                options["max_age"] = int(value * 86400)
        return options

    def login_redirect(self, request: web.Request) -> web.HTTPFound:
        """Start hub OAuth: remember where the browser was going, send it to the hub's authorize page (PKCE)."""
        login = LoginState(
            state=secrets.token_urlsafe(24), verifier=secrets.token_urlsafe(48), next_url=request.path_qs
        )
        challenge = _b64(hashlib.sha256(login.verifier.encode()).digest())
        query = urlencode(
            {
                "client_id": self.env.client_id,
                "redirect_uri": self.env.callback_url,
                "response_type": "code",
                "state": login.state,
                "code_challenge": challenge,
                "code_challenge_method": "S256",
            }
        )
        redirect = web.HTTPFound(f"{self.env.authorize_url}?{query}")
        value = self.sign("state", {"s": login.state, "v": login.verifier, "n": login.next_url})
        redirect.set_cookie(
            self.state_cookie_name, value, **{**self.cookie_options(request), "max_age": STATE_COOKIE_SECONDS}
        )
        return redirect

    def pending_login(self, request: web.Request, state: str) -> LoginState | None:
        """Return the login the browser started, if ``state`` is the one its state cookie holds."""
        payload = self.unsign("state", request.cookies.get(self.state_cookie_name, ""), STATE_COOKIE_SECONDS)
        if payload is None or not isinstance(payload.get("s"), str) or not hmac.compare_digest(payload["s"], state):
            return None
        return LoginState(state=payload["s"], verifier=str(payload.get("v", "")), next_url=str(payload.get("n", "")))

    async def user_of(self, token: str) -> Identity:
        """Check a freshly issued access token (the callback's last step)."""
        key = hashlib.sha256(token.encode()).hexdigest()
        return await self._lookup(key, token, "cookie")

    def start_session(self, token: str) -> str:
        """Remember a browser's access token; return the signed login cookie value."""
        session = secrets.token_urlsafe(32)
        self._sessions[session] = (time.time(), token)
        while len(self._sessions) > self.settings.max_sessions:
            self._sessions.popitem(last=False)
        return self.sign("login", {"s": session})

    def _session_token(self, cookie: str) -> str | None:
        max_age = self.settings.cookie_max_age_days * 86400
        payload = self.unsign("login", cookie, max_age)
        if payload is None:
            return None
        found = self._sessions.get(str(payload.get("s")))
        return found[1] if found is not None else None

    def end_session(self, request: web.Request) -> None:
        """Forget the session of the request's login cookie (logout)."""
        payload = self.unsign(
            "login", request.cookies.get(self.env.cookie_name, ""), self.settings.cookie_max_age_days * 86400
        )
        if payload is not None:
            self._sessions.pop(str(payload.get("s")), None)
