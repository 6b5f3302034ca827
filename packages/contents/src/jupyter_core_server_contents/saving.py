"""What a save checks and runs around the write: preconditions, content decoding, hooks.

Conditional saves: a ``Precondition`` (from ``If-Match`` or ``If-Unmodified-Since``) is
checked against the file on disk under the per-file save lock, right before the write,
and a mismatch raises :class:`~.errors.FileChanged` (409) with the current hash.
"""

from __future__ import annotations

import base64
import binascii
import logging
import os
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

from jupyter_core_server import ApiError

from .config import ContentsManager
from .errors import BadModel, FileChanged
from .fileio import Located, isotime
from .models import Model, empty_notebook, is_notebook_name

__all__ = ["Precondition", "check_precondition", "complete_model", "decode_content", "run_post_save", "run_pre_save"]

log = logging.getLogger("jupyter_core_server.contents")

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


class Precondition:
    """What a conditional save expects of the file on disk.

    :param hashes: Acceptable current hashes (``If-Match``), ``["*"]`` for "must exist",
        or ``None`` for no such condition.
    :param unmodified_since: The newest acceptable modification time (``If-Unmodified-Since``).
    :param resolution: Seconds the time is precise to: 1e-6 for the ISO 8601 timestamps of
        models, 1 for HTTP dates.
    """

    def __init__(
        self, hashes: list[str] | None = None, unmodified_since: datetime | None = None, resolution: float = 1e-6
    ) -> None:
        self.hashes = hashes
        self.unmodified_since = unmodified_since
        self.resolution = resolution

    def __bool__(self) -> bool:
        return self.hashes is not None or self.unmodified_since is not None


def complete_model(located: Located, model: Model, *, creating: bool) -> str:
    """Check a saved model's type and content; a new file may leave them out (empty file)."""
    kind = model.get("type")
    if kind is not None and not isinstance(kind, str):
        raise BadModel(f"The type must be a string, not {kind!r}", "bad_type")
    if not kind:
        if not creating:
            raise BadModel("No file type provided", "missing_type")
        kind = model["type"] = "notebook" if is_notebook_name(located.name) else "file"
    if kind not in ("file", "notebook", "directory"):
        kind = model["type"] = "file"
    if "content" not in model and kind != "directory":
        if not creating:
            raise BadModel("No file content provided", "missing_content")
        if kind == "notebook":
            model.update(content=empty_notebook(), format="json")
        else:
            model.update(content="", format="text")
    return str(kind)


def decode_content(located: Located, content: Any, fmt: Any) -> bytes:
    """The bytes of a saved file's ``content`` in ``format`` (``text`` or strict ``base64``)."""
    if fmt not in ("text", "base64"):
        raise BadModel("Must specify format of file contents as 'text' or 'base64'", "bad_format")
    if not isinstance(content, str):
        raise BadModel(f"The content of {located.api_path!r} must be a string", "bad_content")
    try:
        if fmt == "text":
            return content.encode("utf-8")
        # strict, so that a damaged upload is refused rather than saved as garbage;
        # line breaks (as base64.encodebytes makes) are fine
        return base64.b64decode(
            "".join(content.split()) if "\n" in content or " " in content else content, validate=True
        )
    except (UnicodeError, binascii.Error) as exc:
        raise BadModel(f"Encoding error saving {located.api_path!r}: {exc}", "bad_content") from None


def check_precondition(
    located: Located, old: os.stat_result | None, precondition: Precondition, hash_file: Callable[[str], str]
) -> None:
    """Raise :class:`~.errors.FileChanged` unless the file on disk is the one the client saw."""
    if old is None:
        raise FileChanged(located.api_path, None, None)
    current: str | None = None
    if precondition.hashes is not None and precondition.hashes != ["*"]:
        current = hash_file(located.real_path)
        if current not in precondition.hashes:
            raise FileChanged(located.api_path, current, isotime(old.st_mtime_ns))
    since = precondition.unmodified_since
    if since is not None:
        step = round(precondition.resolution * 1_000_000) or 1  # in microseconds
        given = (since - _EPOCH) // timedelta(microseconds=1)
        if old.st_mtime_ns // 1000 // step > given // step:
            raise FileChanged(located.api_path, current or hash_file(located.real_path), isotime(old.st_mtime_ns))


def run_pre_save(settings: ContentsManager, model: Model, api_path: str) -> None:
    """Run ``pre_save_hook``: an ``ApiError`` refuses the save, any other failure is logged."""
    hook = settings.pre_save_hook
    if hook is None:
        return
    try:
        hook(model=model, path=api_path, contents_manager=settings)
    except ApiError:
        raise
    except Exception:
        # a broken hook must not cost the user the save
        log.exception("pre_save_hook failed on %s; saving anyway", api_path)


def run_post_save(settings: ContentsManager, model: Model, located: Located) -> None:
    """Run ``post_save_hook``; its failure is a 500 (the file stays saved)."""
    hook = settings.post_save_hook
    if hook is None:
        return
    try:
        hook(os_path=located.real_path, model=model, contents_manager=settings)
    except Exception as exc:
        log.exception("post_save_hook failed on %s", located.api_path)
        raise ApiError(
            f"The post-save hook failed on {located.api_path!r}: {exc}", "post_save_hook", status=500
        ) from None
