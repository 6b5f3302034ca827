"""Settings of the applications' plugins: schemas, default overrides and user settings.

A plugin id ``@scope/package:plugin`` has its schema at ``<schemas>/@scope/package/plugin.json``
(the application's schemas, or a prebuilt extension's ``schemas`` folder, which wins),
and the user's settings, JSON5 with comments kept verbatim, at
``<user settings dir>/@scope/package/plugin.jupyterlab-settings``: the layout of
jupyterlab_server, so settings move between the two servers unchanged. Defaults may
be overridden by ``overrides.json`` / ``overrides.d/*.json`` in the application's
``settings`` folder and the ``labconfig/default_setting_overrides`` config section.
"""

from __future__ import annotations

import json
import logging
import re
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import json5
from jsonschema import Draft7Validator  # type: ignore[import-untyped]
from jsonschema.exceptions import SchemaError, ValidationError  # type: ignore[import-untyped]
from jupyter_core_server import write_text_atomic

from .errors import BadSettings, SettingsNotFound
from .sections import SectionStore, recursive_update

__all__ = ["SETTINGS_EXTENSION", "SettingsStore", "load_overrides"]

log = logging.getLogger("jupyter_core_server.frontend")

SETTINGS_EXTENSION = ".jupyterlab-settings"
# "@scope/name:plugin" or "name:plugin"; no "..", no backslashes, no absolute paths.
_PLUGIN_ID = re.compile(r"^(?:@[\w.\-~]+/)?[\w.\-~]+:[\w.\-~]+$")


def _iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, tz=timezone.utc).isoformat()


def _load_json_or_json5(path: Path) -> Any:
    text = path.read_text(encoding="utf-8")
    return json5.loads(text) if path.suffix == ".json5" else json.loads(text)


def load_overrides(app_settings_dir: Path | None) -> dict[str, Any]:
    """Collect default overrides by plugin id, lowest precedence first."""
    overrides: dict[str, Any] = {}
    paths: list[Path] = []
    if app_settings_dir is not None:
        paths += sorted([*app_settings_dir.glob("overrides.d/*.json"), *app_settings_dir.glob("overrides.d/*.json5")])
        paths += [app_settings_dir / "overrides.json", app_settings_dir / "overrides.json5"]
    for path in paths:
        if not path.is_file():
            continue
        try:
            data = _load_json_or_json5(path)
        except (OSError, ValueError) as exc:
            log.warning("Ignoring settings overrides %s: %s", path, exc)
            continue
        if isinstance(data, dict):
            for plugin_id, values in data.items():
                if isinstance(values, dict):
                    recursive_update(overrides.setdefault(plugin_id, {}), values)
    for plugin_id, values in SectionStore("labconfig").get("default_setting_overrides").items():
        if isinstance(values, dict):
            recursive_update(overrides.setdefault(plugin_id, {}), values)
    return overrides


def _split(plugin_id: str) -> tuple[str, str]:
    if not _PLUGIN_ID.match(plugin_id) or ".." in plugin_id:
        raise SettingsNotFound(f"No settings schema for {plugin_id!r}")
    package, _, plugin = plugin_id.partition(":")
    return package, plugin


class SettingsStore:
    """Read schemas and user settings; validate and store new user settings.

    :param schemas_dir: The application's schemas folder.
    :param user_settings_dir: Where user settings are written.
    :param extensions_path: Prebuilt extension directories, highest precedence first.
    :param overrides: Default overrides by plugin id (see :func:`load_overrides`).
    """

    def __init__(
        self, schemas_dir: Path | None, user_settings_dir: Path, extensions_path: list[str], overrides: dict[str, Any]
    ) -> None:
        self.schemas_dir = schemas_dir
        self.user_settings_dir = user_settings_dir
        self.extensions_path = [Path(p) for p in extensions_path]
        self.overrides = overrides

    # -- schemas ------------------------------------------------------------------------------

    def _schema_file(self, plugin_id: str) -> Path:
        package, plugin = _split(plugin_id)
        for directory in self.extensions_path:
            candidate = directory / package / "schemas" / package / f"{plugin}.json"
            if candidate.is_file():
                return candidate
        if self.schemas_dir is not None:
            candidate = self.schemas_dir / package / f"{plugin}.json"
            if candidate.is_file():
                return candidate
        raise SettingsNotFound(f"No settings schema for {plugin_id!r}")

    def _all_ids(self) -> dict[str, Path]:
        """Every plugin id with its schema file: the application's, then extensions' (which win)."""
        found: dict[str, Path] = {}
        if self.schemas_dir is not None and self.schemas_dir.is_dir():
            for path in sorted(self.schemas_dir.rglob("*.json")):
                if path.name == "package.json":
                    continue
                package = path.parent.relative_to(self.schemas_dir).as_posix()
                found[f"{package}:{path.stem}"] = path
        extension_schemas: dict[str, Path] = {}
        for directory in self.extensions_path:
            for path in sorted(directory.glob("**/schemas/**/*.json")):
                if path.name == "package.json":
                    continue
                schemas_root = next(p for p in path.parents if p.name == "schemas")
                package = path.parent.relative_to(schemas_root).as_posix()
                extension_schemas.setdefault(f"{package}:{path.stem}", path)
        found.update(extension_schemas)
        return found

    def _load_schema(self, plugin_id: str, path: Path) -> dict[str, Any]:
        try:
            schema = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise BadSettings(
                f"Settings schema of {plugin_id} cannot be read: {exc}", "bad_schema", status=500
            ) from None
        if not isinstance(schema, dict):
            raise BadSettings(f"Settings schema of {plugin_id} is not a JSON object", "bad_schema", status=500)
        self._apply_overrides(plugin_id, schema)
        try:
            Draft7Validator.check_schema(schema)
        except SchemaError as exc:
            raise BadSettings(
                f"Settings schema of {plugin_id} is invalid: {exc.message}", "bad_schema", status=500
            ) from None
        return schema

    def _apply_overrides(self, plugin_id: str, schema: dict[str, Any]) -> None:
        defaults = self.overrides.get(plugin_id)
        if not defaults:
            return
        properties = schema.setdefault("properties", {})
        for key, value in defaults.items():
            current = properties.get(key)
            if isinstance(current, dict):
                if isinstance(current.get("default"), dict) and isinstance(value, dict):
                    merged = json.loads(json.dumps(current["default"]))
                    recursive_update(merged, value)
                    current["default"] = merged
                else:
                    current["default"] = value
            else:
                properties[key] = {"default": value}

    @staticmethod
    def _version(schema_path: Path) -> str:
        try:
            return str(json.loads((schema_path.parent / "package.json.orig").read_text(encoding="utf-8"))["version"])
        except (OSError, ValueError, KeyError, TypeError):
            return "N/A"

    # -- user settings --------------------------------------------------------------------------

    def _user_file(self, plugin_id: str) -> Path:
        package, plugin = _split(plugin_id)
        return self.user_settings_dir / package / f"{plugin}{SETTINGS_EXTENSION}"

    def _user_settings(self, plugin_id: str, schema: dict[str, Any]) -> dict[str, Any]:
        path = self._user_file(plugin_id)
        raw, settings, last_modified, created = "{}", {}, None, None
        try:
            st = path.stat()
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            pass
        except OSError as exc:
            log.warning("Cannot read user settings %s: %s", path, exc)
        else:
            last_modified, created = _iso(st.st_mtime), _iso(st.st_ctime)
            raw = text or raw
            try:
                loaded = json5.loads(raw)
            except ValueError as exc:
                log.warning("Ignoring user settings of %s: not valid JSON5 (%s)", plugin_id, exc)
                loaded = {}
                raw = "{}"
            if not isinstance(loaded, dict):
                log.warning("Ignoring user settings of %s: not a JSON object", plugin_id)
                loaded, raw = {}, "{}"
            if loaded:
                errors = sorted(Draft7Validator(schema).iter_errors(loaded), key=lambda e: list(e.path))
                if errors:
                    log.warning("Ignoring user settings of %s: %s", plugin_id, errors[0].message)
                    loaded, raw = {}, "{}"
            settings = loaded
        return {"raw": raw, "settings": settings, "last_modified": last_modified, "created": created}

    # -- API ------------------------------------------------------------------------------------

    def get(self, plugin_id: str) -> dict[str, Any]:
        """Return one plugin's schema, version, raw and parsed user settings and file times."""
        path = self._schema_file(plugin_id)
        schema = self._load_schema(plugin_id, path)
        return {
            "id": plugin_id,
            "schema": schema,
            "version": self._version(path),
            **self._user_settings(plugin_id, schema),
        }

    def list(self, ids_only: bool = False) -> list[dict[str, Any]]:
        """Return every plugin's settings (or only ids), in reverse id order as jupyterlab_server does."""
        found = self._all_ids()
        result: list[dict[str, Any]] = []
        for plugin_id in sorted(found, reverse=True):
            if ids_only:
                result.append({"id": plugin_id})
                continue
            try:
                schema = self._load_schema(plugin_id, found[plugin_id])
            except BadSettings as exc:
                log.warning("%s", exc.message)
                continue
            result.append(
                {
                    "id": plugin_id,
                    "schema": schema,
                    "version": self._version(found[plugin_id]),
                    **self._user_settings(plugin_id, schema),
                }
            )
        return result

    def save(self, plugin_id: str, raw: str) -> None:
        """Validate ``raw`` (JSON5) against the plugin's schema and store it verbatim.

        :raises BadSettings: 400 when ``raw`` is not a JSON5 object or does not validate.
        """
        path = self._schema_file(plugin_id)
        schema = self._load_schema(plugin_id, path)
        try:
            payload = json5.loads(raw)
        except ValueError as exc:
            raise BadSettings(f"Settings of {plugin_id} are not valid JSON5: {exc}", "invalid_json5") from None
        if not isinstance(payload, dict):
            raise BadSettings(f"Settings of {plugin_id} must be a JSON object", "invalid_settings")
        try:
            Draft7Validator(schema).validate(payload)
        except ValidationError as exc:
            where = "/".join(str(p) for p in exc.absolute_path) or "(top level)"
            raise BadSettings(
                f"Settings of {plugin_id} do not match the schema at {where}: {exc.message}", "invalid_settings"
            ) from None
        write_text_atomic(self._user_file(plugin_id), raw)
