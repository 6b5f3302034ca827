"""Checkpoints: the saved states a user can go back to, and where they are kept.

A checkpoint store is a :class:`Checkpoints` subclass chosen by
``ContentsManager.checkpoints``: the name of an entry point in the
``jupyter_core_server_contents.checkpoints`` group (``file`` is built in), or an import
string. The server creates one per application with the contents root, and calls it
with API paths (``/``-separated, relative to the root) that were already checked: inside
the root, not hidden unless allowed, and existing (except after a rename or delete). A
store that will not keep a checkpoint for a path raises
:class:`~.errors.CheckpointRefused` (403 on the checkpoint routes); a save, rename or
delete of the file itself then goes on without its checkpoint.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import stat
import threading
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import Any, BinaryIO, TypedDict

from traitlets import TraitError, Unicode, validate
from traitlets.config import LoggingConfigurable
from traitlets.utils.importstring import import_item

from .errors import CheckpointRefused, Conflict, NoSuchCheckpoint, NoSuchPath, PathOutsideRoot
from .fileio import COPY_CHUNK, Root, isotime, require
from .folders import Folder, LinkInTheWay
from .models import os_errors

__all__ = ["ENTRY_POINT_GROUP", "CheckpointModel", "Checkpoints", "FileCheckpoints", "load_checkpoints"]

ENTRY_POINT_GROUP = "jupyter_core_server_contents.checkpoints"

log = logging.getLogger("jupyter_core_server.contents")

_REMEMBERED = 1024  # refused checkpoint folders remembered, so that each is logged once


class CheckpointModel(TypedDict):
    """The REST model of a checkpoint."""

    id: str
    last_modified: str


@dataclass(frozen=True)
class _Place:
    """Where the checkpoint of a file lives, checked to lie inside the root."""

    path: str  # the file's API path
    folder_api: str  # the checkpoint folder's API path, for messages and the log
    folder: str  # the checkpoint folder, resolved
    entry: str  # the checkpoint's name in the folder (it may be a link inside the root)
    content: str  # the checkpoint with every link resolved


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

    Checkpoint paths are contents paths: resolved and kept inside the root like any
    other. A checkpoint folder that is (or passes through) a symbolic link leading out
    of the root or looping, or a checkpoint in it that is such a link, is refused with
    :class:`~.errors.CheckpointRefused` by every operation: nothing is read, written,
    created or deleted there. The refusal is logged once per folder while the server
    runs (the last 1024 folders are remembered). Folders are then used through
    :class:`~.folders.Folder`, so a link put in place after the check is not followed
    either. Links that stay inside the root work.
    """

    checkpoint_dir = Unicode(
        ".ipynb_checkpoints",
        help="""Name of the directory, next to each file, that holds its checkpoint.

        A relative path (``a/b`` for a folder in a folder); it may not leave the
        file's directory (no ``..``, no absolute path).""",
    ).tag(config=True)

    @validate("checkpoint_dir")
    def _valid_checkpoint_dir(self, proposal: Any) -> str:
        value = str(proposal["value"])
        parts = [part for part in value.replace(os.sep, "/").split("/") if part not in ("", ".")]
        if not parts or os.path.isabs(value) or ".." in parts or "\0" in value or os.path.splitdrive(value)[0]:
            raise TraitError(
                f"FileCheckpoints.checkpoint_dir {value!r} must name a folder under each file's directory, "
                "such as '.ipynb_checkpoints'"
            )
        return "/".join(parts)

    ID = "checkpoint"

    def __init__(self, root: Root, **kwargs: Any) -> None:
        super().__init__(root, **kwargs)
        self._refused: OrderedDict[str, None] = OrderedDict()
        self._refused_lock = threading.Lock()

    # -- where a checkpoint lives ---------------------------------------------------------------

    def _place(self, path: str) -> _Place:
        """Locate the checkpoint of ``path``; refuse it when it leads out of the root.

        :raises CheckpointRefused: when the folder or the checkpoint is a link out of the root, or loops.
        """
        located = self.root.locate(path)
        directory, name = os.path.split(located.real_path)
        base, ext = os.path.splitext(name)
        parent = self.root.api_path(directory)
        folder_api = f"{parent}/{self.checkpoint_dir}" if parent else self.checkpoint_dir
        entry = f"{base}-{self.ID}{ext}"
        try:
            folder = self.root.locate(folder_api, quiet=True)
            content = self.root.locate(f"{folder_api}/{entry}", quiet=True)
        except (PathOutsideRoot, NoSuchPath):  # NoSuchPath: the links loop
            raise self._refuse(located.api_path, folder_api) from None
        return _Place(located.api_path, folder_api, folder.real_path, entry, content.real_path)

    def _refuse(self, path: str, folder_api: str) -> CheckpointRefused:
        """The error for a refused checkpoint; the first refusal in a folder is logged."""
        with self._refused_lock:
            first = folder_api not in self._refused
            self._refused[folder_api] = None
            self._refused.move_to_end(folder_api)
            while len(self._refused) > _REMEMBERED:
                self._refused.popitem(last=False)
        if first:
            log.warning(
                "Refusing checkpoints in %r: the folder, or a checkpoint in it, is a symbolic link that leaves the"
                " contents root or loops; nothing is read, written or deleted through it (logged once per folder)",
                folder_api,
            )
        return CheckpointRefused(path, folder_api)

    @contextlib.contextmanager
    def _folder(self, place: _Place, real_path: str, *, create: bool = False) -> Iterator[Folder]:
        """Open a checked folder of ``place``; a link that appeared since the check is refused."""
        try:
            folder = Folder(self.root, real_path, create=create)
        except LinkInTheWay:
            raise self._refuse(place.path, place.folder_api) from None
        with folder:
            yield folder

    def _read(self, place: _Place) -> BinaryIO | None:
        """Open the checkpoint's content for reading; ``None`` when there is no checkpoint."""
        directory, name = os.path.split(place.content)
        try:
            with self._folder(place, directory) as folder:
                source = folder.open(name)
        except LinkInTheWay:
            raise self._refuse(place.path, place.folder_api) from None
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            return None
        if not stat.S_ISREG(os.fstat(source.fileno()).st_mode):
            source.close()
            return None
        return source

    def _model(self, st: os.stat_result) -> CheckpointModel:
        return {"id": self.ID, "last_modified": isotime(st.st_mtime_ns)}

    # -- operations -------------------------------------------------------------------------------

    def _create(self, path: str) -> CheckpointModel:
        source = self.root.locate(path)
        place = self._place(path)
        with os_errors(place.path):
            require(source)
            directory, name = os.path.split(source.real_path)
            try:
                with Folder(self.root, directory) as folder:
                    data = folder.open(name)
            except (LinkInTheWay, IsADirectoryError):
                raise NoSuchPath(place.path, "file") from None
            with data:
                if not stat.S_ISREG(os.fstat(data.fileno()).st_mode):
                    raise NoSuchPath(place.path, "file")
                try:
                    with self._folder(place, place.folder, create=True) as folder:
                        return self._model(
                            folder.write(place.entry, iter(functools.partial(data.read, COPY_CHUNK), b""))
                        )
                except NotADirectoryError:
                    raise Conflict(
                        f"Cannot checkpoint {place.path!r}: {place.folder_api!r} is not a folder",
                        "bad_checkpoint_folder",
                    ) from None

    def _restore(self, checkpoint_id: str, path: str) -> None:
        place = self._place(path)
        target = self.root.locate(path)
        with os_errors(place.path):
            source = self._read(place) if checkpoint_id == self.ID else None
            if source is None:
                raise NoSuchCheckpoint(place.path, checkpoint_id)
            with source, self._folder(place, os.path.dirname(target.real_path)) as folder:
                folder.write(os.path.basename(target.real_path), iter(functools.partial(source.read, COPY_CHUNK), b""))

    def _list(self, path: str) -> list[CheckpointModel]:
        place = self._place(path)
        with os_errors(place.path):
            source = self._read(place)
            if source is None:
                return []
            with source:
                return [self._model(os.fstat(source.fileno()))]

    def _delete(self, checkpoint_id: str, path: str) -> None:
        place = self._place(path)
        with os_errors(place.path):
            if checkpoint_id != self.ID or not self._unlink(place):
                raise NoSuchCheckpoint(place.path, checkpoint_id)

    def _unlink(self, place: _Place) -> bool:
        """Remove the checkpoint's entry (a link inside the root: the link); whether there was one."""
        try:
            with self._folder(place, place.folder) as folder:
                st = folder.lstat(place.entry)
                if (
                    st is None
                    or stat.S_ISDIR(st.st_mode)
                    or (stat.S_ISLNK(st.st_mode) and not os.path.isfile(place.content))
                ):
                    return False
                folder.unlink(place.entry)
                return True
        except (FileNotFoundError, NotADirectoryError):
            return False

    def _rename_all(self, old_path: str, new_path: str) -> None:
        old = self._place(old_path)
        with os_errors(old.path):
            try:
                with self._folder(old, old.folder) as source:
                    st = source.lstat(old.entry)
                    if st is None or stat.S_ISDIR(st.st_mode):
                        return
                    new = self._place(new_path)
                    with self._folder(new, new.folder, create=True) as target:
                        source.move(old.entry, target, new.entry)
            except (FileNotFoundError, NotADirectoryError):
                return

    def _delete_all(self, path: str) -> None:
        place = self._place(path)
        with os_errors(place.path):
            self._unlink(place)

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
