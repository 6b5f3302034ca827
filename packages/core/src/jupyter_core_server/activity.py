"""When the server was last used: the registry plugins report activity to, and readers ask.

Much of a user's work never reaches the server as a request: code running in a kernel
answers over a websocket opened long ago, a terminal echoes what is typed into it. So
each kind of thing registers a source, a function returning the POSIX time it was last
used, on ``app[keys.STATE].activity``; the core registers ``requests`` (API requests)
and ``kernels`` (kernel messages, starts and stops), the terminals plugin ``terminals``.
Readers ask for :meth:`ActivityRegistry.latest`: ``/api/status``, the server's own
``shutdown_no_activity_timeout`` and the hub plugin, which reports it to JupyterHub.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

__all__ = ["ActivityRegistry"]

log = logging.getLogger("jupyter_core_server")


class ActivityRegistry:
    """The sources of a server's activity, by name, and the latest time any of them reports.

    A source is called on every read, so it must be cheap and must not block: keep the
    time of the latest use in an attribute as things happen and return it. The server
    reads a few times a minute at most.
    """

    def __init__(self) -> None:
        self._sources: dict[str, Callable[[], float]] = {}
        self._failing: set[str] = set()

    def register(self, name: str, last_activity: Callable[[], float]) -> None:
        """Add a source: ``last_activity()`` returns the POSIX time of its latest use.

        Register once, in the plugin's ``app_context`` (it lives as long as the
        application); ``0.0`` means "never used".

        :param name: What the source counts, unique on this server (``"terminals"``).
        :raises ValueError: when a source of that name is registered already.
        """
        if name in self._sources:
            raise ValueError(f"An activity source named {name!r} is registered already")
        self._sources[name] = last_activity

    def unregister(self, name: str) -> None:
        """Remove the source ``name``; nothing happens when there is none."""
        self._sources.pop(name, None)
        self._failing.discard(name)

    def times(self) -> dict[str, float]:
        """Return each source's latest activity, by name.

        A source that raises is left out (and logged, once until it answers again), so
        that one broken plugin cannot stop the readers: the idle shutdown, the hub's reports.
        """
        times: dict[str, float] = {}
        for name, source in list(self._sources.items()):
            try:
                times[name] = float(source())
            except Exception:
                if name not in self._failing:
                    self._failing.add(name)
                    log.exception("Activity source %r failed; it is left out until it answers", name)
                continue
            self._failing.discard(name)
        return times

    def latest(self) -> float:
        """Return the POSIX time of the latest activity of any source (``0.0`` without sources)."""
        return max(self.times().values(), default=0.0)
