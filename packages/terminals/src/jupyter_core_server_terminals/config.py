"""``TerminalManager``: the settings of the terminals plugin.

The class and option names follow jupyter_server's (``c.TerminalManager.cull_inactive_timeout``,
``cull_interval``), so existing configuration files keep working; ``shell_command``
replaces jupyter_server's ``terminado_settings["shell_command"]``.
"""

from __future__ import annotations

import os
import shutil
import sys

from traitlets import Bool, Dict, Float, Integer, List, Unicode
from traitlets.config import LoggingConfigurable

__all__ = ["TerminalManager", "default_shell_command"]


def default_shell_command(environ: dict[str, str] | None = None, interactive: bool | None = None) -> list[str]:
    """Return the shell jupyter_server would start when no command is configured.

    That is ``$SHELL``, else ``sh`` from ``PATH``, else ``/bin/sh``. When the server
    itself does not run in a terminal (started by a service manager, a spawner or a
    container entry point), the user's environment has usually not been set up, so
    the shell is started as a login shell (``-l``) to read ``/etc/profile`` and the
    user's profile.

    :param environ: The environment to read ``SHELL`` from (default: this process's).
    :param interactive: Whether the server runs in a terminal (default: whether its
        standard output is a tty).
    """
    env = os.environ if environ is None else environ
    shell = env.get("SHELL") or shutil.which("sh") or "/bin/sh"
    if interactive is None:
        interactive = sys.stdout is not None and sys.stdout.isatty()
    return [shell] if interactive else [shell, "-l"]


class TerminalManager(LoggingConfigurable):
    """How terminals are started, kept and ended."""

    enabled = Bool(
        True,
        help="""Serve terminals. When false, the plugin adds no routes: ``/api/terminals``
        answers 404, as on a jupyter_server started with ``terminals_enabled=False``.""",
    ).tag(config=True)

    shell_command = List(
        Unicode(),
        help="""Command started in each new terminal, as a list of arguments
        (``["/bin/bash", "--login"]``). Empty: ``$SHELL`` (else ``sh``), with ``-l`` when
        the server is not itself running in a terminal.""",
    ).tag(config=True)

    term_type = Unicode("xterm-256color", help="Value of ``TERM`` in terminals (what xterm.js emulates).").tag(
        config=True
    )

    extra_env = Dict(
        value_trait=Unicode(allow_none=True),
        key_trait=Unicode(),
        help="""Environment variables added to every terminal's environment; a ``None``
        value removes the variable inherited from the server.""",
    ).tag(config=True)

    cull_inactive_timeout = Integer(
        0,
        help="""Seconds without input or output after which a terminal is ended.
        0 or less disables culling.""",
    ).tag(config=True)

    cull_interval = Integer(
        300,
        help="Seconds between two checks for inactive terminals (when culling is on); 0 or less means 300.",
    ).tag(config=True)

    scrollback_size = Integer(
        100_000,
        help="""Characters of recent output kept per terminal and sent to a client that
        connects later, so that its screen is not blank. 0 keeps none.""",
    ).tag(config=True)

    output_buffer_size = Integer(
        1024 * 1024,
        help="""Characters of output queued for one client before the server stops reading
        the terminal until that client catches up. Bounds memory when a program writes
        faster than a client can receive; the program then waits, as on a slow real
        terminal.""",
    ).tag(config=True)

    terminate_timeout = Float(
        2.0,
        help="""Seconds the processes of a terminal being deleted, culled or shut down get
        to exit after SIGHUP before every process left in the terminal's session is
        killed with SIGKILL.""",
    ).tag(config=True)

    websocket_ping_interval = Float(
        30.0,
        help="Seconds between websocket pings that keep idle terminal connections alive; 0 disables them.",
    ).tag(config=True)

    def resolved_shell_command(self) -> list[str]:
        """Return :attr:`shell_command`, or the default shell when it is empty."""
        return list(self.shell_command) or default_shell_command()
