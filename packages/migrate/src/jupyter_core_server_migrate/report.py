"""What a migration did: translated, dropped and unknown settings, untranslated code, files."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["Entry", "FileChange", "Report"]


@dataclass
class Entry:
    """One old setting (or extension, or piece of code) and what became of it."""

    source: str  # "NotebookApp.port", "KG_MAX_KERNELS", "extension jupyterlab", "for loop"
    origin: str  # where it was read: "file:line", "file" or "environment variable KG_X"
    target: str = ""  # the new option, or the plugin and its state
    note: str = ""  # why it was dropped, why it is unknown, or a remark on the translation


@dataclass
class FileChange:
    """One file the migration writes (or would write, in a dry run)."""

    path: str
    action: str  # "create", "update" or "unchanged"
    backup: str = ""  # where the previous content was saved before it was replaced
    diff: str = ""  # unified diff, secrets masked
    sources: list[str] = field(default_factory=list)


@dataclass
class Report:
    """The outcome of :func:`jupyter_core_server_migrate.migrate`."""

    dry_run: bool = False
    sources: list[str] = field(default_factory=list)
    translated: list[Entry] = field(default_factory=list)
    dropped: list[Entry] = field(default_factory=list)
    unknown: list[Entry] = field(default_factory=list)
    untranslated: list[Entry] = field(default_factory=list)
    plugins: list[Entry] = field(default_factory=list)
    errors: list[Entry] = field(default_factory=list)
    files: list[FileChange] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        """Whether any file is (or would be) created or changed."""
        return any(f.action != "unchanged" for f in self.files)

    def to_dict(self) -> dict[str, Any]:
        """Return the report as JSON-ready data."""
        return asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    def to_text(self) -> str:
        """Return the report for people, section by section."""
        out: list[str] = []
        if not self.sources:
            out.append("No notebook, jupyter_server or Kernel Gateway configuration found.")
        else:
            out.append("Read:")
            out += [f"  {s}" for s in self.sources]

        def section(title: str, entries: list[Entry], show: Any) -> None:
            if entries:
                out.append("")
                out.append(f"{title} ({len(entries)}):")
                out.extend(f"  {show(e)}" for e in entries)

        section(
            "Translated",
            self.translated,
            lambda e: f"{e.source} -> {e.target}" + (f"  ({e.note})" if e.note else "") + f"  [{e.origin}]",
        )
        section(
            "Plugins",
            self.plugins,
            lambda e: f"{e.source} -> {e.target}" + (f"  ({e.note})" if e.note else "") + f"  [{e.origin}]",
        )
        section("Dropped", self.dropped, lambda e: f"{e.source}: {e.note}  [{e.origin}]")
        section(
            "Unknown", self.unknown, lambda e: f"{e.source}" + (f": {e.note}" if e.note else "") + f"  [{e.origin}]"
        )
        section(
            "Not translated (Python kept commented out in the new file; translate it by hand)",
            self.untranslated,
            lambda e: f"{e.origin}: {e.source}" + (f"  ({e.note})" if e.note else ""),
        )
        section("Errors", self.errors, lambda e: f"{e.origin}: {e.note}")
        if self.files:
            out.append("")
            verb = "Would write" if self.dry_run else "Files"
            out.append(f"{verb}:")
            for change in self.files:
                line = f"  {change.action:9} {change.path}"
                if change.backup:
                    line += f"  (previous content saved as {change.backup})"
                out.append(line)
        return "\n".join(out) + "\n"
