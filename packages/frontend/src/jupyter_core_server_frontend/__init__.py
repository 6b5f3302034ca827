"""The JupyterLab and Notebook 7 web applications, served by jupyter-core-server.

The plugin is found through the ``jupyter_core_server.plugins`` entry point named
``frontend``; importing this package does not import the plugin's server code. It
reads the files that the ``jupyterlab`` and ``notebook`` distributions install (static
assets, page templates, settings schemas, themes) and never imports their Python code.
"""

from __future__ import annotations

from ._version import __version__

__all__ = ["__version__"]
