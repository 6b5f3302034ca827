"""``JupyterHubSingleUser``: the settings of the hub plugin.

The hub itself tells the server almost everything through its spawner's environment
(see :mod:`jupyter_core_server_hub.environment`); these options only choose when the
plugin acts and tune what the environment does not say.
"""

from __future__ import annotations

from traitlets import Bool, CaselessStrEnum, Float, Integer
from traitlets.config import LoggingConfigurable

__all__ = ["JupyterHubSingleUser"]


class JupyterHubSingleUser(LoggingConfigurable):
    """When and how the server acts as a JupyterHub single-user server."""

    mode = CaselessStrEnum(
        ["auto", "on", "off"],
        default_value="auto",
        help="""When to act as a JupyterHub single-user server.

        ``auto``: when ``JUPYTERHUB_SERVICE_URL`` is set, as a spawner sets it.
        ``on``: always; start-up fails with a clear message when the hub's variables
        are missing (``jupyter-core-server hub`` sets this). ``off``: never.""",
    ).tag(config=True)

    cache_seconds = Float(
        60.0,
        help="""Seconds the hub's answer about a token is reused before the hub is asked again.

        A token revoked at the hub keeps working here for at most this long.""",
    ).tag(config=True)

    allow_server_token = Bool(
        False,
        help="""Also accept the server's own token (``Authenticator.token``, printed at start-up
        into the spawner's log) besides hub credentials.""",
    ).tag(config=True)

    cookie_max_age_days = Float(
        14.0,
        help="Days the login cookie set after hub OAuth stays valid (the hub's tokens last 14 days by default).",
    ).tag(config=True)

    max_sessions = Integer(
        10000,
        help="Most browser logins remembered at once; the oldest are forgotten first (their browsers log in again).",
    ).tag(config=True)

    request_timeout = Float(10.0, help="Seconds to wait for an answer from the hub's API.").tag(config=True)
