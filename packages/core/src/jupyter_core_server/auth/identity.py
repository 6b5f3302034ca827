"""Who a request comes from: the identity model and the built-in token/password authenticator."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import os
import secrets
import time
from dataclasses import asdict, dataclass
from typing import Any

from aiohttp import web
from traitlets import Bool, Float, Integer, Unicode, default, observe
from traitlets.config import LoggingConfigurable

from .logins import LoginSessions, LoginThrottle

__all__ = ["IDENTITY", "Authenticator", "Identity", "hash_password", "identity_of"]

# One argon2 check takes ~0.1 s of CPU and 64 MiB; running one at a time leaves the other
# cores to the event loop and bounds the memory a flood of logins can take.
_CONCURRENT_PASSWORD_CHECKS = 1
# How a request sent the token: in the Authorization header, or in ?token=.
_TOKEN_VIAS = frozenset({"token", "query"})
# Seconds one login session serves every request authenticated by the Authorization header.
_SHARED_SESSION_RENEWAL = 3600


@dataclass(frozen=True)
class Identity:
    """An authenticated user, with the fields of jupyter_server's identity model."""

    username: str
    name: str = ""
    display_name: str = ""
    initials: str | None = None
    avatar_url: str | None = None
    color: str | None = None
    #: How the request proved who it is: ``token``, ``query``, ``cookie``, ``none`` or a plugin's word.
    via: str = "token"
    #: Whether the answer to this request should carry the server's login cookie, so that
    #: the browser's later requests and websockets, which carry no token, are
    #: authenticated too. The core's own authenticator sets it for its token (as
    #: jupyter_server does); it stays ``False`` for every other identity, because that
    #: cookie authenticates its holder as the server's own user
    #: (``Authenticator.username``), not as whoever a plugin identified.
    login_cookie: bool = False

    def model(self) -> dict[str, Any]:
        """Return the ``identity`` part of ``GET /api/me``."""
        data = asdict(self)
        del data["via"], data["login_cookie"]
        data["name"] = data["name"] or self.username
        data["display_name"] = data["display_name"] or data["name"]
        return data


IDENTITY = web.RequestKey[Identity]("jupyter_core_server.identity")


def identity_of(request: web.Request) -> Identity:
    """Return the identity the security middleware attached to ``request``."""
    return request[IDENTITY]


def hash_password(password: str) -> str:
    """Return an argon2 hash of ``password`` for ``Authenticator.hashed_password``."""
    from argon2 import PasswordHasher  # optional dependency: jupyter-core-server[password]

    return "argon2:" + PasswordHasher().hash(password)


def _same(given: str, expected: str) -> bool:
    """Compare a secret from a request with the expected one in constant time.

    Encoded first: ``compare_digest`` refuses non-ASCII text, and header values may carry
    lone surrogates (undecodable bytes).
    """
    return hmac.compare_digest(given.encode("utf-8", "surrogatepass"), expected.encode("utf-8", "surrogatepass"))


class Authenticator(LoggingConfigurable):
    """Token and password authentication, the default way a request proves who it is."""

    token = Unicode(
        help="""Token that authenticates API and websocket requests.

        Generated and printed at start-up when not set. ``JUPYTER_TOKEN`` or
        ``JUPYTER_TOKEN_FILE`` set it from the environment. An empty token (and no
        password) disables authentication, which is refused on non-loopback addresses
        unless ``CoreServerApp.allow_unauthenticated_access_remote`` is set.""",
    ).tag(config=True)

    hashed_password = Unicode(
        "",
        help="""argon2 hash of a password accepted on the /login page (``argon2:...``).

        Create one with ``python -c "from jupyter_core_server.auth.identity import
        hash_password; print(hash_password('secret'))"``.""",
    ).tag(config=True)

    username = Unicode("jupyter", help="User name reported for token and password authentication.").tag(config=True)

    cookie_name = Unicode("", help="Name of the login cookie; default derived from the port.").tag(config=True)

    cookie_max_age_days = Integer(
        30,
        help="""Days a login cookie stays valid, unless its user logs out first.

        Login sessions are kept in the server's memory: a restart ends them all, even
        with a configured ``cookie_secret``.""",
    ).tag(config=True)

    cookie_secret = Unicode(
        help="""Secret that signs login cookies; a random one per process by default.

        A correct signature is not enough: a cookie is valid only while its login session
        is live in this server process, so setting the secret does not keep logins across
        restarts, nor share them between replicas.""",
    ).tag(config=True)

    login_max_sessions = Integer(
        10000,
        help="""Most login sessions the server remembers at once; past it, the one unused for longest ends.

        Every form login and every request authenticated by ``?token=`` (a browser
        opening the start-up URL) without a valid login cookie starts one, so the cap
        keeps memory bounded; requests with the token in the ``Authorization`` header
        share one session, renewed hourly.""",
    ).tag(config=True)

    login_max_failures = Integer(
        5,
        help="""Login attempts one client address may make in ``login_failure_window`` seconds.

        Further attempts get 429 with ``Retry-After`` without the password being
        checked; a successful login clears the count. The address is the connection's
        peer, so behind a reverse proxy every client shares the proxy's address and
        the proxy should do its own limiting. 0 turns the limit off.""",
    ).tag(config=True)

    login_failure_window = Float(
        60.0,
        help="Seconds of the sliding window in which ``login_max_failures`` login attempts are allowed.",
    ).tag(config=True)

    login_max_tracked_addresses = Integer(
        10000,
        help="""Most client addresses whose failed logins are remembered at once.

        Addresses whose last attempt left the window are forgotten first; past the cap,
        the least recently seen one is.""",
    ).tag(config=True)

    secure_cookie = Bool(False, help="Mark cookies Secure even without TLS (behind a TLS proxy).").tag(config=True)

    generated_token = False

    def __init__(self, **kwargs: Any) -> None:
        self._identities: dict[str, Identity] = {}  # before the traits are set: _forget_identities clears it
        super().__init__(**kwargs)
        self.token  # noqa: B018 - resolve the token now, so generated_token is known from the start
        #: The live login sessions; a login cookie is valid only while its session is here.
        self.login_sessions = LoginSessions(self.login_max_sessions)
        #: Failed login attempts per client address.
        self.login_throttle = LoginThrottle(
            self.login_max_failures, self.login_failure_window, self.login_max_tracked_addresses
        )
        self._password_checks = asyncio.Semaphore(_CONCURRENT_PASSWORD_CHECKS)
        # (issued, session id, cookie value) of the session shared by header-token requests
        self._shared: tuple[float, str, str] | None = None

    @default("token")
    def _token_default(self) -> str:
        if os.environ.get("JUPYTER_TOKEN"):
            return os.environ["JUPYTER_TOKEN"]
        token_file = os.environ.get("JUPYTER_TOKEN_FILE")
        if token_file:
            with open(token_file, encoding="utf-8") as f:
                return f.read().strip()
        if self.hashed_password:
            return ""
        self.generated_token = True
        return secrets.token_hex(24)

    @default("cookie_secret")
    def _cookie_secret_default(self) -> str:
        return secrets.token_hex(32)

    # -- checks ---------------------------------------------------------------------------

    @property
    def enabled(self) -> bool:
        """Return whether any credential is configured."""
        return bool(self.token or self.hashed_password)

    def check_token(self, candidate: str) -> bool:
        """Compare ``candidate`` with the configured token in constant time."""
        return bool(self.token) and _same(candidate, self.token)

    def check_password(self, candidate: str) -> bool:
        """Check a password against ``hashed_password`` (argon2)."""
        if not self.hashed_password.startswith("argon2:"):
            return False
        from argon2 import PasswordHasher
        from argon2.exceptions import VerificationError

        try:
            return bool(PasswordHasher().verify(self.hashed_password[len("argon2:") :], candidate))
        except (VerificationError, ValueError):
            return False

    async def check_login(self, secret: str) -> bool:
        """Check what the login form received: the token, or else the password (in a thread).

        argon2 is deliberately slow, so the password check runs off the event loop, one
        at a time.
        """
        if self.check_token(secret):
            return True
        if not self.hashed_password:
            return False
        async with self._password_checks:
            return await asyncio.to_thread(self.check_password, secret)

    def identity(self, via: str) -> Identity:
        """Return the identity of the single user this authenticator knows.

        A token (``via`` ``token`` or ``query``) earns the login cookie; see
        :attr:`Identity.login_cookie`.
        """
        known = self._identities.get(via)
        if known is None:  # made once per way in: identities are immutable, and this runs on every request
            username = self.username
            known = Identity(
                username=username,
                name=username,
                initials=username[:1].upper(),
                via=via,
                login_cookie=via in _TOKEN_VIAS,
            )
            self._identities[via] = known
        return known

    @observe("username")
    def _forget_identities(self, change: Any) -> None:
        self._identities.clear()

    # -- cookies --------------------------------------------------------------------------

    def _sign(self, payload: str) -> str:
        return hmac.new(
            self.cookie_secret.encode(), payload.encode("utf-8", "surrogatepass"), hashlib.sha256
        ).hexdigest()

    def make_cookie(self) -> str:
        """Start a login session and return the signed cookie value that carries it.

        The value is ``<issued>.<session id>.<signature>``: the issue time and a random
        session id, signed with ``cookie_secret``.
        """
        return self._new_session()[2]

    def _new_session(self) -> tuple[int, str, str]:
        issued = int(time.time())
        session_id = self.login_sessions.create(self.cookie_max_age_days * 86400, now=issued)
        payload = f"{issued}.{session_id}"
        return issued, session_id, f"{payload}.{self._sign(payload)}"

    def shared_cookie(self) -> str:
        """Return the login cookie value for requests authenticated by the token in a header.

        One login session serves them all, and a new one starts every hour or when it
        ended (a logout with its cookie, the session cap): whoever sends the token holds
        it anyway, and a session per API call would fill the store with sessions
        nobody uses, pushing out the browsers' own logins.
        """
        now = time.time()
        shared = self._shared
        if (
            shared is None
            or now - shared[0] >= _SHARED_SESSION_RENEWAL
            or not self.login_sessions.alive(shared[1], now)
        ):
            shared = self._shared = self._new_session()
        return shared[2]

    def _cookie_session(self, value: str) -> str | None:
        """Return the session id of a correctly signed, unexpired cookie value, else ``None``."""
        issued, _, rest = value.partition(".")
        session_id, _, signature = rest.partition(".")
        # ASCII digits only, and few of them: int() refuses "²" and 5000-digit strings
        if not (issued.isascii() and issued.isdigit() and len(issued) <= 12) or not session_id:
            return None
        if not _same(signature, self._sign(f"{issued}.{session_id}")):
            return None
        if time.time() - int(issued) >= self.cookie_max_age_days * 86400:
            return None
        return session_id

    def check_cookie(self, value: str) -> bool:
        """Verify a login cookie: its signature, its age and that its session has not ended."""
        session_id = self._cookie_session(value)
        return session_id is not None and self.login_sessions.alive(session_id)

    def has_login_cookie(self, request: web.Request, cookie_name: str) -> bool:
        """Return whether ``request`` carries a valid login cookie (then it needs no new one)."""
        if "Cookie" not in request.headers:  # most API clients: no cookie to parse
            return False
        cookie = request.cookies.get(cookie_name)
        return bool(cookie and self.check_cookie(cookie))

    def revoke_cookie(self, value: str) -> None:
        """End the login session of a cookie value (logging out); invalid values are ignored."""
        session_id = self._cookie_session(value)
        if session_id is not None:
            self.login_sessions.revoke(session_id)

    def from_request(self, request: web.Request, cookie_name: str) -> Identity | None:
        """Authenticate a request by header, ``?token=`` or login cookie."""
        if not self.enabled:
            return self.identity("none")
        header = request.headers.get("Authorization", "")
        if header:
            scheme, _, value = header.partition(" ")
            if scheme.lower() in ("token", "bearer") and self.check_token(value.strip()):
                return self.identity("token")
        query_token = request.query.get("token")
        if query_token and self.check_token(query_token):
            return self.identity("query")
        cookie = request.cookies.get(cookie_name)
        if cookie and self.check_cookie(cookie):
            return self.identity("cookie")
        return None
