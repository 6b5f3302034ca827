"""Hooks of the ``frontend`` plugin: the JupyterLab and Notebook 7 pages and their server API."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from jupyter_core_server import hookimpl, keys, load_fragment

from . import events, handlers, pages
from .apps import find_lab, find_notebook
from .config import Frontend
from .events import EventRelay
from .keys import FRONTEND
from .service import FrontendService

if TYPE_CHECKING:
    from aiohttp import web
    from jupyter_core_server import CoreServerApp
    from traitlets.config import Configurable

log = logging.getLogger("jupyter_core_server.frontend")

#: The pages are useless without files to open: the contents plugin is required.
requires: Sequence[str] = ("contents",)


def _installed(server: CoreServerApp) -> tuple[bool, bool]:
    """Whether JupyterLab and Notebook 7 are installed and switched on."""
    settings = Frontend(parent=server)
    has_lab_files = find_lab(settings.app_dir) is not None
    notebook = settings.notebook and has_lab_files and find_notebook() is not None
    return settings.lab and has_lab_files, notebook


@hookimpl
def register_configurables() -> Sequence[type[Configurable]]:
    return [Frontend]


@hookimpl
def register_routes(server: CoreServerApp) -> Sequence[web.RouteDef]:
    lab, notebook = _installed(server)
    if not (lab or notebook):
        log.warning(
            "Plugin frontend: neither JupyterLab nor Notebook 7 is installed; "
            "install them with 'pip install jupyterlab notebook' to get the web pages."
        )
    return [
        *pages.routes(lab, notebook),
        *handlers.routes(lab or notebook, notebook),
        *events.routes(),
        *pages.fallback_routes(lab),
    ]


@hookimpl
def openapi_spec(server: CoreServerApp) -> Mapping[str, Any]:
    lab, notebook = _installed(server)
    fragment = load_fragment(__package__)
    paths: dict[str, Any] = fragment["paths"]
    for path in list(paths):
        is_lab_page = (
            path.startswith(("/lab", "/doc")) and "/api/" not in path and not path.startswith("/lab/extensions")
        )
        if (
            (is_lab_page and not lab)
            or (path == "/static/lab/{path}" and not (lab or notebook))
            or path.startswith(("/tree", "/notebooks", "/edit", "/consoles", "/terminals", "/static/notebook"))
            and not notebook
        ):
            del paths[path]
    return fragment


@hookimpl
def app_context(server: CoreServerApp) -> Callable[[web.Application], AsyncIterator[None]]:
    async def frontend(app: web.Application) -> AsyncIterator[None]:
        pm = server.plugin_manager
        assert pm is not None
        settings = Frontend(parent=server)
        service = FrontendService(server, settings, terminals_available=pm.is_active("terminals"))
        app[FRONTEND] = service
        default = settings.default_url
        if default == "/lab" and not service.lab_pages and service.notebook is not None:
            default = "/tree"
        if default and (service.lab_pages or service.notebook is not None):
            app[keys.DEFAULT_URL] = default
        relay = EventRelay(service.bus)
        pm.register(relay, name="frontend.events")
        yield
        pm.unregister(relay)

    return frontend
