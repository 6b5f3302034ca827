"""The running terminals of one server: create, find, list, delete, cull, shut down (no aiohttp).

Names, models and working-directory rules follow jupyter_server's terminals: names
are ``"1"``, ``"2"``, ... (the smallest free number), a model is
``{"name", "last_activity"}``, and ``cwd`` is relative to the server's root directory.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import time
from collections.abc import Callable
from itertools import count
from pathlib import Path
from typing import TYPE_CHECKING, TypedDict
from urllib.parse import quote

from jupyter_core_server import iso_time

from .config import TerminalManager
from .errors import (
    CwdOutsideRoot,
    InvalidCwd,
    InvalidTerminalName,
    NoSuchTerminal,
    TerminalStartFailed,
    TerminalsUnavailable,
)
from .process import PtyProcess, pty_unavailable_reason
from .terminal import Terminal

if TYPE_CHECKING:
    from jupyter_core_server import CoreServerApp

__all__ = ["TerminalModel", "Terminals", "connection_url"]

log = logging.getLogger("jupyter_core_server.terminals")

_NAME = re.compile(r"\w{1,100}")


class TerminalModel(TypedDict):
    """The REST model of a terminal, as jupyter_server's."""

    name: str
    last_activity: str


def connection_url(server: CoreServerApp) -> str:
    """Return the URL processes on this machine reach the server at (``JUPYTER_SERVER_URL``)."""
    if server.sock:
        return f"http+unix://{quote(server.sock, safe='')}{server.base_url}"
    host = server.ip
    if host in ("", "0.0.0.0", "::"):
        host = "localhost"
    if ":" in host:
        host = f"[{host}]"
    scheme = "https" if server.uses_tls else "http"
    return f"{scheme}://{host}:{server.actual_port or server.port}{server.base_url}"


class Terminals:
    """Every terminal of one server, with the settings they are started with.

    :param settings: The ``TerminalManager`` configurable.
    :param root_dir: The server's root directory: default working directory, and the
        directory ``cwd`` must stay inside.
    :param server_url: Returns ``JUPYTER_SERVER_URL`` (known only once the server listens).
    :param on_activity: Called on every terminal's input and output.
    """

    def __init__(
        self,
        settings: TerminalManager,
        root_dir: str,
        server_url: Callable[[], str],
        on_activity: Callable[[], None] = lambda: None,
    ) -> None:
        self.settings = settings
        self.root_dir = Path(root_dir).resolve()
        self.server_url = server_url
        self.on_activity = on_activity
        self.terminals: dict[str, Terminal] = {}
        self._ending: set[asyncio.Task[None]] = set()  # terminals being ended or reaped
        self._ended_activity = 0.0  # the latest activity of the terminals that ended
        #: Why terminals cannot run here, or ``None`` when they can.
        self.unavailable: str | None = pty_unavailable_reason()
        if self.unavailable:
            log.warning("Terminals are not available: %s", self.unavailable)

    # -- queries --------------------------------------------------------------------------------

    def check_available(self) -> None:
        """:raises TerminalsUnavailable: when this platform cannot run terminals."""
        if self.unavailable is not None:
            raise TerminalsUnavailable(self.unavailable)

    def get(self, name: str) -> Terminal:
        """Return the running terminal ``name``.

        :raises NoSuchTerminal: when there is none.
        """
        try:
            return self.terminals[name]
        except KeyError:
            raise NoSuchTerminal(name) from None

    def model(self, name: str) -> TerminalModel:
        """Return the REST model of terminal ``name``."""
        terminal = self.get(name)
        return {"name": terminal.name, "last_activity": iso_time(terminal.last_activity)}

    def models(self) -> list[TerminalModel]:
        """Return the REST models of every running terminal, oldest first."""
        return [self.model(name) for name in list(self.terminals)]

    def last_activity(self) -> float:
        """Return the latest activity of any terminal, ended ones included (0 before the first)."""
        return max([self._ended_activity, *(t.last_activity for t in self.terminals.values())])

    # -- creation -------------------------------------------------------------------------------

    def next_name(self) -> str:
        """Return the smallest number not naming a running terminal, as a string."""
        return next(str(n) for n in count(1) if str(n) not in self.terminals)

    def resolve_cwd(self, cwd: str | None) -> Path:
        """Turn a requested working directory into a directory inside the root.

        ``cwd`` is an API path relative to the root (``"work/data"``), or an absolute
        path inside the root. A path that leaves the root, through ``..`` or a
        symbolic link, is refused. A directory that does not exist falls back to the
        root, as jupyter_server does.

        :raises CwdOutsideRoot: when the path is outside the root.
        :raises InvalidCwd: when the path holds a NUL byte, names the home of an unknown
            user (``~nosuchuser``) or runs into a loop of symbolic links.
        """
        if not cwd or not cwd.strip():
            return self.root_dir
        if "\x00" in cwd:  # no file system path holds one; the OS would raise ValueError
            raise InvalidCwd(cwd)
        try:
            requested = Path(cwd.strip()).expanduser()
        except RuntimeError:  # "~nosuchuser": pathlib cannot tell that user's home
            raise InvalidCwd(cwd, "no such user") from None
        try:
            path = (requested if requested.is_absolute() else self.root_dir / requested).resolve()
        except (RuntimeError, OSError):  # a symlink loop, before Python 3.13
            raise InvalidCwd(cwd, "a loop of symbolic links") from None
        if path.is_symlink():  # what resolve() leaves of a loop when it does not raise (Python 3.13)
            raise InvalidCwd(cwd, "a loop of symbolic links")
        if path != self.root_dir and self.root_dir not in path.parents:
            raise CwdOutsideRoot(cwd)
        if not path.is_dir():
            log.info("Terminal working directory %s does not exist; starting in %s", path, self.root_dir)
            return self.root_dir
        return path

    def environment(self) -> dict[str, str]:
        """Return the environment of a new terminal: the server's, plus ``TERM`` and the server's location."""
        env = dict(os.environ)
        for key, value in self.settings.extra_env.items():
            if value is None:
                env.pop(key, None)
            else:
                env[key] = value
        env["TERM"] = self.settings.term_type
        env["JUPYTER_SERVER_ROOT"] = str(self.root_dir)
        env["JUPYTER_SERVER_URL"] = self.server_url()
        return env

    def create(self, name: str | None = None, cwd: str | None = None) -> Terminal:
        """Start a terminal running the shell command.

        :param name: The name to give it (default: the next free number). If a
            terminal of that name runs already, it is returned instead: a client
            restoring a layout may ask for the same terminal twice.
        :param cwd: The working directory (see :meth:`resolve_cwd`).
        :raises InvalidTerminalName: for a name that is not 1 to 100 word characters.
        :raises CwdOutsideRoot: for a working directory outside the root.
        :raises TerminalStartFailed: when the command cannot be started.
        """
        self.check_available()
        if name is not None:
            if not isinstance(name, str) or not _NAME.fullmatch(name):
                raise InvalidTerminalName(name)
            if name in self.terminals:
                return self.terminals[name]
        directory = self.resolve_cwd(cwd)
        command = self.settings.resolved_shell_command()
        try:
            process = PtyProcess.spawn(command, cwd=str(directory), env=self.environment())
        except OSError as exc:
            log.error("Cannot start terminal command %s: %s", command, exc)
            raise TerminalStartFailed(command, exc) from None
        name = name or self.next_name()
        terminal = Terminal(
            name,
            process,
            scrollback_size=self.settings.scrollback_size,
            output_buffer_size=self.settings.output_buffer_size,
            kill_timeout=self.settings.terminate_timeout,
            on_activity=self.on_activity,
            on_close=self._closed,
        )
        self.terminals[name] = terminal
        log.info("Terminal %s started: %s in %s (pid %s)", name, " ".join(command), directory, process.pid)
        return terminal

    def _closed(self, terminal: Terminal) -> None:
        """Take an ended terminal out of the list; keep track of a shell still being reaped."""
        if self.terminals.get(terminal.name) is terminal:
            del self.terminals[terminal.name]
        self._ended_activity = max(self._ended_activity, terminal.last_activity)
        if terminal.reaper is not None and not terminal.reaper.done():
            self._track(terminal.reaper)

    def _track(self, task: asyncio.Task[None]) -> asyncio.Task[None]:
        self._ending.add(task)
        task.add_done_callback(self._ending.discard)
        return task

    def _end(self, terminal: Terminal) -> asyncio.Task[None]:
        """Take ``terminal`` out of the list and end it in a task of its own.

        The task is not cancelled with its caller (a client that goes away during
        ``DELETE``, the culler stopping at shutdown): :meth:`shutdown` waits for it.
        """
        self._closed(terminal)
        return self._track(asyncio.create_task(terminal.terminate()))

    # -- ending ---------------------------------------------------------------------------------

    async def delete(self, name: str) -> None:
        """End terminal ``name`` and every process in its session.

        :raises NoSuchTerminal: when there is none.
        """
        await asyncio.shield(self._end(self.get(name)))

    async def cull(self, now: float | None = None) -> list[str]:
        """End every terminal idle for longer than ``cull_inactive_timeout``; return their names."""
        timeout = self.settings.cull_inactive_timeout
        if timeout <= 0:
            return []
        now = time.time() if now is None else now
        idle = [t for t in self.terminals.values() if now - t.last_activity > timeout]
        for terminal in idle:
            log.warning(
                "Culling terminal %s after %d seconds of inactivity", terminal.name, int(now - terminal.last_activity)
            )
        if idle:
            await asyncio.shield(asyncio.gather(*(self._end(t) for t in idle)))
        return [t.name for t in idle]

    async def run_culler(self) -> None:
        """Cull every ``cull_interval`` seconds, forever (cancel the task to stop)."""
        interval = self.settings.cull_interval
        if interval <= 0:
            log.warning("Invalid TerminalManager.cull_interval %s; using 300 seconds", interval)
            interval = 300
        log.info(
            "Culling terminals inactive for more than %s seconds, checking every %s seconds",
            self.settings.cull_inactive_timeout,
            interval,
        )
        while True:
            await asyncio.sleep(interval)
            try:
                await self.cull()
            except Exception:
                log.exception("Culling terminals failed")

    async def shutdown(self) -> None:
        """End every terminal and every process in their sessions (server shutdown)."""
        terminals = list(self.terminals.values())
        if terminals:
            log.info("Shutting down %d terminal(s)", len(terminals))
        for terminal in terminals:
            self._end(terminal)
        while self._ending:
            await asyncio.gather(*self._ending)
