"""Optional IOPub rate limiting with jupyter_server's semantics (off by default here).

When on, output messages beyond ``iopub_msg_rate_limit`` messages per second or
``iopub_data_rate_limit`` bytes per second, averaged over ``rate_limit_window`` seconds,
are dropped, and clients are told once per spell. The counters restart when the kernel
goes idle.
"""

from __future__ import annotations

from collections import deque

__all__ = ["RateLimiter"]


class RateLimiter:
    """Decides, message by message, whether IOPub output may pass."""

    def __init__(self, msg_rate: float, data_rate: float, window: float) -> None:
        self.msg_rate = msg_rate
        self.data_rate = data_rate
        self.window = window
        self.events: deque[tuple[float, int]] = deque()
        self.bytes = 0
        self.limited = False

    def reset(self) -> None:
        """Forget the history (the kernel went idle)."""
        self.events.clear()
        self.bytes = 0
        self.limited = False

    def check(self, now: float, size: int) -> tuple[bool, str | None]:
        """Return ``(allowed, notice)``; ``notice`` is set when a limited spell begins."""
        events = self.events
        while events and now - events[0][0] > self.window:
            self.bytes -= events.popleft()[1]
        over_msgs = self.msg_rate > 0 and (len(events) + 1) / self.window > self.msg_rate
        over_data = self.data_rate > 0 and (self.bytes + size) / self.window > self.data_rate
        if over_msgs or over_data:
            if self.limited:
                return False, None
            self.limited = True
            which = "message" if over_msgs else "data"
            limit = f"{self.msg_rate:g} msgs/sec" if over_msgs else f"{self.data_rate:g} bytes/sec"
            return False, (
                f"IOPub {which} rate exceeded.\nOutput is being dropped to protect the client.\n"
                f"Current limit: KernelService.iopub_{'msg' if over_msgs else 'data'}_rate_limit={limit}"
                " (set KernelService.limit_rate=False to turn limiting off)."
            )
        self.limited = False
        events.append((now, size))
        self.bytes += size
        return True, None
