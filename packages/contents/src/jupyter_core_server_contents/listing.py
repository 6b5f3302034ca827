"""Directory listings: one ``scandir`` and one ``stat`` per entry, in one worker thread.

jupyter_server builds each entry's model through its full ``get`` (several thread hops
and ``stat`` calls per file); here an entry costs one ``stat``, and "writable" is read
from its mode bits. Listings are in name order; with ``limit`` they are paginated by an
opaque cursor (the last name returned), so a page only ``stat``s its own entries.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import os
from typing import Any

from .errors import BadModel
from .fileio import Located, Root, WriteAccess
from .models import Model, is_notebook_name, located_model, model_of

__all__ = ["decode_cursor", "directory_model", "encode_cursor"]


def directory_model(
    root: Root, located: Located, st: os.stat_result, content: bool, limit: int | None, cursor: str | None
) -> Model:
    """The model of a directory, with its entries when ``content`` (a page of them with ``limit``)."""
    model = located_model(located, st, "directory")
    if not content:
        return model
    entries = sorted(root.scan(located), key=lambda pair: pair[0])
    if cursor is not None:
        entries = entries[_first_after(entries, decode_cursor(cursor)) :]
    writable = WriteAccess(located.real_path)
    prefix = located.api_path + "/" if located.api_path else ""
    listing: list[Model] = []
    next_cursor = None
    for name, dir_entry in entries:
        if limit is not None and len(listing) == limit:
            next_cursor = encode_cursor(listing[-1]["name"])
            break
        entry = root.entry(dir_entry)
        if entry is None:
            continue
        kind = "notebook" if entry.kind == "file" and is_notebook_name(name) else entry.kind
        listing.append(model_of(name, prefix + name, kind, entry.st, writable(entry.st, dir_entry.path)))
    model["content"] = listing
    model["format"] = "json"
    if limit is not None:
        model["next_cursor"] = next_cursor
    return model


def encode_cursor(name: str) -> str:
    """The opaque cursor that continues a listing after ``name``."""
    return base64.urlsafe_b64encode(name.encode("utf-8", "surrogateescape")).decode("ascii").rstrip("=")


def decode_cursor(cursor: str) -> str:
    """The name a cursor continues after; :class:`~.errors.BadModel` if it is not a cursor."""
    try:
        raw = base64.b64decode(cursor + "=" * (-len(cursor) % 4), altchars=b"-_", validate=True)
        return raw.decode("utf-8", "surrogateescape")
    except (binascii.Error, ValueError):
        raise BadModel(f"Invalid cursor {cursor!r}", "bad_cursor") from None


def _first_after(entries: list[tuple[str, Any]], name: str) -> int:
    return bisect.bisect_right([entry_name for entry_name, _ in entries], name)
