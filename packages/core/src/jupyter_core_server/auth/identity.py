"""Who a request comes from: the identity model and the built-in token/password authenticator."""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import time
from dataclasses import asdict, dataclass
from typing import Any

from aiohttp import web
from traitlets import Bool, Integer, Unicode, default
from traitlets.config import LoggingConfigurable

__all__ = ["IDENTITY", "Authenticator", "Identity", "hash_password", "identity_of"]


@dataclass(frozen=True)
class Identity:
    """An authenticated user, with the fields of jupyter_server's identity model."""

    username: str
    name: str = ""
    display_name: str = ""
    initials: str | None = None
    avatar_url: str | None = None
    color: str | None = None
    #: How the request proved who it is: ``token``, ``cookie``, ``password``, ``none`` or a plugin's word.
    via: str = "token"

    def model(self) -> dict[str, Any]:
        """Return the ``identity`` part of ``GET /api/me``."""
        data = asdict(self)
        del data["via"]
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

    cookie_max_age_days = Integer(30, help="Days a login cookie stays valid.").tag(config=True)

    cookie_secret = Unicode(
        help="Secret that signs login cookies; a random one per process (cookies end with the process) by default.",
    ).tag(config=True)

    secure_cookie = Bool(False, help="Mark cookies Secure even without TLS (behind a TLS proxy).").tag(config=True)

    generated_token = False

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.token  # noqa: B018 - resolve the token now, so generated_token is known from the start

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
        return bool(self.token) and hmac.compare_digest(candidate.encode(), self.token.encode())

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

    def identity(self, via: str) -> Identity:
        """Return the identity of the single user this authenticator knows."""
        return Identity(username=self.username, name=self.username, initials=self.username[:1].upper(), via=via)

    # -- cookies --------------------------------------------------------------------------

    def _sign(self, issued: str) -> str:
        return hmac.new(self.cookie_secret.encode(), issued.encode(), hashlib.sha256).hexdigest()

    def make_cookie(self) -> str:
        """Return a signed cookie value that proves a successful login."""
        issued = str(int(time.time()))
        return f"{issued}.{self._sign(issued)}"

    def check_cookie(self, value: str) -> bool:
        """Verify a login cookie's signature and age."""
        issued, _, signature = value.partition(".")
        if not issued.isdigit() or not hmac.compare_digest(signature, self._sign(issued)):
            return False
        return time.time() - int(issued) < self.cookie_max_age_days * 86400

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
