"""Find the installed web applications from their distributions' files, without importing them.

JupyterLab ships its built application as data files (``share/jupyter/lab/static``,
``schemas``, ``themes``); Notebook 7 ships its static assets and page templates inside
the ``notebook`` package folder. Both are located through ``importlib.metadata`` (the
file lists of the installed distributions), so no code of theirs ever runs here.
"""

from __future__ import annotations

import json
import logging
import sys
from dataclasses import dataclass
from pathlib import Path

from importlib_metadata import PackageNotFoundError, distribution
from jupyter_core.paths import jupyter_path

__all__ = ["LabApp", "NotebookApp", "find_lab", "find_notebook", "labextensions_path"]

log = logging.getLogger("jupyter_core_server.frontend")


@dataclass(frozen=True)
class LabApp:
    """JupyterLab's application directory and version."""

    version: str
    app_dir: Path

    @property
    def static_dir(self) -> Path:
        return self.app_dir / "static"

    @property
    def templates_dir(self) -> Path:
        return self.app_dir / "static"

    @property
    def schemas_dir(self) -> Path:
        return self.app_dir / "schemas"

    @property
    def themes_dir(self) -> Path:
        return self.app_dir / "themes"

    @property
    def settings_dir(self) -> Path:
        """Application-level settings: ``overrides.json``, ``page_config.json``."""
        return self.app_dir / "settings"

    @property
    def package_name(self) -> str:
        """The ``name`` of the built application's ``package.json`` (its license bundle name)."""
        try:
            return str(json.loads((self.static_dir / "package.json").read_text(encoding="utf-8"))["name"])
        except (OSError, ValueError, KeyError):
            return "@jupyterlab/application-top"


@dataclass(frozen=True)
class NotebookApp:
    """Notebook 7's static assets, page templates and version."""

    version: str
    package_dir: Path

    @property
    def static_dir(self) -> Path:
        return self.package_dir / "static"

    @property
    def templates_dir(self) -> Path:
        return self.package_dir / "templates"

    @property
    def custom_css(self) -> Path:
        return self.package_dir / "custom" / "custom.css"


def _installed_file(dist_name: str, suffix: str) -> tuple[str, Path] | None:
    """Return the version of ``dist_name`` and the path of its file ending with ``suffix``."""
    try:
        dist = distribution(dist_name)
    except PackageNotFoundError:
        return None
    for file in dist.files or ():
        if str(file).replace("\\", "/").endswith(suffix):
            return dist.version, Path(str(dist.locate_file(file))).resolve()
    return None


def find_lab(app_dir: str = "") -> LabApp | None:
    """Locate JupyterLab's built application, or return ``None`` when it is not installed.

    :param app_dir: An explicit application directory (``Frontend.app_dir``); it must hold
        ``static/index.html``.
    """
    found = _installed_file("jupyterlab", "share/jupyter/lab/static/index.html")
    version = found[0] if found else ""
    if app_dir:
        directory = Path(app_dir).expanduser().resolve()
    elif found:
        directory = found[1].parent.parent
    else:
        directory = Path(sys.prefix) / "share" / "jupyter" / "lab"
    if not (directory / "static" / "index.html").is_file():
        return None
    if not version:
        version = _static_version(directory / "static")
    return LabApp(version=version, app_dir=directory)


def _static_version(static_dir: Path) -> str:
    try:
        data = json.loads((static_dir / "package.json").read_text(encoding="utf-8"))
        return str(data.get("jupyterlab", {}).get("version") or data.get("version", ""))
    except (OSError, ValueError):
        return ""


def find_notebook() -> NotebookApp | None:
    """Locate Notebook 7's package folder, or return ``None`` when it is not installed."""
    found = _installed_file("notebook", "notebook/templates/tree.html")
    if found is None:
        return None
    version, tree = found
    package_dir = tree.parent.parent
    if not (package_dir / "static").is_dir():
        log.warning("The notebook distribution has no static folder at %s; Notebook pages are off.", package_dir)
        return None
    return NotebookApp(version=version, package_dir=package_dir)


def labextensions_path(extra: list[str]) -> list[str]:
    """Return the directories searched for prebuilt lab extensions, highest precedence first."""
    return [*extra, *jupyter_path("labextensions")]
