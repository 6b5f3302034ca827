"""Keeping sessions in step with the files they are about.

A session's ``path`` names a document under the contents root. When the document (or a
directory above it) is renamed or moved through the contents API, every session on that
path follows, as JupyterLab expects, and the sessions plugin's change event is fired.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from jupyter_core_server.sessions.manager import SessionManager

__all__ = ["follow_rename"]


def _moved(path: str, old: str, new: str) -> str | None:
    """The new form of ``path`` after ``old`` became ``new`` (``None`` if unaffected)."""
    clean = path.strip("/")
    if clean == old:
        return new
    if clean.startswith(old + "/"):
        return new + clean[len(old) :]
    return None


def follow_rename(sessions: SessionManager, old: str, new: str) -> int:
    """Point the sessions on ``old`` (or below it) at ``new``; return how many moved."""
    moved = 0
    for row in sessions.store.find():
        path = _moved(str(row["path"]), old, new)
        if path is None:
            continue
        changes = {"path": path}
        old_name = old.rpartition("/")[2]
        if row["name"] == old_name and str(row["path"]).strip("/") == old:
            changes["name"] = new.rpartition("/")[2]
        sessions.store.update(row["session_id"], **changes)
        updated = sessions.store.find(session_id=row["session_id"])
        if updated:
            sessions.announce(sessions.model(updated[0]), "modified")
        moved += 1
    return moved
