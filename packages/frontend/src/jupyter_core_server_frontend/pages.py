"""The HTML pages: JupyterLab (``/lab``, ``/doc``) and Notebook 7 (``/tree``, ``/notebooks``, ...).

Pages are what a person opens in a browser, so an unauthenticated visit is sent to the
core's ``/login`` page (with ``next`` pointing back) instead of getting a JSON 403.
The handlers are therefore registered as public; they authenticate with the core's
:func:`~jupyter_core_server.authenticate`, the function every other route goes
through (an identity plugin that must wait for its answer is awaited, and its refusal
is a 403), then ask the ``authorize`` hook. A visit authenticated by the token gets the
login cookie from the core, so that the page's later requests and websockets (which
carry no token) are authenticated too.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode

from aiohttp import web
from jupyter_core_server import ApiError, NotFound, authenticate, keys, public

from .keys import FRONTEND
from .pageconfig import page_config

if TYPE_CHECKING:
    from .service import FrontendService

__all__ = ["routes"]

_WORKSPACE = r"[a-zA-Z0-9\-_]+"


class PluginUnavailable(ApiError):
    status = 503

    def __init__(self) -> None:
        super().__init__("The frontend plugin failed to start; see the server log.", "plugin_failed")


def _service(request: web.Request) -> FrontendService:
    service = request.config_dict.get(FRONTEND)
    if service is None:
        raise PluginUnavailable()
    return service


def _login_redirect(request: web.Request) -> web.HTTPFound:
    base = request.config_dict[keys.SERVER].base_url
    query = [(k, v) for k, v in request.query.items() if k != "token"]
    target = request.path + ("?" + urlencode(query) if query else "")
    return web.HTTPFound(f"{base}login?{urlencode({'next': target})}")


async def _authenticate(request: web.Request) -> None:
    """Let a page's visitor in: authenticated by the server, authorized to read ``frontend``.

    :raises web.HTTPFound: to the login page when nobody is logged in.
    """
    identity = await authenticate(request)
    if identity is None:
        raise _login_redirect(request)
    pm = request.config_dict[keys.PLUGIN_MANAGER]
    if pm.hook.authorize(request=request, identity=identity, action="read", resource="frontend") is False:
        raise web.HTTPForbidden(text="Not allowed to read frontend.")


def _page_token(request: web.Request) -> str:
    """The token the page's API calls send (jupyter_server puts the server's token there)."""
    auth = request.config_dict[keys.SERVER].authenticator
    return auth.token if auth is not None else ""


async def _render(request: web.Request, app: str, template: str, **overrides: Any) -> web.Response:
    await _authenticate(request)
    service = _service(request)
    config = await asyncio.to_thread(page_config, service, app, _page_token(request))
    config.update(overrides)
    if app == "lab":
        assert service.lab is not None
        templates = service.lab.templates_dir
    else:
        assert service.notebook is not None
        templates = service.notebook.templates_dir
    html = service.render(templates, template, config)
    response = web.Response(text=html, content_type="text/html")
    response.headers["Cache-Control"] = "no-store"
    return response


# -- JupyterLab ------------------------------------------------------------------------------


@public
async def lab_page(request: web.Request) -> web.Response:
    info = request.match_info
    mode = (
        "single-document"
        if request.path.removeprefix(request.config_dict[keys.SERVER].base_url.rstrip("/")).startswith("/doc")
        else "multiple-document"
    )
    return await _render(
        request,
        "lab",
        "index.html",
        mode=mode,
        workspace=info.get("workspace", "default"),
        treePath=info.get("tree", ""),
    )


@public
async def lab_not_found(request: web.Request) -> web.Response:
    """Unknown pages below ``/lab`` show JupyterLab's own "not found" view, as jupyter lab does."""
    if request.match_info.get("rest", "").startswith("api/"):
        await _authenticate(request)
        raise NotFound(f"No such API: {request.path}", "not_found")
    return await _render(request, "lab", "index.html", notFoundUrl=request.path)


@public
async def remove_slash(request: web.Request) -> web.Response:
    raise web.HTTPFound(request.path.rstrip("/") + (f"?{request.query_string}" if request.query_string else ""))


# -- Notebook 7 ------------------------------------------------------------------------------


async def _contents_type(request: web.Request, path: str) -> str | None:
    """Return ``directory``, ``notebook`` or ``file`` for an API path, ``None`` if it does not exist."""
    from jupyter_core_server_contents import CONTENTS

    contents = request.config_dict.get(CONTENTS)
    if contents is None:
        return None
    try:
        model = await contents.get(path, content=False)
    except ApiError as exc:
        if exc.status in (400, 403, 404):
            return None
        raise
    return str(model["type"])


@public
async def tree_page(request: web.Request) -> web.Response:
    await _authenticate(request)
    path = request.match_info.get("path", "").strip("/")
    kind = await _contents_type(request, path)
    base = request.config_dict[keys.SERVER].base_url
    if kind is None:
        raise NotFound(f"No such directory: {path!r}", "not_found")
    if kind != "directory":
        raise web.HTTPFound(f"{base}{'notebooks' if kind == 'notebook' else 'files'}/{quote(path)}")
    return await _render(request, "notebook", "tree.html", treePath=path)


@public
async def notebook_page(request: web.Request) -> web.Response:
    path = request.match_info.get("path", "").strip("/")
    await _authenticate(request)
    if await _contents_type(request, path) == "directory":
        raise web.HTTPFound(f"{request.config_dict[keys.SERVER].base_url}tree/{quote(path)}")
    return await _render(request, "notebook", "notebooks.html")


@public
async def edit_page(request: web.Request) -> web.Response:
    return await _render(request, "notebook", "edit.html")


@public
async def console_page(request: web.Request) -> web.Response:
    return await _render(request, "notebook", "consoles.html")


@public
async def terminal_page(request: web.Request) -> web.Response:
    return await _render(request, "notebook", "terminals.html")


def routes(service_has_lab: bool, service_has_notebook: bool) -> list[web.RouteDef]:
    """Return the page routes of the applications that are installed and switched on."""
    found: list[web.RouteDef] = []
    if service_has_lab:
        for prefix in ("/lab", "/doc"):
            found += [
                web.get(prefix, lab_page),
                web.get(prefix + "/", remove_slash),
                web.get(prefix + "/tree/{tree:.*}", lab_page),
                web.get(prefix + "/workspaces/{workspace:" + _WORKSPACE + "}", lab_page),
                web.get(prefix + "/workspaces/{workspace:" + _WORKSPACE + "}/tree/{tree:.*}", lab_page),
            ]
    if service_has_notebook:
        found += [
            web.get("/tree", tree_page),
            web.get("/tree/{path:.*}", tree_page),
            web.get("/notebooks/{path:.*}", notebook_page),
            web.get("/edit/{path:.*}", edit_page),
            web.get("/consoles/{path:.*}", console_page),
            web.get("/terminals/{name}", terminal_page),
        ]
    return found


def fallback_routes(service_has_lab: bool) -> list[web.RouteDef]:
    """The catch-all below ``/lab``; registered after every other ``/lab/...`` route."""
    return [web.get("/lab/{rest:.+}", lab_not_found)] if service_has_lab else []
