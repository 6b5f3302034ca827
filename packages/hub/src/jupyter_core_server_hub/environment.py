"""What a JupyterHub spawner tells a single-user server through its environment.

:func:`read_environment` turns the ``JUPYTERHUB_*`` variables into a
:class:`HubEnvironment`; nothing here talks to the network.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

__all__ = ["DEFAULT_ACTIVITY_INTERVAL", "HubEnvironment", "HubEnvironmentError", "read_environment"]

DEFAULT_ACTIVITY_INTERVAL = 300.0


class HubEnvironmentError(Exception):
    """The hub's variables are missing or malformed."""


def _join(base: str, path: str) -> str:
    return base.rstrip("/") + "/" + path.lstrip("/")


def _scopes(raw: str, name: str) -> frozenset[str]:
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise HubEnvironmentError(f"{name} is not a JSON list: {exc}") from None
    if not isinstance(value, list) or not all(isinstance(s, str) for s in value):
        raise HubEnvironmentError(f"{name} must be a JSON list of scope names")
    return frozenset(value)


def _flag(value: str) -> bool:
    return value.strip().lower() in ("1", "true", "yes", "on")


@dataclass(frozen=True)
class HubEnvironment:
    """The hub's instructions to this server, read from the spawner's variables."""

    #: Where to listen: ``http://127.0.0.1:44117/user/alice/``.
    service_url: str
    #: The server's URL prefix, its ``base_url``: ``/user/alice/``.
    prefix: str
    #: The hub's REST API, reached directly: ``http://127.0.0.1:8081/hub/api``.
    api_url: str
    #: This server's own hub token; also the OAuth client secret.
    api_token: str = field(repr=False)
    client_id: str
    #: The only redirect URI the hub accepts for this client.
    callback_url: str
    #: A user may use this server only if the hub grants one of these scopes.
    access_scopes: frozenset[str]
    user: str = ""
    server_name: str = ""
    activity_url: str = ""
    activity_interval: float = DEFAULT_ACTIVITY_INTERVAL
    #: The hub's base URL, ``/`` by default; the hub's pages live under ``<base>hub/``.
    hub_base_url: str = "/"
    #: ``https://hub.example.org`` when servers live on their own subdomains; else empty.
    hub_host: str = ""
    public_url: str = ""
    public_hub_url: str = ""
    cookie_host_prefix: bool = False
    cookie_options: Mapping[str, Any] = field(default_factory=dict)
    root_dir: str = ""
    default_url: str = ""
    ssl_keyfile: str = ""
    ssl_certfile: str = ""
    ssl_client_ca: str = ""
    #: ``Spawner.debug``: log at debug level.
    debug: bool = False

    @property
    def bind(self) -> tuple[str, int | None]:
        """The host and port of :attr:`service_url` (``None`` when it names no port)."""
        parts = urlsplit(self.service_url)
        return parts.hostname or "", parts.port

    @property
    def hub_prefix(self) -> str:
        """Path of the hub's own pages: ``/hub/``."""
        return _join(self.hub_base_url, "hub/")

    @property
    def hub_root(self) -> str:
        """Where the browser reaches the hub's pages: a host-relative path unless the hub is elsewhere."""
        if self.public_hub_url:
            return self.public_hub_url.rstrip("/") + "/"
        return self.hub_host + self.hub_prefix

    @property
    def authorize_url(self) -> str:
        """The hub's OAuth authorization endpoint, as the browser reaches it."""
        return self.hub_root + "api/oauth2/authorize"

    @property
    def logout_url(self) -> str:
        """The hub's logout page, as the browser reaches it."""
        return self.hub_root + "logout"

    @property
    def token_url(self) -> str:
        """The hub's OAuth token endpoint, as this server reaches it."""
        return _join(self.api_url, "oauth2/token")

    @property
    def user_url(self) -> str:
        """The hub's "who owns this token" endpoint."""
        return _join(self.api_url, "user")

    @property
    def cookie_name(self) -> str:
        """Name of the login cookie (the client id, as jupyterhub-singleuser names it)."""
        return ("__Host-" if self.cookie_host_prefix else "") + self.client_id

    @property
    def cookie_path(self) -> str:
        """``/`` for ``__Host-`` cookies (which require it), else the prefix."""
        return "/" if self.cookie_host_prefix else self.prefix


def read_environment(environ: Mapping[str, str] | None = None, *, required: bool = False) -> HubEnvironment | None:
    """Read the hub's variables.

    :param environ: The variables (default: this process's environment).
    :param required: Raise :class:`HubEnvironmentError` instead of returning ``None``
        when ``JUPYTERHUB_SERVICE_URL`` is absent.
    :returns: The environment, or ``None`` when this process was not started by a hub.
    :raises HubEnvironmentError: when a variable the hub always sets is missing or malformed.
    """
    env = os.environ if environ is None else environ
    service_url = env.get("JUPYTERHUB_SERVICE_URL", "")
    if not service_url and not required:
        return None
    missing = [
        name for name in ("JUPYTERHUB_API_TOKEN", "JUPYTERHUB_API_URL", "JUPYTERHUB_CLIENT_ID") if not env.get(name)
    ]
    if missing:
        raise HubEnvironmentError(
            f"{', '.join(missing)} not set: a JupyterHub single-user server needs the variables a hub spawner sets"
        )
    prefix = env.get("JUPYTERHUB_SERVICE_PREFIX") or (urlsplit(service_url).path if service_url else "") or "/"
    prefix = "/" + prefix.strip("/") + "/" if prefix.strip("/") else "/"
    user = env.get("JUPYTERHUB_USER", "")
    server_name = env.get("JUPYTERHUB_SERVER_NAME", "")
    raw_scopes = env.get("JUPYTERHUB_OAUTH_ACCESS_SCOPES") or env.get("JUPYTERHUB_OAUTH_SCOPES")
    if raw_scopes:
        scopes = _scopes(raw_scopes, "JUPYTERHUB_OAUTH_ACCESS_SCOPES")
    elif user:
        scopes = frozenset({f"access:servers!server={user}/{server_name}", f"access:servers!user={user}"})
    else:
        raise HubEnvironmentError(
            "JUPYTERHUB_OAUTH_ACCESS_SCOPES and JUPYTERHUB_USER are not set: nobody could be allowed in"
        )
    if not scopes:
        raise HubEnvironmentError("JUPYTERHUB_OAUTH_ACCESS_SCOPES is empty: nobody could be allowed in")
    try:
        interval = float(env.get("JUPYTERHUB_ACTIVITY_INTERVAL") or DEFAULT_ACTIVITY_INTERVAL)
    except ValueError:
        raise HubEnvironmentError("JUPYTERHUB_ACTIVITY_INTERVAL is not a number of seconds") from None
    if interval <= 0:
        interval = DEFAULT_ACTIVITY_INTERVAL
    options: Any = {}
    if env.get("JUPYTERHUB_COOKIE_OPTIONS"):
        try:
            options = json.loads(env["JUPYTERHUB_COOKIE_OPTIONS"])
        except json.JSONDecodeError as exc:
            raise HubEnvironmentError(f"JUPYTERHUB_COOKIE_OPTIONS is not JSON: {exc}") from None
        if not isinstance(options, dict):
            raise HubEnvironmentError("JUPYTERHUB_COOKIE_OPTIONS must be a JSON object")
    return HubEnvironment(
        service_url=service_url,
        prefix=prefix,
        api_url=env["JUPYTERHUB_API_URL"],
        api_token=env["JUPYTERHUB_API_TOKEN"],
        client_id=env["JUPYTERHUB_CLIENT_ID"],
        callback_url=env.get("JUPYTERHUB_OAUTH_CALLBACK_URL") or prefix + "oauth_callback",
        access_scopes=scopes,
        user=user,
        server_name=server_name,
        activity_url=env.get("JUPYTERHUB_ACTIVITY_URL", ""),
        activity_interval=interval,
        hub_base_url=env.get("JUPYTERHUB_BASE_URL") or "/",
        hub_host=env.get("JUPYTERHUB_HOST", "").rstrip("/"),
        public_url=env.get("JUPYTERHUB_PUBLIC_URL", ""),
        public_hub_url=env.get("JUPYTERHUB_PUBLIC_HUB_URL", ""),
        cookie_host_prefix=_flag(env.get("JUPYTERHUB_COOKIE_HOST_PREFIX_ENABLED", "")),
        cookie_options=options,
        root_dir=env.get("JUPYTERHUB_ROOT_DIR", ""),
        default_url=env.get("JUPYTERHUB_DEFAULT_URL", ""),
        ssl_keyfile=env.get("JUPYTERHUB_SSL_KEYFILE", ""),
        ssl_certfile=env.get("JUPYTERHUB_SSL_CERTFILE", ""),
        ssl_client_ca=env.get("JUPYTERHUB_SSL_CLIENT_CA", ""),
        debug=_flag(env.get("JUPYTERHUB_DEBUG", "")),
    )
