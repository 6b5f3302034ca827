"""Rendering the new config files, diffing them against what is there, and writing them safely.

Writing is idempotent: a file whose content would not change is not touched (and no
backup is made). A file that changes is first copied to ``<name>.bak-<timestamp>``,
then replaced atomically (temporary file in the same directory, then rename), so a
crash leaves the old file or the new one, never half of one.

Existing files are merged into, not replaced: a JSON file keeps the settings the
migration does not set; a Python file keeps everything outside the block this tool
writes between its ``BEGIN``/``END`` marker lines.
"""

from __future__ import annotations

import difflib
import json
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jupyter_core_server import write_text_atomic

from .sources import Untranslated
from .translate import Value

__all__ = [
    "BLOCK_BEGIN",
    "BLOCK_END",
    "Planned",
    "TargetError",
    "diff",
    "json_content",
    "nested",
    "plan",
    "python_content",
    "write",
]

BLOCK_BEGIN = "# --- BEGIN jupyter-core-server migrate ---"
BLOCK_END = "# --- END jupyter-core-server migrate ---"


@dataclass
class Planned:
    """One file to write: its path, current text (``None``: absent) and new text."""

    path: Path
    old: str | None
    new: str
    sources: list[str]

    @property
    def action(self) -> str:
        if self.old is None:
            return "create"
        return "unchanged" if self.old == self.new else "update"


class TargetError(Exception):
    """An existing target cannot be merged into (unreadable, or not a JSON object)."""


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise TargetError(f"cannot read {path}: {exc}") from exc


def nested(values: dict[str, Value]) -> dict[str, dict[str, Any]]:
    data: dict[str, dict[str, Any]] = {}
    for target, value in values.items():
        section, _, trait = target.partition(".")
        data.setdefault(section, {})[trait] = value.value
    return data


def _merge(base: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in new.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def json_content(path: Path, data: dict[str, Any]) -> tuple[str | None, str]:
    """Return the current text of a JSON target and its text with ``data`` merged in."""
    old = _read(path)
    existing: Any = {}
    if old is not None and old.strip():
        try:
            existing = json.loads(old)
        except ValueError as exc:
            raise TargetError(f"{path} is not valid JSON ({exc}); fix or move it, then run again") from exc
        if not isinstance(existing, dict):
            raise TargetError(f"{path} does not hold a JSON object; fix or move it, then run again")
    merged = _merge(existing, data)
    if old is not None and old.strip() and merged == existing:
        return old, old  # nothing new: keep the file byte for byte, however it is formatted
    return old, json.dumps(merged, indent=2) + "\n"


def _python_block(values: dict[str, Value], untranslated: list[Untranslated], sources: list[str]) -> str:
    lines = [
        BLOCK_BEGIN,
        "# Written by `jupyter-core-server migrate`; it replaces what is between these markers",
        "# each time it runs. Translated from:",
        *[f"#   {source}" for source in sources],
        "c = get_config()  # noqa: F821 - provided when the server loads this file",
    ]
    by_class: dict[str, list[tuple[str, Value]]] = {}
    for target, value in values.items():
        cls, _, trait = target.partition(".")
        by_class.setdefault(cls, []).append((trait, value))
    for cls, items in by_class.items():
        lines.append("")
        for trait, value in items:
            if value.op == "update":
                lines.append(f"c.{cls}.{trait}.update({value.value!r})")
            elif value.op == "extend":
                lines.append(f"c.{cls}.{trait}.extend({value.value!r})")
            else:
                lines.append(f"c.{cls}.{trait} = {value.value!r}")
    if untranslated:
        lines += [
            "",
            "# NOT TRANSLATED: the code below could not be translated without running it.",
            "# It is kept here commented out, so that none of it runs. Translate it by hand,",
            "# using the option names of this server (`jupyter-core-server --help-all`).",
        ]
        for code in untranslated:
            lines.append(f"# From {code.origin} ({code.why}):")
            lines += [f"#     {line}".rstrip() for line in code.text.splitlines()]
    lines.append(BLOCK_END)
    return "\n".join(lines) + "\n"


def python_content(
    path: Path, values: dict[str, Value], untranslated: list[Untranslated], sources: list[str]
) -> tuple[str | None, str]:
    """Return the current text of a Python target and its text with the migrated block in place."""
    old = _read(path)
    block = _python_block(values, untranslated, sources)
    if old is None or not old.strip():
        return old, block
    start, end = old.find(BLOCK_BEGIN), old.find(BLOCK_END)
    if start != -1 and end > start:
        after = old[end + len(BLOCK_END) :]
        return old, old[:start] + block + after.lstrip("\n")
    return old, old.rstrip("\n") + "\n\n" + block


def plan(path: Path, content: tuple[str | None, str], sources: list[str]) -> Planned:
    """Return a :class:`Planned` from ``(current text, new text)``."""
    return Planned(path, content[0], content[1], sources)


def diff(planned: Planned, secrets: list[str]) -> str:
    """Return a unified diff of ``planned``, with every secret value masked."""
    old = (planned.old or "").splitlines(keepends=True)
    new = planned.new.splitlines(keepends=True)
    before = str(planned.path) if planned.old is not None else "/dev/null"
    text = "".join(difflib.unified_diff(old, new, before, str(planned.path)))
    for secret in secrets:
        if len(secret) >= 4:
            text = text.replace(secret, "********")
    return text


def write(planned: Planned) -> str:
    """Write ``planned`` (if it changes anything), backing the old file up; return the backup path or ``""``."""
    if planned.action == "unchanged":
        return ""
    path = planned.path
    path.parent.mkdir(parents=True, exist_ok=True)
    backup = ""
    if planned.old is not None:
        stamp = time.strftime("%Y%m%d-%H%M%S")
        candidate = path.with_name(f"{path.name}.bak-{stamp}")
        counter = 1
        while candidate.exists():  # two runs within one second: keep both backups
            candidate = path.with_name(f"{path.name}.bak-{stamp}-{counter}")
            counter += 1
        shutil.copy2(path, candidate)
        backup = str(candidate)
    write_text_atomic(path, planned.new)  # an existing file keeps its permissions
    return backup
