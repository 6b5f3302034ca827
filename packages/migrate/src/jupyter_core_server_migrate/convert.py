"""Value converters named by the rules' ``convert`` field, and the parsing of ``KG_*`` variables.

A converter takes the old value and a lookup of the other old values of the same file
(``"Class.trait" -> value``) and returns a :class:`Converted`: the new settings, and the
parts it had to leave out with the reason. :class:`Drop` leaves the whole value out.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlparse

from .rules import Rule

__all__ = ["CONVERTERS", "Converted", "Drop", "convert", "parse_env"]

Lookup = Callable[[str], Any]


class Drop(Exception):
    """The value is left out, for ``reason``."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class Converted:
    """What one old value becomes: new ``(Class.trait, value)`` pairs and the parts left out."""

    settings: list[tuple[str, Any]]
    dropped: list[tuple[str, str]] = field(default_factory=list)  # (part, reason)


def _target(rule: Rule) -> str:
    assert rule.target is not None, f"rule for {rule.sources} has no target"
    return rule.target


def _same(value: Any, rule: Rule, lookup: Lookup) -> Converted:
    return Converted([(_target(rule), value)])


def _true_string(value: Any, rule: Rule, lookup: Lookup) -> Converted:
    return Converted([(_target(rule), str(value).strip().lower() == "true")])


def _not_none(value: Any, rule: Rule, lookup: Lookup) -> Converted:
    if value is None:
        raise Drop("unset (None): the default applies")
    return Converted([(_target(rule), value)])


def _password(value: Any, rule: Rule, lookup: Lookup) -> Converted:
    text = str(value)
    if text and not text.startswith("argon2:"):
        algorithm = text.split(":", 1)[0] if ":" in text else "unknown"
        raise Drop(
            f"a {algorithm} password hash cannot be checked here; make an argon2 one with "
            "jupyter_core_server.auth.identity.hash_password and set Authenticator.hashed_password"
        )
    return Converted([(_target(rule), text)])


def _secret(value: Any, rule: Rule, lookup: Lookup) -> Converted:
    if isinstance(value, bytes):
        value = value.hex()
    if not value:
        raise Drop("empty: a random secret is made at start-up")
    return Converted([(_target(rule), str(value))])


def _name_list(value: Any, rule: Rule, lookup: Lookup) -> Converted:
    if isinstance(value, str):
        value = value.split(",")
    names = [str(name).strip() for name in value if str(name).strip()]
    return Converted([(_target(rule), names)])


def _prespawn(value: Any, rule: Rule, lookup: Lookup) -> Converted:
    if value is None or int(value) <= 0:
        raise Drop("no kernels prespawned")
    kernel = (
        lookup("KernelGatewayApp.default_kernel_name") or lookup("MultiKernelManager.default_kernel_name") or "python3"
    )
    return Converted([(_target(rule), {str(kernel): int(value)})])


def _seed_uri(value: Any, rule: Rule, lookup: Lookup) -> Converted:
    if not value:
        raise Drop("no seed notebook")
    text = str(value)
    parsed = urlparse(text)
    if parsed.scheme == "file":
        return Converted([(_target(rule), unquote(parsed.path))])
    if parsed.scheme and len(parsed.scheme) > 1:  # one letter is a Windows drive
        raise Drop(
            f"{parsed.scheme}: URIs are not fetched; "
            "download the notebook and set KernelService.seed_notebook to its path"
        )
    return Converted([(_target(rule), text)])


def _extensions(value: Any, rule: Rule, lookup: Lookup) -> Converted:
    if isinstance(value, dict):
        return Converted([(_target(rule), {str(k): bool(v) for k, v in value.items()})])
    if isinstance(value, (list, tuple, set)):
        return Converted([(_target(rule), {str(k): True for k in value})])
    raise Drop(f"not a dict or list of extension modules: {value!r}")


def _response_headers(value: Any, rule: Rule, result: Converted) -> None:
    """``tornado_settings['headers']`` -> ``CoreServerApp.response_headers``, header by header."""
    # The server's own check, so that nothing migrated stops the server from starting.
    from jupyter_core_server import check_header

    part = "tornado_settings['headers']"
    if not isinstance(value, dict):
        result.dropped.append((part, f"not a dict of header names and values: {value!r}"))
        return
    headers: dict[str, str] = {}
    for name, item in value.items():
        try:
            check_header(str(name), str(item))
        except ValueError as exc:
            result.dropped.append((f"{part}[{name!r}]", str(exc)))
            continue
        headers[str(name)] = str(item)
    if headers:
        result.settings.append((rule.also[0], headers))


def _tornado_settings(value: Any, rule: Rule, lookup: Lookup) -> Converted:
    if not isinstance(value, dict):
        raise Drop(f"not a dict: {value!r}")
    result = Converted([])
    for key, item in value.items():
        if key == "websocket_max_message_size":
            result.settings.append((_target(rule), int(item)))
        elif key == "headers":
            _response_headers(item, rule, result)
        else:
            result.dropped.append((f"tornado_settings[{key!r}]", "no tornado here; this setting has no equivalent"))
    if not result.settings and not result.dropped:
        raise Drop("empty")
    return result


def _terminado_settings(value: Any, rule: Rule, lookup: Lookup) -> Converted:
    if not isinstance(value, dict):
        raise Drop(f"not a dict: {value!r}")
    result = Converted([])
    for key, item in value.items():
        if key == "shell_command":
            command = shlex.split(item) if isinstance(item, str) else [str(part) for part in item]
            result.settings.append((_target(rule), command))
        else:
            result.dropped.append((f"terminado_settings[{key!r}]", "terminals do not use terminado; no equivalent"))
    if not result.settings and not result.dropped:
        raise Drop("empty")
    return result


CONVERTERS: dict[str, Callable[[Any, Rule, Lookup], Converted]] = {
    "": _same,
    "true_string": _true_string,
    "not_none": _not_none,
    "password": _password,
    "secret": _secret,
    "name_list": _name_list,
    "prespawn": _prespawn,
    "seed_uri": _seed_uri,
    "extensions": _extensions,
    "tornado_settings": _tornado_settings,
    "terminado_settings": _terminado_settings,
}


def convert(value: Any, rule: Rule, lookup: Lookup) -> Converted:
    """Convert one old value with its rule's converter; raise :class:`Drop` to leave it out."""
    try:
        return CONVERTERS[rule.convert](value, rule, lookup)
    except (TypeError, ValueError) as exc:
        raise Drop(f"value {value!r} cannot be converted: {exc}") from None


def parse_env(kind: str, text: str) -> Any:
    """Parse a ``KG_*`` variable's text the way Kernel Gateway does for its kind.

    ``bool`` is true only for ``True`` (Kernel Gateway compares exactly), ``lowerbool``
    for any capitalisation of ``true``, ``list`` splits on commas.
    """
    if kind == "int":
        return int(text)
    if kind == "bool":
        return text == "True"
    if kind == "lowerbool":
        return text.lower() == "true"
    if kind == "list":
        return text.split(",")
    return text
