"""The OpenAPI 3.1 document of a running server: the core's part merged with every plugin's.

Each plugin contributes a fragment (``paths`` and ``components``) through the
``openapi_spec`` hook; the built-in plugins keep theirs in an ``openapi.yaml`` next to
their code. :func:`unmatched_routes` compares the document with the router, so a test
can insist that the two agree exactly.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from importlib import resources
from typing import Any

from aiohttp import web

from ._version import __version__
from .keys import ROUTE_INFO

__all__ = ["SpecConflict", "build_spec", "load_fragment", "openapi_path", "unmatched_routes"]

_PARAM = re.compile(r"\{(\w+)(?::[^{}]*(?:\{[^{}]*\}[^{}]*)*)?\}")
_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


class SpecConflict(ValueError):
    """Two plugins describe the same operation, or the same component differently."""


def load_fragment(package: str, name: str = "openapi.yaml") -> dict[str, Any]:
    """Read a YAML fragment shipped inside ``package``."""
    import yaml  # imported on first use: most requests never need it

    text = resources.files(package).joinpath(name).read_text(encoding="utf-8")
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # the C loader is ten times faster
    return dict(yaml.load(text, Loader=loader))


def openapi_path(path: str) -> str:
    """Turn an aiohttp path (``/api/kernels/{kernel_id:regex}``) into an OpenAPI path."""
    return _PARAM.sub(lambda m: "{" + m.group(1) + "}", path)


def _static_fragment(plugin: str) -> dict[str, Any]:
    return {
        "paths": {
            f"/static/{plugin}/{{filename}}": {
                "get": {
                    "summary": f"Static files of the {plugin} plugin",
                    "operationId": f"static_{plugin}",
                    "tags": [plugin],
                    "parameters": [{"name": "filename", "in": "path", "required": True, "schema": {"type": "string"}}],
                    "responses": {"200": {"description": "The file"}, "404": {"description": "No such file"}},
                }
            }
        }
    }


def build_spec(
    base_url: str, fragments: Iterable[tuple[str, Mapping[str, Any]]], static_plugins: Iterable[str] = ()
) -> dict[str, Any]:
    """Merge fragments into one OpenAPI 3.1 document.

    :raises SpecConflict: when two plugins describe the same path and method or define the
        same component differently.
    """
    paths: dict[str, dict[str, Any]] = {}
    components: dict[str, dict[str, Any]] = {}
    owner: dict[tuple[str, str], str] = {}
    everything = [*fragments, *((p, _static_fragment(p)) for p in static_plugins)]
    for plugin, fragment in everything:
        for path, item in (fragment.get("paths") or {}).items():
            target = paths.setdefault(path, {})
            for method, operation in item.items():
                if method in _METHODS and (path, method) in owner:
                    raise SpecConflict(
                        f"{method.upper()} {path} is described by both plugin {owner[path, method]!r} "
                        f"and plugin {plugin!r}"
                    )
                owner[path, method] = plugin
                target[method] = operation
        for kind, entries in (fragment.get("components") or {}).items():
            section = components.setdefault(kind, {})
            for name, value in entries.items():
                if name in section and section[name] != value:
                    raise SpecConflict(f"OpenAPI components.{kind}.{name} is defined differently by plugin {plugin!r}")
                section[name] = value
    components.setdefault("securitySchemes", {}).update(
        {
            "token": {
                "type": "apiKey",
                "in": "header",
                "name": "Authorization",
                "description": "`token <value>` or `Bearer <value>`",
            },
            "query_token": {"type": "apiKey", "in": "query", "name": "token"},
            "cookie": {"type": "apiKey", "in": "cookie", "name": "jupyter-core-server-<port>"},
        }
    )
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Jupyter Core Server",
            "version": __version__,
            "description": "Kernels, kernelspecs and sessions, plus the APIs of the loaded plugins.",
        },
        "servers": [{"url": base_url}],
        "security": [{"token": []}, {"query_token": []}, {"cookie": []}],
        "paths": dict(sorted(paths.items())),
        "components": components,
    }


def unmatched_routes(app: web.Application, spec: Mapping[str, Any]) -> tuple[set[str], set[str]]:
    """Compare the router with the document.

    :returns: ``(routed but undocumented, documented but not routed)``, each a set of
        ``"METHOD /path"`` strings relative to ``base_url`` (HEAD is implied by GET).
    """
    routed = {f"{info.method} {openapi_path(info.path)}" for info in app[ROUTE_INFO].values() if info.method != "HEAD"}
    documented = {
        f"{method.upper()} {path}"
        for path, item in spec.get("paths", {}).items()
        for method in item
        if method in _METHODS and method != "head"
    }
    return routed - documented, documented - routed
