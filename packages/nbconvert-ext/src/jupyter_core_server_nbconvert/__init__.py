"""nbconvert for jupyter-core-server: ``/api/nbconvert`` and ``/nbconvert/{format}``.

The plugin is found through the ``jupyter_core_server.plugins`` entry point named
``nbconvert``; importing this package does not import nbconvert.
"""

from __future__ import annotations

from ._version import __version__

__all__ = ["__version__"]
