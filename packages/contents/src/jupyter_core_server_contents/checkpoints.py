"""Checkpoints: the saved states a user can go back to, and where they are kept.

A checkpoint store is a :class:`Checkpoints` subclass chosen by
``ContentsManager.checkpoints``: the name of an entry point in the
``jupyter_core_server_contents.checkpoints`` group (``file`` is built in), or an import
string. The server creates one per application with the contents root, and calls it
with API paths (``/``-separated, relative to the root) that were already checked: inside
the root, not hidden unless allowed.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from importlib.metadata import entry_points
from typing import Any, TypedDict

from traitlets import Unicode
from traitlets.config import LoggingConfigurable
from traitlets.utils.importstring import import_item

from .errors import NoSuchCheckpoint, NoSuchPath
from .fileio import Root, copy_file, isotime, require

__all__ = ["ENTRY_POINT_GROUP", "CheckpointModel", "Checkpoints", "FileCheckpoints", "load_checkpoints"]

ENTRY_POINT_GROUP = "jupyter_core_server_contents.checkpoints"


class CheckpointModel(TypedDict):
    """The REST model of a checkpoint."""

    id: str
    last_modified: str


class Checkpoints(LoggingConfigurable):
    """Base class of checkpoint stores; every method is a coroutine.

    :param root: The contents root (use ``root.locate(path)`` for disk paths).
    """

    def __init__(self, root: Root, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.root = root

    async def create_checkpoint(self, path: str) -> CheckpointModel:
        """Save the current state of the file at ``path``; return the checkpoint's model."""
        raise NotImplementedError

    async def restore_checkpoint(self, checkpoint_id: str, path: str) -> None:
        """Put the file at ``path`` back in the state of a checkpoint."""
        raise NotImplementedError

    async def list_checkpoints(self, path: str) -> list[CheckpointModel]:
        """Return the checkpoints of the file at ``path`` (an empty list when none)."""
        raise NotImplementedError

    async def delete_checkpoint(self, checkpoint_id: str, path: str) -> None:
        """Delete one checkpoint; raise :class:`~.errors.NoSuchCheckpoint` if it does not exist."""
        raise NotImplementedError

    async def rename_all_checkpoints(self, old_path: str, new_path: str) -> None:
        """Follow a rename of a file: its checkpoints now belong to ``new_path``."""
        raise NotImplementedError

    async def delete_all_checkpoints(self, path: str) -> None:
        """Follow a deletion: drop every checkpoint of ``path``."""
        raise NotImplementedError


class FileCheckpoints(Checkpoints):
    """One checkpoint per file, in a hidden directory next to it (jupyter_server's layout).

    The checkpoint of ``dir/name.ext`` is ``dir/.ipynb_checkpoints/name-checkpoint.ext``;
    its id is always ``checkpoint``. Copies go through the same atomic write as saves.
    """

    checkpoint_dir = Unicode(
        ".ipynb_checkpoints",
        help="Name of the directory, next to each file, that holds its checkpoint.",
    ).tag(config=True)

    ID = "checkpoint"

    def _path(self, path: str) -> str:
        located = self.root.locate(path)
        directory, name = os.path.split(located.real_path)
        base, ext = os.path.splitext(name)
        return os.path.join(directory, self.checkpoint_dir, f"{base}-{self.ID}{ext}")

    def _model(self, checkpoint: str) -> CheckpointModel:
        return {"id": self.ID, "last_modified": isotime(os.stat(checkpoint).st_mtime_ns)}

    def _create(self, path: str) -> CheckpointModel:
        source = self.root.locate(path)
        require(source)
        if not os.path.isfile(source.real_path):
            raise NoSuchPath(path, "file")
        checkpoint = self._path(path)
        os.makedirs(os.path.dirname(checkpoint), exist_ok=True)
        copy_file(source.real_path, checkpoint)
        return self._model(checkpoint)

    def _restore(self, checkpoint_id: str, path: str) -> None:
        checkpoint = self._path(path)
        if checkpoint_id != self.ID or not os.path.isfile(checkpoint):
            raise NoSuchCheckpoint(path, checkpoint_id)
        copy_file(checkpoint, self.root.locate(path).real_path)

    def _list(self, path: str) -> list[CheckpointModel]:
        checkpoint = self._path(path)
        return [self._model(checkpoint)] if os.path.isfile(checkpoint) else []

    def _delete(self, checkpoint_id: str, path: str) -> None:
        checkpoint = self._path(path)
        if checkpoint_id != self.ID or not os.path.isfile(checkpoint):
            raise NoSuchCheckpoint(path, checkpoint_id)
        os.unlink(checkpoint)

    def _rename_all(self, old_path: str, new_path: str) -> None:
        old, new = self._path(old_path), self._path(new_path)
        if os.path.isfile(old):
            os.makedirs(os.path.dirname(new), exist_ok=True)
            os.replace(old, new)

    def _delete_all(self, path: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self._path(path))

    async def create_checkpoint(self, path: str) -> CheckpointModel:
        return await asyncio.to_thread(self._create, path)

    async def restore_checkpoint(self, checkpoint_id: str, path: str) -> None:
        await asyncio.to_thread(self._restore, checkpoint_id, path)

    async def list_checkpoints(self, path: str) -> list[CheckpointModel]:
        return await asyncio.to_thread(self._list, path)

    async def delete_checkpoint(self, checkpoint_id: str, path: str) -> None:
        await asyncio.to_thread(self._delete, checkpoint_id, path)

    async def rename_all_checkpoints(self, old_path: str, new_path: str) -> None:
        await asyncio.to_thread(self._rename_all, old_path, new_path)

    async def delete_all_checkpoints(self, path: str) -> None:
        await asyncio.to_thread(self._delete_all, path)


def load_checkpoints(name: str) -> type[Checkpoints]:
    """Find a checkpoint store class by entry-point name or import string.

    :raises ValueError: when nothing by that name exists.
    :raises TypeError: when what it names is not a :class:`Checkpoints` subclass.
    """
    if name == "file":  # built in: no need to scan every installed distribution
        return FileCheckpoints
    found: Any = None
    for entry_point in entry_points(group=ENTRY_POINT_GROUP):
        if entry_point.name == name:
            found = entry_point.load()
            break
    if found is None and ("." in name or ":" in name):
        found = import_item(name.replace(":", "."))
    if found is None:
        known = ", ".join(sorted(ep.name for ep in entry_points(group=ENTRY_POINT_GROUP))) or "none"
        raise ValueError(f"No checkpoint store named {name!r} (entry points: {known})")
    if not (isinstance(found, type) and issubclass(found, Checkpoints)):
        raise TypeError(f"Checkpoint store {name!r} is {found!r}, not a Checkpoints subclass")
    return found
