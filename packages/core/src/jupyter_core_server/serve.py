"""Serving a ``CoreServerApp`` on TCP or a Unix socket, with TLS, signals and a banner."""

from __future__ import annotations

import asyncio
import errno
import logging
import os
import signal
import ssl
import sys
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, urlencode

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger

from ._version import __version__
from .edge import EdgeRunner
from .openapi import SpecConflict
from .routing import RouteConflict
from .runtime import remove_runtime_file, write_runtime_file

if TYPE_CHECKING:
    from .app import CoreServerApp

__all__ = ["RedactingAccessLogger", "redact", "run", "serve", "start"]

log = logging.getLogger("jupyter_core_server")
access_log = logging.getLogger("jupyter_core_server.access")

SECRET_PARAMS = frozenset({"token", "_xsrf", "password", "access_token", "code", "state"})


def redact(path_qs: str) -> str:
    """Replace the values of secret query parameters (``token`` ...) with ``[secret]``."""
    path, sep, query = path_qs.partition("?")
    if not sep:
        return path
    pairs = [(k, "[secret]" if k.lower() in SECRET_PARAMS else v) for k, v in parse_qsl(query, keep_blank_values=True)]
    return f"{path}?{urlencode(pairs, safe='[]')}"


class RedactingAccessLogger(AbstractAccessLogger):
    """One line per request: method, path with secrets redacted, status, size, time.

    Headers are never logged (a ``Referer`` or ``Authorization`` may carry a token).
    """

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        level = logging.WARNING if response.status >= 500 else logging.INFO if response.status >= 400 else logging.DEBUG
        if self.logger.isEnabledFor(level):
            self.logger.log(
                level,
                "%s %s %s %s %.1fms",
                response.status,
                request.method,
                redact(request.path_qs),
                request.remote,
                time * 1000,
            )


def ssl_context(server: CoreServerApp) -> ssl.SSLContext | None:
    """Build the TLS context from certfile/keyfile/client_ca, or ``None`` for plain HTTP."""
    if not server.certfile:
        return None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(server.certfile, server.keyfile or None)
    if server.client_ca:
        context.load_verify_locations(server.client_ca)
        context.verify_mode = ssl.CERT_REQUIRED
    return context


async def _start_site(server: CoreServerApp, runner: web.AppRunner, context: ssl.SSLContext | None) -> str:
    if server.sock:
        site: web.BaseSite = web.UnixSite(runner, server.sock, ssl_context=context)
        await site.start()
        os.chmod(server.sock, int(server.sock_mode, 8))
        return f"http+unix://{server.sock.replace('/', '%2F')}{server.base_url}"
    port = server.port
    for attempt in range(server.port_retries + 1 if port else 1):
        site = web.TCPSite(runner, server.ip, port + attempt if port else 0, ssl_context=context, reuse_address=True)
        try:
            await site.start()
        except OSError as exc:
            if exc.errno != errno.EADDRINUSE or attempt == server.port_retries:
                raise
            log.info("Port %s is in use, trying the next one.", port + attempt)
            continue
        break
    server.actual_port = int(runner.addresses[-1][1])
    host = server.ip if ":" not in server.ip else f"[{server.ip}]"
    scheme = "https" if context else "http"
    return f"{scheme}://{host}:{server.actual_port}{server.base_url}"


def banner(server: CoreServerApp, url: str) -> str:
    """Return the start-up text: URL with token, root dir, plugins with versions."""
    assert server.plugin_manager is not None and server.authenticator is not None
    token = server.authenticator.token
    lines = [
        f"Jupyter Core Server {__version__} is running at:",
        f"    {url}?token={token}" if token else f"    {url}",
        f"Root directory: {server.root_dir}",
        "Plugins:",
    ]
    for record in server.plugin_manager.records.values():
        timing = f", import {record.import_ms} ms" if record.import_ms is not None else ""
        timing += f", start {record.setup_ms} ms" if record.setup_ms is not None else ""
        detail = f" ({record.error})" if record.error else ""
        lines.append(f"    {record.name} {record.version} [{record.state}{timing}]{detail}")
    if not server.authenticator.enabled:
        lines.append("WARNING: authentication is disabled; anyone who can reach this server can run code.")
    return "\n".join(lines)


async def start(server: CoreServerApp) -> tuple[web.AppRunner, str]:
    """Assemble the application (plugins adjust the settings first), run plugin start-up and listen."""
    app = server.make_app()
    runner = EdgeRunner(
        app,
        edge=server.edge_settings(),
        handle_signals=False,
        access_log_class=RedactingAccessLogger,
        access_log=access_log,
        shutdown_timeout=server.shutdown_timeout,
    )
    await runner.setup()
    try:
        url = await _start_site(server, runner, ssl_context(server))
    except BaseException:
        await runner.cleanup()
        raise
    return runner, url


async def serve(server: CoreServerApp) -> None:
    """Run the server until SIGINT, SIGTERM or ``POST /api/shutdown``, then clean up."""
    server._stop = stop = asyncio.Event()
    runner, url = await start(server)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        write_runtime_file(
            {
                "url": url,
                "base_url": server.base_url,
                "hostname": server.ip,
                "port": server.actual_port,
                "sock": server.sock,
                "secure": bool(server.certfile),
                "token": server.authenticator.token if server.authenticator else "",
                "root_dir": server.root_dir,
                "pid": os.getpid(),
                "version": __version__,
            }
        )
        print(banner(server, url), flush=True)
        await stop.wait()
        log.info("Shutting down.")
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
        await runner.cleanup()
        remove_runtime_file()
        if server.sock:
            try:
                os.unlink(server.sock)
            except FileNotFoundError:
                pass


def run(server: CoreServerApp) -> None:
    """Run :func:`serve` in a new event loop (the CLI's entry)."""
    try:
        asyncio.run(serve(server))
    except (RouteConflict, SpecConflict) as exc:
        print(f"jupyter-core-server: cannot start: {exc}", file=sys.stderr)
        raise SystemExit(1) from None
    except OSError as exc:
        print(f"jupyter-core-server: cannot listen: {exc}", file=sys.stderr)
        raise SystemExit(1) from exc
