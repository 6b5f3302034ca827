"""Where and how to serve, taken from the hub's environment (the ``configure_server`` hook)."""

from __future__ import annotations

import logging
import os
from typing import TYPE_CHECKING

from .config import JupyterHubSingleUser
from .environment import HubEnvironment, HubEnvironmentError, read_environment

if TYPE_CHECKING:
    from jupyter_core_server import CoreServerApp

__all__ = ["apply_environment", "hub_environment"]

log = logging.getLogger("jupyter_core_server.hub")


def hub_environment(server: CoreServerApp) -> HubEnvironment | None:
    """Return the hub's environment when the server should act as a single-user server.

    :raises SystemExit: when ``JupyterHubSingleUser.mode`` is ``on`` and the hub's
        variables are missing, or when they are malformed: a server the hub cannot
        reach must not start as if it could.
    """
    mode = JupyterHubSingleUser(parent=server).mode
    if mode == "off":
        return None
    try:
        return read_environment(required=mode == "on")
    except HubEnvironmentError as exc:
        raise SystemExit(f"jupyter-core-server: JupyterHub single-user mode: {exc}") from None


def apply_environment(server: CoreServerApp, env: HubEnvironment) -> None:
    """Set the server's address, base URL, root directory and TLS files from ``env``.

    A value the user configured explicitly (command line or config file) wins, as it
    does for jupyterhub-singleuser. The server then serves requests whatever their
    Host, because the hub's proxy forwards the public host name.
    """
    configured = server.config.CoreServerApp
    host, port = env.bind
    changes: dict[str, object] = {"base_url": env.prefix, "port_retries": 0, "allow_remote_access": True}
    if host:
        changes["ip"] = host
    if port is not None:
        changes["port"] = port
    if env.root_dir:
        changes["root_dir"] = os.path.expanduser(env.root_dir)
    if env.ssl_certfile:
        changes.update(certfile=env.ssl_certfile, keyfile=env.ssl_keyfile, client_ca=env.ssl_client_ca)
    if env.debug and "log_level" not in server.config.Application:
        server.log_level = logging.DEBUG
    for name, value in changes.items():
        if name in configured:
            log.info("JupyterHub: keeping the configured %s=%r (the hub asked for %r).", name, configured[name], value)
            continue
        setattr(server, name, value)
