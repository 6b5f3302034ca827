"""Runtime files: how ``jupyter-core-server list`` and ``stop`` find running servers.

Each server writes ``jpcoreserver-<pid>.json`` (mode 0600, it holds the token) into the
Jupyter runtime directory and removes it on exit.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from jupyter_core.paths import jupyter_runtime_dir

__all__ = ["list_running", "remove_runtime_file", "write_runtime_file"]


def _path(pid: int) -> Path:
    return Path(jupyter_runtime_dir()) / f"jpcoreserver-{pid}.json"


def write_runtime_file(info: dict[str, Any]) -> Path:
    """Write this process's runtime file, readable by its owner only."""
    path = _path(os.getpid())
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(info, f, indent=2)
    return path


def remove_runtime_file() -> None:
    """Remove this process's runtime file, if any."""
    _path(os.getpid()).unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def list_running() -> list[dict[str, Any]]:
    """Return the info of every running server; stale files of dead processes are removed."""
    directory = Path(jupyter_runtime_dir())
    servers = []
    for path in sorted(directory.glob("jpcoreserver-*.json")) if directory.is_dir() else []:
        try:
            info = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if _alive(int(info.get("pid", 0))):
            servers.append(info)
        else:
            path.unlink(missing_ok=True)
    return servers
