"""The errors of the contents service, each with its HTTP status and a stable ``reason``.

Domain code (``manager.py``, ``fileio.py``, ``checkpoints.py``) raises these; the core's
error middleware renders them as ``{"message": ..., "reason": ...}``. Messages name API
paths (relative to the contents root) and never a path on the server's disk.
"""

from __future__ import annotations

from typing import Any

from jupyter_core_server import ApiError, BadRequest, Forbidden, NotFound

__all__ = [
    "BadModel",
    "CheckpointRefused",
    "Conflict",
    "FileChanged",
    "HiddenPath",
    "HiddenWrite",
    "NoSuchCheckpoint",
    "NoSuchPath",
    "NotWritable",
    "PathOutsideRoot",
]


class NoSuchPath(NotFound):
    """No file or directory at an API path (404)."""

    def __init__(self, path: str, what: str = "file or directory") -> None:
        super().__init__(f"No such {what}: {path!r}", "not_found")


class PathOutsideRoot(NotFound):
    """An API path that leaves the contents root (``..``, or a link once resolved): 404.

    The answer is word for word that of a missing path (reason ``not_found``), so that a
    client cannot probe for links leading out of the root; the server log says why.
    """

    def __init__(self, path: str) -> None:
        super().__init__(f"No such file or directory: {path!r}", "not_found")


class HiddenPath(NotFound):
    """A hidden path (dot-file or ``hide_globs`` match) while ``allow_hidden`` is off (404)."""

    def __init__(self, path: str) -> None:
        super().__init__(f"No such file or directory: {path!r} (hidden files are not served)", "hidden")


class HiddenWrite(Forbidden):
    """A change to a hidden path while ``allow_hidden`` is off (403)."""

    def __init__(self, path: str) -> None:
        super().__init__(f"Hidden files and directories cannot be changed: {path!r}", "hidden")


class NotWritable(Forbidden):
    """The operating system refused the operation (403)."""

    def __init__(self, path: str) -> None:
        super().__init__(f"Permission denied: {path!r}", "permission_denied")


class BadModel(BadRequest):
    """The request's model, type or format is wrong for the path (400)."""

    def __init__(self, message: str, reason: str = "bad_model") -> None:
        super().__init__(message, reason)


class Conflict(ApiError):
    """The target exists already, or the operation clashes with the file's state (409)."""

    status = 409

    def __init__(self, message: str, reason: str = "conflict", extra: dict[str, Any] | None = None) -> None:
        super().__init__(message, reason, extra=extra)


class FileChanged(Conflict):
    """A conditional save whose precondition failed: the file changed on disk (409).

    The answer carries the file's current ``hash`` and ``last_modified``, so that a
    client can tell what it would overwrite.
    """

    def __init__(self, path: str, current_hash: str | None, last_modified: str | None) -> None:
        super().__init__(
            f"{path!r} changed on disk since it was read; reload it or save without a precondition to overwrite.",
            "file_changed",
            {"hash": current_hash, "last_modified": last_modified},
        )
        self.current_hash = current_hash
        self.last_modified = last_modified


class NoSuchCheckpoint(NotFound):
    """No checkpoint with that id for that path (404)."""

    def __init__(self, path: str, checkpoint_id: str) -> None:
        super().__init__(f"No checkpoint {checkpoint_id!r} for {path!r}", "no_such_checkpoint")


class CheckpointRefused(Forbidden):
    """A checkpoint folder, or a checkpoint in it, is a link leaving the root or looping (403)."""

    def __init__(self, path: str, folder: str) -> None:
        super().__init__(
            f"Checkpoints of {path!r} are refused: the checkpoint folder {folder!r}, or the checkpoint in it,"
            " is a symbolic link that leaves the contents root or loops",
            "checkpoint_refused",
        )
