"""``Frontend``: the settings of the frontend plugin, and where its files live by default.

The default directories are the ones JupyterLab and jupyterlab_server use, so that user
settings, workspaces and ``jupyter labextension disable`` choices carry over unchanged.
"""

from __future__ import annotations

import os
from typing import Any

from jupyter_core.paths import jupyter_config_dir
from traitlets import Bool, Dict, List, Unicode, default, validate
from traitlets.config import Configurable

__all__ = ["DEFAULT_MATHJAX_URL", "Frontend"]

DEFAULT_MATHJAX_URL = "https://cdnjs.cloudflare.com/ajax/libs/mathjax/2.7.7/MathJax.js"


class Frontend(Configurable):
    """Which web applications are served, and where their settings and workspaces are kept."""

    default_url = Unicode(
        "/lab",
        help="""Page that ``/`` redirects to, relative to ``base_url`` (``/lab`` or ``/tree``).

        Empty keeps the server's own root page.""",
    ).tag(config=True)

    @validate("default_url")
    def _valid_default_url(self, proposal: Any) -> str:
        value = str(proposal["value"]).strip()
        if value and (not value.startswith("/") or value.startswith("//") or "://" in value):
            raise ValueError(f"Frontend.default_url {value!r} must be a path starting with a single '/'")
        return value

    lab = Bool(True, help="Serve JupyterLab at /lab when the jupyterlab distribution is installed.").tag(config=True)

    notebook = Bool(
        True,
        help=(
            "Serve Notebook 7 (/tree, /notebooks, /edit, /consoles, /terminals) "
            "when the notebook distribution is installed."
        ),
    ).tag(config=True)

    app_dir = Unicode(
        help="""JupyterLab application directory (``static``, ``schemas``, ``themes``, ``settings``).

        Defaults to ``JUPYTERLAB_DIR``, else the directory the jupyterlab distribution
        installed (usually ``<sys.prefix>/share/jupyter/lab``).""",
    ).tag(config=True)

    @default("app_dir")
    def _app_dir_default(self) -> str:
        return os.environ.get("JUPYTERLAB_DIR", "")

    user_settings_dir = Unicode(
        help="""Where user settings (``<package>/<plugin>.jupyterlab-settings``, JSON5) are kept.

        Defaults to ``JUPYTERLAB_SETTINGS_DIR``, else ``<jupyter config dir>/lab/user-settings``,
        as for ``jupyter lab``.""",
    ).tag(config=True)

    @default("user_settings_dir")
    def _user_settings_dir_default(self) -> str:
        return os.environ.get("JUPYTERLAB_SETTINGS_DIR") or os.path.join(jupyter_config_dir(), "lab", "user-settings")

    workspaces_dir = Unicode(
        help="""Where workspaces (``*.jupyterlab-workspace``) are kept.

        Defaults to ``JUPYTERLAB_WORKSPACES_DIR``, else ``<jupyter config dir>/lab/workspaces``.""",
    ).tag(config=True)

    @default("workspaces_dir")
    def _workspaces_dir_default(self) -> str:
        return os.environ.get("JUPYTERLAB_WORKSPACES_DIR") or os.path.join(jupyter_config_dir(), "lab", "workspaces")

    extra_labextensions_path = List(
        Unicode(),
        help="Directories searched for prebuilt lab extensions before the ``labextensions`` Jupyter data paths.",
    ).tag(config=True)

    mathjax_url = Unicode(DEFAULT_MATHJAX_URL, help="MathJax 2 script the applications load for LaTeX.").tag(
        config=True
    )

    mathjax_config = Unicode("TeX-AMS_HTML-full,Safe", help="MathJax 2 configuration name.").tag(config=True)

    custom_css = Bool(True, help="Load ``custom/custom.css`` from the Jupyter config dir on every page.").tag(
        config=True
    )

    expose_app_in_browser = Bool(False, help="Expose the application object as ``window.jupyterapp``.").tag(config=True)

    notebook_starts_kernel = Bool(True, help="Whether opening a notebook starts a kernel.").tag(config=True)

    copy_absolute_path = Bool(False, help="Whether 'Copy Path' copies an absolute path.").tag(config=True)

    cache_files = Bool(
        True,
        help="Let browsers keep content-hashed assets for a year; off, every file is revalidated.",
    ).tag(config=True)

    api_version = Unicode(
        "2.21.0",
        help="""jupyter_server version the pages are told they talk to (``notebookVersion``).

        The applications switch features on it (chunked uploads, HTML export options);
        this server implements the REST API of that version.""",
    ).tag(config=True)

    page_config_data = Dict(
        help="Extra keys merged into every page's configuration (after the computed ones).",
    ).tag(config=True)
