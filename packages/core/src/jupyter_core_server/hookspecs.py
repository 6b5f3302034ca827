"""The plugin contract: every hook a plugin may implement.

Each docstring here is the contract for that hook; the hook reference in the
documentation is generated from them. Hooks are plain synchronous calls. A hook that
needs async work returns a declared async type (see :func:`app_context`), or is
declared ``async`` itself (:func:`identify_async`, whose implementations the core awaits).

A plugin is any object registered under the ``jupyter_core_server.plugins`` entry-point
group, usually a module whose ``@hookimpl`` functions take only the arguments they use.
A plugin may also define ``requires``, a sequence of other plugin names it needs; the
server refuses to set up a plugin whose requirements are not enabled, and says so.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from aiohttp import web
    from traitlets.config import Application, Configurable

    from .app import CoreServerApp
    from .auth.identity import Identity
    from .kernels.manager import KernelModel
    from .sessions.manager import SessionModel

PROJECT = "jupyter_core_server"

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)

__all__ = ["EVENT_HOOKS", "PROJECT", "hookimpl", "hookspec"]

#: The event hooks: announcements that every implementation hears, each on its own
#: (:meth:`~jupyter_core_server.plugins.PluginManager.notify`). The hook reference's table
#: of how hooks are called is generated from this and from the specs' markers.
EVENT_HOOKS = frozenset({"kernel_started", "kernel_stopped", "session_changed", "server_event"})

# ---------------------------------------------------------------------------------------
# Configuration
# ---------------------------------------------------------------------------------------


@hookspec
def register_configurables() -> Sequence[type[Configurable]] | None:
    """Contribute the configurable classes a plugin reads its settings from.

    Called once per server, before configuration files are read, so that the classes
    appear in ``--help-all``, ``--generate-config`` and ``--show-config``, and so that a
    misspelled option of theirs is reported with the closest valid name. Every
    implementation is called and the results are concatenated.

    :returns: ``traitlets`` ``Configurable`` subclasses, or ``None`` for none. The plugin
        instantiates them itself (usually in :func:`app_context`) with
        ``config=server.config``.

    .. versionadded:: 0.1
    """


@hookspec
def register_subcommands() -> Mapping[str, tuple[type[Application], str]] | None:
    """Contribute ``jupyter-core-server`` subcommands.

    Called once when the command line is parsed. Every implementation is called; a name
    already taken by the core or by another plugin is reported and skipped.

    :returns: A mapping from subcommand name to ``(application class, one-line help)``,
        or ``None``. The class is a ``traitlets`` ``Application``; it is launched with the
        remaining arguments when the user runs ``jupyter-core-server NAME ...``.

    .. versionadded:: 0.1
    """


@hookspec
def configure_server(server: CoreServerApp) -> None:
    """Adjust the server's own settings before it is assembled and starts listening.

    Called once per server, after configuration files and the command line were read
    and before any other hook of the application assembly (:func:`register_routes`,
    :func:`app_context` ...) runs, so that every later step sees the adjusted values.
    It exists for plugins that learn where and how to serve from their environment,
    such as a JupyterHub spawner's variables: ``ip``, ``port``, ``base_url``,
    ``root_dir``, the TLS files. Every implementation is called; if one raises, the
    failure is recorded against its plugin and the server starts without that plugin.
    Settings the user gave explicitly (in ``server.config``) should win over values a
    plugin derives from elsewhere.

    :param server: The configured server; set its traits directly.

    .. versionadded:: 0.1
    """


# ---------------------------------------------------------------------------------------
# Application assembly
# ---------------------------------------------------------------------------------------


@hookspec
def register_routes(server: CoreServerApp) -> Sequence[web.RouteDef] | None:
    """Contribute HTTP and websocket routes.

    Called once per server while the application is assembled, before the router
    freezes. Every implementation is called; if one raises, the failure is recorded
    against its plugin and none of its routes are added.

    Paths are relative to ``base_url``, which the core prepends. A third-party plugin's
    paths must lie under ``/extension/api/<plugin>/`` (or be served by
    :func:`register_static`); only the plugins providing a standard Jupyter service
    (``contents``, ``terminals``, ``nbconvert``) may claim that service's standard paths.
    Two plugins claiming the same method and path stop the server with an error that
    names both.

    Every route requires an authenticated, authorized user. The auth *resource* of a
    route is the plugin's name unless the handler was decorated with
    :func:`jupyter_core_server.routing.auth_resource`; the *action* is ``read`` for
    GET/HEAD, ``execute`` for websockets and ``write`` otherwise. Decorate a handler
    with :func:`jupyter_core_server.routing.public` to let anonymous clients in.

    :param server: The configured server; read settings from it, never change them.
    :returns: ``aiohttp`` route definitions (``web.get(...)``, ``web.view(...)``), or
        ``None``.

    .. versionadded:: 0.1
    """


@hookspec
def register_static(server: CoreServerApp) -> str | None:
    """Contribute a directory of static files served at ``/static/<plugin>/``.

    Called once per server while the application is assembled. Each plugin gets its own
    prefix; files are served with the same authentication as every other route.

    :param server: The configured server.
    :returns: The path of an existing directory, or ``None``.

    .. versionadded:: 0.1
    """


@hookspec
def app_context(server: CoreServerApp) -> Callable[[web.Application], AsyncIterator[None]] | None:
    """Contribute start-up and clean-up work as one async generator function.

    Called once per server while the application is assembled. The returned function
    is appended to the application's ``cleanup_ctx``: the code before its single
    ``yield`` runs at start-up (create resources, publish them on the application under
    your own ``web.AppKey``), the code after it at shutdown. Clean-up runs only if
    start-up succeeded. A plugin whose start-up raises is recorded as failed, its
    routes answer 503, and the other plugins still start.

    :param server: The configured server.
    :returns: An async generator function taking the ``web.Application``, or ``None``.

    .. versionadded:: 0.1
    """


@hookspec
def openapi_spec(server: CoreServerApp) -> Mapping[str, Any] | None:
    """Contribute this plugin's part of the OpenAPI 3.1 document.

    Called once per server. The returned ``paths`` (relative to ``base_url``) and
    ``components`` are merged into the document served at ``/api/spec.yaml`` and
    ``/api/spec.json``. Every route a plugin registers must be described, and every path
    described must be routed; the core's test suite checks both for built-in plugins and
    :func:`jupyter_core_server.openapi.unmatched_routes` lets plugin authors do the same.

    :param server: The configured server.
    :returns: A mapping with ``paths`` and optionally ``components``, or ``None``.

    .. versionadded:: 0.1
    """


# ---------------------------------------------------------------------------------------
# Authentication and authorization
# ---------------------------------------------------------------------------------------


@hookspec(firstresult=True)
def identify(request: web.Request, server: CoreServerApp) -> Identity | None:
    """Say who made a request, from what the request itself carries.

    Called for every request to a non-public route, before authorization, and for
    public routes that authenticate themselves (pages, through
    :func:`jupyter_core_server.auth.authenticate`), after every
    :func:`identify_async` implementation answered ``None``. The first implementation
    returning something other than ``None`` wins; the core's token and password
    authentication is the last one tried. Implementations must be fast and must not
    block: they run on every request. One that must ask another service implements
    :func:`identify_async` instead.

    Why two hooks rather than one that may return an awaitable: a value that may or
    may not need awaiting is what every caller must remember to check, and one that
    forgot turned a refusal into a 500. Here each hook has one shape, the core awaits
    exactly the one declared async, and when only the core answers (the usual server)
    its check runs directly, with nothing to await.

    :param request: The incoming request (headers, cookies and query are available;
        do not read the body).
    :param server: The configured server.
    :returns: An :class:`~jupyter_core_server.auth.identity.Identity` for an
        authenticated user, or ``None`` to let the next implementation decide. Raise an
        :class:`~jupyter_core_server.errors.ApiError` (``Forbidden``) or
        ``web.HTTPForbidden`` to reject the request outright, or a redirect, such as
        ``web.HTTPFound``, to send a browser to a login page. Leave
        :attr:`~jupyter_core_server.auth.identity.Identity.login_cookie` ``False``:
        the core's login cookie would authenticate the browser as the server's own
        user. An awaitable answer, which development versions allowed, is still
        awaited but logs a warning once: implement :func:`identify_async` instead.

    .. versionadded:: 0.1
    """


@hookspec
async def identify_async(request: web.Request, server: CoreServerApp) -> Identity | None:
    """Say who made a request, when finding out needs I/O (asking another service).

    The asynchronous variant of :func:`identify`: implement it with ``async def``; the
    core awaits it. Called where :func:`identify` is, and before it: the
    implementations are awaited one after another, in hook order (``tryfirst`` first),
    and the first answer other than ``None`` wins; the implementations after it are
    not run. When every one answers ``None``, the :func:`identify` implementations
    (the core's token last) decide. Answer from a cache without I/O whenever possible:
    the request waits for the answer.

    :param request: The incoming request (headers, cookies and query are available;
        do not read the body).
    :param server: The configured server.
    :returns: (once awaited) An :class:`~jupyter_core_server.auth.identity.Identity`,
        or ``None`` to let the next implementation decide. Raise as :func:`identify`
        does to refuse the request or redirect a browser.

    .. versionadded:: 0.1
    """


@hookspec(firstresult=True)
def authorize(request: web.Request, identity: Identity, action: str, resource: str) -> bool | None:
    """Decide whether an authenticated user may do ``action`` on ``resource``.

    Called for every request to a non-public route after :func:`identify`, and by
    ``GET /api/me`` to report permissions. The first implementation returning something
    other than ``None`` wins; the core's default allows every authenticated user
    everything.

    :param request: The incoming request.
    :param identity: Who made it.
    :param action: ``read``, ``write`` or ``execute``.
    :param resource: The resource name: ``kernels``, ``kernelspecs``, ``sessions``,
        ``api``, ``server`` or a plugin's own resource (usually its name).
    :returns: ``True`` to allow, ``False`` to refuse with 403, ``None`` to defer.

    .. versionadded:: 0.1
    """


# ---------------------------------------------------------------------------------------
# Kernel and session events
# ---------------------------------------------------------------------------------------


@hookspec(firstresult=True)
def kernel_cwd(server: CoreServerApp, app: web.Application, path: str) -> str | None:
    """Resolve the working directory of a kernel started for ``path``.

    Called when a kernel is started with a ``path`` (``POST /api/kernels`` or a new
    session), on the event loop, so it must answer quickly. The first non-``None``
    answer wins. The contents plugin uses it to start a notebook's kernel in the
    notebook's directory.

    :param server: The configured server.
    :param app: The running application: read the services that plugins published
        there (``app[KEY]``) instead of building them again.
    :param path: The API path the client gave (``/``-separated, relative to the root).
    :returns: An absolute directory on this machine, or ``None`` to let the core use
        ``root_dir``.

    .. versionadded:: 0.1
    .. versionchanged:: 0.1
       The ``app`` argument. Implementations that take only ``server`` and ``path``
       keep working.
    """


@hookspec
def kernel_started(kernel: KernelModel) -> None:
    """Announce that a kernel was started.

    Called once per kernel after it was launched, on the event loop. Every
    implementation is called; a failing one is logged and does not affect the kernel.

    :param kernel: The kernel's REST model.

    .. versionadded:: 0.1
    """


@hookspec
def kernel_stopped(kernel_id: str) -> None:
    """Announce that a kernel was shut down or culled.

    Called once per kernel after it stopped. Every implementation is called; a failing
    one is logged.

    :param kernel_id: The kernel's id.

    .. versionadded:: 0.1
    """


@hookspec
def session_changed(session: SessionModel, change: str) -> None:
    """Announce that a session was created, modified or deleted.

    Called after the change is stored. Every implementation is called; a failing one is
    logged.

    :param session: The session's REST model (as it was, for a deletion).
    :param change: ``created``, ``modified`` or ``deleted``.

    .. versionadded:: 0.1
    """


@hookspec
def server_event(schema_id: str, data: Mapping[str, Any]) -> None:
    """Announce something that happened on the server, as a jupyter_events event.

    Plugins that change state other plugins may want to know about report it here
    (the contents plugin reports every save, creation, copy, rename and delete under
    jupyter_server's ``https://events.jupyter.org/jupyter_server/contents_service/v1``
    schema); plugins that stream events (the frontend plugin's
    ``/api/events/subscribe``) implement it. Emit with
    ``app[PLUGIN_MANAGER].notify("server_event", schema_id=..., data=...)``: every
    implementation is called, and a failing one is logged without affecting the caller.

    :param schema_id: The event schema's id (a URI, as jupyter_events uses).
    :param data: The event's data, valid against that schema.

    .. versionadded:: 0.1
    """
