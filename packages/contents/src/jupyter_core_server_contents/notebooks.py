"""Notebook documents: parse, validate, trust and serialise them, fast.

The result is what jupyter_server produces with nbformat (multi-line strings joined in
memory and split on disk, transient fields stripped, cells marked trusted from the
signature store, the same validation messages, byte-identical files), without its
costs on large notebooks: no ``NotebookNode`` conversion and no deep copies, an
indented writer that encodes whole lists of lines at C speed, and a small cache that
remembers, per file version (device, inode, size, modification time), whether the
notebook validated and its signature digest, so re-reading an unchanged notebook
skips both.

Notebooks in other nbformat versions take nbformat's own path (conversion included).
"""

from __future__ import annotations

import hmac
import json
import math
import os
import threading
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from json.encoder import encode_basestring
from typing import Any

from jupyter_core_server import BadRequest, loads_json

from .errors import BadModel

__all__ = [
    "FactCache",
    "Notary",
    "ValidCells",
    "check_cells",
    "dumps_disk",
    "from_client",
    "from_disk",
    "mark_cells",
    "serialize",
    "signature",
    "to_disk",
    "validation_message",
]

Notebook = dict[str, Any]
_JSON_MIME = ("application/json",)


def _is_json_mime(key: str) -> bool:
    return key in _JSON_MIME or (key.startswith("application/") and key.endswith("+json"))


# -- in-memory form <-> disk form -----------------------------------------------------------------


def _join(value: Any) -> Any:
    return "".join(value) if isinstance(value, list) else value


def _rejoin_bundle(bundle: Any) -> None:
    if isinstance(bundle, dict):
        for key, value in bundle.items():
            if isinstance(value, list) and not _is_json_mime(key) and all(isinstance(line, str) for line in value):
                bundle[key] = "".join(value)


# Besides text/*, the only types nbformat stores as lists of lines.
_SPLIT_TYPES = frozenset({"application/javascript", "image/svg+xml"})


def _split_bundle(bundle: Any) -> None:
    if isinstance(bundle, dict):
        for key, value in bundle.items():
            if isinstance(value, str) and (key.startswith("text/") or key in _SPLIT_TYPES):
                bundle[key] = value.splitlines(True)


def strip_transient(nb: Notebook) -> None:
    """Drop what never belongs in a file: the signature, original version, cell trust marks."""
    metadata = nb.get("metadata")
    if isinstance(metadata, dict):
        for key in ("orig_nbformat", "orig_nbformat_minor", "signature"):
            metadata.pop(key, None)
    for cell in nb.get("cells") or ():
        if isinstance(cell, dict) and isinstance(cell.get("metadata"), dict):
            cell["metadata"].pop("trusted", None)


def _cells(nb: Notebook) -> list[dict[str, Any]]:
    return [cell for cell in nb.get("cells") or () if isinstance(cell, dict)]


def _each_multiline(nb: Notebook, field: Callable[[dict[str, Any], str], None], bundle: Callable[[Any], None]) -> None:
    """Visit every place nbformat may store as a list of lines: sources, stream text, mime bundles."""
    for cell in _cells(nb):
        if "source" in cell:
            field(cell, "source")
        for attachment in (cell.get("attachments") or {}).values():
            bundle(attachment)
        if cell.get("cell_type") == "code":
            for output in cell.get("outputs") or ():
                if not isinstance(output, dict):
                    continue
                if output.get("output_type") in ("execute_result", "display_data"):
                    bundle(output.get("data"))
                elif "text" in output:
                    field(output, "text")


def _join_field(container: dict[str, Any], key: str) -> None:
    container[key] = _join(container[key])


def _split_field(container: dict[str, Any], key: str) -> None:
    if isinstance(container[key], str):
        container[key] = container[key].splitlines(True)


def rejoin_lines(nb: Notebook) -> None:
    """Join multi-line strings stored as lists of lines (the in-memory form)."""
    _each_multiline(nb, _join_field, _rejoin_bundle)


def split_lines(nb: Notebook) -> None:
    """Split multi-line strings into lists of lines (the on-disk form, friendly to diffs)."""
    _each_multiline(nb, _split_field, _split_bundle)


def _repair_cell_ids(nb: Notebook) -> None:
    from nbformat.corpus.words import generate_corpus_id  # nbformat is imported on first use

    # nbformat >= 4.5 requires unique cell ids; nbformat's validate() repairs them too, but
    # with a warning, and warnings filters are process-wide state that threads cannot share.
    if (nb.get("nbformat"), nb.get("nbformat_minor", 0)) < (4, 5):
        return
    seen: set[str] = set()
    for cell in _cells(nb):
        cell_id = cell.get("id")
        if not isinstance(cell_id, str) or cell_id in seen:
            cell_id = generate_corpus_id()
            while cell_id in seen:
                cell_id = generate_corpus_id()
            cell["id"] = cell_id
        seen.add(cell_id)


def from_disk(data: bytes) -> Notebook:
    """Parse a notebook file into the in-memory nbformat 4 form.

    :raises BadModel: when the bytes are not a notebook at all (not JSON, no version).
    """
    try:
        parsed = loads_json(data, "Notebook file")  # a shared folder may hold a hostile one: depth-bounded
    except BadRequest as exc:
        raise BadModel(f"Unreadable notebook: {exc.message}", "unreadable_notebook") from None
    if not isinstance(parsed, dict) or not isinstance(parsed.get("nbformat"), int):
        raise BadModel("Unreadable notebook: no nbformat version", "unreadable_notebook")
    nb: Notebook = parsed
    if nb["nbformat"] != 4:
        import nbformat

        try:
            converted = nbformat.reads(data.decode("utf-8"), as_version=4)
        except Exception as exc:  # noqa: BLE001 - nbformat raises many kinds for bad input
            raise BadModel(f"Unreadable notebook: {exc}", "unreadable_notebook") from None
        nb = json.loads(json.dumps(converted))
    strip_transient(nb)
    rejoin_lines(nb)
    _repair_cell_ids(nb)
    return nb


def from_client(content: Any) -> Notebook:
    """Check and normalise the ``content`` of a saved notebook model (in place)."""
    if not isinstance(content, dict) or not isinstance(content.get("nbformat"), int):
        raise BadModel("Notebook content must be a notebook object with an nbformat version", "bad_notebook")
    if not isinstance(content.get("cells", []), list) or not isinstance(content.get("metadata", {}), dict):
        raise BadModel("Notebook content must have a list of cells and a metadata object", "bad_notebook")
    rejoin_lines(content)
    _repair_cell_ids(content)
    return content


def validation_message(nb: Notebook) -> str | None:
    """Validate against the nbformat schema; return the failure message, or ``None``."""
    import nbformat
    from nbformat import ValidationError

    try:
        nbformat.validate(nb)
    except ValidationError as exc:
        instance = json.dumps(exc.instance, indent=1, default=lambda _obj: "<UNKNOWN>")
        return f"Notebook validation failed: {exc}:\n{instance}"
    except Exception as exc:  # noqa: BLE001 - a schema that cannot be applied at all
        return f"Notebook validation failed: {exc}"
    return None


# -- writing -------------------------------------------------------------------------------------


def _float(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return float.__repr__(value)


def _dump(value: Any, level: int, out: list[str]) -> None:
    # Same output as json.dumps(indent=1, sort_keys=True, separators=(",", ": "),
    # ensure_ascii=False), which nbformat writes. Pieces are collected and joined once (no
    # copying of large strings at every nesting level), and a list of strings (the lines of
    # every multi-line text) is encoded in one C-level pass instead of item by item.
    if isinstance(value, str):
        out.append(encode_basestring(value))
    elif isinstance(value, dict):
        if not value:
            out.append("{}")
            return
        inner = ",\n" + " " * (level + 1)
        out.append("{" + inner[1:])
        first = True
        for key in sorted(value):
            if not first:
                out.append(inner)
            first = False
            out.append(encode_basestring(key) + ": ")
            _dump(value[key], level + 1, out)
        out.append("\n" + " " * level + "}")
    elif isinstance(value, (list, tuple)):
        if not value:
            out.append("[]")
            return
        inner = ",\n" + " " * (level + 1)
        out.append("[" + inner[1:])
        if isinstance(value, _Rendered):
            for index, pieces in enumerate(value):
                if index:
                    out.append(inner)
                out.extend(pieces)
            out.append("\n" + " " * level + "]")
            return
        try:  # the C encoder refuses anything but strings: then take the general path
            out.append(inner.join(map(encode_basestring, value)))
        except TypeError:
            for index, item in enumerate(value):
                if index:
                    out.append(inner)
                _dump(item, level + 1, out)
        out.append("\n" + " " * level + "]")
    elif value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, int):
        out.append(int.__repr__(value))
    elif isinstance(value, float):
        out.append(_float(value))
    else:
        raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def dumps_disk(nb: Notebook) -> str:
    """Serialise a notebook already in disk form exactly as nbformat writes it."""
    out: list[str] = []
    _dump(nb, 0, out)
    out.append("\n")
    return "".join(out)


def to_disk(nb: Notebook) -> bytes:
    """Turn an in-memory notebook (which this call consumes) into the bytes of its file."""
    strip_transient(nb)
    split_lines(nb)
    return dumps_disk(nb).encode("utf-8")


class ValidCells:
    """Remembers which cells (by their serialised text) passed validation, per format version.

    A save validates only the cells it has not seen pass before, so re-saving a large
    notebook after a small edit validates the edited cells, not all of them. Fingerprints
    are Python string hashes of each cell's file text; the set is bounded (LRU).
    """

    def __init__(self, size: int = 65536) -> None:
        self.size = size
        self._lock = threading.Lock()
        self._known: OrderedDict[tuple[Any, ...], None] = OrderedDict()

    def unknown(self, keys: list[tuple[Any, ...] | None]) -> list[int]:
        """Indexes of the keys not known to be valid (``None``: not remembered, always validated)."""
        with self._lock:
            return [i for i, key in enumerate(keys) if key is None or key not in self._known]

    def add(self, keys: list[tuple[Any, ...] | None]) -> None:
        """Record keys as valid."""
        with self._lock:
            for key in keys:
                if key is not None:
                    self._known[key] = None
                    self._known.move_to_end(key)
            while len(self._known) > self.size:
                self._known.popitem(last=False)


def serialize(nb: Notebook, valid: ValidCells) -> tuple[bytes, str | None]:
    """Validate and serialise a notebook for its file; return the bytes and the validation message.

    ``nb`` is consumed: it is left in the on-disk form (lines split), whose signature
    digest equals the in-memory form's. Only cells not known to be valid are validated,
    with the notebook's own fields, and nbformat's message for the whole notebook is
    produced when something fails.
    """
    split_lines(nb)
    cells = nb.get("cells")
    if not isinstance(cells, list):
        return dumps_disk(nb).encode("utf-8"), validation_message(nb)
    version = (nb.get("nbformat"), nb.get("nbformat_minor"))
    rendered: list[list[str]] = []
    keys: list[tuple[Any, ...] | None] = []
    for cell in cells:
        parts: list[str] = []
        _dump(cell, 2, parts)
        size = sum(map(len, parts))
        # A large cell is mostly a few long strings: validating it costs less than
        # hashing it (and its pieces are not copied into one string).
        if size <= _FINGERPRINT_LIMIT:
            text = "".join(parts)
            parts = [text]
            keys.append((version, size, hash(text)))
        else:
            keys.append(None)
        rendered.append(parts)
    todo = valid.unknown(keys)
    probe = {key: value for key, value in nb.items() if key != "cells"}
    probe["cells"] = [cells[i] for i in todo]
    message = validation_message(probe)
    if message is None:
        valid.add(keys)
    else:
        message = validation_message(nb)  # the whole notebook, for nbformat's own wording
    out: list[str] = []
    _dump({**nb, "cells": _Rendered(rendered)}, 0, out)
    out.append("\n")
    return "".join(out).encode("utf-8"), message


_FINGERPRINT_LIMIT = 32 * 1024


class _Rendered(list[list[str]]):
    """Cells already serialised (as pieces) at their nesting level (two), spliced in by ``_dump``."""


# -- trust -------------------------------------------------------------------------------------


def _code_cells(nb: Notebook) -> list[dict[str, Any]]:
    return [cell for cell in _cells(nb) if cell.get("cell_type") == "code"]


def mark_cells(nb: Notebook, trusted: bool) -> None:
    """Set ``metadata.trusted`` on every code cell (what frontends read)."""
    for cell in _code_cells(nb):
        metadata = cell.setdefault("metadata", {})
        if isinstance(metadata, dict):
            metadata["trusted"] = trusted


def check_cells(nb: Notebook) -> bool:
    """Whether every code cell is trusted: marked so, or with no rich output; drops the marks."""
    trusted = True
    for cell in _code_cells(nb):
        metadata = cell.get("metadata")
        if isinstance(metadata, dict) and metadata.pop("trusted", False):
            continue
        for output in cell.get("outputs") or ():
            if (
                isinstance(output, dict)
                and output.get("output_type") in ("execute_result", "display_data")
                and set(output) - {"output_type", "execution_count", "metadata"}
            ):
                trusted = False
                break
    return trusted


def signature(nb: Notebook, secret: bytes, digestmod: Any) -> str:
    """nbformat's notebook signature: an HMAC of every key and value, keys sorted.

    nbformat feeds the HMAC item by item from a generator; the HMAC of the concatenation
    is the same, and collecting the pieces first (a list of lines is one piece: the
    concatenation of its items) lets one C call hash them all. The ``signature`` field
    of the notebook's metadata is left out, as nbformat does.
    """
    parts: list[str] = []

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            for key in sorted(value):
                parts.append(key)
                walk(value[key])
        elif isinstance(value, (list, tuple)):
            try:
                parts.append("".join(value))
            except TypeError:
                for item in value:
                    walk(item)
        elif isinstance(value, str):
            parts.append(value)
        else:
            parts.append(str(value))

    metadata = nb.get("metadata")
    saved = metadata.pop("signature", None) if isinstance(metadata, dict) else None
    try:
        walk(nb)
    finally:
        if saved is not None and isinstance(metadata, dict):
            metadata["signature"] = saved
    return hmac.new(secret, "".join(parts).encode("utf-8"), digestmod).hexdigest()


class Notary:
    """Notebook signatures through nbformat's ``NotebookNotary``, on a thread of its own.

    The signature store is an SQLite database whose connection belongs to the thread
    that opened it, so every store operation runs on one dedicated thread; computing a
    digest (the costly part) runs in the caller's thread. The notary is created on first
    use, so a server that never opens a notebook never creates the store.
    """

    def __init__(self, make: Callable[[], Any]) -> None:
        self._make = make
        self._notary: Any = None
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="contents-notary")

    def _on_thread(self, work: Callable[[Any], Any]) -> Any:
        def run() -> Any:
            if self._notary is None:
                self._notary = self._make()
            return work(self._notary)

        return self._executor.submit(run).result()

    def digest(self, nb: Notebook) -> tuple[str, str]:
        """Return ``(digest, algorithm)`` of a notebook, as ``NotebookNotary.compute_signature``.

        The same for the in-memory and the on-disk form (joined or split lines).
        """
        notary = self._notary or self._on_thread(lambda n: n)
        return signature(nb, notary.secret, notary.digestmod), str(notary.algorithm)

    def is_signed(self, digest: str, algorithm: str) -> bool:
        """Whether the store knows this digest."""
        return bool(self._on_thread(lambda n: n.store.check_signature(digest, algorithm)))

    def sign(self, digest: str, algorithm: str) -> None:
        """Record a digest as trusted."""
        self._on_thread(lambda n: n.store.store_signature(digest, algorithm))

    def close(self) -> None:
        """Close the store and stop the thread."""
        if self._notary is not None:
            self._executor.submit(self._notary.store.close).result()
        self._executor.shutdown(wait=True)


# -- what is known about a file version -----------------------------------------------------------


def file_key(st: os.stat_result) -> tuple[int, int, int, int]:
    """Identify one version of a file: device, inode, size, modification time (ns)."""
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


class FactCache:
    """Remembers per file version its validation message and signature digest (LRU, thread-safe)."""

    def __init__(self, size: int = 256) -> None:
        self.size = size
        self._lock = threading.Lock()
        self._facts: OrderedDict[tuple[int, int, int, int], dict[str, Any]] = OrderedDict()

    def get(self, key: tuple[int, int, int, int]) -> dict[str, Any]:
        """Return the facts known for ``key`` (a copy; empty if none)."""
        with self._lock:
            facts = self._facts.get(key)
            if facts is None:
                return {}
            self._facts.move_to_end(key)
            return dict(facts)

    def put(self, key: tuple[int, int, int, int], **facts: Any) -> None:
        """Record facts about a file version."""
        with self._lock:
            self._facts.setdefault(key, {}).update(facts)
            self._facts.move_to_end(key)
            while len(self._facts) > self.size:
                self._facts.popitem(last=False)
