"""Conversions off the event loop: one worker process per conversion, a bounded number at a time.

A worker is a fresh Python process, so a conversion neither holds the server's GIL nor
shares its memory, and a conversion past the time limit is stopped by killing it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import sys
from typing import Any

from jupyter_core_server import ApiError, NotFound

from .config import NbconvertService
from .exporters import Result, list_exporters

__all__ = ["Converter"]

log = logging.getLogger("jupyter_core_server.nbconvert")

_WORKER = [sys.executable, "-m", "jupyter_core_server_nbconvert.exporters"]


class Converter:
    """Runs conversions for the handlers.

    :param settings: The ``NbconvertService`` configurable (time limit, concurrency).
    """

    def __init__(self, settings: NbconvertService) -> None:
        self.time_limit = settings.time_limit
        self._slots = asyncio.Semaphore(max(1, settings.max_concurrent))
        self._exporters: dict[str, dict[str, str]] | None = None
        self._running: set[asyncio.subprocess.Process] = set()

    async def exporters(self) -> dict[str, dict[str, str]]:
        """The exporters on offer (read once, in a thread: importing nbconvert takes a while)."""
        if self._exporters is None:
            self._exporters = await asyncio.to_thread(list_exporters)
        return self._exporters

    async def check_format(self, fmt: str) -> None:
        """Raise 404 naming the valid formats unless ``fmt`` is an exporter."""
        names = await self.exporters()
        if fmt not in names:
            raise NotFound(f"No such format {fmt!r}; valid formats: {', '.join(sorted(names))}", "unknown_format")

    async def convert(self, fmt: str, notebook: Any, name: str) -> Result:
        """Convert ``notebook`` in a worker; raise :class:`ApiError` for every failure."""
        await self.check_format(fmt)
        request = json.dumps({"format": fmt, "name": name, "notebook": notebook}).encode()
        async with self._slots:
            out = await self._run(fmt, request)
        head, _, body = out.partition(b"\n")
        try:
            header = json.loads(head)
        except ValueError:
            raise ApiError(f"Conversion to {fmt!r} failed: the worker gave no answer", "conversion_failed") from None
        status = int(header.pop("status"))
        if status != 200:
            raise ApiError(str(header.get("message")), str(header.get("reason")), status=status)
        return Result(status, body, **{k: str(v) for k, v in header.items()})

    async def _run(self, fmt: str, request: bytes) -> bytes:
        process = await asyncio.create_subprocess_exec(
            *_WORKER, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
        )
        self._running.add(process)
        try:
            limit = self.time_limit if self.time_limit > 0 else None
            out, err = await asyncio.wait_for(process.communicate(request), limit)
        except asyncio.TimeoutError:
            log.warning("Conversion to %s stopped after %s s", fmt, self.time_limit)
            raise ApiError(
                f"Conversion to {fmt!r} took longer than the time limit ({self.time_limit:g} s) and was stopped",
                "time_limit",
                status=504,
            ) from None
        finally:
            self._running.discard(process)
            await _stop(process)
        if process.returncode != 0:
            log.error(
                "Conversion worker for %s exited with %s: %s", fmt, process.returncode, err.decode(errors="replace")
            )
            raise ApiError(
                f"Conversion to {fmt!r} failed: the worker exited with {process.returncode}", "conversion_failed"
            )
        return out

    async def close(self) -> None:
        """Stop every conversion still running."""
        for process in list(self._running):
            await _stop(process)


async def _stop(process: asyncio.subprocess.Process) -> None:
    if process.returncode is None:
        with contextlib.suppress(ProcessLookupError):
            process.kill()
        await process.wait()
