"""``CoreServerApp``: configuration in, an ``aiohttp`` application out.

This module only assembles. Services live in their plugins (the built-in ones in
``api/``, ``kernels/``, ``kernelspecs/`` and ``sessions/``); serving the application
on sockets lives in ``serve.py``.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import sys
import time
import weakref
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

from aiohttp import web
from jupyter_core.application import JupyterApp
from traitlets import Bool, Dict, Float, Instance, Integer, List, TraitError, Unicode, default, observe, validate
from traitlets.config import Config, Configurable

from ._version import __version__
from .auth.identity import Authenticator
from .auth.middleware import make_security_middleware
from .auth.origin import OriginPolicy, is_loopback
from .config import config_dirs, config_files, load_file, warn_unknown_config
from .edge import EdgeSettings, make_edge_middleware
from .errors import make_error_middleware
from .headers import DEFAULT_CSP, ResponseHeaders, check_header
from .keys import PLUGIN_MANAGER, ROUTE_INFO, SERVER, STATE, WEBSOCKETS, ServerState
from .openapi import build_spec
from .plugins import PluginManager
from .routing import RouteConflict, RouteInfo, check_namespace, full_path, plan_routes

__all__ = ["CoreServerApp"]

log = logging.getLogger("jupyter_core_server")


class CoreServerApp(JupyterApp):
    """A kernel-only Jupyter server whose every other service is a plugin."""

    name = "jupyter-core-server"
    version = __version__
    description = "A minimal Jupyter server: kernels, kernelspecs and sessions, plus the plugins you install."

    aliases = {
        "ip": "CoreServerApp.ip",
        "port": "CoreServerApp.port",
        "base-url": "CoreServerApp.base_url",
        "root-dir": "CoreServerApp.root_dir",
        "config": "CoreServerApp.config_file",
        "certfile": "CoreServerApp.certfile",
        "keyfile": "CoreServerApp.keyfile",
        "client-ca": "CoreServerApp.client_ca",
        "sock": "CoreServerApp.sock",
        "sock-mode": "CoreServerApp.sock_mode",
        "token": "Authenticator.token",
        "log-level": "Application.log_level",
    }
    flags = {
        "debug": (
            {"CoreServerApp": {"debug": True}, "Application": {"log_level": logging.DEBUG}},
            "Log debug messages and include tracebacks in error responses.",
        ),
        "generate-config": ({"JupyterApp": {"generate_config": True}}, "Write a default config file and exit."),
        "show-config": ({"Application": {"show_config": True}}, "Show the configuration that would be used, and exit."),
        "y": ({"JupyterApp": {"answer_yes": True}}, "Answer yes to any questions (such as overwriting config)."),
        "keep-kernels": (
            {"KernelService": {"keep_kernels": True}},
            "At exit, leave kernels running for the next server to take back (needs KernelService.persistence_file).",
        ),
    }

    # -- network ------------------------------------------------------------------------

    ip = Unicode("127.0.0.1", help="Address the server listens on.").tag(config=True)
    port = Integer(8888, help="Port the server listens on; 0 picks any free port.").tag(config=True)
    port_retries = Integer(50, help="How many following ports to try when the port is taken.").tag(config=True)
    sock = Unicode("", help="Listen on this Unix socket instead of ip/port.").tag(config=True)
    sock_mode = Unicode("0600", help="Permissions of the Unix socket file, in octal.").tag(config=True)
    certfile = Unicode("", help="TLS certificate file; enables HTTPS with keyfile.").tag(config=True)
    keyfile = Unicode("", help="TLS private key file.").tag(config=True)
    client_ca = Unicode("", help="CA file; when set, clients must present a certificate it signed.").tag(config=True)
    base_url = Unicode("/", help="URL prefix of every route (e.g. /user/name/).").tag(config=True)

    @validate("base_url")
    def _valid_base_url(self, proposal: Any) -> str:
        value = "/" + str(proposal["value"]).strip("/")
        return value if value == "/" else value + "/"

    root_dir = Unicode(help="Directory kernels start in and plugins serve files from.").tag(config=True)

    @default("root_dir")
    def _root_dir_default(self) -> str:
        return os.getcwd()

    @validate("root_dir")
    def _valid_root_dir(self, proposal: Any) -> str:
        path = Path(str(proposal["value"])).expanduser().resolve()
        if not path.is_dir():
            raise ValueError(f"root_dir {str(path)!r} is not a directory")
        return str(path)

    # -- behaviour ----------------------------------------------------------------------

    debug = Bool(False, help="Include tracebacks in error responses (never in production).").tag(config=True)
    max_body_size = Integer(512 * 1024 * 1024, help="Largest accepted request body, in bytes.").tag(config=True)
    shutdown_timeout = Integer(10, help="Seconds to wait for open requests at shutdown.").tag(config=True)
    shutdown_no_activity_timeout = Integer(
        0,
        help=(
            "Stop the server after this many seconds with nothing running (kernels, terminals...) "
            "and no requests; 0 never."
        ),
    ).tag(config=True)
    plugins = Dict(
        key_trait=Unicode(),
        value_trait=Bool(),
        help="""Enable (true) or disable (false) plugins by name, above every config level.

        Prefer ``jupyter-core-server plugin enable|disable``, which records the choice in
        the config directories.""",
    ).tag(config=True)
    strict_plugins = Bool(False, help="Stop with an error when a plugin fails, instead of starting without it.").tag(
        config=True
    )

    # -- browser security ---------------------------------------------------------------

    allow_origin = Unicode("", help="Origins allowed for CORS: '*', or a comma-separated list.").tag(config=True)
    allow_origin_pat = Unicode("", help="Regular expression that an allowed origin must match in full.").tag(
        config=True
    )
    allow_credentials = Bool(False, help="Send Access-Control-Allow-Credentials to allowed origins.").tag(config=True)
    allow_remote_access = Bool(
        help="Serve requests whose Host is not a loopback name (default: when ip is not loopback)."
    ).tag(config=True)
    local_hostnames = List(Unicode(), ["localhost"], help="Host names accepted when allow_remote_access is off.").tag(
        config=True
    )
    allow_unauthenticated_access_remote = Bool(
        False,
        help=(
            "Allow listening on a non-loopback address with authentication disabled. "
            "Dangerous: anyone who can reach the port runs code."
        ),
    ).tag(config=True)

    @default("allow_remote_access")
    def _remote_default(self) -> bool:
        return not is_loopback(self.ip)

    content_security_policy = Unicode(
        DEFAULT_CSP,
        help="""Content-Security-Policy sent with every response; empty sends none.

        The default forbids pages of other origins to frame this server's pages. A
        response that sets its own policy (``/files``, nbconvert) keeps it, and each
        directive of this one it does not name is appended. A Content-Security-Policy in
        ``response_headers`` replaces this setting.""",
    ).tag(config=True)
    response_headers = Dict(
        key_trait=Unicode(),
        value_trait=Unicode(),
        help=(
            "Extra headers sent with every response, name -> value "
            """(jupyter_server's ``tornado_settings['headers']``).

        A response that sets a header itself keeps its own value. Headers that frame the
        message (Content-Length, Content-Type, Connection, Transfer-Encoding ...) cannot
        be set here; names must be valid header names and values must not contain control
        characters."""
        ),
    ).tag(config=True)
    request_header_timeout = Float(
        30.0,
        help="""Seconds a new connection has to send its first request's headers before it is closed; 0 for no limit.

        Closes half-open connections of clients that send nothing or trickle their
        headers. Keep-alive connections between requests, request bodies and websockets
        are not affected.""",
    ).tag(config=True)

    @validate("content_security_policy")
    def _valid_policy(self, proposal: Any) -> str:
        try:
            check_header("Content-Security-Policy", proposal["value"])
        except ValueError as exc:
            raise TraitError(f"CoreServerApp.content_security_policy: {exc}") from None
        return str(proposal["value"])

    @validate("response_headers")
    def _valid_headers(self, proposal: Any) -> dict[str, str]:
        headers = dict(proposal["value"])
        for name, value in headers.items():
            try:
                check_header(name, value)
            except ValueError as exc:
                raise TraitError(f"CoreServerApp.response_headers: {exc}") from None
        return headers

    @validate("request_header_timeout")
    def _valid_header_timeout(self, proposal: Any) -> float:
        if proposal["value"] < 0:
            raise TraitError("CoreServerApp.request_header_timeout must be 0 (no limit) or more seconds")
        return float(proposal["value"])

    # -- state built by initialize() -----------------------------------------------------

    plugin_manager = Instance(PluginManager, allow_none=True)
    authenticator = Instance(Authenticator, allow_none=True)
    extra_classes: list[type[Configurable]] = []
    actual_port = 0
    _openapi: dict[str, Any] | None = None

    @property
    def openapi(self) -> dict[str, Any]:
        """The merged OpenAPI document (built and checked by :meth:`make_app`)."""
        if self._openapi is None:
            pm = self.plugin_manager
            assert pm is not None
            statics = [r.name for r in pm.active() if f"GET /static/{r.name}/" in r.routes]
            self._openapi = build_spec(self.base_url, pm.call_each("openapi_spec", server=self), statics)
        return self._openapi

    _stop: asyncio.Event | None = None

    def request_stop(self) -> None:
        """Ask the running server to shut down (as SIGTERM or ``POST /api/shutdown`` do)."""
        if self._stop is not None:
            self._stop.set()

    @observe("log_level")
    def _propagate_level(self, change: Any) -> None:
        logging.getLogger("jupyter_core_server").setLevel(change["new"])

    @default("log")
    def _log_default(self) -> logging.Logger:
        return log

    def get_default_logging_config(self) -> dict[str, Any]:
        """Send the ``jupyter_core_server`` logger (the access log and plugins' loggers below it) to stderr.

        traitlets configures a logger named after the application class, which nothing here
        logs to; without this, ``--debug`` and ``--log-level`` would show nothing.
        """
        config: dict[str, Any] = super().get_default_logging_config()
        settings = config["loggers"].pop(type(self).__name__)
        settings["level"] = self.log_level
        config["loggers"][log.name] = settings
        return config

    @property
    def uses_tls(self) -> bool:
        """Whether the server speaks HTTPS."""
        return bool(self.certfile)

    @property
    def cookie_name(self) -> str:
        """The login cookie's name (one per port, so two servers on one host do not collide)."""
        assert self.authenticator is not None
        return self.authenticator.cookie_name or f"jupyter-core-server-{self.actual_port or self.port}"

    @default("classes")
    def _classes_default(self) -> list[type[Configurable]]:
        return [CoreServerApp, Authenticator]

    @property
    def all_classes(self) -> list[type[Configurable]]:
        """The core's configurable classes followed by every enabled plugin's."""
        return [CoreServerApp, Authenticator, *self.extra_classes]

    # -- configuration -------------------------------------------------------------------

    @property
    def config_file_paths(self) -> list[str]:
        return [str(d) for _, d in reversed(config_dirs())]

    def load_config_file(self, suppress_errors: bool = True) -> None:  # type: ignore[override]
        """Load config files from every level, lowest precedence first, then ``--config``."""
        files = config_files()
        if self.config_file:
            files.append(Path(self.config_file))
        for path in files:
            self.update_config(load_file(path))
            self._loaded_config_files.append(str(path))

    subcommands = {
        "plugin": ("jupyter_core_server.cli.PluginApp", "List, enable or disable plugins."),
        "list": ("jupyter_core_server.cli.ListApp", "List the running servers of this user."),
        "stop": ("jupyter_core_server.cli.StopApp", "Stop the server listening on a port."),
    }

    def initialize(self, argv: list[str] | None = None, *, plugin_manager: PluginManager | None = None) -> None:
        """Parse the command line, load config files, find and import enabled plugins."""
        self.plugin_manager = plugin_manager
        argv = list(sys.argv[1:] if argv is None else argv)
        if argv and not argv[0].startswith("-") and argv[0] not in self.subcommands:
            self.setup_plugins()  # the word may name a plugin's subcommand
        self.parse_command_line(argv)
        if self.subapp is not None:
            return
        cli_config = Config(self.config)
        self.load_config_file()
        self.update_config(cli_config)
        # Enable/disable settings in the config levels are resolved per level by the plugin
        # manager; only the command line and an explicit --config file override them.
        overrides = dict(cli_config.CoreServerApp.get("plugins", {}))
        if self.config_file:
            overrides = {**load_file(Path(self.config_file)).CoreServerApp.get("plugins", {}), **overrides}
        self.setup_plugins(overrides)
        warn_unknown_config(self.config, self.all_classes, self.log)
        self.authenticator = Authenticator(parent=self)
        remote = not is_loopback(self.ip) and not self.sock
        if remote and not self.authenticator.enabled and not self.allow_unauthenticated_access_remote:
            raise SystemExit(
                f"Refusing to listen on {self.ip} with authentication disabled; set a token or password, "
                "or set CoreServerApp.allow_unauthenticated_access_remote=True if you really mean it."
            )

    def setup_plugins(self, overrides: dict[str, bool] | None = None) -> None:
        """Discover and import the enabled plugins (once), and collect their classes and subcommands."""
        if self.plugin_manager is None:
            self.plugin_manager = PluginManager(strict=self.strict_plugins)
        pm = self.plugin_manager
        if not pm.records:
            pm.discover(overrides)
            pm.load_enabled()
        self.extra_classes = [cls for _, classes in pm.call_each("register_configurables") for cls in classes]
        self.classes = self.all_classes
        subcommands = dict(type(self).subcommands)
        for name, contributed in pm.call_each("register_subcommands"):
            for command, (app_class, help_text) in contributed.items():
                if command in subcommands:
                    log.warning("Plugin %s: subcommand %r is already taken; skipped.", name, command)
                    continue
                subcommands[command] = (app_class, help_text)
        self.subcommands = subcommands

    def print_help(self, classes: bool = False) -> None:
        """Print help, with the enabled plugins' subcommands and, for ``--help-all``, their classes."""
        self.setup_plugins()
        super().print_help(classes)

    def print_version(self) -> None:
        """Print the core's version and every enabled plugin's."""
        self.setup_plugins()
        assert self.plugin_manager is not None
        print(f"jupyter-core-server {__version__}")
        for record in self.plugin_manager.records.values():
            if not record.builtin:
                print(f"{record.name}: {record.distribution} {record.version} ({record.state})")

    def start(self) -> None:
        """Run the chosen subcommand, write or show config, or serve."""
        if self.subapp is not None:
            self.subapp.start()
        elif self.generate_config:
            self.write_default_config()
        elif self.show_config or self.show_config_json:
            self.start_show_config()
        else:
            from .serve import run

            run(self)

    # -- the aiohttp application ---------------------------------------------------------

    def origin_policy(self) -> OriginPolicy:
        """Build the origin/Host policy from the configured traits."""
        return OriginPolicy(
            allow_origin=self.allow_origin,
            allow_origin_pat=re.compile(self.allow_origin_pat) if self.allow_origin_pat else None,
            allow_credentials=self.allow_credentials,
            allow_remote_access=self.allow_remote_access,
            local_hostnames=frozenset(h.lower() for h in self.local_hostnames),
        )

    def response_header_defaults(self) -> ResponseHeaders:
        """The headers every response carries, from ``content_security_policy`` and ``response_headers``."""
        return ResponseHeaders.from_settings(self.content_security_policy, self.response_headers)

    def edge_settings(self) -> EdgeSettings:
        """What the server's connections need from the settings (see ``edge.py``)."""
        return EdgeSettings(self.request_header_timeout, self.response_header_defaults())

    def make_app(self) -> web.Application:
        """Assemble the ``aiohttp`` application from the core and every enabled plugin.

        Runs ``configure_server``, the route and static hooks, builds the OpenAPI document
        and collects the plugins' start-up contexts: everything but listening.

        :raises RouteConflict: when two plugins claim one route.
        :raises SpecConflict: when two plugins describe one route or one component differently.
        """
        pm = self.plugin_manager
        assert pm is not None and self.authenticator is not None, "call initialize() first"
        # Every hook the server runs, in its order: plugins adjust the settings first.
        pm.call_each("configure_server", server=self)
        middlewares: list[Any] = [
            make_error_middleware(self.debug),
            make_edge_middleware(self.max_body_size),  # before authentication: malformed Host, oversized body
            make_security_middleware(self, self.origin_policy()),
        ]
        app = web.Application(
            middlewares=middlewares,
            client_max_size=self.max_body_size,
        )
        app.on_response_prepare.append(self.response_header_defaults().on_response_prepare)
        app[SERVER] = self
        app[PLUGIN_MANAGER] = pm
        app[STATE] = ServerState(time.time())
        app[WEBSOCKETS] = weakref.WeakSet()
        app[ROUTE_INFO] = {}
        self._add_routes(app, pm)
        self._openapi = None
        self.openapi  # noqa: B018 - built now, so that two plugins describing one route stop the start-up
        for name, context in pm.dependency_order(pm.call_each("app_context", server=self)):
            app.cleanup_ctx.append(self._guarded_context(pm, name, context))
        app.cleanup_ctx.append(_mark_ready)
        if self.shutdown_no_activity_timeout > 0:
            app.cleanup_ctx.append(_stop_when_idle)
        app.on_shutdown.append(_close_websockets)
        return app

    def _add_routes(self, app: web.Application, pm: PluginManager) -> None:
        contributions: list[tuple[str, list[web.RouteDef]]] = []
        for name, returned in pm.call_each("register_routes", server=self):
            try:
                routes = list(returned)
                for route in routes:
                    if not isinstance(route, web.RouteDef):
                        raise RouteConflict(f"Plugin {name!r} returned {route!r}, not an aiohttp RouteDef")
                    check_namespace(name, route.path)
            except (RouteConflict, TypeError) as exc:
                pm.fail(pm.records[name], str(exc), exc)
                continue
            contributions.append((name, routes))
        route_info = app[ROUTE_INFO]
        for route, info in plan_routes(contributions):
            before = set(app.router.routes())
            web.RouteDef(route.method, full_path(self.base_url, route.path), route.handler, route.kwargs).register(
                app.router
            )
            for added in set(app.router.routes()) - before:
                route_info[added] = info
            pm.records[info.plugin].routes.append(f"{route.method} {route.path}")
        for name, directory in pm.call_each("register_static", server=self):
            if not Path(directory).is_dir():
                pm.fail(pm.records[name], f"static directory {directory} does not exist")
                continue
            before = set(app.router.routes())
            app.router.add_static(full_path(self.base_url, f"/static/{name}"), directory)
            for added in set(app.router.routes()) - before:
                route_info[added] = RouteInfo(name, name, False, "GET", f"/static/{name}/{{filename}}")
            pm.records[name].routes.append(f"GET /static/{name}/")

    def _guarded_context(
        self, pm: PluginManager, name: str, context: Callable[[web.Application], AsyncIterator[None]]
    ) -> Callable[[web.Application], AsyncIterator[None]]:
        """Wrap a plugin's cleanup context so that its failure stays its own."""
        record = pm.records[name]

        async def guarded(app: web.Application) -> AsyncIterator[None]:
            start = time.perf_counter()
            steps = context(app)
            try:
                await steps.__anext__()
            except Exception as exc:  # noqa: BLE001 - recorded against the plugin
                pm.fail(record, f"start-up failed: {type(exc).__name__}: {exc}", exc)
                yield
                return
            record.setup_ms = round((time.perf_counter() - start) * 1000, 2)
            yield
            try:
                await steps.__anext__()
            except StopAsyncIteration:
                pass
            except Exception:
                log.exception("Plugin %s failed while cleaning up", name)

        return guarded


async def _mark_ready(app: web.Application) -> AsyncIterator[None]:
    app[STATE].ready = True
    yield


async def _stop_when_idle(app: web.Application) -> AsyncIterator[None]:
    """Stop the server once nothing has run or been asked for during ``shutdown_no_activity_timeout``."""
    server, state = app[SERVER], app[STATE]
    timeout = server.shutdown_no_activity_timeout

    async def watch() -> None:
        while True:
            await asyncio.sleep(min(60.0, max(timeout / 2, 0.5)))
            if any(count() for count in state.running.values()):
                continue
            if time.time() - state.activity.latest() > timeout:
                log.warning(
                    "Nothing ran and no request came for %d s: shutting down (shutdown_no_activity_timeout)", timeout
                )
                server.request_stop()
                return

    watcher = asyncio.create_task(watch())
    yield
    watcher.cancel()


async def _close_websockets(app: web.Application) -> None:
    from aiohttp import WSCloseCode

    websockets: weakref.WeakSet[web.WebSocketResponse] = app[WEBSOCKETS]
    for ws in list(websockets):
        await ws.close(code=WSCloseCode.GOING_AWAY, message=b"Server shutting down")
