"""Prebuilt ("federated") lab extensions and the enabled/disabled state the pages are given.

An extension is a folder ``<labextensions dir>/<name>`` or ``<dir>/@scope/<name>``
with a ``package.json`` whose ``jupyterlab._build`` says what the page loads. The
first directory of the search path that holds a name wins. Disabled extensions come
from ``page_config.json`` in the application's settings folder, then the
``labconfig/page_config`` section of the Jupyter config levels (what ``jupyter
labextension disable`` writes), then extensions that declare others disabled.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import json5

from .sections import SectionStore, recursive_update

__all__ = ["Extension", "find_extensions", "page_config_state"]

log = logging.getLogger("jupyter_core_server.frontend")


@dataclass(frozen=True)
class Extension:
    """One prebuilt lab extension found on the search path."""

    name: str
    version: str
    path: Path  # the folder holding package.json (may be a symlink, as `labextension develop` makes)
    package: dict[str, Any] = field(repr=False)

    @property
    def build(self) -> dict[str, Any] | None:
        build = self.package.get("jupyterlab", {}).get("_build")
        return build if isinstance(build, dict) and "load" in build else None

    def page_entry(self) -> dict[str, Any] | None:
        """Return this extension's entry of ``federated_extensions``, or ``None`` if it is not built."""
        build = self.build
        if build is None:
            return None
        entry: dict[str, Any] = {"name": self.name, "load": build["load"]}
        for key in ("extension", "mimeExtension", "style"):
            if key in build:
                entry[key] = build[key]
        entry["entrypoints"] = build.get("entrypoints")
        return entry

    def model(self) -> dict[str, Any]:
        """The extension as the read-only extension manager lists it."""
        repository = self.package.get("repository")
        url = self.package.get("homepage") or (repository.get("url", "") if isinstance(repository, dict) else "")
        return {
            "name": self.name,
            "description": self.package.get("description", ""),
            "homepage_url": url,
            "installed": True,
            "installed_version": self.version,
            "latest_version": self.version,
            "status": "ok",
            "enabled": True,
            "core": False,
            "allowed": True,
            "approved": False,
            "pkg_type": "prebuilt",
            "install": self._install_info(),
        }

    def _install_info(self) -> dict[str, Any] | None:
        try:
            data = json.loads((self.path / "install.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) else None


def _candidates(directory: Path) -> list[Path]:
    found = [p for p in directory.glob("*/package.json") if not p.parent.name.startswith("@")]
    found += list(directory.glob("@*/*/package.json"))
    return sorted(found)


def find_extensions(search_path: list[str]) -> dict[str, Extension]:
    """Return the extensions on ``search_path`` by name (the first directory holding a name wins)."""
    extensions: dict[str, Extension] = {}
    for directory in search_path:
        for package_json in _candidates(Path(directory)):
            try:
                package = json.loads(package_json.read_text(encoding="utf-8"))
                name = str(package["name"])
            except (OSError, ValueError, KeyError, TypeError) as exc:
                log.warning("Ignoring lab extension %s: %s", package_json.parent, exc)
                continue
            if name not in extensions:
                extensions[name] = Extension(name, str(package.get("version", "")), package_json.parent, package)
    return extensions


def _as_flags(value: Any) -> dict[str, bool]:
    """``disabledExtensions`` may be a list of names or a ``{name: bool}`` object."""
    if isinstance(value, list):
        return {str(v): True for v in value}
    if isinstance(value, dict):
        return {str(k): bool(v) for k, v in value.items()}
    return {}


def _read_app_page_config(settings_dir: Path | None) -> dict[str, Any]:
    if settings_dir is None:
        return {}
    for name in ("page_config.json5", "page_config.json"):
        path = settings_dir / name
        try:
            text = path.read_text(encoding="utf-8")
        except OSError:
            continue
        if not text.strip():
            continue
        try:
            data = json5.loads(text) if name.endswith("5") else json.loads(text)
        except ValueError as exc:
            log.warning("Ignoring %s: %s", path, exc)
            return {}
        return data if isinstance(data, dict) else {}
    return {}


def page_config_state(
    extensions: dict[str, Extension], app_settings_dir: Path | None, app_package: dict[str, Any] | None
) -> dict[str, Any]:
    """Return the page-config keys that come from disk: ``federated_extensions``, ``disabledExtensions`` ...

    :param extensions: The extensions found on the search path.
    :param app_settings_dir: The application's ``settings`` folder, or ``None``.
    :param app_package: The built application's ``package.json`` (its ``extensionMetadata``
        may disable plugins), or ``None``.
    """
    config: dict[str, Any] = {}
    for key, value in _read_app_page_config(app_settings_dir).items():
        config[key] = _as_flags(value) if key in ("disabledExtensions", "deferredExtensions") else value
    stored = SectionStore("labconfig").get("page_config")
    for key in ("disabledExtensions", "deferredExtensions", "lockedExtensions"):
        if key in stored:
            stored[key] = _as_flags(stored[key])
    recursive_update(config, stored)
    disabled: dict[str, bool] = _as_flags(config.get("disabledExtensions", {}))

    entries = []
    disabled_by: dict[str, list[str]] = {}
    for extension in extensions.values():
        entry = extension.page_entry()
        if entry is None:
            log.warning("%s is not a built lab extension (no jupyterlab._build); skipped", extension.name)
            continue
        entries.append(entry)
        declared = extension.package.get("jupyterlab", {}).get("disabledExtensions")
        if isinstance(declared, list):
            disabled_by[extension.name] = [str(d) for d in declared]
    metadata = (app_package or {}).get("jupyterlab", {}).get("extensionMetadata", {})
    if isinstance(metadata, dict):
        for name, data in metadata.items():
            if name not in disabled_by and isinstance(data, dict) and isinstance(data.get("disabledExtensions"), list):
                disabled_by[name] = [str(d) for d in data["disabledExtensions"]]
    rolled: dict[str, bool] = {}
    for name in sorted(disabled_by):
        if disabled.get(name) is True:  # a disabled extension disables nothing
            continue
        rolled.update(dict.fromkeys(disabled_by[name], True))
    rolled.update(disabled)

    config["federated_extensions"] = entries
    config["disabledExtensions"] = rolled
    # The pages expect lists where the files may hold {name: true} objects.
    return {
        key: [k for k, v in value.items() if v] if isinstance(value, dict) else value for key, value in config.items()
    }
