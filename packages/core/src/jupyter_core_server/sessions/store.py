"""SQLite storage of sessions: in memory by default, a file when configured."""

from __future__ import annotations

import sqlite3
from typing import Any

__all__ = ["SessionRow", "SessionStore"]

SessionRow = dict[str, Any]
_COLUMNS = ("session_id", "path", "name", "type", "kernel_id")


class SessionStore:
    """Rows ``(session_id, path, name, type, kernel_id)`` in one SQLite table."""

    def __init__(self, database: str = ":memory:") -> None:
        self.db = sqlite3.connect(database, isolation_level=None, check_same_thread=False)
        self.db.execute(
            "CREATE TABLE IF NOT EXISTS session "
            "(session_id TEXT PRIMARY KEY, path TEXT, name TEXT, type TEXT, kernel_id TEXT)"
        )

    def close(self) -> None:
        self.db.close()

    def insert(self, row: SessionRow) -> None:
        self.db.execute("INSERT INTO session VALUES (?, ?, ?, ?, ?)", tuple(row[c] for c in _COLUMNS))

    def find(self, **where: Any) -> list[SessionRow]:
        """Return rows matching every ``column=value`` given (all rows when none)."""
        unknown = set(where) - set(_COLUMNS)
        if unknown:
            raise ValueError(f"unknown session columns: {', '.join(sorted(unknown))}")
        clause = " AND ".join(f"{column} = ?" for column in where)
        sql = "SELECT session_id, path, name, type, kernel_id FROM session" + (f" WHERE {clause}" if clause else "")
        return [dict(zip(_COLUMNS, values)) for values in self.db.execute(sql, tuple(where.values()))]

    def update(self, session_id: str, **changes: Any) -> None:
        unknown = set(changes) - set(_COLUMNS[1:])
        if unknown:
            raise ValueError(f"unknown session columns: {', '.join(sorted(unknown))}")
        if changes:
            assignments = ", ".join(f"{column} = ?" for column in changes)
            self.db.execute(f"UPDATE session SET {assignments} WHERE session_id = ?", (*changes.values(), session_id))

    def delete(self, session_id: str) -> None:
        self.db.execute("DELETE FROM session WHERE session_id = ?", (session_id,))
