"""Finding old configuration files and reading them without running them.

JSON files are read as data. Python files are parsed with :mod:`ast` and never
executed: assignments of literal values to ``c.Class.trait`` (and ``.update()``,
``.append()``, ``.extend()``, ``+=`` and ``[key] =`` on them) become settings; every
other statement (imports, loops, conditionals, function calls and definitions,
values computed at run time) is kept as text, with the reason, for the report and
for the commented-out part of the new file.
"""

from __future__ import annotations

import ast
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .convert import parse_env
from .rules import ENV_VARS

__all__ = ["OLD_BASENAMES", "Setting", "Source", "Untranslated", "find_sources", "read_env", "read_source"]

#: Config file base names of notebook < 7, jupyter_server and Kernel Gateway, in load order
#: (a later file wins over an earlier one at the same level, as jupyter_server with
#: notebook_shim reads them).
OLD_BASENAMES = ("jupyter_notebook_config", "jupyter_server_config", "jupyter_kernel_gateway_config")


@dataclass
class Setting:
    """One old setting: ``section.trait`` set (or updated, or extended) to ``value``."""

    section: str
    trait: str
    value: Any
    origin: str  # "file:line", "file" or "environment variable KG_X"
    op: str = "set"  # "set", "update" (dict) or "extend" (list)

    @property
    def name(self) -> str:
        return f"{self.section}.{self.trait}"


@dataclass
class Untranslated:
    """Python source that cannot be translated statically, kept as text."""

    path: Path
    first_line: int
    last_line: int
    text: str
    why: str
    mentions: list[str] = field(default_factory=list)  # "Class.trait" names the code touches

    @property
    def origin(self) -> str:
        lines = f"{self.first_line}" if self.first_line == self.last_line else f"{self.first_line}-{self.last_line}"
        return f"{self.path}:{lines}"


@dataclass
class Source:
    """One old config file, read."""

    path: Path
    kind: str  # "json" or "py"
    settings: list[Setting] = field(default_factory=list)
    untranslated: list[Untranslated] = field(default_factory=list)
    error: str | None = None


def find_sources(directory: Path) -> list[Path]:
    """Return the old config files of one directory, in the order they are applied."""
    found: list[Path] = []
    for base in OLD_BASENAMES:
        dot_d = directory / f"{base}.d"
        if dot_d.is_dir():
            found.extend(sorted(p for p in dot_d.glob("*.json") if p.is_file()))
        for suffix in (".json", ".py"):
            path = directory / f"{base}{suffix}"
            if path.is_file():
                found.append(path)
    return found


def read_source(path: Path) -> Source:
    """Read one old config file (``.json`` or ``.py``); a broken file gets ``error`` set."""
    kind = "py" if path.suffix == ".py" else "json"
    source = Source(path, kind)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        source.error = f"cannot read: {exc}"
        return source
    if kind == "json":
        _read_json(source, text)
    else:
        _read_python(source, text)
    return source


def read_env(env: Mapping[str, str]) -> Source:
    """Read Kernel Gateway's ``KG_*`` variables from ``env`` as settings."""
    source = Source(Path("<environment>"), "env")
    for name in sorted(env):
        if not name.startswith("KG_"):
            continue
        origin = f"environment variable {name}"
        if name not in ENV_VARS:
            source.settings.append(Setting("<environment>", name, env[name], origin))
            continue
        option, kind = ENV_VARS[name]
        section, _, trait = option.partition(".")
        try:
            value = parse_env(kind, env[name])
        except ValueError:
            source.settings.append(Setting("<environment>", name, env[name], f"{origin} (not a valid {kind})"))
            continue
        source.settings.append(Setting(section, trait, value, origin))
    return source


# -- JSON -------------------------------------------------------------------------------------


def _read_json(source: Source, text: str) -> None:
    try:
        data = json.loads(text) if text.strip() else {}
    except ValueError as exc:
        source.error = f"not valid JSON: {exc}"
        return
    if not isinstance(data, dict):
        source.error = "not a JSON object"
        return
    for section, values in data.items():
        if not isinstance(values, dict):
            source.settings.append(Setting(str(section), "", values, str(source.path)))
            continue
        for trait, value in values.items():
            source.settings.append(Setting(str(section), str(trait), value, str(source.path)))


# -- Python -----------------------------------------------------------------------------------

_WHY = {
    ast.Import: "import",
    ast.ImportFrom: "import",
    ast.For: "loop",
    ast.AsyncFor: "loop",
    ast.While: "loop",
    ast.If: "conditional",
    ast.Try: "try statement",
    ast.With: "with statement",
    ast.FunctionDef: "function definition",
    ast.AsyncFunctionDef: "function definition",
    ast.ClassDef: "class definition",
    ast.Delete: "del statement",
}


def _config_path(node: ast.expr) -> tuple[str, str] | None:
    """Return ``(Class, trait)`` when ``node`` is ``c.Class.trait``."""
    if (
        isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Attribute)
        and isinstance(node.value.value, ast.Name)
        and node.value.value.id == "c"
    ):
        return node.value.attr, node.attr
    return None


def _literal(node: ast.expr) -> tuple[bool, Any]:
    try:
        return True, ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return False, None


def _is_get_config(node: ast.stmt) -> bool:
    """``c = get_config()``: the loader's preamble, which the new file repeats."""
    return (
        isinstance(node, ast.Assign)
        and len(node.targets) == 1
        and isinstance(node.targets[0], ast.Name)
        and node.targets[0].id == "c"
        and isinstance(node.value, ast.Call)
        and isinstance(node.value.func, ast.Name)
        and node.value.func.id == "get_config"
        and not node.value.args
    )


def _statement(node: ast.stmt, where: str) -> tuple[Setting | None, str]:
    """Translate one top-level statement into a setting, or say why it cannot be."""
    if isinstance(node, ast.Assign) and len(node.targets) == 1:
        target = node.targets[0]
        path = _config_path(target)
        if path is not None:
            ok, value = _literal(node.value)
            return (Setting(*path, value, where), "") if ok else (None, "value computed at run time")
        if isinstance(target, ast.Subscript):
            path = _config_path(target.value)
            ok_key, key = _literal(target.slice)
            ok, value = _literal(node.value)
            if path is not None and ok_key and ok:
                return Setting(*path, {key: value}, where, "update"), ""
            return None, "item assignment computed at run time"
        return None, "assignment to a variable"
    if isinstance(node, ast.AugAssign):
        path = _config_path(node.target)
        ok, value = _literal(node.value)
        if path is not None and ok and isinstance(node.op, ast.Add) and isinstance(value, (list, tuple)):
            return Setting(*path, list(value), where, "extend"), ""
        return None, "augmented assignment"
    if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
        call = node.value
        if isinstance(call.func, ast.Attribute):
            path = _config_path(call.func.value)
            method = call.func.attr
            if path is not None and method in ("update", "append", "extend"):
                return _method_call(path, method, call, where)
        return None, "function call"
    if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
        return None, ""  # a docstring or a bare constant: nothing to keep
    if isinstance(node, ast.Pass):
        return None, ""
    return None, _WHY.get(type(node), f"{type(node).__name__} statement")


def _method_call(path: tuple[str, str], method: str, call: ast.Call, where: str) -> tuple[Setting | None, str]:
    literal_args = [_literal(arg) for arg in call.args]
    literal_kwargs = [(kw.arg, _literal(kw.value)) for kw in call.keywords]
    if not all(ok for ok, _ in literal_args) or not all(name and ok for name, (ok, _) in literal_kwargs):
        return None, "method call with values computed at run time"
    args = [value for _, value in literal_args]
    if method == "update" and len(args) <= 1 and (not args or isinstance(args[0], dict)):
        merged: dict[Any, Any] = dict(args[0]) if args else {}
        merged.update({name: value for name, (_, value) in literal_kwargs})
        return Setting(*path, merged, where, "update"), ""
    if method == "append" and len(args) == 1 and not literal_kwargs:
        return Setting(*path, [args[0]], where, "extend"), ""
    if method == "extend" and len(args) == 1 and not literal_kwargs and isinstance(args[0], (list, tuple)):
        return Setting(*path, list(args[0]), where, "extend"), ""
    return None, f"unsupported call of {method}()"


def _mentions(node: ast.AST) -> list[str]:
    found: list[str] = []
    for child in ast.walk(node):
        if isinstance(child, ast.Attribute):
            path = _config_path(child)
            if path is not None and f"{path[0]}.{path[1]}" not in found:
                found.append(f"{path[0]}.{path[1]}")
    return found


def _read_python(source: Source, text: str) -> None:
    try:
        tree = ast.parse(text, filename=str(source.path))
    except SyntaxError as exc:
        source.error = f"Python syntax error at line {exc.lineno}: {exc.msg}"
        return
    lines = text.splitlines()
    for node in tree.body:
        if _is_get_config(node):
            continue
        setting, why = _statement(node, f"{source.path}:{node.lineno}")
        if setting is not None:
            source.settings.append(setting)
        elif why:
            first = node.lineno
            if getattr(node, "decorator_list", None):
                first = min(d.lineno for d in node.decorator_list)  # type: ignore[attr-defined]
            last = node.end_lineno or node.lineno
            snippet = "\n".join(lines[first - 1 : last])
            source.untranslated.append(Untranslated(source.path, first, last, snippet, why, _mentions(node)))
