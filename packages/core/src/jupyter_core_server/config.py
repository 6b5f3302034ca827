"""Configuration paths, the per-level ``*_config.d`` JSON files and plugin enablement.

Jupyter config lives in several directories (``jupyter --paths``). This module names them
as *levels* and resolves which plugins are enabled:

- levels, highest precedence first: ``user``, ``env`` (``JUPYTER_CONFIG_PATH``),
  ``sys-prefix``, ``system``;
- a level's plugin settings come from ``jupyter_core_server_config.json`` and every
  ``jupyter_core_server_config.d/*.json`` under ``{"CoreServerApp": {"plugins": {name: bool}}}``;
- the highest level that mentions a plugin decides; within one level, disabled beats enabled;
- a plugin mentioned nowhere is enabled, because installing a plugin enables it.
"""

from __future__ import annotations

import difflib
import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path

from jupyter_core import paths
from traitlets.config import Config, Configurable
from traitlets.config.loader import ConfigFileNotFound, JSONFileConfigLoader, PyFileConfigLoader

from .files import write_text_atomic

__all__ = [
    "CONFIG_BASENAME",
    "CONFIG_LEVELS",
    "PluginState",
    "config_dirs",
    "config_files",
    "config_level_dir",
    "load_file",
    "plugin_states",
    "warn_unknown_config",
    "write_plugin_state",
]

log = logging.getLogger("jupyter_core_server")

#: The name of the server's config files, without suffix: ``<basename>.py``, ``<basename>.json``
#: and the files of ``<basename>.d/`` in each config directory.
CONFIG_BASENAME = "jupyter_core_server_config"
#: The config levels, highest precedence first.
CONFIG_LEVELS = ("user", "env", "sys-prefix", "system")


def level_dirs(level: str) -> list[Path]:
    """Return the config directories of one level, highest precedence first."""
    if level == "user":
        return [Path(paths.jupyter_config_dir())]
    if level == "env":
        extra = os.environ.get("JUPYTER_CONFIG_PATH", "")
        return [Path(p) for p in extra.split(os.pathsep) if p]
    if level == "sys-prefix":
        return [Path(p) for p in paths.ENV_CONFIG_PATH]
    if level == "system":
        return [Path(p) for p in paths.SYSTEM_CONFIG_PATH]
    raise ValueError(f"Unknown config level {level!r}; expected one of {', '.join(CONFIG_LEVELS)}")


def config_level_dir(level: str) -> Path:
    """Return the directory that writes at ``level`` go to (``plugin enable|disable``, ``migrate``).

    :param level: One of :data:`CONFIG_LEVELS`.
    :raises ValueError: for an unknown level, or one without a directory (``env`` when
        ``JUPYTER_CONFIG_PATH`` is unset).
    """
    dirs = level_dirs(level)
    if not dirs:
        raise ValueError(f"No config directory for level {level!r}")
    return dirs[0]


def config_dirs() -> list[tuple[str, Path]]:
    """Return ``(level, directory)`` for every config directory, lowest precedence first.

    Loading files in this order lets later (higher) levels override earlier ones.
    """
    seen: set[Path] = set()
    ordered: list[tuple[str, Path]] = []
    for level in CONFIG_LEVELS:
        for directory in level_dirs(level):
            if directory not in seen:
                seen.add(directory)
                ordered.append((level, directory))
    ordered.reverse()
    return ordered


def json_files(directory: Path) -> list[Path]:
    """Return the JSON config files of one directory in the order they are applied."""
    dot_d = directory / f"{CONFIG_BASENAME}.d"
    files = sorted(dot_d.glob("*.json")) if dot_d.is_dir() else []
    main = directory / f"{CONFIG_BASENAME}.json"
    if main.is_file():
        files.append(main)
    return files


def config_files() -> list[Path]:
    """Return every config file, in the order they are applied (later ones win).

    Per directory: ``jupyter_core_server_config.d/*.json`` (sorted), then
    ``jupyter_core_server_config.py``, then ``jupyter_core_server_config.json``.
    """
    files: list[Path] = []
    for _, directory in config_dirs():
        dot_d = directory / f"{CONFIG_BASENAME}.d"
        candidates = sorted(dot_d.glob("*.json")) if dot_d.is_dir() else []
        candidates += [directory / f"{CONFIG_BASENAME}.py", directory / f"{CONFIG_BASENAME}.json"]
        files.extend(path for path in candidates if path.is_file())
    return files


def load_file(path: Path) -> Config:
    """Load one ``.py`` or ``.json`` config file."""
    loader_class = PyFileConfigLoader if path.suffix == ".py" else JSONFileConfigLoader
    loader = loader_class(path.name, path=str(path.parent), log=log)
    try:
        return loader.load_config()
    except ConfigFileNotFound:
        raise SystemExit(f"Config file {path} not found") from None
    except Exception as exc:
        raise SystemExit(f"Error in config file {path}: {exc}") from exc


def warn_unknown_config(config: Config, classes: list[type[Configurable]], logger: logging.Logger) -> None:
    """Warn about config options that no known class reads, naming the closest valid one."""
    by_name = {cls.__name__: cls for c in classes for cls in c.mro() if issubclass(cls, Configurable)}
    for section, values in config.items():
        if not isinstance(values, Config):
            continue
        cls = by_name.get(section)
        if cls is None:
            close = difflib.get_close_matches(section, list(by_name), n=1, cutoff=0.8)
            if close:
                logger.warning("Config section %s is not known; did you mean %s?", section, close[0])
            continue
        traits = cls.class_trait_names(config=True)
        for name in values:
            if name not in traits and not isinstance(values[name], Config):
                close = difflib.get_close_matches(name, traits, n=1, cutoff=0.6)
                hint = f"; did you mean {section}.{close[0]}?" if close else ""
                logger.warning("Config option %s.%s is not known%s", section, name, hint)


def read_json_file(path: Path) -> dict[str, object]:
    """Read one JSON config file; a broken file is logged and treated as empty."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        log.warning("Ignoring unreadable config file %s: %s", path, exc)
        return {}
    return data if isinstance(data, dict) else {}


def plugin_settings(directory: Path) -> dict[str, list[bool]]:
    """Return every enabled/disabled value each plugin has in one directory."""
    found: dict[str, list[bool]] = {}
    for path in json_files(directory):
        section = read_json_file(path).get("CoreServerApp")
        plugins = section.get("plugins") if isinstance(section, dict) else None
        if isinstance(plugins, dict):
            for name, value in plugins.items():
                found.setdefault(str(name), []).append(bool(value))
    return found


@dataclass(frozen=True)
class PluginState:
    """Whether a plugin is enabled, and which level decided it."""

    enabled: bool
    level: str  # a name from CONFIG_LEVELS, "config" (explicit settings) or "default"


def plugin_states(names: list[str], overrides: dict[str, bool] | None = None) -> dict[str, PluginState]:
    """Resolve the state of each named plugin from the config levels.

    :param names: Plugin names to resolve.
    :param overrides: Values given explicitly (command line or ``--config`` file); they
        beat every level.
    """
    per_level: list[tuple[str, dict[str, list[bool]]]] = []
    for level in CONFIG_LEVELS:
        merged: dict[str, list[bool]] = {}
        for directory in level_dirs(level):
            for name, values in plugin_settings(directory).items():
                merged.setdefault(name, []).extend(values)
        per_level.append((level, merged))
    states: dict[str, PluginState] = {}
    for name in names:
        if overrides and name in overrides:
            states[name] = PluginState(bool(overrides[name]), "config")
            continue
        state = PluginState(True, "default")
        for level, merged in per_level:
            if name in merged:
                state = PluginState(all(merged[name]), level)
                break
        states[name] = state
    return states


def write_plugin_state(name: str, enabled: bool, level: str) -> Path:
    """Record ``name`` as enabled or disabled at ``level``; return the file written.

    Each plugin has its own file, ``jupyter_core_server_config.d/plugin-<name>.json``,
    so enabling one never rewrites the settings of another. The file is replaced
    atomically.
    """
    directory = config_level_dir(level) / f"{CONFIG_BASENAME}.d"
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / f"plugin-{name}.json"
    write_text_atomic(target, json.dumps({"CoreServerApp": {"plugins": {name: enabled}}}, indent=2) + "\n")
    return target
