"""``jupyter-core-server migrate``: the command-line face of :func:`~.migration.migrate`."""

from __future__ import annotations

import os
import sys

from jupyter_core.application import JupyterApp
from jupyter_core_server import CONFIG_LEVELS
from traitlets import Bool, Unicode

from ._version import __version__
from .migration import migrate

__all__ = ["MigrateApp"]


class MigrateApp(JupyterApp):
    """Translate notebook, jupyter_server and Kernel Gateway configuration into this server's."""

    name = "jupyter-core-server-migrate"
    version = __version__
    description = """Translate old Jupyter configuration into jupyter-core-server configuration.

    Reads jupyter_notebook_config.py|json (and .d/), jupyter_server_config.py|json (and
    .d/) and jupyter_kernel_gateway_config.py|json from every config directory that
    `jupyter --paths` lists, or from the files and directories given, and writes
    jupyter_core_server_config.json (from JSON files) or .py (from Python files) next to
    them. Python files are parsed, never run. Existing files are backed up before they
    change; running again changes nothing."""
    examples = (
        "jupyter-core-server migrate --dry-run\n"
        "jupyter-core-server migrate ~/.jupyter\n"
        "KG_PORT=9000 jupyter-core-server migrate --kg-env --env-level=sys-prefix"
    )

    dry_run = Bool(False, help="Print unified diffs of what would change; write nothing.").tag(config=True)
    as_json = Bool(False, help="Print the report (and diffs) as JSON.").tag(config=True)
    kg_env = Bool(False, help="Also translate Kernel Gateway's KG_* environment variables of this process.").tag(
        config=True
    )
    env_level = Unicode(
        "user", help=f"Config level that receives translated KG_* variables: one of {', '.join(CONFIG_LEVELS)}."
    ).tag(config=True)
    level = Unicode("", help="Only read this config level (default: all levels).").tag(config=True)

    aliases = {"env-level": "MigrateApp.env_level", "level": "MigrateApp.level"}
    flags = {
        "dry-run": ({"MigrateApp": {"dry_run": True}}, "Print diffs of what would change; write nothing."),
        "json": ({"MigrateApp": {"as_json": True}}, "Print the report as JSON."),
        "kg-env": ({"MigrateApp": {"kg_env": True}}, "Also translate KG_* environment variables."),
    }

    def start(self) -> None:
        for name, value in (("env-level", self.env_level), ("level", self.level)):
            if value and value not in CONFIG_LEVELS:
                print(f"--{name} must be one of {', '.join(CONFIG_LEVELS)}, not {value!r}", file=sys.stderr)
                self.exit(2)
        report = migrate(
            self.extra_args or None,
            dry_run=self.dry_run,
            env=os.environ if self.kg_env else None,
            env_level=self.env_level,
            levels=[self.level] if self.level else None,
        )
        if self.as_json:
            print(report.to_json())
        else:
            for change in report.files:
                if change.diff:
                    print(change.diff, end="" if change.diff.endswith("\n") else "\n")
            print(report.to_text(), end="")
        if report.errors:
            self.exit(1)
