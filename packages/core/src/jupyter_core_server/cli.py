"""The ``jupyter-core-server`` command and its built-in subcommands."""

from __future__ import annotations

import json
import os
import signal
import sys
import urllib.request
from typing import Any

from jupyter_core.application import JupyterApp
from traitlets import Bool, Unicode

from ._version import __version__
from .app import CoreServerApp
from .config import CONFIG_LEVELS, config_level_dir, write_plugin_state
from .plugins import ESSENTIAL_PLUGINS, PluginManager
from .runtime import list_running

__all__ = ["ListApp", "PluginApp", "StopApp", "main"]

_LEVEL_FLAGS = {
    "user": ({"PluginToggleApp": {"level": "user"}}, "Write to the user's config directory."),
    "sys-prefix": (
        {"PluginToggleApp": {"level": "sys-prefix"}},
        "Write to the environment's config directory (the default).",
    ),
    "system": ({"PluginToggleApp": {"level": "system"}}, "Write to the system-wide config directory."),
}


class PluginListApp(JupyterApp):
    """``plugin list``: every plugin with its distribution, version, state and deciding level."""

    name = "jupyter-core-server-plugin-list"
    version = __version__
    description = "List plugins: name, distribution, version, state and the config level that decided it."
    as_json = Bool(False, help="Print JSON instead of a table.").tag(config=True)
    flags = {"json": ({"PluginListApp": {"as_json": True}}, "Print JSON.")}

    def start(self) -> None:
        pm = PluginManager()
        pm.discover()
        pm.load_enabled()  # imports enabled plugins only, to report import failures
        records = [r.model() for r in pm.records.values()]
        if self.as_json:
            print(json.dumps(records, indent=2))
            return
        rows = [("name", "distribution", "version", "state", "level", "detail")]
        rows += [
            (
                r["name"],
                r["distribution"],
                r["version"],
                r["state"],
                r["level"],
                r["error"] or ("built-in" if r["builtin"] else ""),
            )
            for r in records
        ]
        widths = [max(len(str(row[i])) for row in rows) for i in range(5)]
        for row in rows:
            print("  ".join(str(cell).ljust(width) for cell, width in zip(row, widths)) + "  " + str(row[5]))


class PluginToggleApp(JupyterApp):
    """Shared behaviour of ``plugin enable`` and ``plugin disable``."""

    version = __version__
    level = Unicode("sys-prefix", help=f"Config level to write: one of {', '.join(CONFIG_LEVELS)}.").tag(config=True)
    flags = _LEVEL_FLAGS
    enable = True

    def start(self) -> None:
        if not self.extra_args:
            self.exit_with(f"Name the plugin to {'enable' if self.enable else 'disable'}.")
        for name in self.extra_args:
            if not self.enable and name in ESSENTIAL_PLUGINS:
                self.exit_with(f"Plugin {name!r} is essential and cannot be disabled.")
            try:
                path = write_plugin_state(name, self.enable, self.level)
            except (OSError, ValueError) as exc:
                self.exit_with(f"Cannot write to the {self.level} config level ({config_level_dir(self.level)}): {exc}")
            print(f"{'Enabled' if self.enable else 'Disabled'} plugin {name} at the {self.level} level ({path}).")

    def exit_with(self, message: str) -> None:
        print(message, file=sys.stderr)
        self.exit(1)


class PluginEnableApp(PluginToggleApp):
    """``plugin enable NAME [--user|--sys-prefix|--system]``."""

    name = "jupyter-core-server-plugin-enable"
    description = "Enable plugins at a config level (default: --sys-prefix)."
    enable = True


class PluginDisableApp(PluginToggleApp):
    """``plugin disable NAME [--user|--sys-prefix|--system]``."""

    name = "jupyter-core-server-plugin-disable"
    description = "Disable plugins at a config level (default: --sys-prefix); a disabled plugin is never imported."
    enable = False


class PluginApp(JupyterApp):
    """``plugin``: list, enable or disable plugins."""

    name = "jupyter-core-server-plugin"
    version = __version__
    description = "Manage plugins."
    subcommands = {
        "list": (PluginListApp, PluginListApp.description),
        "enable": (PluginEnableApp, PluginEnableApp.description),
        "disable": (PluginDisableApp, PluginDisableApp.description),
    }

    def start(self) -> None:
        if self.subapp is None:
            self.print_subcommands()
            self.exit(1)
        else:
            self.subapp.start()


class ListApp(JupyterApp):
    """``list``: the running servers of this user, from their runtime files."""

    name = "jupyter-core-server-list"
    version = __version__
    description = "List running servers."
    as_json = Bool(False, help="Print one JSON object per server.").tag(config=True)
    flags = {"json": ({"ListApp": {"as_json": True}}, "Print JSON.")}

    def start(self) -> None:
        servers = list_running()
        if self.as_json:
            for info in servers:
                print(json.dumps(info))
            return
        if not servers:
            print("No running servers.")
        for info in servers:
            token = f"?token={info['token']}" if info.get("token") else ""
            print(f"{info['url']}{token} :: {info['root_dir']}")


class StopApp(JupyterApp):
    """``stop PORT``: ask the server on PORT (or socket path) to shut down."""

    name = "jupyter-core-server-stop"
    version = __version__
    description = "Stop the server listening on PORT (or on a Unix socket path)."

    def start(self) -> None:
        target = self.extra_args[0] if self.extra_args else "8888"
        for info in list_running():
            if str(info.get("port")) == target or (info.get("sock") and info["sock"] == target):
                stop_server(info)
                print(f"Stopped the server on {target} (pid {info['pid']}).")
                return
        print(f"No running server on {target}.", file=sys.stderr)
        self.exit(1)


def stop_server(info: dict[str, Any]) -> None:
    """Stop a server politely (``POST /api/shutdown``), or with SIGTERM if that fails."""
    if not info.get("sock"):
        request = urllib.request.Request(
            f"{info['url']}api/shutdown", method="POST", headers={"Authorization": f"token {info.get('token', '')}"}
        )
        try:
            with urllib.request.urlopen(request, timeout=5):
                return
        except OSError:
            pass
    os.kill(int(info["pid"]), signal.SIGTERM)


def main(argv: list[str] | None = None) -> None:
    """Entry point of ``jupyter-core-server`` (and ``jupyter core-server``)."""
    app = CoreServerApp()
    app.initialize(argv)
    app.start()


if __name__ == "__main__":
    main()
