"""The page configuration each application reads from its page (``jupyter-config-data``).

The keys and their forms follow what jupyterlab_server and the notebook package put
there, since the unmodified applications read them: URLs without a trailing slash,
``full*`` variants prefixed with ``base_url``, ``notebookVersion`` as a JSON string,
and the lists of prebuilt and disabled extensions read from disk at each page load (so
installing an extension and reloading the page is enough).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from .extensions import find_extensions, page_config_state

if TYPE_CHECKING:
    from .service import FrontendService

__all__ = ["APP_URLS", "UNTRACKED_MESSAGE_TYPES", "page_config"]

#: page-config URL key -> path relative to base_url (jupyterlab_server's defaults)
APP_URLS = {
    "appUrl": "/lab",
    "labextensionsUrl": "/lab/extensions",
    "licensesUrl": "/lab/api/licenses",
    "listingsUrl": "/lab/api/listings",
    "settingsUrl": "/lab/api/settings",
    "themesUrl": "/lab/api/themes",
    "translationsApiUrl": "/lab/api/translations",
    "treeUrl": "/lab/tree",
    "workspacesApiUrl": "/lab/api/workspaces",
    "workspacesUrl": "/lab/workspaces",
}

#: Kernel message types that do not mark a document as changed (jupyter_server's list).
UNTRACKED_MESSAGE_TYPES = [
    "comm_info_request", "comm_info_reply", "kernel_info_request", "kernel_info_reply",
    "shutdown_request", "shutdown_reply", "interrupt_request", "interrupt_reply",
    "debug_request", "debug_reply", "stream", "display_data", "update_display_data",
    "execute_input", "execute_result", "error", "status", "clear_output", "debug_event",
    "input_request", "input_reply",
]  # fmt: skip


def _full(base_url: str, path: str) -> str:
    return base_url.rstrip("/") + path


def page_config(service: FrontendService, app: str, token: str) -> dict[str, Any]:
    """Build the configuration of one page load of ``app`` (``lab`` or ``notebook``).

    Reads the extension folders and config files, so call it off the event loop.

    :param service: The plugin's state.
    :param app: ``lab`` or ``notebook``.
    :param token: The token the page's API calls send, or ``""`` to let them use the cookie.
    """
    settings = service.settings
    base = service.base_url
    lab = service.lab
    config: dict[str, Any] = {}
    for key, path in APP_URLS.items():
        config[key] = path
        config["full" + key[0].upper() + key[1:]] = _full(base, path)

    extensions = find_extensions(service.extensions_path)
    app_package: dict[str, Any] | None = None
    if lab is not None:
        try:
            app_package = json.loads((lab.static_dir / "package.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            app_package = None
    config.update(page_config_state(extensions, lab.settings_dir if lab else None, app_package))

    contents = service.contents_settings
    config.update(
        {
            "appName": "JupyterLab",
            "appNamespace": "lab",
            "appVersion": lab.version if lab else "",
            "fullStaticUrl": _full(base, "/static/lab"),
            "fullMathjaxUrl": settings.mathjax_url,
            "mathjaxConfig": settings.mathjax_config,
            "mode": "multiple-document",
            "workspace": "default",
            "treePath": "",
            "preferredPath": "/",
            "devMode": False,
            "exposeAppInBrowser": settings.expose_app_in_browser,
            "cacheFiles": settings.cache_files,
            "notebookStartsKernel": settings.notebook_starts_kernel,
            "copyAbsolutePath": settings.copy_absolute_path,
            "notebookVersion": json.dumps([int(p) if p.isdigit() else p for p in settings.api_version.split(".")]),
            "quitButton": True,
            "store_id": service.next_store_id(),
            "news": {"disabled": True},
            "allow_hidden_files": contents.allow_hidden,
            "delete_to_trash": contents.delete_to_trash,
            "ignorePlugins": [],
            "extensionManager": {"name": "read-only", "can_install": False, "install_path": None},
            "labextensionsPath": service.labextensions_path,
            "extraLabextensionsPath": list(settings.extra_labextensions_path),
            "terminalsAvailable": service.terminals_available,
            "token": token,
            "serverRoot": contents.root_dir,
            "untracked_message_types": UNTRACKED_MESSAGE_TYPES,
            "buildAvailable": False,
            "buildCheck": False,
            "appSettingsDir": str(lab.settings_dir) if lab else "",
            "schemasDir": str(lab.schemas_dir) if lab else "",
            "staticDir": str(lab.static_dir) if lab else "",
            "templatesDir": str(lab.templates_dir) if lab else "",
            "themesDir": str(lab.themes_dir) if lab else "",
            "userSettingsDir": settings.user_settings_dir,
            "workspacesDir": settings.workspaces_dir,
        }
    )
    if app == "notebook":
        notebook = service.notebook
        assert notebook is not None
        for key in ("ignorePlugins", "mode", "serverRoot", "store_id", "workspace"):
            config.pop(key, None)
        config.update(
            {
                "appName": "Jupyter Notebook",
                "appVersion": notebook.version,
                "fullStaticUrl": _full(base, "/static/notebook"),
                "frontendUrl": base,
                "jupyterConfigDir": service.jupyter_config_dir,
                "nbclassic_enabled": False,
                "staticDir": str(notebook.static_dir),
                "templatesDir": str(notebook.templates_dir),
            }
        )
    config.update(settings.page_config_data)
    return config
