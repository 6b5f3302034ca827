"""Terminals for jupyter-core-server: ``/api/terminals`` and terminal websockets on real ptys.

The plugin is found through the ``jupyter_core_server.plugins`` entry point named
``terminals``; importing this package does not import the plugin's server code.
"""

from __future__ import annotations

from ._version import __version__

__all__ = ["__version__"]
