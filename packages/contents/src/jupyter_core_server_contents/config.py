"""``ContentsManager``: every setting of the contents service, with jupyter_server's names.

The option names are those of jupyter_server's ``ContentsManager`` and
``FileContentsManager`` (``root_dir``, ``allow_hidden``, ``hide_globs``,
``delete_to_trash``, ``pre_save_hook`` ...), so a configuration moves over one name at
a time. The checkpoint store is chosen by name (an entry point) instead of a class
trait: see :attr:`ContentsManager.checkpoints`.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from typing import Any

from traitlets import Any as AnyTrait
from traitlets import Bool, Enum, Integer, List, TraitError, Unicode, default, validate
from traitlets.config import LoggingConfigurable
from traitlets.utils.importstring import import_item

__all__ = ["DEFAULT_HIDE_GLOBS", "ContentsManager", "SaveHook"]

DEFAULT_HIDE_GLOBS = ["__pycache__", "*.pyc", "*.pyo", ".DS_Store", "*~"]

SaveHook = Callable[..., Any]


def _callable_or_import(value: Any, name: str) -> SaveHook | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = import_item(value)
    if not callable(value):
        raise TraitError(f"{name} must be a callable or the import string of one, not {value!r}")
    return value  # type: ignore[no-any-return]


class ContentsManager(LoggingConfigurable):
    """Settings of the contents service (``/api/contents`` and ``/files``)."""

    root_dir = Unicode(
        help="""Directory served as the root of the contents API.

        Defaults to the server's ``CoreServerApp.root_dir``. Nothing outside it is ever
        read or written: not through ``..``, absolute paths or symbolic links.""",
    ).tag(config=True)

    @default("root_dir")
    def _root_dir_default(self) -> str:
        parent_root = getattr(self.parent, "root_dir", None)
        return str(parent_root) if parent_root else os.getcwd()

    @validate("root_dir")
    def _valid_root_dir(self, proposal: Any) -> str:
        path = os.path.realpath(os.path.expanduser(str(proposal["value"])))
        if not os.path.isdir(path):
            raise TraitError(f"ContentsManager.root_dir {str(proposal['value'])!r} is not a directory")
        return path

    allow_hidden = Bool(
        False,
        help="""Serve and change hidden files and directories.

        Hidden means a name starting with ``.`` (or carrying the hidden flag) anywhere in
        the path, or a name matching ``hide_globs``. When off, reading one answers 404 and
        changing one answers 403.""",
    ).tag(config=True)

    hide_globs = List(
        Unicode(),
        DEFAULT_HIDE_GLOBS,
        help="""Glob patterns of names left out of directory listings, such as ``*.pyc``.

        They are also refused like hidden files unless ``allow_hidden`` is on.""",
    ).tag(config=True)

    delete_to_trash = Bool(
        True,
        help="""Send deleted files and directories to the platform's trash, where they can be
        recovered, instead of deleting them for good.""",
    ).tag(config=True)

    always_delete_dir = Bool(
        False,
        help="""Allow deleting a non-empty directory for good when ``delete_to_trash`` is off.

        A directory holding only checkpoints counts as empty.""",
    ).tag(config=True)

    use_atomic_writing = Bool(
        True,
        help="""Save through a temporary file in the same directory, flushed to disk and
        renamed over the target, so a crash leaves the old file or the new one, whole.

        Turn off only for file systems that cannot rename over an existing file; saves
        then overwrite the file in place and a crash can leave it truncated.""",
    ).tag(config=True)

    hash_algorithm = Enum(
        sorted(hashlib.algorithms_guaranteed),
        "sha256",
        help="Hash algorithm of the ``hash`` field of models (any of :mod:`hashlib`'s guaranteed algorithms).",
    ).tag(config=True)

    untitled_notebook = Unicode("Untitled", help="Base name of new untitled notebooks.").tag(config=True)
    untitled_file = Unicode("untitled", help="Base name of new untitled files.").tag(config=True)
    untitled_directory = Unicode("Untitled Folder", help="Base name of new untitled directories.").tag(config=True)

    max_copy_folder_size_mb = Integer(
        500, help="Largest directory, in MB, that ``POST`` with ``copy_from`` copies."
    ).tag(config=True)

    checkpoints = Unicode(
        "file",
        help="""Where checkpoints are kept: the name of an entry point in the
        ``jupyter_core_server_contents.checkpoints`` group, or the import string of a
        ``Checkpoints`` subclass (``package.module.Class``).

        ``file`` (the default) keeps one checkpoint per file in a ``.ipynb_checkpoints``
        directory next to it, as jupyter_server does.""",
    ).tag(config=True)

    pre_save_hook = AnyTrait(
        None,
        allow_none=True,
        help="""Callable (or its import string) run on a model before it is saved.

        Called as ``hook(model=model, path=path, contents_manager=manager)`` in a worker
        thread; changing ``model`` changes what is stored. Raising a
        ``jupyter_core_server.ApiError`` refuses the save with that error; any other
        exception is logged and the save goes on.""",
    ).tag(config=True)

    post_save_hook = AnyTrait(
        None,
        allow_none=True,
        help="""Callable (or its import string) run after a file was saved.

        Called as ``hook(os_path=os_path, model=model, contents_manager=manager)`` in a
        worker thread. An exception is logged and answered with 500; the file stays saved.""",
    ).tag(config=True)

    @validate("pre_save_hook")
    def _valid_pre_save_hook(self, proposal: Any) -> SaveHook | None:
        return _callable_or_import(proposal["value"], "pre_save_hook")

    @validate("post_save_hook")
    def _valid_post_save_hook(self, proposal: Any) -> SaveHook | None:
        return _callable_or_import(proposal["value"], "post_save_hook")
