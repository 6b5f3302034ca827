"""The mapping table as Markdown, for the documentation.

The migration guide holds the table between two marker comments. Regenerate it after
changing :mod:`.rules`::

    python -m jupyter_core_server_migrate.table docs/user/migrating.md

``--check`` only reports (exit status 1) whether the page is out of date; a test does
the same, so the page and the rules cannot drift apart.
"""

from __future__ import annotations

import sys
from pathlib import Path

from .rules import CLASS_ALIASES, ENV_VARS, EXTENSIONS, GATEWAY_DEFAULTS, KEPT_CLASSES, RULES

__all__ = ["BEGIN", "END", "render", "update_page"]

BEGIN = "<!-- BEGIN generated migration table: python -m jupyter_core_server_migrate.table -->"
END = "<!-- END generated migration table -->"


def _code(names: list[str] | tuple[str, ...]) -> str:
    return ", ".join(f"`{name}`" for name in names)


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def render() -> str:
    """Return the whole generated part of the page."""
    out: list[str] = []
    groups: dict[str, list[str]] = {}
    for rule in RULES:
        new = _code((rule.target, *rule.also)) if rule.target else "*dropped*"
        groups.setdefault(rule.group, []).append(f"| {_code(rule.sources)} | {new} | {_cell(rule.reason)} |")
    for group, rows in groups.items():
        out += [f"### {group}", "", "| Old setting | New setting | Notes |", "| --- | --- | --- |", *rows, ""]

    targets = {source: rule.target for rule in RULES for source in rule.sources}
    out += [
        "### Kernel Gateway environment variables",
        "",
        "With `--kg-env`, each variable is read as Kernel Gateway reads it and then translated",
        "like the option it sets.",
        "",
        "| Variable | Kernel Gateway option | New setting |",
        "| --- | --- | --- |",
    ]
    for name, (option, _) in ENV_VARS.items():
        target = targets.get(option)
        out.append(f"| `{name}` | `{option}` | {f'`{target}`' if target else '*dropped*'} |")
    out.append("")

    defaults = [f"`{target} = {value!r}` (from `{source}`)" for target, value, source in GATEWAY_DEFAULTS]
    out += [
        "### Classes",
        "",
        "Settings of these classes are read as those of the class they stand for: "
        + ", ".join(f"`{old}` as `{new}`" for old, new in CLASS_ALIASES.items())
        + ".",
        "",
        "Settings of these classes are kept as they are, because jupyter_client (which starts "
        "the kernels) or the application base class reads them: "
        + ", ".join(f"`{old}`" + (f" (as `{new}`)" if new != old else "") for old, new in KEPT_CLASSES.items())
        + ".",
        "",
        "Where Kernel Gateway's default differs from this server's, a migrated Kernel Gateway "
        "configuration that leaves the option unset gets Kernel Gateway's default written out: "
        + ", ".join(defaults)
        + ".",
        "",
        "### Server extensions",
        "",
        "| Extension module | Plugin |",
        "| --- | --- |",
        *[f"| `{module}` | `{plugin}` |" for module, plugin in EXTENSIONS.items()],
        "",
        "Any other module is looked up as a plugin of the same name.",
    ]
    return "\n".join([BEGIN, "", *out, "", END])


def update_page(text: str) -> str:
    """Return ``text`` with the part between the markers replaced by :func:`render`."""
    start, end = text.find(BEGIN), text.find(END)
    if start == -1 or end < start:
        raise ValueError("the page has no generated-table markers")
    return text[:start] + render() + text[end + len(END) :]


def main(argv: list[str]) -> int:
    """``python -m jupyter_core_server_migrate.table PAGE [--check]``."""
    check = "--check" in argv
    pages = [Path(arg) for arg in argv if arg != "--check"]
    if len(pages) != 1:
        print("usage: python -m jupyter_core_server_migrate.table PAGE [--check]", file=sys.stderr)
        return 2
    page = pages[0]
    text = page.read_text(encoding="utf-8")
    updated = update_page(text)
    if updated == text:
        return 0
    if check:
        print(f"{page} is out of date; run python -m jupyter_core_server_migrate.table {page}", file=sys.stderr)
        return 1
    page.write_text(updated, encoding="utf-8")
    print(f"Updated the migration table in {page}.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
