"""Handlers of the applications' server API (``/lab/api/...``, ``/api/config``) and static files."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aiohttp import web
from jupyter_core_server import BadRequest, NotFound, auth_resource, read_json_object

from .keys import FRONTEND
from .licenses import FORMATS, license_bundles, render_report
from .sections import SECTION_NAME
from .statics import FAVICONS_DIR, file_response, find_file, rewrite_theme_css, safe_join
from .translations import DEFAULT_LOCALE, language_pack, language_packs

if TYPE_CHECKING:
    from .service import FrontendService

__all__ = ["routes"]

LISTINGS_FILE = "@jupyterlab/extensionmanager-extension/listings.json"
_LOCALE_SETTINGS = "@jupyterlab/translation-extension:plugin"


def _service(request: web.Request) -> FrontendService:
    return request.config_dict[FRONTEND]


def _json(data: Any, status: int = 200) -> web.Response:
    return web.Response(text=json.dumps(data), status=status, content_type="application/json")


# -- settings ----------------------------------------------------------------------------------


async def list_settings(request: web.Request) -> web.Response:
    ids_only = request.query.get("ids_only", "") == "true"
    settings = await asyncio.to_thread(_service(request).settings_store.list, ids_only)
    return _json({"settings": settings})


async def get_settings(request: web.Request) -> web.Response:
    plugin_id = request.match_info["plugin_id"]
    return _json(await asyncio.to_thread(_service(request).settings_store.get, plugin_id))


async def put_settings(request: web.Request) -> web.Response:
    plugin_id = request.match_info["plugin_id"]
    body = await read_json_object(request)
    raw = body.get("raw")
    if not isinstance(raw, str):
        raise BadRequest('The body must be {"raw": "<settings as JSON5 text>"}', "invalid_body")
    await asyncio.to_thread(_service(request).settings_store.save, plugin_id, raw)
    return web.Response(status=204)


# -- workspaces ----------------------------------------------------------------------------------


async def list_workspaces(request: web.Request) -> web.Response:
    return _json({"workspaces": await asyncio.to_thread(_service(request).workspaces.list)})


async def get_workspace(request: web.Request) -> web.Response:
    return _json(await asyncio.to_thread(_service(request).workspaces.get, request.match_info["name"]))


async def put_workspace(request: web.Request) -> web.Response:
    raw = await request.read()
    await asyncio.to_thread(_service(request).workspaces.save, request.match_info["name"], raw.strip())
    return web.Response(status=204)


async def delete_workspace(request: web.Request) -> web.Response:
    name = request.match_info["name"]
    if not await asyncio.to_thread(_service(request).workspaces.delete, name):
        raise NotFound(f"No workspace named {name!r}", "no_such_workspace")
    return web.Response(status=204)


# -- translations, themes, listings, licenses, build, extensions --------------------------------


def _current_locale(service: FrontendService) -> str:
    try:
        locale = service.settings_store.get(_LOCALE_SETTINGS)["settings"].get("locale")
    except NotFound:
        return DEFAULT_LOCALE
    return str(locale) if locale and locale != "default" else DEFAULT_LOCALE


async def list_translations(request: web.Request) -> web.Response:
    service = _service(request)

    def listing() -> dict[str, Any]:
        return language_packs(_current_locale(service))

    return _json({"data": await asyncio.to_thread(listing), "message": ""})


async def get_translation(request: web.Request) -> web.Response:
    data, message = await asyncio.to_thread(language_pack, request.match_info["locale"])
    return _json({"data": data, "message": message})


async def get_theme_file(request: web.Request) -> web.StreamResponse:
    service = _service(request)
    path = request.match_info["path"]
    roots = [Path(p) for p in service.theme_dirs()]
    found = await asyncio.to_thread(find_file, roots, path)
    if found.suffix != ".css":
        return file_response(request, found, cache=service.settings.cache_files)
    css = await asyncio.to_thread(found.read_text, "utf-8")
    directory = path.rpartition("/")[0]
    base = f"{service.base_url}lab/api/themes/{directory}"
    response = web.Response(text=rewrite_theme_css(css, base), content_type="text/css")
    response.headers["Cache-Control"] = "no-cache"
    return response


async def get_listings(request: web.Request) -> web.Response:
    if request.match_info["path"] != LISTINGS_FILE:
        raise NotFound(f"No listing {request.match_info['path']!r}", "not_found")
    return _json(
        {
            "blocked_extensions_uris": [],
            "allowed_extensions_uris": [],
            "blocked_extensions": [],
            "allowed_extensions": [],
        }
    )


async def get_licenses(request: web.Request) -> web.Response:
    service = _service(request)
    report_format = request.query.get("format", "json")
    if report_format not in FORMATS:
        raise BadRequest(
            f"Unknown license report format {report_format!r}; use one of {', '.join(FORMATS)}", "invalid_format"
        )
    try:
        full_text = bool(json.loads(request.query.get("full_text", "true")))
        download = bool(json.loads(request.query.get("download", "0")))
    except ValueError:
        raise BadRequest("full_text and download must be JSON booleans or numbers", "invalid_query") from None
    pattern = request.query.get("bundles", ".*")
    try:
        re.compile(pattern)
    except re.error as exc:
        raise BadRequest(f"bundles is not a regular expression: {exc}", "invalid_query") from None
    sources = await asyncio.to_thread(service.license_sources)
    bundles = await asyncio.to_thread(license_bundles, sources, pattern)
    mime, extension = FORMATS[report_format]
    response = web.Response(text=render_report(bundles, report_format, full_text))
    response.content_type = mime
    if download:
        response.headers["Content-Disposition"] = f'attachment; filename="jupyterlab-licenses{extension}"'
    return response


async def get_build(request: web.Request) -> web.Response:
    # Prebuilt applications only: there is never a build to run here.
    return _json({"status": "stable", "message": ""})


async def list_extensions(request: web.Request) -> web.Response:
    service = _service(request)
    try:
        page = max(1, int(request.query.get("page", "1")))
        per_page = min(100, max(1, int(request.query.get("per_page", "30"))))
    except ValueError:
        raise BadRequest("page and per_page must be integers", "invalid_query") from None
    if request.query.get("query"):
        return _json([])  # no package index is searched: extensions are installed with pip
    models = await asyncio.to_thread(service.installed_extensions)
    return _json(models[(page - 1) * per_page : page * per_page])


async def get_news(request: web.Request) -> web.Response:
    return _json({"news": []})


async def get_update(request: web.Request) -> web.Response:
    return _json({"notification": None})


# -- static files ------------------------------------------------------------------------------


async def _app_static(request: web.Request, app: Any, label: str) -> web.StreamResponse:
    if app is None:
        raise NotFound(f"{label} is not installed", "not_found")
    found = await asyncio.to_thread(find_file, [app.static_dir], request.match_info["path"])
    return file_response(request, found, cache=_service(request).settings.cache_files)


async def get_lab_static(request: web.Request) -> web.StreamResponse:
    return await _app_static(request, _service(request).lab, "JupyterLab")


async def get_notebook_static(request: web.Request) -> web.StreamResponse:
    return await _app_static(request, _service(request).notebook, "Notebook 7")


async def get_extension_file(request: web.Request) -> web.StreamResponse:
    service = _service(request)
    path = request.match_info["path"]
    # "@scope/name/static/x.js" or "name/static/x.js": the extension folder, then the file in it
    parts = path.split("/")
    depth = 2 if parts[0].startswith("@") else 1
    name, rest = "/".join(parts[:depth]), "/".join(parts[depth:])
    if not rest or ".." in parts[:depth] or any(p in ("", ".", "..") for p in parts[:depth]):
        raise NotFound(f"No file {path!r}", "no_such_file")
    for directory in service.extensions_path:
        root = Path(directory) / name
        if root.is_dir():
            found = await asyncio.to_thread(safe_join, root, rest)
            if found is not None:
                return file_response(request, found, cache=service.settings.cache_files)
            break  # the first folder holding the extension is the one the page loads
    raise NotFound(f"No file {path!r}", "no_such_file")


async def get_favicon(request: web.Request) -> web.StreamResponse:
    found = await asyncio.to_thread(find_file, [FAVICONS_DIR], request.match_info["name"])
    response = file_response(request, found, cache=False)
    response.headers["Cache-Control"] = "public, max-age=86400"
    return response


async def get_custom_css(request: web.Request) -> web.StreamResponse:
    service = _service(request)
    for candidate in (service.custom_css_file, service.notebook.custom_css if service.notebook else None):
        if candidate is not None and candidate.is_file():
            return file_response(request, candidate, cache=False)
    response = web.Response(
        text="/* No custom CSS: add custom/custom.css to your Jupyter config directory. */\n", content_type="text/css"
    )
    response.headers["Cache-Control"] = "no-cache"
    return response


# -- /api/config -----------------------------------------------------------------------------


def _section(request: web.Request) -> str:
    name = request.match_info["section"]
    if not SECTION_NAME.match(name):
        raise NotFound(f"No config section {name!r}", "not_found")
    return name


@auth_resource("config")
async def get_config_section(request: web.Request) -> web.Response:
    return _json(await asyncio.to_thread(_service(request).config_sections.get, _section(request)))


@auth_resource("config")
async def put_config_section(request: web.Request) -> web.Response:
    name = _section(request)
    body = await read_json_object(request)
    await asyncio.to_thread(_service(request).config_sections.set, name, body)
    return web.Response(status=204)


@auth_resource("config")
async def patch_config_section(request: web.Request) -> web.Response:
    name = _section(request)
    body = await read_json_object(request)
    return _json(await asyncio.to_thread(_service(request).config_sections.update, name, body))


def routes(lab: bool, notebook: bool) -> list[web.RouteDef]:
    """Return the API and static routes, relative to ``base_url``."""
    found = [
        web.get("/lab/api/settings", list_settings),
        web.get("/lab/api/settings/", list_settings),
        web.get("/lab/api/settings/{plugin_id:.+}", get_settings),
        web.put("/lab/api/settings/{plugin_id:.+}", put_settings),
        web.get("/lab/api/workspaces", list_workspaces),
        web.get("/lab/api/workspaces/", list_workspaces),
        web.get("/lab/api/workspaces/{name:.+}", get_workspace),
        web.put("/lab/api/workspaces/{name:.+}", put_workspace),
        web.delete("/lab/api/workspaces/{name:.+}", delete_workspace),
        web.get("/lab/api/translations", list_translations),
        web.get("/lab/api/translations/", list_translations),
        web.get("/lab/api/translations/{locale}", get_translation),
        web.get("/lab/api/themes/{path:.+}", get_theme_file),
        web.get("/lab/api/listings/{path:.+}", get_listings),
        web.get("/lab/api/licenses", get_licenses),
        web.get("/lab/api/licenses/", get_licenses),
        web.get("/lab/api/build", get_build),
        web.get("/lab/api/extensions", list_extensions),
        web.get("/lab/api/news", get_news),
        web.get("/lab/api/update", get_update),
        web.get("/lab/extensions/{path:.+}", get_extension_file),
        web.get("/static/favicons/{name}", get_favicon),
        web.get("/custom/custom.css", get_custom_css),
        web.get("/api/config/{section}", get_config_section),
        web.put("/api/config/{section}", put_config_section),
        web.patch("/api/config/{section}", patch_config_section),
    ]
    if lab:
        found.append(web.get("/static/lab/{path:.+}", get_lab_static))
    if notebook:
        found.append(web.get("/static/notebook/{path:.+}", get_notebook_static))
    return found
