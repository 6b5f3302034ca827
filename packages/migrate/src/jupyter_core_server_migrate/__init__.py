"""Move notebook, jupyter_server and Kernel Gateway configuration to jupyter-core-server.

Use it from the command line (``jupyter-core-server migrate``) or from Python::

    from jupyter_core_server_migrate import migrate

    report = migrate(dry_run=True)
    print(report.to_text())
"""

from __future__ import annotations

from ._version import __version__
from .migration import migrate
from .report import Entry, FileChange, Report
from .rules import RULES, Rule

__all__ = ["RULES", "Entry", "FileChange", "Report", "Rule", "__version__", "migrate"]
