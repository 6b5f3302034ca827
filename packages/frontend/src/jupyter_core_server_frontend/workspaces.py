"""JupyterLab workspaces (the saved layout of a page), one JSON file each.

Files are named as jupyterlab_server names them, ``<slug>-<4 hex>.jupyterlab-workspace``
(the slug is the lower-cased name reduced to letters, digits, ``_`` and ``-``; the hex
digits start the SHA-256 of the name), so workspaces saved by ``jupyter lab`` open here.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from jupyter_core_server import loads_json, write_text_atomic

from .errors import BadWorkspace

__all__ = ["WORKSPACE_EXTENSION", "WorkspaceStore", "workspace_slug"]

WORKSPACE_EXTENSION = ".jupyterlab-workspace"
_MAX_FILE_NAME = 128


def workspace_slug(name: str) -> str:
    """Return the file stem of workspace ``name`` (without the extension)."""
    name = name.lstrip("/")
    signature = "-" + hashlib.sha256(name.encode("utf-8")).hexdigest()[:4]
    text = unicodedata.normalize("NFKC", unquote(name.lower())).encode("ascii", "ignore").decode("ascii")
    text = re.sub(r"[^\w\s-]", "", text).strip()
    text = re.sub(r"[-\s]+", "-", text)
    return text[: _MAX_FILE_NAME - len(WORKSPACE_EXTENSION) - len(signature)] + signature


def _iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, tz=timezone.utc).isoformat()


class WorkspaceStore:
    """Workspaces in one directory."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def _path(self, name: str) -> Path:
        return self.directory / (workspace_slug(name) + WORKSPACE_EXTENSION)

    @staticmethod
    def _load(path: Path) -> dict[str, Any]:
        st = path.stat()
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict) or not isinstance(data.get("metadata"), dict):
            raise ValueError("not a workspace (no metadata object)")  # noqa: TRY004 - callers treat it as unreadable
        data["metadata"].update(last_modified=_iso(st.st_mtime), created=_iso(st.st_ctime))
        return data

    def list(self) -> dict[str, Any]:
        """Return ``{"ids": [...], "values": [...]}`` of every readable workspace, by file name."""
        ids: list[str] = []
        values: list[dict[str, Any]] = []
        if self.directory.is_dir():
            for path in sorted(self.directory.glob("*" + WORKSPACE_EXTENSION)):
                try:
                    workspace = self._load(path)
                except (OSError, ValueError):
                    continue
                ids.append(str(workspace["metadata"].get("id", "")))
                values.append(workspace)
        return {"ids": ids, "values": values}

    def get(self, name: str) -> dict[str, Any]:
        """Return workspace ``name``, or an empty one (``{"data": {}, "metadata": {"id": ...}}``)."""
        path = self._path(name)
        if path.is_file():
            try:
                return self._load(path)
            except ValueError as exc:
                raise BadWorkspace(f"Workspace {name!r} on disk cannot be read: {exc}") from None
        return {"data": {}, "metadata": {"id": "/" + name.lstrip("/")}}

    def save(self, name: str, raw: bytes) -> None:
        """Store ``raw`` as workspace ``name`` after checking it is one, with the matching id."""
        workspace = loads_json(raw, "Workspace")  # BadRequest: invalid_json or json_too_deep
        if not isinstance(workspace, dict) or not isinstance(workspace.get("metadata"), dict):
            raise BadWorkspace("A workspace must be a JSON object with a 'metadata' object")
        given = workspace["metadata"].get("id")
        if not isinstance(given, str):
            raise BadWorkspace("The workspace's metadata.id must be a string")
        given = unquote("/" + given.lstrip("/"))
        if given != "/" + name:
            raise BadWorkspace(f"Workspace metadata id {given!r} does not match the name {name!r}")
        write_text_atomic(self._path(name), raw.decode("utf-8"))

    def delete(self, name: str) -> bool:
        """Remove workspace ``name``; return whether it existed."""
        try:
            self._path(name).unlink()
        except FileNotFoundError:
            return False
        return True
