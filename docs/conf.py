"""Sphinx configuration of the jupyter-core-server documentation.

Build from the repository root with::

    sphinx-build -W --keep-going -b html docs docs/_build/html

The package must be importable (``pip install -e packages/core``): the hook
reference and the configuration tables are generated from its code.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent / "_ext"))

from jupyter_core_server import __version__  # noqa: E402

project = "jupyter-core-server"
author = "The jupyter-core-server developers"
copyright = "the jupyter-core-server developers"  # noqa: A001 - Sphinx's name
version = release = __version__

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "configtables",  # _ext/configtables.py: option tables from traitlets classes
    "hookcheck",  # _ext/hookcheck.py: fail the build when a hook is left out
]

source_suffix = {".md": "markdown", ".rst": "restructuredtext"}
root_doc = "index"
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store"]

# Unresolved cross-references to third-party objects (aiohttp, traitlets) are not
# errors: intersphinx is off because builds must not need the network.
nitpicky = False

myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 3

# The hookspecs annotate with names imported only under TYPE_CHECKING. Types are
# rendered in the parameter descriptions, as the annotations spell them; names that
# cannot be resolved stay text instead of producing warnings.
autodoc_typehints = "description"
autodoc_typehints_format = "short"
autodoc_member_order = "bysource"

html_theme = "alabaster"
html_title = f"jupyter-core-server {release}"
html_theme_options = {
    "description": "A kernel-only Jupyter server with plugins",
    "fixed_sidebar": True,
    "show_relbars": True,
    "page_width": "1100px",
    "sidebar_width": "240px",
}
html_sidebars = {"**": ["about.html", "navigation.html", "relations.html", "searchbox.html"]}
html_static_path: list[str] = []
html_show_sourcelink = False
