"""Applying the rules: old settings of one file group in, new settings and report entries out."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .convert import Drop, convert
from .report import Entry, Report
from .rules import CLASS_ALIASES, EXTENSIONS, GATEWAY_DEFAULTS, KEPT_CLASSES, KEPT_REASON, RULES, TARGET_PACKAGES, Rule
from .sources import Setting, Untranslated

__all__ = ["RULE_INDEX", "SECRET_TARGETS", "Translation", "Translator", "Value"]

#: "Class.trait" of every old setting -> (its rule, its rank among the rule's sources).
RULE_INDEX: dict[str, tuple[Rule, int]] = {
    source: (rule, rank) for rule in RULES for rank, source in enumerate(rule.sources)
}
#: New options whose values diffs and reports never show.
SECRET_TARGETS = frozenset({"Authenticator.token", "Authenticator.hashed_password", "Authenticator.cookie_secret"})
_OLD_CLASSES = {name.partition(".")[0] for name in RULE_INDEX} | set(CLASS_ALIASES) | set(KEPT_CLASSES)


@dataclass
class Value:
    """A new setting: its value, how it applies (``set``, ``update`` or ``extend``) and where it came from."""

    value: Any
    op: str
    source: str
    origin: str
    rank: int = 0
    note: str = ""


@dataclass
class Translation:
    """The new settings of one output file, the plugin states and the untranslated code."""

    values: dict[str, Value] = field(default_factory=dict)  # "Class.trait" -> value
    plugins: dict[str, tuple[bool, str]] = field(default_factory=dict)  # plugin -> (enabled, origin)
    untranslated: list[Untranslated] = field(default_factory=list)


@dataclass
class _Old:
    written: str  # the name as the file wrote it (FileContentsManager.delete_to_trash)
    value: Any
    op: str
    origin: str


class Translator:
    """Translates settings against the rules and the classes actually installed.

    :param known: Configurable classes of the installed core and plugins: class name ->
        option names. A new option missing from its installed class is dropped (the
        installed version is too old for it) instead of written, so the server never
        warns about it.
    :param plugins: Names of the installed plugins.
    :param report: Receives an entry for every setting.
    """

    def __init__(self, known: Mapping[str, set[str]], plugins: Iterable[str], report: Report) -> None:
        self.known = known
        self.installed_plugins = set(plugins)
        self.report = report
        #: Secret values translated so far (diffs mask them).
        self.secrets: list[str] = []

    def translate(
        self, settings: list[Setting], untranslated: list[Untranslated] | None = None, *, gateway: bool = False
    ) -> Translation:
        """Translate the settings of one file group, in the order they apply.

        :param gateway: The settings configured Kernel Gateway: where its defaults differ
            from this server's, the Kernel Gateway default is written out.
        """
        result = Translation(untranslated=list(untranslated or []))
        old: dict[str, _Old] = {}
        extensions: dict[str, tuple[bool, str, str]] = {}
        for setting in settings:
            self._collect(setting, old, extensions)
        for name, item in old.items():
            self._translate_one(name, item, old, result)
        self._plugins(extensions, result)
        if gateway:
            self._gateway_defaults(result)
        for code in result.untranslated:
            hint = ", ".join(f"{m} -> {self._target_hint(m)}" for m in code.mentions)
            first = code.text.strip().splitlines()[0] if code.text.strip() else ""
            self.report.untranslated.append(Entry(f"{code.why}: {first[:60]}", code.origin, note=hint))
        return result

    # -- collecting -------------------------------------------------------------------------------

    def _collect(self, setting: Setting, old: dict[str, _Old], extensions: dict[str, tuple[bool, str, str]]) -> None:
        if setting.section == "<environment>":
            self.report.unknown.append(
                Entry(setting.trait, setting.origin, note="not a Kernel Gateway variable this tool knows")
            )
            return
        if not setting.trait:
            self.report.unknown.append(Entry(setting.section, setting.origin, note="not a section of options"))
            return
        section = CLASS_ALIASES.get(setting.section, setting.section)
        name = f"{section}.{setting.trait}"
        rule = RULE_INDEX.get(name, (None, 0))[0]
        if rule is not None and rule.convert == "extensions":
            try:
                modules = convert(setting.value, rule, lambda _: None).settings[0][1]
            except Drop as drop:
                self.report.dropped.append(Entry(setting.name, setting.origin, note=drop.reason))
                return
            for module, enabled in modules.items():
                extensions[module] = (enabled, setting.name, setting.origin)
            return
        previous = old.get(name)
        value, op = setting.value, setting.op
        if previous is not None and op != "set":
            if op == "update" and isinstance(previous.value, dict) and isinstance(value, dict):
                value, op = {**previous.value, **value}, previous.op
            elif op == "extend" and isinstance(previous.value, list) and isinstance(value, list):
                value, op = [*previous.value, *value], previous.op
        old.pop(name, None)  # re-insert: the latest assignment decides the order of output
        old[name] = _Old(setting.name, value, op, setting.origin)

    # -- one setting ----------------------------------------------------------------------------

    def _translate_one(self, name: str, item: _Old, old: dict[str, _Old], result: Translation) -> None:
        section, _, trait = name.partition(".")
        if section in KEPT_CLASSES:
            target = f"{KEPT_CLASSES[section]}.{trait}"
            self._store(result, target, Value(item.value, item.op, item.written, item.origin, 0, KEPT_REASON))
            return
        found = RULE_INDEX.get(name)
        if found is None:
            self.report.unknown.append(Entry(item.written, item.origin, note=self._unknown_hint(section, trait)))
            return
        rule, rank = found
        if rule.target is None:
            self.report.dropped.append(Entry(item.written, item.origin, note=rule.reason))
            return

        def lookup(other: str) -> Any:
            entry = old.get(other)
            return entry.value if entry is not None else None

        try:
            converted = convert(item.value, rule, lookup)
        except Drop as drop:
            self.report.dropped.append(Entry(item.written, item.origin, note=drop.reason))
            return
        for part, reason in converted.dropped:
            self.report.dropped.append(Entry(item.written + part[part.find("[") :], item.origin, note=reason))
        for target, value in converted.settings:
            try:
                note = self._check_target(target)
            except Drop as drop:
                self.report.dropped.append(Entry(item.written, item.origin, target, drop.reason))
                continue
            op = item.op if not rule.convert else "set"
            self._store(result, target, Value(value, op, item.written, item.origin, rank, note or rule.reason))

    def _store(self, result: Translation, target: str, new: Value) -> None:
        current = result.values.get(target)
        if current is not None and current.rank > new.rank:
            self.report.dropped.append(Entry(new.source, new.origin, target, f"overridden by {current.source}"))
            return
        if current is not None:
            self.report.translated = [
                e
                for e in self.report.translated
                if not (e.target == target and e.origin == current.origin and e.source == current.source)
            ]
            if current.source != new.source:
                self.report.dropped.append(Entry(current.source, current.origin, target, f"overridden by {new.source}"))
        result.values[target] = new
        if target in SECRET_TARGETS and isinstance(new.value, str):
            self.secrets.append(new.value)
        self.report.translated.append(Entry(new.source, new.origin, target, new.note))

    def _check_target(self, target: str) -> str:
        """Return a note about ``target``; raise :class:`Drop` when the installed class lacks it."""
        section, _, trait = target.partition(".")
        if section in self.known:
            if trait not in self.known[section]:
                package = TARGET_PACKAGES.get(section) or "jupyter-core-server"
                raise Drop(
                    f"needs a newer {package}: the installed {section} has no option {trait}; "
                    "run the migration again after upgrading"
                )
            return ""
        plugin_package = TARGET_PACKAGES.get(section)
        if plugin_package:
            return f"takes effect once {plugin_package} is installed and enabled"
        return ""

    def _unknown_hint(self, section: str, trait: str) -> str:
        if section not in _OLD_CLASSES:
            return f"{section} is not configured by this server (an extension's or another application's class?)"
        names = [n.partition(".")[2] for n in RULE_INDEX if n.startswith(section + ".")]
        close = difflib.get_close_matches(trait, names, n=1, cutoff=0.6)
        return f"no such option; did you mean {section}.{close[0]}?" if close else "no such option"

    def _target_hint(self, old_name: str) -> str:
        section, _, trait = old_name.partition(".")
        section = CLASS_ALIASES.get(section, section)
        if section in KEPT_CLASSES:
            return f"{KEPT_CLASSES[section]}.{trait}"
        found = RULE_INDEX.get(f"{section}.{trait}")
        if found is None:
            return "unknown"
        return found[0].target or "dropped"

    def _gateway_defaults(self, result: Translation) -> None:
        for target, value, source in GATEWAY_DEFAULTS:
            section, _, trait = target.partition(".")
            if target not in result.values and trait in self.known.get(section, set()):
                note = "Kernel Gateway's default, which differs from this server's"
                self._store(result, target, Value(value, "set", source, "(Kernel Gateway default)", -1, note))

    # -- extensions -----------------------------------------------------------------------------

    def _plugins(self, extensions: dict[str, tuple[bool, str, str]], result: Translation) -> None:
        wanted: dict[str, tuple[bool, str]] = {}
        for module, (enabled, written, origin) in extensions.items():
            state = "enabled" if enabled else "disabled"
            plugin = EXTENSIONS.get(module, module)
            source = f"{written}[{module!r}] ({state})"
            if plugin not in self.installed_plugins:
                hint = (
                    f"install jupyter-core-server-{plugin}"
                    if module in EXTENSIONS
                    else "no plugin of that name is installed"
                )
                self.report.plugins.append(Entry(source, origin, "not migrated", hint))
                continue
            previous = wanted.get(plugin)
            # Several extensions may map to one plugin (jupyterlab, notebook -> frontend): on if any is on.
            wanted[plugin] = (enabled or (previous is not None and previous[0]), origin)
            self.report.plugins.append(Entry(source, origin, f"plugin {plugin} {state}"))
        result.plugins.update(wanted)
