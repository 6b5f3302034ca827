"""The contents model: the dictionaries the API returns, and the errors of file operations.

A model has jupyter_server's fields: ``name``, ``path`` (the API path), ``type``
(``file``, ``notebook`` or ``directory``), ``writable``, ``created``,
``last_modified``, ``mimetype``, ``content``, ``format``, ``size``, ``hash`` and
``hash_algorithm``; an invalid notebook adds ``message``.
"""

from __future__ import annotations

import contextlib
import errno
import itertools
import logging
import os
import stat
from collections.abc import Iterator
from typing import Any

from jupyter_core_server import ApiError

from .errors import BadModel, Conflict, NoSuchPath, NotWritable
from .fileio import Located, created_ns, isotime, mimetype, not_found_on

__all__ = ["Model", "empty_notebook", "is_notebook_name", "model_of", "numbered", "os_errors", "read_file"]

log = logging.getLogger("jupyter_core_server.contents")

Model = dict[str, Any]


def model_of(name: str, api_path: str, kind: str, st: os.stat_result, writable: bool) -> Model:
    """The model of one file, notebook or directory, without content."""
    return {
        "name": name,
        "path": api_path,
        "type": kind,
        "writable": writable,
        "created": isotime(created_ns(st)),
        "last_modified": isotime(st.st_mtime_ns),
        "mimetype": mimetype(name) if kind == "file" else None,
        "content": None,
        "format": None,
        "size": None if kind == "directory" else st.st_size,
        "hash": None,
        "hash_algorithm": None,
    }


def located_model(located: Located, st: os.stat_result, kind: str | None = None) -> Model:
    """The model of a located path; its kind from ``st`` and its name unless given."""
    if kind is None:
        kind = "directory" if stat.S_ISDIR(st.st_mode) else "notebook" if is_notebook_name(located.name) else "file"
    return model_of(located.name, located.api_path, kind, st, os.access(located.real_path, os.W_OK))


def is_notebook_name(name: str) -> bool:
    """Whether a file is a notebook by its name (the API's default type)."""
    return name.endswith(".ipynb")


def read_file(path: str) -> tuple[bytes, os.stat_result]:
    """A file's bytes and the ``stat`` of the very file read."""
    with open(path, "rb") as source:
        st = os.fstat(source.fileno())
        return source.read(), st


def empty_notebook() -> dict[str, Any]:
    """A new notebook, as jupyter_server creates it."""
    return {"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}


def numbered(filename: str, insert: str) -> Iterator[str]:
    """Yield ``filename`` then numbered variants (``Untitled1.ipynb``, ``a-Copy1.txt``, ...).

    The number goes before the last dot for notebooks and before the first dot
    otherwise (``data-Copy1.tar.gz``), as jupyter_server names them.
    """
    base, dot, ext = filename.rpartition(".")
    if ext != "ipynb":
        base, dot, ext = filename.partition(".")
    suffix = dot + ext
    for i in itertools.count():
        yield f"{base}{insert}{i}{suffix}" if i else f"{base}{suffix}"


@contextlib.contextmanager
def os_errors(api_path: str) -> Iterator[None]:
    """Turn operating-system errors into API errors that name the API path only."""
    try:
        yield
    except ApiError:
        raise
    except PermissionError:
        raise NotWritable(api_path) from None
    except FileExistsError:
        raise Conflict(f"File already exists: {api_path!r}", "exists") from None
    except OSError as exc:
        if not_found_on(exc):
            raise NoSuchPath(api_path) from None
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            raise ApiError(f"No space left to save {api_path!r}", "no_space", status=507) from None
        if exc.errno == errno.ENAMETOOLONG:
            raise BadModel(f"Name too long for the file system: {api_path!r}", "name_too_long") from None
        if exc.errno in (errno.EISDIR, errno.EINVAL, errno.ENOTEMPTY, errno.EEXIST):
            raise BadModel(f"Cannot do that with {api_path!r}: {exc.strerror}", "invalid_operation") from None
        log.error("File system error on %s: %s", api_path, exc.strerror)
        raise ApiError(f"Unexpected error on {api_path!r}: {exc.strerror}", "os_error", status=500) from None
