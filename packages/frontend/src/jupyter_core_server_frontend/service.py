"""``FrontendService``: everything the frontend's handlers share, built once per server."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jinja2
from jupyter_core.paths import jupyter_config_dir

from .apps import LabApp, NotebookApp, find_lab, find_notebook, labextensions_path
from .events import EventBus
from .extensions import find_extensions
from .sections import SectionStore
from .settings import SettingsStore, load_overrides
from .workspaces import WorkspaceStore

if TYPE_CHECKING:
    from jupyter_core_server import CoreServerApp

    from .config import Frontend

__all__ = ["FrontendService"]


class FrontendService:
    """The located applications, the stores and the event bus of one server.

    :param server: The configured server.
    :param settings: The plugin's settings.
    :param terminals_available: Whether the terminals plugin is active.
    """

    def __init__(self, server: CoreServerApp, settings: Frontend, terminals_available: bool) -> None:
        self.settings = settings
        self.base_url = server.base_url
        self.terminals_available = terminals_available
        # imported here: this module is imported with the plugin, also on a server whose
        # contents plugin is disabled (which then refuses to set the frontend up)
        from jupyter_core_server_contents import ContentsManager

        self.contents_settings = ContentsManager(parent=server)
        self.jupyter_config_dir = jupyter_config_dir()
        self.lab: LabApp | None = find_lab(settings.app_dir) if settings.lab or settings.notebook else None
        notebook = find_notebook() if settings.notebook else None
        # Notebook 7 uses JupyterLab's schemas and themes: no Notebook pages without them.
        self.notebook: NotebookApp | None = notebook if self.lab is not None else None
        self.lab_pages = settings.lab and self.lab is not None
        self.labextensions_path = labextensions_path(list(settings.extra_labextensions_path))
        self.extensions_path = list(self.labextensions_path)
        self.settings_store = SettingsStore(
            self.lab.schemas_dir if self.lab else None,
            Path(settings.user_settings_dir),
            self.extensions_path,
            load_overrides(self.lab.settings_dir if self.lab else None),
        )
        self.workspaces = WorkspaceStore(Path(settings.workspaces_dir))
        self.config_sections = SectionStore("nbconfig")
        self.bus = EventBus()
        self._store_ids = itertools.count()
        self._templates: dict[Path, jinja2.Environment] = {}

    def next_store_id(self) -> int:
        """A number unique to each page load (the applications key local storage on it)."""
        return next(self._store_ids)

    @property
    def custom_css_file(self) -> Path:
        return Path(self.jupyter_config_dir) / "custom" / "custom.css"

    def theme_dirs(self) -> list[Path]:
        """Theme folders: every prebuilt extension's ``themes`` folder, then the application's."""
        found: list[Path] = []
        for directory in self.extensions_path:
            found += sorted(p for p in Path(directory).glob("**/themes") if p.is_dir())
        if self.lab is not None:
            found.append(self.lab.themes_dir)
        return found

    def license_sources(self) -> dict[str, Path]:
        """Bundle name -> static folder with ``third-party-licenses.json`` (extensions, then the app)."""
        sources = {name: ext.path / "static" for name, ext in find_extensions(self.extensions_path).items()}
        if self.lab is not None:
            sources[self.lab.package_name] = self.lab.static_dir
        return sources

    def installed_extensions(self) -> list[dict[str, Any]]:
        """The prebuilt extensions as the read-only extension manager lists them."""
        disabled = set(SectionStore("labconfig").get("page_config").get("disabledExtensions", {}) or {})
        models = []
        for name, extension in sorted(find_extensions(self.extensions_path).items()):
            model = extension.model()
            model["enabled"] = name not in disabled
            models.append(model)
        return models

    def render(self, templates_dir: Path, name: str, page_config: dict[str, object]) -> str:
        """Render an application's page template with its page configuration."""
        env = self._templates.get(templates_dir)
        if env is None:
            env = jinja2.Environment(
                loader=jinja2.FileSystemLoader(str(templates_dir)),
                autoescape=True,
                auto_reload=not self.settings.cache_files,
            )
            self._templates[templates_dir] = env
        template = env.get_template(name)
        return template.render(
            page_config=page_config, base_url=self.base_url, ws_url="", custom_css=self.settings.custom_css
        )
