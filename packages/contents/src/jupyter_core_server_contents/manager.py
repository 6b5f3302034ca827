"""Contents models and operations: what ``/api/contents`` does, without any HTTP.

Every public method of :class:`ContentsService` is a coroutine that makes one hop to a
worker thread and does all of its file I/O there (``stat``, reads, writes, hashing,
notebook parsing), so a slow disk never stalls the event loop and the kernels'
websockets on it. Models have jupyter_server's fields and semantics.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import logging
import os
import re
import shutil
import stat
import threading
from collections.abc import Awaitable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from jupyter_core.paths import jupyter_data_dir
from jupyter_core_server import ApiError

from . import notebooks
from .checkpoints import CheckpointModel, Checkpoints, load_checkpoints
from .config import ContentsManager
from .errors import BadModel, CheckpointRefused, Conflict, HiddenPath, HiddenWrite, NoSuchPath, NotWritable
from .fileio import (
    Located,
    Root,
    atomic_write,
    copy_file,
    copy_tree,
    isotime,
    read_chunks,
    require,
    tree_size,
    upload_finish,
    upload_part,
)
from .listing import directory_model
from .models import Model, empty_notebook, is_notebook_name, located_model, model_of, numbered, os_errors, read_file
from .saving import Precondition, check_precondition, complete_model, decode_content, run_post_save, run_pre_save

if TYPE_CHECKING:
    from nbformat.sign import NotebookNotary

__all__ = ["ContentsService", "Model", "Precondition"]

log = logging.getLogger("jupyter_core_server.contents")

_COPY_NAME = re.compile(r"\-Copy\d*\.")
_LOCK_STRIPES = 64


class ContentsService:
    """Files, notebooks and directories under one root, as the contents API models them.

    :param settings: The ``ContentsManager`` configurable holding every option.
    :param checkpoints: A checkpoint store; by default the one ``settings.checkpoints`` names.
    """

    def __init__(self, settings: ContentsManager, checkpoints: Checkpoints | None = None) -> None:
        self.settings = settings
        self.root = Root(settings.root_dir, allow_hidden=settings.allow_hidden, hide_globs=settings.hide_globs)
        self.checkpoints = checkpoints or load_checkpoints(settings.checkpoints)(self.root, parent=settings)
        self.notary = notebooks.Notary(self._make_notary)
        self.facts = notebooks.FactCache()
        self.valid_cells = notebooks.ValidCells()
        self._io = ThreadPoolExecutor(4, thread_name_prefix="contents-io")
        self._locks = [threading.Lock() for _ in range(_LOCK_STRIPES)]

    def _make_notary(self) -> NotebookNotary:
        from nbformat.sign import NotebookNotary  # nbformat is imported on first use

        # nbformat's own default for data_dir starts a whole JupyterApp; name the directory here
        section = self.settings.config.get("NotebookNotary", {})
        data_dir = str(section["data_dir"]) if "data_dir" in section else jupyter_data_dir()
        try:
            os.makedirs(data_dir, exist_ok=True)
            notary = NotebookNotary(parent=self.settings, data_dir=data_dir)
            _ = notary.secret, notary.store
        except OSError as exc:
            log.warning(
                "Cannot keep notebook signatures in %s (%s); trust lasts until the server stops.", data_dir, exc
            )
            notary = NotebookNotary(parent=self.settings, data_dir=data_dir, db_file=":memory:", secret=os.urandom(32))
        return notary

    def close(self) -> None:
        """Release the signature store and the I/O threads."""
        self.notary.close()
        self._io.shutdown(wait=True)

    def _lock(self, located: Located) -> threading.Lock:
        # Saves of one file are serialised within this server (a conditional save checks
        # and writes under the lock); different files rarely share a stripe.
        return self._locks[hash(located.real_path) % _LOCK_STRIPES]

    # -- models --------------------------------------------------------------------------------

    def _hash_file(self, path: str) -> str:
        digest = hashlib.new(self.settings.hash_algorithm)
        for block in read_chunks(path):
            digest.update(block)
        return digest.hexdigest()

    # -- reading -------------------------------------------------------------------------------

    async def get(
        self,
        path: str,
        *,
        type: str | None = None,
        format: str | None = None,
        content: bool = True,
        require_hash: bool = False,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> Model:
        """Return the model of a file, notebook or directory.

        :param type: ``file``, ``notebook`` or ``directory`` to insist on a kind (400 if the
            path is not a directory when ``directory`` is asked, or is one otherwise);
            ``notebook`` reads any file as a notebook, ``file`` reads a notebook as text.
        :param format: ``text`` or ``base64`` for file content; by default text when the
            file is UTF-8 and base64 otherwise.
        :param content: Include the content (a directory's listing).
        :param require_hash: Include ``hash`` and ``hash_algorithm`` of files and notebooks.
        :param limit: Return at most this many directory entries, in name order (pagination).
        :param cursor: Continue a paginated listing after the page that returned it.
        """
        return await asyncio.to_thread(self._get, path, type, format, content, require_hash, limit, cursor)

    def _get(
        self,
        path: str,
        kind: str | None,
        fmt: str | None,
        content: bool,
        require_hash: bool,
        limit: int | None,
        cursor: str | None,
    ) -> Model:
        located = self.root.locate(path)
        with os_errors(located.api_path):
            st = require(located)
            if self.root.is_hidden(located, st):
                log.info("Refusing to serve hidden path %s", located.api_path)
                raise HiddenPath(located.api_path)
            if stat.S_ISDIR(st.st_mode):
                if kind not in (None, "directory"):
                    raise BadModel(f"{located.api_path!r} is a directory, not a {kind}", "bad_type")
                return directory_model(self.root, located, st, content, limit, cursor)
            if not stat.S_ISREG(st.st_mode):
                raise NoSuchPath(located.api_path)
            if kind == "directory":
                raise BadModel(f"{located.api_path!r} is not a directory", "bad_type")
            if kind == "notebook" or (kind is None and is_notebook_name(located.name)):
                return self._notebook(located, st, content, require_hash)
            return self._file(located, st, fmt, content, require_hash)

    def _known_hash(self, st: os.stat_result, data: bytes) -> dict[str, str]:
        """The hash fields of a file version: remembered, or computed from ``data``."""
        key = notebooks.file_key(st)
        known = self.facts.get(key).get("hash")
        if known is None:
            known = hashlib.new(self.settings.hash_algorithm, data).hexdigest()
            self.facts.put(key, hash=known)
        return {"hash": known, "hash_algorithm": self.settings.hash_algorithm}

    def _read(
        self, located: Located, st: os.stat_result, kind: str, content: bool, require_hash: bool
    ) -> tuple[Model, bytes | None, os.stat_result]:
        """The model without content, plus the file's bytes and fresh ``stat`` when content is wanted."""
        model = located_model(located, st, kind)
        if not content:
            if require_hash:
                model.update(self._hash_of(located, st))
            return model, None, st
        data, st = read_file(located.real_path)
        model.update(size=st.st_size, last_modified=isotime(st.st_mtime_ns))
        if require_hash:
            model.update(self._known_hash(st, data))
        return model, data, st

    def _file(self, located: Located, st: os.stat_result, fmt: str | None, content: bool, require_hash: bool) -> Model:
        model, data, st = self._read(located, st, "file", content, require_hash)
        if data is None:
            return model
        text: str | None = None
        if fmt in (None, "text"):
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError:
                if fmt == "text":
                    raise BadModel(f"{located.api_path!r} is not UTF-8 encoded", "bad_format") from None
        if text is not None:
            model.update(content=text, format="text", mimetype=model["mimetype"] or "text/plain")
        else:
            encoded = base64.encodebytes(data).decode("ascii")
            model.update(content=encoded, format="base64", mimetype=model["mimetype"] or "application/octet-stream")
        return model

    def _hash_of(self, located: Located, st: os.stat_result) -> dict[str, str]:
        """Hash fields without the content: remembered for this version, or read and hashed."""
        known = self.facts.get(notebooks.file_key(st)).get("hash")
        if known is not None:
            return {"hash": known, "hash_algorithm": self.settings.hash_algorithm}
        data, st = read_file(located.real_path)
        return self._known_hash(st, data)

    def _notebook(self, located: Located, st: os.stat_result, content: bool, require_hash: bool) -> Model:
        model, data, st = self._read(located, st, "notebook", content, require_hash)
        if data is None:
            return model
        nb = notebooks.from_disk(data)
        key = notebooks.file_key(st)
        facts = self.facts.get(key)
        if "message" not in facts:
            facts["message"] = notebooks.validation_message(nb)
            self.facts.put(key, message=facts["message"])
        if "digest" not in facts:
            facts["digest"] = self.notary.digest(nb)
            self.facts.put(key, digest=facts["digest"])
        notebooks.mark_cells(nb, self.notary.is_signed(*facts["digest"]))
        model.update(content=nb, format="json")
        if facts["message"]:
            model["message"] = facts["message"]
        return model

    async def is_file(self, path: str) -> bool:
        """Whether ``path`` names an existing file (not a directory)."""
        return await asyncio.to_thread(lambda: os.path.isfile(self.root.locate(path).real_path))

    # -- saving --------------------------------------------------------------------------------

    async def save(self, path: str, model: Model, precondition: Precondition | None = None) -> tuple[Model, bool]:
        """Save (or create) a file, notebook or directory; return its model and whether it is new.

        ``model`` has ``type`` and, except for directories, ``content`` (and ``format``
        for files). A ``chunk`` (1, 2, ..., -1 for the last) makes it one part of a
        chunked upload: the parts collect in a hidden file that replaces the target only
        when the last arrives. The returned model has no content but the new ``hash``.

        :raises FileChanged: when ``precondition`` does not hold for the file on disk.
        """
        saved, created = await asyncio.to_thread(self._save, path, model, precondition or Precondition())
        await self._first_checkpoint(saved)
        return saved, created

    async def _first_checkpoint(self, model: Model) -> None:
        # One checkpoint always exists for a notebook, as in jupyter_server. The file is
        # saved already: a checkpoint that cannot be made is logged, and the save stands.
        if model["type"] != "notebook":
            return
        try:
            if not await self.checkpoints.list_checkpoints(model["path"]):
                await self.checkpoints.create_checkpoint(model["path"])
        except CheckpointRefused:
            log.debug("Saved %r without its first checkpoint (refused)", model["path"])
        except (ApiError, OSError) as exc:
            log.warning("Saved %r without its first checkpoint: %s", model["path"], exc)

    async def _follow(self, change: Awaitable[None], what: str) -> None:
        """Move or delete checkpoints after the file itself was: a failure is logged, not raised."""
        try:
            await change
        except CheckpointRefused:
            log.debug("Left the checkpoints of %r alone (refused)", what)
        except (ApiError, OSError) as exc:
            log.warning("Could not update the checkpoints of %r: %s", what, exc)

    def _save(self, path: str, model: Model, precondition: Precondition) -> tuple[Model, bool]:
        located = self.root.locate(path)
        if not located.api_path:
            raise BadModel("Cannot save over the root directory", "root")
        if not isinstance(model, dict):
            raise BadModel("The model must be a JSON object")
        if self.root.is_hidden(located):
            raise HiddenWrite(located.api_path)
        with self._lock(located), os_errors(located.api_path):
            try:
                old: os.stat_result | None = os.stat(located.real_path)
            except FileNotFoundError:
                old = None
            kind = complete_model(located, model, creating=old is None)
            if old is not None and stat.S_ISDIR(old.st_mode) and kind != "directory":
                raise BadModel(f"{located.api_path!r} is a directory", "bad_type")
            if precondition:
                check_precondition(located, old, precondition, self._hash_file)
            if not os.path.isdir(os.path.dirname(located.real_path)):
                raise NoSuchPath(located.parent, "directory")
            chunk = model.get("chunk")
            if chunk is not None:
                return self._save_chunk(located, model, kind, chunk), old is None
            run_pre_save(self.settings, model, located.api_path)
            if kind == "directory":
                if old is None:
                    os.mkdir(located.real_path)
                saved = located_model(located, os.stat(located.real_path), "directory")
            elif kind == "notebook":
                saved = self._save_notebook(located, model.get("content"))
            else:
                data = decode_content(located, model.get("content"), model.get("format"))
                atomic_write(located.real_path, [data], atomic=self.settings.use_atomic_writing)
                st = os.stat(located.real_path)
                saved = located_model(located, st, "file")
                saved.update(self._known_hash(st, data))
            run_post_save(self.settings, saved, located)
            return saved, old is None

    def _save_notebook(self, located: Located, content: Any) -> Model:
        nb = notebooks.from_client(content)
        trusted = notebooks.check_cells(nb)
        notebooks.strip_transient(nb)
        data, message = notebooks.serialize(nb, self.valid_cells)
        # The write, its fsync and the hash do not hold the GIL: they run in other threads
        # while this one computes the signature digest (the next read needs it).
        writing = self._io.submit(atomic_write, located.real_path, [data], atomic=self.settings.use_atomic_writing)
        hashing = self._io.submit(lambda: hashlib.new(self.settings.hash_algorithm, data).hexdigest())
        try:
            digest = self.notary.digest(nb)
        finally:
            written = writing.result()
            file_hash = hashing.result()
        if trusted:
            self.notary.sign(*digest)
        self.facts.put(notebooks.file_key(written), message=message, hash=file_hash, digest=digest)
        saved = located_model(located, os.stat(located.real_path), "notebook")
        saved.update(hash=file_hash, hash_algorithm=self.settings.hash_algorithm)
        if message:
            saved["message"] = message
        return saved

    def _save_chunk(self, located: Located, model: Model, kind: str, chunk: Any) -> Model:
        if kind != "file":
            raise BadModel(f'File type "{kind}" is not supported for chunked upload', "bad_type")
        if not isinstance(chunk, int) or isinstance(chunk, bool) or chunk == 0 or chunk < -1:
            raise BadModel(f"chunk must be 1, 2, ... or -1 for the last, not {chunk!r}", "bad_chunk")
        data = decode_content(located, model.get("content"), model.get("format"))
        if chunk == 1:
            run_pre_save(self.settings, model, located.api_path)
        if chunk == -1:
            st = upload_finish(located.real_path, data)
            saved = located_model(located, os.stat(located.real_path), "file")
            saved.update(hash=self._hash_file(located.real_path), hash_algorithm=self.settings.hash_algorithm)
            run_post_save(self.settings, saved, located)
            return saved
        try:
            st = upload_part(located.real_path, data, first=chunk == 1)
        except FileNotFoundError:
            raise BadModel(
                f"Chunk {chunk} of {located.api_path!r} arrived with no upload in progress; chunk 1 starts one",
                "no_upload",
            ) from None
        return model_of(located.name, located.api_path, "file", st, True)

    # -- creating, copying, renaming, deleting ---------------------------------------------------

    async def new_untitled(self, directory: str, type: str = "", ext: str = "") -> Model:
        """Create an untitled file, notebook or directory in ``directory`` (jupyter_server's names)."""
        model = await asyncio.to_thread(self._new_untitled, directory, type, ext)
        await self._first_checkpoint(model)
        return model

    def _new_untitled(self, directory: str, kind: str, ext: str) -> Model:
        located = self.root.locate(directory)
        with os_errors(located.api_path):
            if not os.path.isdir(located.real_path):
                raise NoSuchPath(located.api_path, "directory")
            if self.root.is_hidden(located):
                raise HiddenWrite(located.api_path)
            kind = kind or ("notebook" if ext == ".ipynb" else "file")
            if kind == "directory":
                base, insert = self.settings.untitled_directory, " "
            elif kind == "notebook":
                base, insert, ext = self.settings.untitled_notebook, "", ".ipynb"
            elif kind == "file":
                base, insert = self.settings.untitled_file, ""
            else:
                raise BadModel(f"Unexpected model type: {kind!r}", "bad_type")
            data = notebooks.to_disk(empty_notebook()) if kind == "notebook" else b""
            for name in numbered(base + ext, insert):
                target = self.root.locate(f"{located.api_path}/{name}")
                try:
                    _create_exclusive(target.real_path, kind, data)
                except FileExistsError:
                    continue
                return located_model(target, os.stat(target.real_path), kind)
        raise AssertionError("unreachable")  # pragma: no cover

    async def copy(self, from_path: str, to_path: str | None) -> Model:
        """Copy a file or directory; into ``to_path`` when it is a directory (with a ``-Copy`` name)."""
        model = await asyncio.to_thread(self._copy, from_path, to_path)
        await self._first_checkpoint(model)
        return model

    def _copy(self, from_path: str, to_path: str | None) -> Model:
        source = self.root.locate(from_path)
        with os_errors(source.api_path):
            st = require(source)
            if self.root.is_hidden(source, st):
                raise HiddenPath(source.api_path)
            destination = self.root.locate(source.parent if to_path is None else to_path)
            if os.path.isdir(destination.real_path):
                name = _COPY_NAME.sub(".", source.name)
                existing = set(os.listdir(destination.real_path))
                name = next(n for n in numbered(name, "-Copy") if n not in existing)
                target = self.root.locate(f"{destination.api_path}/{name}")
            elif to_path is None:
                raise NoSuchPath(destination.api_path, "directory")
            else:
                if not os.path.isdir(os.path.dirname(destination.real_path)):
                    raise NoSuchPath(destination.parent, "directory")
                target = destination
            if self.root.is_hidden(target):
                raise HiddenWrite(target.api_path)
        with self._lock(target), os_errors(target.api_path):
            if os.path.lexists(target.real_path):
                raise Conflict(f"File already exists: {target.api_path!r}", "exists")
            if stat.S_ISDIR(st.st_mode):
                limit = self.settings.max_copy_folder_size_mb * 1024 * 1024
                if tree_size(source.real_path, limit) > limit:
                    raise BadModel(
                        f"Can't copy folders larger than {self.settings.max_copy_folder_size_mb}MB: "
                        f"{source.api_path!r}",
                        "too_large",
                    )
                copy_tree(source.real_path, target.real_path)
            else:
                copy_file(source.real_path, target.real_path, atomic=self.settings.use_atomic_writing)
            return located_model(target, os.stat(target.real_path))

    async def rename(self, old_path: str, new_path: str) -> Model:
        """Rename or move a file or directory (and its checkpoints); 409 if the target exists."""
        model, moved = await asyncio.to_thread(self._rename, old_path, new_path)
        if moved:
            await self._follow(self.checkpoints.rename_all_checkpoints(old_path, model["path"]), old_path)
        return model

    def _rename(self, old_path: str, new_path: str) -> tuple[Model, bool]:
        old, new = self.root.locate(old_path), self.root.locate(new_path)
        if not old.api_path or not new.api_path:
            raise BadModel("Cannot rename the root directory", "root")
        if self.root.is_hidden(old) or self.root.is_hidden(new):
            raise HiddenWrite(old.api_path if self.root.is_hidden(old) else new.api_path)
        with os_errors(old.api_path):
            os.lstat(old.os_path)
            if old.api_path == new.api_path:
                return located_model(new, require(new)), False
            if os.path.lexists(new.real_path) and not os.path.samefile(old.os_path, new.real_path):
                raise Conflict(f"File already exists: {new.api_path!r}", "exists")
            if not os.path.isdir(os.path.dirname(new.real_path)):
                raise NoSuchPath(new.parent, "directory")
            shutil.move(old.os_path, new.real_path)
            moved = self.root.locate(new.api_path)
            return located_model(moved, require(moved)), True

    async def delete(self, path: str) -> None:
        """Delete a file or directory (to the trash when configured) and its checkpoints."""
        located = await asyncio.to_thread(self._delete, path)
        await self._follow(self.checkpoints.delete_all_checkpoints(located.api_path), located.api_path)

    def _delete(self, path: str) -> Located:
        located = self.root.locate(path)
        if not located.api_path:
            raise BadModel("Cannot delete the root directory", "root")
        if self.root.is_hidden(located):
            raise HiddenWrite(located.api_path)
        with os_errors(located.api_path):
            st = os.lstat(located.os_path)
            is_dir = stat.S_ISDIR(st.st_mode)
            if self.settings.delete_to_trash:
                from send2trash import send2trash  # type: ignore[import-untyped,unused-ignore]  # imported on first use

                if not os.access(located.os_path, os.W_OK, follow_symlinks=False):
                    raise NotWritable(located.api_path)
                try:
                    send2trash(located.os_path)
                except OSError as exc:
                    raise BadModel(f"Could not send {located.api_path!r} to the trash: {exc}", "trash_failed") from None
                return located
            if is_dir:
                checkpoint_dir = str(getattr(self.checkpoints, "checkpoint_dir", "")).partition("/")[0]
                if not self.settings.always_delete_dir and set(os.listdir(located.os_path)) - {checkpoint_dir}:
                    raise BadModel(f"Directory {located.api_path!r} is not empty", "not_empty")
                shutil.rmtree(located.os_path)
            else:
                os.unlink(located.os_path)
        return located

    # -- trust and checkpoints -----------------------------------------------------------------

    async def trust(self, path: str) -> None:
        """Sign a notebook, so that its output is trusted in frontends."""
        await asyncio.to_thread(self._trust, path)

    def _trust(self, path: str) -> None:
        located = self.root.locate(path)
        with os_errors(located.api_path):
            st = require(located)
            if self.root.is_hidden(located, st):
                raise HiddenPath(located.api_path)
            if not stat.S_ISREG(st.st_mode):
                raise NoSuchPath(located.api_path, "notebook")
            data, st = read_file(located.real_path)
        nb = notebooks.from_disk(data)
        digest = self.notary.digest(nb)
        self.notary.sign(*digest)
        self.facts.put(notebooks.file_key(st), digest=digest)
        log.warning("Trusting notebook %s", located.api_path)

    async def checked(self, path: str, *, write: bool) -> str:
        """Check that a path may be used for checkpoints; return its canonical API path.

        The path must exist: a checkpoint route on a missing path (or one leaving the
        root, which answers the same) is 404.
        """
        return await asyncio.to_thread(self._checked, path, write)

    def _checked(self, path: str, write: bool) -> str:
        located = self.root.locate(path)
        with os_errors(located.api_path):
            st = require(located)
        if self.root.is_hidden(located, st):
            raise HiddenWrite(located.api_path) if write else HiddenPath(located.api_path)
        return located.api_path

    async def create_checkpoint(self, path: str) -> CheckpointModel:
        """Checkpoint a file's current state."""
        return await self.checkpoints.create_checkpoint(await self.checked(path, write=True))

    async def list_checkpoints(self, path: str) -> list[CheckpointModel]:
        """List a file's checkpoints."""
        return await self.checkpoints.list_checkpoints(await self.checked(path, write=False))

    async def restore_checkpoint(self, checkpoint_id: str, path: str) -> None:
        """Put a file back in a checkpoint's state."""
        await self.checkpoints.restore_checkpoint(checkpoint_id, await self.checked(path, write=True))

    async def delete_checkpoint(self, checkpoint_id: str, path: str) -> None:
        """Delete a checkpoint."""
        await self.checkpoints.delete_checkpoint(checkpoint_id, await self.checked(path, write=True))

    # -- kernels -------------------------------------------------------------------------------

    @staticmethod
    def kernel_cwd_for(settings: ContentsManager, path: str) -> str:
        """The directory a kernel for ``path`` starts in: the document's folder under the root.

        A directory path is used as it is; a path outside the root (or a missing folder)
        gives the root itself.
        """
        root = Root(settings.root_dir, allow_hidden=True)
        try:
            located = root.locate(path)
            if os.path.isdir(located.real_path):
                return located.real_path
            folder = root.locate(located.parent)
        except ApiError:
            return root.path
        return folder.real_path if os.path.isdir(folder.real_path) else root.path


# -- helpers --------------------------------------------------------------------------------------


def _create_exclusive(path: str, kind: str, data: bytes) -> None:
    """Create a new file or directory, failing with ``FileExistsError`` if the name is taken."""
    if kind == "directory":
        os.mkdir(path)
        return
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
