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
from collections.abc import Coroutine, Mapping
from typing import Any, Protocol

from .records import KernelRecord, Launch

__all__ = ["KernelPool", "Launcher"]

log = logging.getLogger("jupyter_core_server")

_RETRY_FIRST, _RETRY_MAX = 1.0, 60.0  # back-off, in seconds, after a pooled kernel failed to start


class Launcher(Protocol):
    """What the pool asks of the kernel service: its public launch API."""

    def language(self, name: str) -> str:
        """The language of kernelspec ``name``."""

    async def launch(self, name: str, launch: Launch, *, kernel_id: str | None = None) -> KernelRecord:
        """Start an unlisted kernel."""

    async def seed(self, record: KernelRecord, language: str) -> None:
        """Run the seed code in a new kernel."""

    async def persist(self, record: KernelRecord, *, pooled: bool = False) -> None:
        """Name the kernel in the persistence file, if there is one."""

    async def stop_process(self, record: KernelRecord, *, now: bool = False) -> None:
        """Stop an unlisted kernel."""

    def background(self, work: Coroutine[Any, Any, None]) -> None:
        """Run ``work`` as a task that is kept until it ends."""


class KernelPool:
    """Pre-started kernels, by kernelspec name.

    :param launcher: Starts, seeds, records and stops the pool's kernels.
    :param sizes: How many kernels to keep ready, per kernelspec name.
    :param root_dir: Where pooled kernels start.
    :param adapt: Fit a pooled Python kernel to a request that needs another directory or environment.
    :param fit_timeout: Seconds a kernel has to run the fitting statement.
    """

    def __init__(
        self, launcher: Launcher, sizes: Mapping[str, int], *, root_dir: str, adapt: bool, fit_timeout: float
    ) -> None:
        self.launcher = launcher
        self.sizes = {name: size for name, size in sizes.items() if size > 0}
        self.root_dir = root_dir
        self.adapt = adapt
        self.fit_timeout = fit_timeout
        #: Records of pooled kernels, by kernel id (ready or still starting).
        self.records: dict[str, KernelRecord] = {}
        self.ready: dict[str, deque[str]] = {}
        self.starting: dict[str, int] = {}
        self.filled = asyncio.Event()
        self._retry: dict[str, float] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._timers: dict[str, asyncio.TimerHandle] = {}
        self._closed = False

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
        launcher = self.launcher
        record = None
        try:
            language = launcher.language(name)
            record = await launcher.launch(name, Launch(cwd=self.root_dir))
            self.records[record.kernel_id] = record
            await record.bridge.ensure_open()
            await launcher.seed(record, language)
            await launcher.persist(record, pooled=True)  # so that a server killed with a full pool leaves no orphans
        except Exception as exc:  # noqa: BLE001 - a pool that cannot fill is logged and retried later
            if record is not None:
                self.records.pop(record.kernel_id, None)
                await launcher.stop_process(record, now=True)
            self.starting[name] -= 1
            if not self._closed:
                delay = self._retry[name] = min(self._retry.get(name, _RETRY_FIRST / 2) * 2, _RETRY_MAX)
                log.error("Could not start a pooled %s kernel (next try in %.0f s): %s", name, delay, exc)
                self._refill_later(name, delay)
            return
        self.starting[name] -= 1
        self._retry.pop(name, None)
        kernel_id = record.kernel_id
        if kernel_id not in self.records:  # it died while it started
            self.refill(name)
            return
        if self._closed:
            await launcher.stop_process(self.records.pop(kernel_id), now=True)
            return
        self.ready.setdefault(name, deque()).append(kernel_id)
        if all(len(self.ready.get(n, ())) >= size for n, size in self.sizes.items()):
            self.filled.set()

    def _fits(self, language: str, launch: Launch) -> str | None:
        """Return the statement that fits a pooled kernel to ``launch`` ("" for none), or None if it cannot fit."""
        root = self.root_dir
        if launch.cwd == root and not launch.env:
            return ""
        if language == "python" and self.adapt:
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

    async def take(self, name: str, language: str, launch: Launch) -> KernelRecord | None:
        """Hand out a ready kernel of ``name`` fitted to ``launch``, or None (start a fresh one).

        The record handed out is no longer the pool's; the caller lists it or stops it.
        """
        queue = self.ready.get(name)
        if not queue:
            return None
        fit = self._fits(language, launch)
        if fit is None:
            return None
        kernel_id = queue.popleft()
        record = self.records.pop(kernel_id)
        self.refill(name)
        if fit:
            try:
                reply = await record.bridge.run_silently(fit, self.fit_timeout)
            except (TimeoutError, OSError) as exc:
                reply = {"status": "error", "evalue": str(exc)}
            if reply.get("status") != "ok":
                log.warning(
                    "Could not fit pooled kernel %s to a request (%s); starting a fresh one",
                    kernel_id,
                    reply.get("evalue"),
                )
                await self.launcher.stop_process(record, now=True)
                return None
        return record

    def discard(self, kernel_id: str) -> bool:
        """Forget a pooled kernel that died (the restarter's callback); True if it was pooled."""
        record = self.records.pop(kernel_id, None)
        if record is None:
            return False
        for name, queue in self.ready.items():
            if kernel_id in queue:
                queue.remove(kernel_id)
                log.warning("Pooled %s kernel %s died; replacing it", name, kernel_id)
                self.launcher.background(self.launcher.stop_process(record, now=True))
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
        records, self.records = self.records, {}
        self.ready.clear()
        await asyncio.gather(
            *(self.launcher.stop_process(r, now=True) for r in records.values()), return_exceptions=True
        )
