"""Language packs for the applications' interface.

A language pack is a Python distribution that registers its package under the
``jupyterlab.languagepack`` entry-point group with the locale as the name (e.g.
``fr_FR``); its catalogues are JSON files below the package's folder. Extensions may
add their own catalogues (``jupyterlab.locale`` group, ``<package>/locale/<locale>/
LC_MESSAGES/<name>.json``). The packages are located, not imported. English is built
in and needs no pack.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import re
from pathlib import Path
from typing import Any

from importlib_metadata import entry_points

__all__ = ["DEFAULT_LOCALE", "language_pack", "language_packs"]

log = logging.getLogger("jupyter_core_server.frontend")

DEFAULT_LOCALE = "en"
_PSEUDO = "ach_UG"  # the pseudo-language translators use to see untranslated strings
_LOCALE = re.compile(r"^[a-z]{2,3}(?:[_-][A-Za-z0-9]{2,8})*$")


def _package_dir(module: str) -> Path | None:
    # find_spec of a top-level name locates it without running it; a dotted name would
    # import its parents, so only the top-level package is looked up.
    try:
        spec = importlib.util.find_spec(module.split(".")[0])
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    base = Path(next(iter(spec.submodule_search_locations)))
    return base.joinpath(*module.split(".")[1:])


def _installed(group: str) -> dict[str, Path]:
    found: dict[str, Path] = {}
    for ep in entry_points(group=group):
        directory = _package_dir(ep.module)
        if directory is not None and directory.is_dir():
            found.setdefault(ep.name, directory)
    return found


def _display_name(locale: str, display_locale: str) -> str:
    try:
        import babel  # type: ignore[import-not-found, unused-ignore]  # optional: jupyterlab installs it; without it the locale code is shown
    except ImportError:
        return "English" if locale == DEFAULT_LOCALE else locale
    try:
        name = babel.Locale.parse(locale).get_display_name(display_locale) or locale
    except (ValueError, babel.UnknownLocaleError):
        return locale
    return name[:1].upper() + name[1:]


def language_packs(display_locale: str = DEFAULT_LOCALE) -> dict[str, Any]:
    """Return the installed locales with their names in ``display_locale`` and in themselves."""
    packs = _installed("jupyterlab.languagepack")
    shown = display_locale if display_locale in packs else DEFAULT_LOCALE
    result: dict[str, Any] = {
        DEFAULT_LOCALE: {
            "displayName": _display_name(DEFAULT_LOCALE, shown),
            "nativeName": _display_name(DEFAULT_LOCALE, DEFAULT_LOCALE),
        }
    }
    for locale in sorted(packs):
        if locale == _PSEUDO:
            result[locale] = {"displayName": "Pseudo-language", "nativeName": "to translate the UI"}
        elif _LOCALE.match(locale):
            result[locale] = {"displayName": _display_name(locale, shown), "nativeName": _display_name(locale, locale)}
    return result


def language_pack(locale: str) -> tuple[dict[str, Any], str]:
    """Return the catalogues of ``locale`` by domain, and a message when there are none.

    English (and ``default``) has no catalogues: the interface's own strings are English.
    """
    if locale in ("", "default", DEFAULT_LOCALE):
        return {}, ""
    if locale != _PSEUDO and not _LOCALE.match(locale):
        return {}, f"Language pack '{locale}' not valid!"
    packs = _installed("jupyterlab.languagepack")
    if locale not in packs:
        return {}, f"Language pack '{locale}' not installed!"
    data: dict[str, Any] = {}
    for path in sorted(packs[locale].rglob("*.json")):
        try:
            data[path.stem] = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            log.warning("Ignoring catalogue %s: %s", path, exc)
    for domain, package in _installed("jupyterlab.locale").items():
        candidate = package / "locale" / locale / "LC_MESSAGES" / f"{domain}.json"
        if domain not in data and candidate.is_file():
            try:
                data[domain] = json.loads(candidate.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                log.warning("Ignoring catalogue %s: %s", candidate, exc)
    return data, ""
