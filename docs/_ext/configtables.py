"""The ``config-table`` directive: a table of a traitlets class's configurable options.

Usage, in a MyST page::

    ```{config-table} jupyter_core_server.app.CoreServerApp
    :aliases: jupyter_core_server.app.CoreServerApp
    ```

One row per trait tagged ``config=True`` that the class itself defines (inherited
traits are left out; document the parent class separately). Each row gives the
option's full name (and its command-line alias, when ``:aliases:`` names an
application whose ``aliases`` map to it), its type, its default and its help text.
Defaults computed at run time are shown as *computed*; the page should say how.

Each option becomes a ``confval`` target of Sphinx's standard domain, so other pages
link to it with ``{confval}`CoreServerApp.port``` (MyST) or
``:confval:`CoreServerApp.port``` (reST); Sphinx warns about a reference to an
option that no table defines.

The table is built from docutils nodes, so it renders the same from Markdown and
reStructuredText pages. Help text may use reST inline literals (````x````) and
single-backtick code, which become code; everything else is plain text.
"""

from __future__ import annotations

import importlib
import inspect
import re
from typing import Any

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx.application import Sphinx
from sphinx.util.docutils import SphinxDirective

__all__ = ["ConfigTable", "setup"]

_TYPE_NAMES = {
    "Bool": "boolean",
    "Int": "integer",
    "Integer": "integer",
    "Float": "float",
    "Unicode": "string",
    "CUnicode": "string",
    "Bytes": "bytes",
    "Dict": "dict",
    "List": "list",
    "Set": "set",
    "Tuple": "tuple",
    "Enum": "one of",
    "CaselessStrEnum": "one of",
}
_CODE = re.compile(r"``(.+?)``|`([^`]+?)`", re.DOTALL)


def import_object(dotted: str) -> Any:
    """Import ``package.module.Name``."""
    module_name, _, attribute = dotted.rpartition(".")
    return getattr(importlib.import_module(module_name), attribute)


def type_name(trait: Any) -> str:
    """Name a trait's type for people (``string``, ``list of string``, ``one of a, b``)."""
    kind = type(trait).__name__
    name = _TYPE_NAMES.get(kind, kind)
    if name == "one of":
        return "one of " + ", ".join(repr(v) for v in trait.values)
    inner = getattr(trait, "_trait", None)
    if name in ("list", "set") and inner is not None:
        return f"{name} of {type_name(inner)}"
    key, value = getattr(trait, "_key_trait", None), getattr(trait, "_value_trait", None)
    if name == "dict" and key is not None and value is not None:
        return f"dict of {type_name(key)} to {type_name(value)}"
    return name


def computed_default(cls: type, name: str) -> bool:
    """Return whether the trait's default is computed at run time (``@default``)."""
    return any(name in getattr(k, "_trait_default_generators", {}) for k in cls.mro()) or hasattr(
        cls, f"_{name}_default"
    )


def inline(text: str) -> list[nodes.Node]:
    """Turn one paragraph of help text into text and literal nodes."""
    result: list[nodes.Node] = []
    position = 0
    for match in _CODE.finditer(text):
        if match.start() > position:
            result.append(nodes.Text(text[position : match.start()]))
        code = " ".join((match.group(1) or match.group(2)).split())
        result.append(nodes.literal(code, code))
        position = match.end()
    if position < len(text):
        result.append(nodes.Text(text[position:]))
    return result


def paragraphs(help_text: str) -> list[nodes.Node]:
    """Split help text into paragraph nodes (blank lines separate paragraphs)."""
    cleaned = inspect.cleandoc(help_text or "")
    blocks = [" ".join(block.split()) for block in re.split(r"\n\s*\n", cleaned) if block.strip()]
    return [nodes.paragraph("", "", *inline(block)) for block in blocks] or [nodes.paragraph()]


def entry(*children: nodes.Node) -> nodes.entry:
    """Build a table cell."""
    cell = nodes.entry()
    cell.extend(children)
    return cell


class ConfigTable(SphinxDirective):
    """Render the configurable traits of one class as a table."""

    required_arguments = 1
    has_content = False
    option_spec = {"aliases": directives.unchanged, "class": directives.class_option}

    def run(self) -> list[nodes.Node]:
        dotted = self.arguments[0]
        try:
            cls = import_object(dotted)
        except (ImportError, AttributeError) as exc:
            raise self.error(f"config-table: cannot import {dotted}: {exc}") from exc
        source = inspect.getsourcefile(cls)
        if source:
            self.env.note_dependency(source)
        aliases: dict[str, str] = {}
        if "aliases" in self.options:
            app = import_object(self.options["aliases"])
            for alias, target in getattr(app, "aliases", {}).items():
                if isinstance(target, tuple):
                    target = target[0]
                aliases.setdefault(str(target), alias)

        std = self.env.get_domain("std")
        traits = cls.class_own_traits(config=True)
        if not traits:
            raise self.error(f"config-table: {dotted} defines no configurable traits")

        table = nodes.table(classes=["config-table", *self.options.get("class", [])])
        group = nodes.tgroup(cols=3)
        table += group
        for width in (30, 20, 50):
            group += nodes.colspec(colwidth=width)
        head = nodes.thead()
        group += head
        header = nodes.row()
        for title in ("Option", "Type and default", "Description"):
            header += entry(nodes.paragraph(title, title))
        head += header
        body = nodes.tbody()
        group += body

        for name in sorted(traits):
            trait = traits[name]
            full = f"{cls.__name__}.{name}"
            option = nodes.paragraph("", "", nodes.literal(full, full))
            if full in aliases:
                flag = f"--{aliases[full]}"
                option += [nodes.Text(" (command line: "), nodes.literal(flag, flag), nodes.Text(")")]
            node_id = nodes.make_id(f"config-{full}")
            option["ids"].append(node_id)
            std.note_object("confval", full, node_id, location=option)
            default = "computed" if computed_default(cls, name) else trait.default_value_repr()
            kind = nodes.paragraph("", "", nodes.Text(type_name(trait)))
            default_node = nodes.paragraph("", "default: ")
            default_node += (
                nodes.emphasis(default, default) if default == "computed" else nodes.literal(default, default)
            )
            row = nodes.row()
            row += entry(option)
            row += entry(kind, default_node)
            row += entry(*paragraphs(trait.help))
            body += row
        return [table]


def setup(app: Sphinx) -> dict[str, Any]:
    """Register the directive."""
    app.add_directive("config-table", ConfigTable)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
