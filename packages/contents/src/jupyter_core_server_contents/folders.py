"""Directories opened beneath the contents root, whose entries are used by name, never through a link.

A path checked with :meth:`~.fileio.Root.locate` can change before it is used: a link
put in its place between the check and the write would send the write elsewhere. A
:class:`Folder` closes that gap: it is opened from the root one name at a time, each
step relative to the last (``openat`` with ``O_NOFOLLOW``), along a path already
resolved and checked, so a link met on the way, even one put there after the check,
raises :class:`LinkInTheWay` instead of being followed; every later operation acts on
the very directory that was opened. Missing directories are made on the way when asked,
each with ``mkdir`` and then the same no-follow open, so nothing is created through a
link. Without ``openat`` (Windows) each step is checked with ``lstat`` and the folder is
used by path.

Everything here is synchronous and blocking; callers run it in a worker thread.
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import stat
from collections.abc import Iterable
from typing import BinaryIO, final

from .fileio import Root, complete_and_replace, fsync_directory, write_in_place

__all__ = ["Folder", "LinkInTheWay"]

_O_BINARY = getattr(os, "O_BINARY", 0)
_O_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_O_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_O_DIRECTORY = getattr(os, "O_DIRECTORY", 0)
_AT = bool(_O_NOFOLLOW and _O_DIRECTORY) and {os.open, os.mkdir, os.stat, os.unlink, os.rename} <= os.supports_dir_fd
_ACCESS_AT = os.access in os.supports_dir_fd
_is_junction = getattr(os.path, "isjunction", lambda _path: False)  # Windows, Python 3.12+
_DIR_FLAGS = os.O_RDONLY | _O_DIRECTORY | _O_NOFOLLOW | _O_CLOEXEC


class LinkInTheWay(Exception):
    """A symbolic link where a :class:`Folder` expected a plain directory or file."""


@final
class Folder:
    """A directory under the root, held open; a context manager that closes it.

    :param root: The contents root.
    :param real_path: A resolved directory path under the root.
    :param create: Make the missing directories of ``real_path``.
    :raises LinkInTheWay: when a step of the way is a symbolic link (or the path is not under the root).
    :raises FileNotFoundError: when a directory is missing and ``create`` is off.
    :raises NotADirectoryError: when a step of the way is not a directory.
    """

    def __init__(self, root: Root, real_path: str, *, create: bool = False) -> None:
        if not root.contains(real_path):
            raise LinkInTheWay(real_path)
        self.path = real_path
        relative = root.api_path(real_path)
        parts = relative.split("/") if relative else []
        self.fd: int | None = None
        if _AT:
            self.fd = _open_beneath(root.path, parts, create)
        else:
            _check_beneath(root.path, parts, create)

    def __enter__(self) -> Folder:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Release the folder's descriptor."""
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None

    def _at(self, name: str) -> str:
        return name if self.fd is not None else os.path.join(self.path, name)

    def lstat(self, name: str) -> os.stat_result | None:
        """The ``stat`` of an entry itself (a link is not followed); ``None`` if there is none."""
        try:
            return os.stat(self._at(name), dir_fd=self.fd, follow_symlinks=False)
        except FileNotFoundError:
            return None

    def open(self, name: str) -> BinaryIO:
        """Open an entry for reading.

        :raises LinkInTheWay: when the entry is a symbolic link.
        """
        try:
            fd = os.open(self._at(name), os.O_RDONLY | _O_NOFOLLOW | _O_BINARY | _O_CLOEXEC, dir_fd=self.fd)
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise LinkInTheWay(name) from None
            raise
        if not _O_NOFOLLOW and os.path.islink(self._at(name)):
            os.close(fd)
            raise LinkInTheWay(name)
        return os.fdopen(fd, "rb")

    def write(self, name: str, chunks: Iterable[bytes | memoryview]) -> os.stat_result:
        """Replace an entry with the given bytes, atomically, as :func:`~.fileio.atomic_write` does.

        A link in the entry's place is replaced, never written through. An existing file
        keeps its mode (and, where allowed, owner and group); when the folder refuses new
        files but the file is writable, the file is overwritten in place.
        """
        old = self.lstat(name)
        if old is not None and not stat.S_ISREG(old.st_mode):
            old = None
        if old is not None and not os.access(self._at(name), os.W_OK, dir_fd=self.fd if _ACCESS_AT else None):
            raise PermissionError(errno.EACCES, "file is not writable")
        temp = f".~{name}.{secrets.token_hex(4)}.tmp"
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | _O_NOFOLLOW | _O_BINARY | _O_CLOEXEC
        try:
            fd = os.open(self._at(temp), flags, 0o666 if old is None else 0o600, dir_fd=self.fd)
        except PermissionError:
            if old is None:
                raise
            return write_in_place(self._at(name), chunks, dir_fd=self.fd, flags=_O_NOFOLLOW)
        return complete_and_replace(fd, self._at(temp), self._at(name), chunks, old, dir_fd=self.fd)

    def unlink(self, name: str) -> None:
        """Remove an entry (a link itself, never its target)."""
        os.unlink(self._at(name), dir_fd=self.fd)
        fsync_directory(self.path if self.fd is None else self.fd)

    def move(self, name: str, target: Folder, target_name: str) -> None:
        """Move an entry (a link itself, never its target) into a folder, replacing what is there."""
        os.replace(self._at(name), target._at(target_name), src_dir_fd=self.fd, dst_dir_fd=target.fd)
        fsync_directory(target.path if target.fd is None else target.fd)


def _open_dir_at(parent: int, name: str) -> int:
    try:
        return os.open(name, _DIR_FLAGS, dir_fd=parent)
    except OSError as exc:
        # O_NOFOLLOW on a link fails with ELOOP, or with ENOTDIR when O_DIRECTORY is given too
        if exc.errno in (errno.ELOOP, errno.ENOTDIR):
            with contextlib.suppress(OSError):
                if stat.S_ISLNK(os.stat(name, dir_fd=parent, follow_symlinks=False).st_mode):
                    raise LinkInTheWay(name) from None
        raise


def _open_beneath(root: str, parts: list[str], create: bool) -> int:
    fd = os.open(root, os.O_RDONLY | _O_DIRECTORY | _O_CLOEXEC)
    try:
        for name in parts:
            try:
                child = _open_dir_at(fd, name)
            except FileNotFoundError:
                if not create:
                    raise
                # mkdir never follows a link; one already there (or a racing mkdir) is met by the open
                with contextlib.suppress(FileExistsError):
                    os.mkdir(name, 0o777, dir_fd=fd)
                child = _open_dir_at(fd, name)
            os.close(fd)
            fd = child
    except BaseException:
        os.close(fd)
        raise
    return fd


def _check_beneath(root: str, parts: list[str], create: bool) -> None:
    path = root
    for name in parts:
        path = os.path.join(path, name)
        try:
            st = os.lstat(path)
        except FileNotFoundError:
            if not create:
                raise
            with contextlib.suppress(FileExistsError):
                os.mkdir(path)
            st = os.lstat(path)
        if stat.S_ISLNK(st.st_mode) or _is_junction(path):
            raise LinkInTheWay(name)
        if not stat.S_ISDIR(st.st_mode):
            raise NotADirectoryError(errno.ENOTDIR, "Not a directory", name)
