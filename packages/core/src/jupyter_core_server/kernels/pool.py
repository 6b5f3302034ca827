"""The warm pool: kernels started ahead of requests, per kernelspec, refilled in the background.

A request takes a pooled kernel when one of its kernelspec is ready. A pooled kernel was
started in ``root_dir`` with the server's environment; when a request needs another
working directory, extra environment or a document path, a pooled *Python* kernel is
fitted to it by one silent statement (``pool_adapt``), and any other kernel is started
fresh. Pooled kernels are not listed and do not count against the kernel limits until
they are taken.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .channels import KernelBridge
    from .manager import KernelService, Launch

__all__ = ["KernelPool"]

log = logging.getLogger("jupyter_core_server")

_RETRY_FIRST, _RETRY_MAX = 1.0, 60.0  # back-off, in seconds, after a pooled kernel failed to start


class KernelPool:
    """Pre-started kernels of a :class:`KernelService`, by kernelspec name."""

    def __init__(self, service: KernelService) -> None:
        self.service = service
        #: Bridges of pooled kernels, by kernel id (ready or still starting).
        self.bridges: dict[str, KernelBridge] = {}
        self.ready: dict[str, deque[str]] = {}
        self.starting: dict[str, int] = {}
        self.filled = asyncio.Event()
        self._retry: dict[str, float] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._timers: dict[str, asyncio.TimerHandle] = {}
        self._closed = False

    @property
    def sizes(self) -> dict[str, int]:
        return {name: size for name, size in self.service.pool.items() if size > 0}

    def open(self) -> None:
        """Start filling every pool."""
        if not self.sizes:
            self.filled.set()
        for name in self.sizes:
            self.refill(name)

    def refill(self, name: str) -> None:
        """Start as many kernels as ``name``'s pool lacks (unless a failure's back-off is running)."""
        if self._closed or name in self._timers:
            return
        missing = self.sizes.get(name, 0) - len(self.ready.get(name, ())) - self.starting.get(name, 0)
        for _ in range(max(missing, 0)):
            self.starting[name] = self.starting.get(name, 0) + 1
            task = asyncio.ensure_future(self._add(name))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    def _refill_later(self, name: str, delay: float) -> None:
        def due() -> None:
            del self._timers[name]
            self.refill(name)

        if name not in self._timers and not self._closed:
            self._timers[name] = asyncio.get_running_loop().call_later(delay, due)

    async def _add(self, name: str) -> None:
        from . import persistence
        from .manager import Launch

        service = self.service
        bridge = None
        try:
            spec = service.kernel_specs.get_kernel_spec(name)
            kernel_id, bridge = await service._launch(name, Launch(cwd=service.server.root_dir))
            self.bridges[kernel_id] = bridge
            await bridge.ensure_open()
            await service._seed(bridge, spec.language)
            if service.persistence_file:  # so that a server killed with a full pool leaves no orphans
                service.records[kernel_id] = await persistence.record_of(service, kernel_id, Launch(service.server.root_dir), "", pooled=True)
                persistence.save(service.persistence_file, service.records)
        except Exception as exc:  # noqa: BLE001 - a pool that cannot fill is logged and retried later
            if bridge is not None:
                self.bridges.pop(bridge.kernel_id, None)
                await service.stop_process(bridge.kernel_id, bridge, now=True)
            self.starting[name] -= 1
            if not self._closed:
                delay = self._retry[name] = min(self._retry.get(name, _RETRY_FIRST / 2) * 2, _RETRY_MAX)
                log.error("Could not start a pooled %s kernel (next try in %.0f s): %s", name, delay, exc)
                self._refill_later(name, delay)
            return
        self.starting[name] -= 1
        self._retry.pop(name, None)
        if kernel_id not in self.bridges:  # it died while it started
            self.refill(name)
            return
        if self._closed:
            await service.stop_process(kernel_id, self.bridges.pop(kernel_id), now=True)
            return
        self.ready.setdefault(name, deque()).append(kernel_id)
        if all(len(self.ready.get(n, ())) >= size for n, size in self.sizes.items()):
            self.filled.set()

    def _fits(self, language: str, launch: Launch) -> str | None:
        """Return the statement that fits a pooled kernel to ``launch`` ("" for none), or None if it cannot fit."""
        root = self.service.server.root_dir
        if launch.cwd == root and not launch.env:
            return ""
        if language == "python" and self.service.pool_adapt:
            return (
                "import os as __jcs_os\n"
                f"__jcs_os.chdir({launch.cwd!r})\n"
                f"__jcs_os.environ.update({launch.env!r})\n"
                "del __jcs_os\n"
                + (f"__session__ = {launch.env['JPY_SESSION_NAME']!r}\n" if "JPY_SESSION_NAME" in launch.env else "")
            )
        if set(launch.env) <= {"JPY_SESSION_NAME"} and launch.cwd == root:
            return ""  # only ipykernel reads JPY_SESSION_NAME
        return None

    async def take(self, name: str, language: str, launch: Launch) -> tuple[str, KernelBridge] | None:
        """Hand out a ready kernel of ``name`` fitted to ``launch``, or None (start a fresh one)."""
        queue = self.ready.get(name)
        if not queue:
            return None
        fit = self._fits(language, launch)
        if fit is None:
            return None
        kernel_id = queue.popleft()
        bridge = self.bridges.pop(kernel_id)
        self.refill(name)
        if fit:
            try:
                reply = await bridge.run_silently(fit, self.service.kernel_info_timeout)
            except (TimeoutError, OSError) as exc:
                reply = {"status": "error", "evalue": str(exc)}
            if reply.get("status") != "ok":
                log.warning("Could not fit pooled kernel %s to a request (%s); starting a fresh one", kernel_id, reply.get("evalue"))
                await self.service.stop_process(kernel_id, bridge, now=True)
                return None
        return kernel_id, bridge

    def discard(self, kernel_id: str) -> bool:
        """Forget a pooled kernel that died (the restarter's callback); True if it was pooled."""
        bridge = self.bridges.pop(kernel_id, None)
        if bridge is None:
            return False
        for name, queue in self.ready.items():
            if kernel_id in queue:
                queue.remove(kernel_id)
                log.warning("Pooled %s kernel %s died; replacing it", name, kernel_id)
                self.service.background(self.service.stop_process(kernel_id, bridge, now=True))
                self.refill(name)
        return True

    async def close(self) -> None:
        """Stop every pooled kernel, after letting the ones still starting finish starting."""
        self._closed = True
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()
        if self._tasks:
            await asyncio.wait(self._tasks)
        bridges, self.bridges = self.bridges, {}
        self.ready.clear()
        await asyncio.gather(*(self.service.stop_process(k, b, now=True) for k, b in bridges.items()), return_exceptions=True)
