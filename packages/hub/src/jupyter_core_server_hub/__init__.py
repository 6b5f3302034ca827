"""JupyterHub single-user mode for jupyter-core-server.

The plugin is found through the ``jupyter_core_server.plugins`` entry point named
``hub``. It acts only when the server runs in a JupyterHub spawner's environment
(``JUPYTERHUB_SERVICE_URL`` is set) or is told to with ``JupyterHubSingleUser.mode``;
otherwise the server behaves exactly as without it. Importing this package does not
import the plugin's server code.
"""

from __future__ import annotations

from ._version import __version__

__all__ = ["__version__"]
