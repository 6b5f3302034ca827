"""Layered JSON config sections, stored as jupyter_server stores them.

A section ``NAME`` in the config folder ``FOLDER`` (``nbconfig`` for ``/api/config``,
``labconfig`` for lab extension settings) is read from every Jupyter config directory,
lowest precedence first (system, then environment, then user), each as
``FOLDER/NAME.d/*.json`` in name order and then ``FOLDER/NAME.json``; later values
update earlier ones recursively. Writes go to the user's config directory only.
"""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path
from typing import Any

from jupyter_core.paths import jupyter_config_dir, jupyter_config_path
from jupyter_core_server import write_text_atomic

__all__ = ["SECTION_NAME", "SectionStore", "recursive_update"]

log = logging.getLogger("jupyter_core_server.frontend")

#: What jupyter_server accepts as a section name in ``/api/config/{section}``.
SECTION_NAME = re.compile(r"^\w+$")


def recursive_update(target: dict[str, Any], new: dict[str, Any]) -> None:
    """Update ``target`` with ``new`` in place, merging nested objects; ``None`` removes a key."""
    for key, value in new.items():
        if isinstance(value, dict):
            if not isinstance(target.get(key), dict):
                target[key] = {}
            recursive_update(target[key], value)
            if not target[key]:  # an emptied object goes away, as in jupyter_server
                del target[key]
        elif value is None:
            target.pop(key, None)
        else:
            target[key] = value


def _read_object(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    if not text.strip():
        return {}
    try:
        data = json.loads(text)
    except ValueError as exc:
        log.warning("Ignoring %s: not valid JSON (%s)", path, exc)
        return {}
    if not isinstance(data, dict):
        log.warning("Ignoring %s: not a JSON object", path)
        return {}
    return data


class SectionStore:
    """Config sections of one folder name (``nbconfig``, ``labconfig``) across the config levels."""

    def __init__(self, folder: str) -> None:
        self.folder = folder

    @property
    def read_dirs(self) -> list[Path]:
        """Config directories of this folder, lowest precedence first."""
        return [Path(p) / self.folder for p in reversed(jupyter_config_path())]

    @property
    def write_dir(self) -> Path:
        return Path(jupyter_config_dir()) / self.folder

    @staticmethod
    def _level(directory: Path, name: str) -> dict[str, Any]:
        data: dict[str, Any] = {}
        for path in sorted((directory / f"{name}.d").glob("*.json")):
            recursive_update(data, _read_object(path))
        recursive_update(data, _read_object(directory / f"{name}.json"))
        return data

    def get(self, name: str) -> dict[str, Any]:
        """Return section ``name`` merged over every level."""
        data: dict[str, Any] = {}
        for directory in self.read_dirs:
            recursive_update(data, self._level(directory, name))
        return data

    def get_user(self, name: str) -> dict[str, Any]:
        """Return what the user level's ``NAME.json`` holds."""
        return _read_object(self.write_dir / f"{name}.json")

    def set(self, name: str, data: dict[str, Any]) -> None:
        """Replace the user level's ``NAME.json`` with ``data``."""
        write_text_atomic(self.write_dir / f"{name}.json", json.dumps(data, indent=2, sort_keys=True))

    def update(self, name: str, data: dict[str, Any]) -> dict[str, Any]:
        """Merge ``data`` into the user level (``None`` deletes a key); return the user level."""
        current = self.get_user(name)
        recursive_update(current, data)
        self.set(name, current)
        return current
