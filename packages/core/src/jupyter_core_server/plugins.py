"""Plugin discovery, enablement, loading and failure records.

Plugins are found through the ``jupyter_core_server.plugins`` entry-point group. The
state of each (enabled or disabled, and the config level that decided it) is resolved
*before* anything is imported, so a disabled plugin's code never runs. A plugin that
fails to import or to set up is recorded with its error and the server goes on
without it; in strict mode (tests) the error is re-raised instead.
"""

from __future__ import annotations

import importlib
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pluggy
from importlib_metadata import entry_points

from . import hookspecs
from ._version import __version__
from .config import PluginState, plugin_states

__all__ = ["BUILTIN_PLUGINS", "ENTRY_POINT_GROUP", "ESSENTIAL_PLUGINS", "PluginManager", "PluginRecord"]

log = logging.getLogger("jupyter_core_server")

ENTRY_POINT_GROUP = "jupyter_core_server.plugins"

# The core's own services, registered through the same hooks as any other plugin.
BUILTIN_PLUGINS: dict[str, str] = {
    "api": "jupyter_core_server.api.plugin",
    "kernelspecs": "jupyter_core_server.kernelspecs.plugin",
    "kernels": "jupyter_core_server.kernels.plugin",
    "sessions": "jupyter_core_server.sessions.plugin",
}
# Built-ins that cannot be disabled: without them the server cannot report on itself.
ESSENTIAL_PLUGINS = frozenset({"api"})


@dataclass
class PluginRecord:
    """Everything the server knows about one plugin, as ``plugin list`` and ``/api/plugins`` show it."""

    name: str
    distribution: str
    version: str
    enabled: bool
    level: str
    builtin: bool = False
    error: str | None = None
    import_ms: float | None = None
    setup_ms: float | None = None
    requires: tuple[str, ...] = ()
    routes: list[str] = field(default_factory=list)
    #: How many times one of its event hook implementations raised (the server went on).
    hook_errors: int = 0
    loader: Callable[[], Any] | None = field(default=None, repr=False)

    @property
    def state(self) -> str:
        """``failed``, ``enabled`` or ``disabled``."""
        if self.error is not None:
            return "failed"
        return "enabled" if self.enabled else "disabled"

    def model(self) -> dict[str, Any]:
        """Return the JSON model of ``GET /api/plugins``."""
        return {
            "name": self.name,
            "distribution": self.distribution,
            "version": self.version,
            "state": self.state,
            "enabled": self.enabled,
            "level": self.level,
            "builtin": self.builtin,
            "error": self.error,
            "import_ms": self.import_ms,
            "setup_ms": self.setup_ms,
            "requires": list(self.requires),
            "routes": self.routes,
            "hook_errors": self.hook_errors,
        }


def _discover() -> Iterator[PluginRecord]:
    for name, module in BUILTIN_PLUGINS.items():
        yield PluginRecord(
            name=name,
            distribution="jupyter-core-server",
            version=__version__,
            enabled=True,
            level="default",
            builtin=True,
            loader=lambda module=module: importlib.import_module(module),  # type: ignore[misc]
        )
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        dist = ep.dist
        yield PluginRecord(
            name=ep.name,
            distribution=dist.name if dist is not None else "?",
            version=dist.version if dist is not None else "?",
            enabled=True,
            level="default",
            loader=ep.load,
        )


class PluginManager(pluggy.PluginManager):
    """The pluggy manager of one server, with a record per discovered plugin."""

    def __init__(self, *, strict: bool = False) -> None:
        super().__init__(hookspecs.PROJECT)
        self.add_hookspecs(hookspecs)
        self.strict = strict
        self.records: dict[str, PluginRecord] = {}
        #: Names of plugins that failed; their routes answer 503.
        self.failed: set[str] = set()

    # -- discovery and loading ----------------------------------------------------------

    def discover(self, overrides: dict[str, bool] | None = None) -> None:
        """Find every plugin and resolve its state without importing any of them."""
        found = list(_discover())
        states = plugin_states([r.name for r in found], overrides)
        for record in found:
            if record.name in self.records:
                # Keep the first plugin of that name working; list the other under a qualified key.
                other = self.records[record.name]
                record.error = f"name {record.name!r} is already taken by {other.distribution}"
                log.error("Plugin %s from %s ignored: %s", record.name, record.distribution, record.error)
                self.records[f"{record.name} ({record.distribution})"] = record
                continue
            state: PluginState = states[record.name]
            record.enabled, record.level = state.enabled, state.level
            if record.name in ESSENTIAL_PLUGINS and not record.enabled:
                log.warning("Plugin %s is essential and cannot be disabled; ignoring the setting.", record.name)
                record.enabled, record.level = True, "default"
            self.records[record.name] = record

    def load_enabled(self) -> None:
        """Import and register every enabled plugin, then check requirements."""
        for record in self.records.values():
            if record.enabled and record.error is None and record.loader is not None:
                self._load(record)
        self.check_requirements()

    def _load(self, record: PluginRecord) -> None:
        start = time.perf_counter()
        try:
            plugin = record.loader()  # type: ignore[misc]
            self.register(plugin, name=record.name)
        except Exception as exc:  # noqa: BLE001 - a broken plugin must not stop the server
            self.fail(record, f"import failed: {type(exc).__name__}: {exc}", exc)
            return
        finally:
            record.import_ms = round((time.perf_counter() - start) * 1000, 2)
        record.requires = tuple(getattr(plugin, "requires", ()))

    def register_object(self, plugin: object, name: str) -> None:
        """Register an in-process plugin object (tests and embedding applications)."""
        self.register(plugin, name=name)
        self.records[name] = PluginRecord(
            name=name,
            distribution="(in-process)",
            version=__version__,
            enabled=True,
            level="config",
            requires=tuple(getattr(plugin, "requires", ())),
        )

    def check_requirements(self) -> None:
        """Fail every plugin whose required plugins are not active, transitively."""
        changed = True
        while changed:
            changed = False
            for record in self.active():
                missing = [n for n in record.requires if n not in self.records or not self.is_active(n)]
                if missing:
                    self.fail(
                        record,
                        f"requires plugin(s) {', '.join(missing)}, which are not installed or not enabled",
                    )
                    changed = True

    # -- state ---------------------------------------------------------------------------

    def is_active(self, name: str) -> bool:
        """Return whether ``name`` is enabled, loaded and has not failed."""
        record = self.records.get(name)
        return record is not None and record.enabled and record.error is None and self.has_plugin(name)

    def active(self) -> list[PluginRecord]:
        """Return the records of every enabled plugin that has not failed."""
        return [r for r in self.records.values() if self.is_active(r.name)]

    def fail(self, record: PluginRecord, message: str, exc: BaseException | None = None) -> None:
        """Record a plugin failure, unregister the plugin and log it (re-raise if strict)."""
        record.error = message
        self.failed.add(record.name)
        if self.has_plugin(record.name) and self.get_plugin(record.name) is not None:
            self.unregister(name=record.name)
        log.error("Plugin %s (%s %s) disabled: %s", record.name, record.distribution, record.version, message)
        if self.strict:
            raise RuntimeError(f"plugin {record.name!r}: {message}") from exc

    def dependency_order(self, pairs: list[tuple[str, Any]]) -> list[tuple[str, Any]]:
        """Sort ``(plugin, value)`` pairs so that each plugin follows the plugins it requires."""
        placed: list[tuple[str, Any]] = []
        done: set[str] = set()
        pending = list(pairs)
        while pending:
            ready = [
                p for p in pending if all(r in done or r not in dict(pending) for r in self.records[p[0]].requires)
            ]
            for pair in ready or pending:  # a cycle cannot happen after check_requirements; never loop forever
                placed.append(pair)
                done.add(pair[0])
            pending = [p for p in pending if p[0] not in done]
        return placed

    # -- calling hooks with attribution ---------------------------------------------------

    def notify(self, hook_name: str, **kwargs: Any) -> None:
        """Call every implementation of an event hook, each on its own.

        pluggy stops at the first implementation that raises, so the implementations are
        called one by one here: a failing one is logged with its plugin's name and
        counted in the plugin's record (``hook_errors``), and the others still run. The
        plugin is not disabled: one bad event must not take its routes away.
        """
        if hook_name not in hookspecs.EVENT_HOOKS:
            raise ValueError(f"{hook_name} is not an event hook ({', '.join(sorted(hookspecs.EVENT_HOOKS))})")
        for impl in reversed(getattr(self.hook, hook_name).get_hookimpls()):
            name = self.get_name(impl.plugin)
            try:
                impl.function(*[kwargs[arg] for arg in impl.argnames])
            except Exception:  # attributed to the plugin; the rest still run
                log.exception("Plugin %s failed while handling %s", name, hook_name)
                record = self.records.get(name) if name is not None else None
                if record is not None:
                    record.hook_errors += 1

    def call_each(self, hook_name: str, **kwargs: Any) -> list[tuple[str, Any]]:
        """Call every implementation of a hook separately; return ``(plugin, result)`` pairs.

        A raising implementation fails its plugin (which is then left out of later
        calls) instead of aborting the whole call, so each failure is attributed.
        """
        caller = getattr(self.hook, hook_name)
        results: list[tuple[str, Any]] = []
        for impl in reversed(caller.get_hookimpls()):
            name = self.get_name(impl.plugin)
            if name is None or not self.is_active(name):
                continue
            try:
                result = impl.function(*[kwargs[arg] for arg in impl.argnames])
            except Exception as exc:  # noqa: BLE001 - attributed to the plugin
                self.fail(self.records[name], f"{hook_name} failed: {type(exc).__name__}: {exc}", exc)
                continue
            if result is not None:
                results.append((name, result))
        return results
