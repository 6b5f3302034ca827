"""Kernelspecs, cached until a kernelspec directory changes (no aiohttp here).

Scanning kernelspec directories and reading every ``kernel.json`` on each request is
what makes ``GET /api/kernelspecs`` slow elsewhere. The cache is keyed by the
modification times of the kernel directories, of each spec's directory (a logo added)
and of its ``kernel.json``, so an installed, removed or edited kernelspec shows up on the
next request. The encoded ``/api/kernelspecs`` body is kept too, so an unchanged listing
costs a few ``stat`` calls.
"""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path
from typing import Any

from jupyter_client.kernelspec import KernelSpecManager

from ..errors import NotFound

__all__ = ["KernelSpecCache", "NoSuchKernelSpec"]

FRONTEND_FILES = frozenset({"kernel.js", "kernel.css"})


class NoSuchKernelSpec(NotFound):
    """No kernelspec has this name."""

    def __init__(self, name: str) -> None:
        super().__init__(f"No such kernel: {name}", "no_such_kernelspec")


def _stamp(path: str) -> float:
    try:
        return os.stat(path).st_mtime_ns
    except OSError:
        return -1


class KernelSpecCache:
    """Serves kernelspec models from memory while the directories are unchanged."""

    def __init__(self, manager: KernelSpecManager) -> None:
        self.manager = manager
        self._key: tuple[Any, ...] | None = None
        self._specs: dict[str, dict[str, Any]] = {}
        self._lock = asyncio.Lock()
        self._listing: tuple[tuple[Any, ...], bytes] | None = None

    def _fingerprint(self) -> tuple[Any, ...]:
        dirs = tuple((d, _stamp(d)) for d in self.manager.kernel_dirs)
        specs = tuple(
            (name, _stamp(spec["resource_dir"]), _stamp(os.path.join(spec["resource_dir"], "kernel.json")))
            for name, spec in self._specs.items()
        )
        return dirs + specs

    async def specs(self) -> dict[str, dict[str, Any]]:
        """Return ``{name: {"resource_dir", "spec"}}`` for every kernelspec."""
        if self._key is not None and self._key == self._fingerprint():
            return self._specs
        async with self._lock:
            key_before = self._fingerprint()
            if self._key != key_before or self._key is None:
                self._specs = await asyncio.to_thread(self.manager.get_all_specs)
                self._key = self._fingerprint()
        return self._specs

    async def listing(self, base_url: str, default: str | None = None) -> bytes:
        """The encoded ``/api/kernelspecs`` body, rebuilt only when a kernelspec changed.

        :param default: The default kernel name to report; when ``None``, ``python3`` if
            installed (as in jupyter_client), else the first name.
        """
        specs = await self.specs()
        if default is None:
            default = "python3" if "python3" in specs or not specs else min(specs)
        key = (self._key, base_url, default)
        if self._listing is None or self._listing[0] != key:
            models = {name: _model(name, spec, base_url) for name, spec in specs.items()}
            self._listing = (key, json.dumps({"default": default, "kernelspecs": models}).encode())
        return self._listing[1]

    async def model(self, name: str, base_url: str) -> dict[str, Any]:
        """Return the REST model of one kernelspec."""
        specs = await self.specs()
        if name not in specs:
            raise NoSuchKernelSpec(name)
        return _model(name, specs[name], base_url)

    async def resource(self, name: str, filename: str) -> Path:
        """Return the path of a kernelspec's resource file (logo, kernel.js, kernel.css)."""
        specs = await self.specs()
        if name not in specs or "/" in filename or "\\" in filename or filename.startswith("."):
            raise NotFound(f"No resource {filename} for kernel {name}", "no_such_resource")
        path = Path(specs[name]["resource_dir"]) / filename
        if not path.is_file():
            raise NotFound(f"No resource {filename} for kernel {name}", "no_such_resource")
        return path


def _model(name: str, spec: dict[str, Any], base_url: str) -> dict[str, Any]:
    resources: dict[str, str] = {}
    resource_dir = spec["resource_dir"]
    try:
        entries = sorted(os.listdir(resource_dir))
    except OSError:
        entries = []
    for filename in entries:
        # As jupyter_server: kernel.js and kernel.css by name, logos keyed without extension.
        if filename in FRONTEND_FILES:
            resources[filename] = f"{base_url}kernelspecs/{name}/{filename}"
        elif filename.startswith("logo-"):
            resources[os.path.splitext(filename)[0]] = f"{base_url}kernelspecs/{name}/{filename}"
    return {"name": name, "spec": spec["spec"], "resources": resources}
