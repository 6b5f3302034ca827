"""``jupyter-core-server hub``: the server, required to run as a JupyterHub single-user server."""

from __future__ import annotations

from jupyter_core_server import CoreServerApp, PluginManager
from traitlets.config import Config

__all__ = ["HubServerApp"]


class HubServerApp(CoreServerApp):
    """The server with ``JupyterHubSingleUser.mode=on``: without the hub's variables it refuses to start.

    Use it as ``Spawner.cmd`` when a misconfigured spawner should fail loudly instead
    of starting a server that no hub can reach.
    """

    name = "jupyter-core-server-hub"
    description = "Serve as a JupyterHub single-user server; fail when the hub's environment is missing."

    def initialize(self, argv: list[str] | None = None, *, plugin_manager: PluginManager | None = None) -> None:
        """Initialize as the plain server does, then require single-user mode."""
        super().initialize([] if argv is None else argv, plugin_manager=plugin_manager)
        self.update_config(Config({"JupyterHubSingleUser": {"mode": "on"}}))
