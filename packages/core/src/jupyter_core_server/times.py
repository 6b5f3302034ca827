"""Times as the Jupyter REST API writes them (``last_activity``, ``started``, ``created``)."""

from __future__ import annotations

from datetime import datetime, timezone

__all__ = ["iso_time"]


def iso_time(timestamp: float) -> str:
    """Format a POSIX time as jupyter_server does: ISO 8601 in UTC, with a ``Z`` suffix.

    ``iso_time(0)`` is ``"1970-01-01T00:00:00Z"``; fractions of a second are kept
    (``"2024-05-01T12:30:00.250000Z"``), as ``datetime.isoformat`` writes them.
    """
    return datetime.fromtimestamp(timestamp, tz=timezone.utc).isoformat().replace("+00:00", "Z")
