"""``migrate()``: find old configuration, translate it, and write (or diff) the new files."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path

from jupyter_core_server import CONFIG_BASENAME, config_dirs, config_level_dir

from . import files
from .files import Planned, TargetError
from .report import Entry, FileChange, Report
from .sources import Source, find_sources, read_env, read_source
from .translate import Translation, Translator

__all__ = ["ENV_FILENAME", "installed", "migrate"]

#: Where ``KG_*`` variables go, under ``jupyter_core_server_config.d/`` of the chosen level.
#: Files there apply before the main config files of their directory, so, as with Kernel
#: Gateway, a config file's setting beats the variable's.
ENV_FILENAME = "kernel-gateway-env.json"


def installed() -> tuple[dict[str, set[str]], set[str]]:
    """Return the configurable classes of the installed core and enabled plugins, and every plugin name.

    Classes: name -> option names. Plugins: the names of every plugin found, enabled or not.
    """
    from jupyter_core_server import Authenticator, CoreServerApp, PluginManager

    pm = PluginManager()
    pm.discover()
    pm.load_enabled()
    classes = [CoreServerApp, Authenticator]
    classes += [cls for _, contributed in pm.call_each("register_configurables") for cls in contributed]
    known = {cls.__name__: set(cls.class_trait_names(config=True)) for cls in classes}
    plugins = {record.name for record in pm.records.values() if not record.builtin}
    return known, plugins


def _directories(
    paths: Iterable[str | os.PathLike[str]] | None, levels: Iterable[str] | None
) -> list[tuple[Path, list[Path]]]:
    """Return ``(directory, old config files)`` pairs, lowest precedence first."""
    if paths is None:
        wanted = set(levels) if levels is not None else None
        found = []
        for level, directory in config_dirs():
            if wanted is None or level in wanted:
                found.append((directory, find_sources(directory)))
        return found
    grouped: dict[Path, list[Path]] = {}
    for raw in paths:
        path = Path(raw).expanduser().absolute()
        if path.is_dir():
            grouped.setdefault(path, []).extend(find_sources(path))
        else:
            grouped.setdefault(path.parent, []).append(path)
    return list(grouped.items())


def migrate(
    paths: Iterable[str | os.PathLike[str]] | None = None,
    *,
    dry_run: bool = False,
    env: Mapping[str, str] | None = None,
    env_level: str = "user",
    levels: Iterable[str] | None = None,
) -> Report:
    """Translate old notebook, jupyter_server and Kernel Gateway configuration.

    :param paths: Old config files or directories. ``None``: every config directory
        that ``jupyter --paths`` lists (user, environment, system levels).
    :param dry_run: Compute everything and put unified diffs in the report, but write nothing.
    :param env: Environment variables to translate (``KG_*``; others are ignored), for
        example ``os.environ``. ``None``: none.
    :param env_level: Config level that receives the translated variables
        (``jupyter_core_server_config.d/kernel-gateway-env.json`` there).
    :param levels: With ``paths=None``, only these levels (``user``, ``env``,
        ``sys-prefix``, ``system``).
    :returns: The report; its ``files`` say what was (or would be) written.
    """
    report = Report(dry_run=dry_run)
    known, plugins = installed()
    translator = Translator(known, plugins, report)
    planned: list[Planned] = []

    for directory, found in _directories(paths, levels):
        sources = [s for s in (_read(path, report) for path in found) if s is not None]
        if sources:
            planned += _plan_directory(directory, sources, translator, report)

    if env is not None and any(name.startswith("KG_") for name in env):
        env_source = read_env(env)
        report.sources.append("KG_* environment variables")
        translation = translator.translate(env_source.settings, gateway=True)
        target = config_level_dir(env_level) / f"{CONFIG_BASENAME}.d" / ENV_FILENAME
        if translation.values:
            planned += _json_plan(target, translation, ["KG_* environment variables"], report)

    for item in planned:
        change = FileChange(str(item.path), item.action, sources=item.sources)
        if dry_run:
            change.diff = files.diff(item, translator.secrets)
        else:
            try:
                change.backup = files.write(item)
            except OSError as exc:
                report.errors.append(Entry(str(item.path), str(item.path), note=f"cannot write: {exc}"))
                change.action = "failed"
        report.files.append(change)
    return report


def _read(path: Path, report: Report) -> Source | None:
    if not path.is_file():
        report.errors.append(Entry(str(path), str(path), note="no such file"))
        return None
    if path.suffix not in (".py", ".json"):
        report.errors.append(Entry(str(path), str(path), note="not a .py or .json config file"))
        return None
    source = read_source(path)
    if source.error:
        report.errors.append(Entry(str(path), str(path), note=f"{source.error}; file skipped"))
        return None
    report.sources.append(str(path))
    return source


def _plan_directory(directory: Path, sources: list[Source], translator: Translator, report: Report) -> list[Planned]:
    planned: list[Planned] = []
    plugin_states: dict[str, tuple[bool, str]] = {}
    for kind, suffix in (("json", ".json"), ("py", ".py")):
        group = [s for s in sources if s.kind == kind]
        if not group:
            continue
        names = [str(s.path) for s in group]
        settings = [setting for s in group for setting in s.settings]
        untranslated = [code for s in group for code in s.untranslated]
        gateway = any(s.path.name.startswith("jupyter_kernel_gateway_config") for s in group)
        translation = translator.translate(settings, untranslated, gateway=gateway)
        plugin_states.update(translation.plugins)
        target = directory / f"{CONFIG_BASENAME}{suffix}"
        if kind == "json":
            if translation.values:
                planned += _json_plan(target, translation, names, report)
        elif translation.values or translation.untranslated:
            try:
                content = files.python_content(target, translation.values, translation.untranslated, names)
            except TargetError as exc:
                report.errors.append(Entry(str(target), str(target), note=str(exc)))
                continue
            planned.append(files.plan(target, content, names))
    for plugin, (enabled, origin) in plugin_states.items():
        target = directory / f"{CONFIG_BASENAME}.d" / f"plugin-{plugin}.json"
        data = {"CoreServerApp": {"plugins": {plugin: enabled}}}
        try:
            planned.append(files.plan(target, files.json_content(target, data), [origin]))
        except TargetError as exc:
            report.errors.append(Entry(str(target), str(target), note=str(exc)))
    return planned


def _json_plan(target: Path, translation: Translation, names: list[str], report: Report) -> list[Planned]:
    lazy = [t for t, v in translation.values.items() if v.op != "set"]
    if lazy:  # cannot happen for JSON sources; keep the guard so nothing is silently wrong
        raise AssertionError(f"JSON output cannot express incremental changes of {lazy}")
    try:
        return [files.plan(target, files.json_content(target, files.nested(translation.values)), names)]
    except TargetError as exc:
        report.errors.append(Entry(str(target), str(target), note=str(exc)))
        return []
