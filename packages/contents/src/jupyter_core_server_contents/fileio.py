"""The file system under the contents root: path containment, atomic saves, listings.

Everything here is synchronous and blocking; callers run it in a worker thread.

Containment: an API path is split on ``/``; ``..``, NUL bytes, drive letters and
backslashes (on Windows) are refused outright, then the joined path is resolved with
:func:`os.path.realpath` and must lie under the resolved root according to
:func:`os.path.commonpath` (never a string prefix test, which lets ``/srv/root-sibling``
pass for ``/srv/root``). A path whose links loop is refused as missing.

Both refusals answer exactly as a missing path would, so a client cannot tell a link
leaving the root (or looping) from a name that does not exist; the log says which.
Checkpoints go through :class:`~.folders.Folder` (directories opened beneath the root,
never through a link), so that what was checked is what is written.

Atomic save: the new bytes go to a temporary file in the target's directory, are
flushed and ``fsync``-ed, take the old file's permissions, and are renamed over the
target with :func:`os.replace`; the directory is then ``fsync``-ed. A crash at any
moment leaves the old file or the new one, whole.
"""

from __future__ import annotations

import contextlib
import errno
import fnmatch
import functools
import logging
import mimetypes
import os
import re
import secrets
import shutil
import stat
import sys
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from .errors import NoSuchPath, PathOutsideRoot

__all__ = [
    "COPY_CHUNK",
    "Entry",
    "Located",
    "Root",
    "WriteAccess",
    "atomic_write",
    "complete_and_replace",
    "copy_file",
    "created_ns",
    "fsync_directory",
    "isotime",
    "mimetype",
    "read_chunks",
    "upload_finish",
    "upload_part",
    "upload_path",
    "write_in_place",
]

log = logging.getLogger("jupyter_core_server.contents")

COPY_CHUNK = 1024 * 1024
_WINDOWS = sys.platform == "win32"
_O_BINARY = getattr(os, "O_BINARY", 0)
_O_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_UF_HIDDEN = getattr(stat, "UF_HIDDEN", 0)


@functools.lru_cache(maxsize=4096)
def _second(seconds: int) -> str:
    try:
        return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds))
    except (OverflowError, OSError, ValueError):
        return "1970-01-01T00:00:00"


def isotime(ns: int) -> str:
    """Format a POSIX time in nanoseconds as jupyter_server does: ISO 8601, UTC, ``Z``.

    Microseconds are shown unless zero (like ``datetime.isoformat``). Listings format two
    times per entry, so the date part is memoised per second.
    """
    seconds, rest = divmod(ns, 1_000_000_000)
    micro = rest // 1000
    return f"{_second(seconds)}.{micro:06d}Z" if micro else _second(seconds) + "Z"


def created_ns(st: os.stat_result) -> int:
    """Best-effort creation time: the birth time where the platform has it, else ``st_ctime``."""
    birth = getattr(st, "st_birthtime_ns", None)
    return birth if isinstance(birth, int) and birth >= 0 else st.st_ctime_ns


@functools.lru_cache(maxsize=1024)
def _mimetype_of_suffix(suffix: str) -> str | None:
    return mimetypes.guess_type("x" + suffix)[0]


def mimetype(name: str) -> str | None:
    """The MIME type guessed from a file name (memoised per suffix, as listings need it per entry)."""
    dot = name.rfind(".", 1)
    if dot <= 0:
        return None
    before = name.rfind(".", 1, dot)
    return _mimetype_of_suffix(name[before if before > 0 else dot :])


@dataclass(frozen=True)
class Located:
    """An API path and where it lives on disk.

    ``os_path`` is the root joined with the path's parts: a symbolic link stays a link
    (rename and delete act on it). ``real_path`` has every link resolved and is known to
    lie under the root (reads and saves go there).
    """

    api_path: str
    os_path: str
    real_path: str

    @property
    def name(self) -> str:
        """The last part of the API path (``""`` for the root)."""
        return self.api_path.rpartition("/")[2]

    @property
    def parent(self) -> str:
        """The API path of the containing directory (``""`` at the top)."""
        return self.api_path.rpartition("/")[0]


@dataclass(frozen=True)
class Entry:
    """One listed directory entry: its name, kind and the single ``stat`` made for it."""

    name: str
    kind: str  # "directory" or "file"
    st: os.stat_result


class WriteAccess:
    """Decide "writable" from a ``stat`` result, without an ``access()`` call per entry.

    The permission bits are read for the server's effective user and groups, as the
    kernel does for ordinary files; a read-only mount makes everything unwritable.
    Windows (no uids) falls back to ``os.access``.
    """

    def __init__(self, directory: str) -> None:
        self.uid = os.geteuid() if hasattr(os, "geteuid") else None
        self.groups = set(os.getgroups()) | {os.getegid()} if hasattr(os, "getegid") else set()
        read_only = False
        if hasattr(os, "statvfs"):
            with contextlib.suppress(OSError):
                read_only = bool(os.statvfs(directory).f_flag & os.ST_RDONLY)
        self.read_only = read_only

    def __call__(self, st: os.stat_result, path: str) -> bool:
        if self.read_only:
            return False
        if self.uid is None:
            return os.access(path, os.W_OK)
        if self.uid == 0:
            return True
        mode = st.st_mode
        if st.st_uid == self.uid:
            return bool(mode & stat.S_IWUSR)
        if st.st_gid in self.groups:
            return bool(mode & stat.S_IWGRP)
        return bool(mode & stat.S_IWOTH)


class Root:
    """The contents root: turns API paths into checked disk paths and lists directories."""

    def __init__(self, root_dir: str, *, allow_hidden: bool = False, hide_globs: Iterable[str] = ()) -> None:
        self.path = os.path.realpath(root_dir)
        self.allow_hidden = allow_hidden
        globs = list(hide_globs)
        self._hide = re.compile("|".join(f"(?:{fnmatch.translate(g)})" for g in globs)) if globs else None

    # -- names and paths ---------------------------------------------------------------------

    def glob_hidden(self, name: str) -> bool:
        """Whether ``name`` matches one of ``hide_globs``."""
        return self._hide is not None and self._hide.match(name) is not None

    def hidden_name(self, name: str) -> bool:
        """Whether a single name is hidden: a dot-file or a ``hide_globs`` match."""
        return name.startswith(".") or self.glob_hidden(name)

    def normalize(self, api_path: str) -> str:
        """Return the canonical form of an API path (``a/b``; ``""`` is the root).

        :raises PathOutsideRoot: for ``..``, NUL bytes, drive letters or backslashes.
        """
        if "\0" in api_path:
            raise PathOutsideRoot(api_path.replace("\0", "\\0"))
        parts = []
        for part in api_path.split("/"):
            if part in ("", "."):
                continue
            if part == ".." or (_WINDOWS and ("\\" in part or ":" in part)):
                raise PathOutsideRoot(api_path)
            parts.append(part)
        return "/".join(parts)

    def contains(self, real_path: str) -> bool:
        """Whether a resolved path is the root or lies under it."""
        if real_path == self.path:
            return True
        try:
            return os.path.commonpath([self.path, real_path]) == self.path
        except ValueError:  # different drives on Windows
            return False

    def locate(self, api_path: str, *, quiet: bool = False) -> Located:
        """Resolve an API path; the file need not exist.

        A refusal is logged (the API path only) unless ``quiet``, for callers that log
        their own way.

        :raises PathOutsideRoot: when the path, once links are resolved, leaves the root.
        :raises NoSuchPath: when resolving the path meets links in a loop.
        """
        try:
            clean = self.normalize(api_path)
        except PathOutsideRoot:
            if not quiet:
                log.info("Refusing %r: not a path inside the contents root", api_path)
            raise
        os_path = os.path.join(self.path, *clean.split("/")) if clean else self.path
        real_path = os.path.realpath(os_path)
        if not self.contains(real_path):
            if not quiet:
                log.info("Refusing %r: it resolves outside the contents root", clean)
            raise PathOutsideRoot(clean)
        if _loops(real_path):
            if not quiet:
                log.info("Refusing %r: its symbolic links loop", clean)
            raise NoSuchPath(clean)
        return Located(clean, os_path, real_path)

    def api_path(self, real_path: str) -> str:
        """The API path of a resolved path under the root."""
        relative = os.path.relpath(real_path, self.path)
        return "" if relative == "." else relative.replace(os.sep, "/")

    def is_hidden(self, located: Located, st: os.stat_result | None = None) -> bool:
        """Whether a path is hidden, by its own parts and by the parts it resolves to."""
        if self.allow_hidden:
            return False
        if located.api_path and any(self.hidden_name(p) for p in located.api_path.split("/")):
            return True
        if located.real_path != located.os_path:
            real_api = self.api_path(located.real_path)
            if real_api and any(p.startswith(".") for p in real_api.split("/")):
                return True
        return bool(st is not None and getattr(st, "st_flags", 0) & _UF_HIDDEN)

    # -- listing -----------------------------------------------------------------------------

    def scan(self, located: Located) -> Iterator[tuple[str, os.DirEntry[str]]]:
        """Yield ``(name, entry)`` of a directory's visible entries, with no ``stat`` yet.

        Hidden names (unless ``allow_hidden``) and ``hide_globs`` matches are left out.
        """
        with os.scandir(located.real_path) as entries:
            for entry in entries:
                name = entry.name
                if self.glob_hidden(name) or (not self.allow_hidden and name.startswith(".")):
                    continue
                yield name, entry

    def entry(self, entry: os.DirEntry[str]) -> Entry | None:
        """``stat`` one scanned entry (following links) and classify it; ``None`` to skip it.

        Skipped: broken links, links leaving the root, anything unreadable, and anything
        that is neither a regular file nor a directory (sockets, devices, pipes).
        """
        try:
            st = entry.stat()
            if entry.is_symlink():
                target = os.path.realpath(entry.path)
                if not self.contains(target):
                    return None
                if not self.allow_hidden and any(p.startswith(".") for p in self.api_path(target).split("/")):
                    return None
        except OSError:
            return None
        if not self.allow_hidden and getattr(st, "st_flags", 0) & _UF_HIDDEN:
            return None
        mode = st.st_mode
        if stat.S_ISDIR(mode):
            return Entry(entry.name, "directory", st)
        if stat.S_ISREG(mode):
            return Entry(entry.name, "file", st)
        return None


# -- reading and writing ------------------------------------------------------------------------


def read_chunks(path: str, size: int = COPY_CHUNK) -> Iterator[bytes]:
    """Yield a file's bytes in pieces."""
    with open(path, "rb") as source:
        while block := source.read(size):
            yield block


def fsync_directory(directory: str | int) -> None:
    """Make a rename in a directory (a path or an open descriptor) durable.

    Not possible (nor needed) on Windows; some file systems refuse it, which is ignored.
    """
    if _WINDOWS:
        return
    fd = directory if isinstance(directory, int) else os.open(directory, os.O_RDONLY | _O_CLOEXEC)
    try:
        os.fsync(fd)
    except OSError as exc:
        if exc.errno not in (errno.EINVAL, errno.EBADF, errno.ENOTSUP):
            raise
    finally:
        if fd is not directory:
            os.close(fd)


def _keep_owner_and_mode(fd: int, old: os.stat_result | None) -> None:
    if old is None:
        return
    with contextlib.suppress(OSError, AttributeError):
        os.fchown(fd, old.st_uid, old.st_gid)  # type: ignore[attr-defined,unused-ignore]
    if hasattr(os, "fchmod"):  # not on Windows, where the mode is mostly the read-only flag
        os.fchmod(fd, stat.S_IMODE(old.st_mode))


def _write_all(fd: int, data: bytes | memoryview) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def _temp_name(real_path: str, tag: str) -> str:
    directory, name = os.path.split(real_path)
    # a dot-name: hidden from listings and from frontends' file browsers
    return os.path.join(directory, f".~{name}.{tag}")


def atomic_write(real_path: str, chunks: Iterable[bytes | memoryview], *, atomic: bool = True) -> os.stat_result:
    """Replace ``real_path`` with the given bytes, atomically; return the new file's ``stat``.

    The temporary file is created next to the target (a rename cannot cross file
    systems), takes the old file's mode and, where allowed, its owner and group. When the
    directory refuses new files but the file itself is writable, the file is
    overwritten in place instead (the only way to save there), as with ``atomic=False``.
    """
    try:
        old: os.stat_result | None = os.stat(real_path)
    except FileNotFoundError:
        old = None
    if old is not None and not os.access(real_path, os.W_OK):
        raise PermissionError(errno.EACCES, "file is not writable")
    if not atomic:
        return write_in_place(real_path, chunks)
    temp = _temp_name(real_path, f"{secrets.token_hex(4)}.tmp")
    try:
        # 0o666 lets the umask decide a new file's mode; an existing file's is copied below
        fd = os.open(
            temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _O_BINARY | _O_CLOEXEC, 0o666 if old is None else 0o600
        )
    except PermissionError:
        if old is not None:
            return write_in_place(real_path, chunks)
        raise
    return complete_and_replace(fd, temp, real_path, chunks, old)


def complete_and_replace(
    fd: int,
    temp: str,
    real_path: str,
    chunks: Iterable[bytes | memoryview],
    old: os.stat_result | None,
    dir_fd: int | None = None,
) -> os.stat_result:
    """Write ``chunks`` to the open ``temp``, make it durable and move it over ``real_path``.

    ``temp`` takes the old file's owner and mode; on any failure it is removed and the
    target is left as it was. With ``dir_fd``, both names are relative to that directory.
    """
    try:
        try:
            for chunk in chunks:
                _write_all(fd, chunk)
            _keep_owner_and_mode(fd, old)
            os.fsync(fd)
            result = os.fstat(fd)
        finally:
            os.close(fd)
        os.replace(temp, real_path, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp, dir_fd=dir_fd)
        raise
    fsync_directory(os.path.dirname(real_path) if dir_fd is None else dir_fd)
    return result


def write_in_place(
    real_path: str, chunks: Iterable[bytes | memoryview], dir_fd: int | None = None, flags: int = 0
) -> os.stat_result:
    """Overwrite a file with the given bytes (not atomic: a crash can leave it truncated)."""
    fd = os.open(
        real_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | _O_BINARY | _O_CLOEXEC | flags, 0o666, dir_fd=dir_fd
    )
    try:
        for chunk in chunks:
            _write_all(fd, chunk)
        os.fsync(fd)
        return os.fstat(fd)
    finally:
        os.close(fd)


def upload_path(real_path: str) -> str:
    """Where the chunks of an upload to ``real_path`` collect until the last one."""
    return _temp_name(real_path, "upload")


def upload_part(real_path: str, data: bytes, *, first: bool) -> os.stat_result:
    """Add one chunk of a chunked upload to its hidden part file (the target is untouched).

    :raises FileNotFoundError: for a later chunk when no upload is in progress.
    """
    flags = os.O_WRONLY | _O_BINARY | _O_CLOEXEC | (os.O_CREAT | os.O_TRUNC if first else os.O_APPEND)
    # 0o666: the umask decides, as for a new file; an existing file's mode is copied at the end
    fd = os.open(upload_path(real_path), flags, 0o666)
    try:
        _write_all(fd, data)
        return os.fstat(fd)
    finally:
        os.close(fd)


def upload_finish(real_path: str, data: bytes) -> os.stat_result:
    """Append the last chunk and move the whole upload over the target, atomically.

    Without an upload in progress, ``data`` is the whole file.
    """
    part = upload_path(real_path)
    try:
        old: os.stat_result | None = os.stat(real_path)
    except FileNotFoundError:
        old = None
    try:
        fd = os.open(part, os.O_WRONLY | os.O_APPEND | _O_BINARY | _O_CLOEXEC)
    except FileNotFoundError:
        return atomic_write(real_path, [data])
    return complete_and_replace(fd, part, real_path, [data], old)


def copy_file(source: str, target: str, *, atomic: bool = True) -> os.stat_result:
    """Copy a file's bytes to ``target`` through :func:`atomic_write`."""
    return atomic_write(target, read_chunks(source), atomic=atomic)


def copy_tree(source: str, target: str) -> None:
    """Copy a directory tree to a new ``target`` (which must not exist)."""
    shutil.copytree(source, target, symlinks=True)


def tree_size(path: str, limit: int) -> int:
    """Total size of the files under ``path``, stopping once past ``limit`` bytes."""
    total = 0
    for directory, _dirs, files in os.walk(path):
        for name in files:
            with contextlib.suppress(OSError):
                total += os.lstat(os.path.join(directory, name)).st_size
            if total > limit:
                return total
    return total


def not_found_on(exc: OSError) -> bool:
    """Whether an ``OSError`` means the path does not exist (a link loop counts as missing)."""
    return exc.errno in (errno.ENOENT, errno.ENOTDIR, errno.ELOOP)


def _loops(real_path: str) -> bool:
    # realpath() gives up quietly on a loop and leaves the looping link in its result;
    # anything it resolved has no link left in it.
    try:
        return stat.S_ISLNK(os.lstat(real_path).st_mode)
    except OSError as exc:
        return exc.errno == errno.ELOOP


def require(located: Located) -> os.stat_result:
    """``stat`` a located path (links followed) or raise :class:`NoSuchPath`."""
    try:
        return os.stat(located.real_path)
    except OSError as exc:
        if not_found_on(exc):
            raise NoSuchPath(located.api_path) from None
        raise
