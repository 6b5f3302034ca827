"""What the kernel service tells its surroundings: the :class:`KernelEvents` protocol."""

from __future__ import annotations

from typing import Protocol

from .records import KernelModel

__all__ = ["KernelEvents", "NoEvents"]


class KernelEvents(Protocol):
    """What a :class:`KernelService` tells its surroundings, and the one thing it asks them.

    Given to the service when it is made; the kernels plugin relays each to the plugin hooks.
    """

    def started(self, kernel: KernelModel) -> None:
        """A kernel was started and listed (not for pooled kernels until they are handed out)."""

    def stopped(self, kernel_id: str) -> None:
        """A listed kernel was shut down."""

    def cwd(self, path: str) -> str | None:
        """The working directory of a kernel for document ``path``, or None to let the service choose."""


class NoEvents:
    """:class:`KernelEvents` that nobody listens to: the service decides working directories alone."""

    def started(self, kernel: KernelModel) -> None:
        pass

    def stopped(self, kernel_id: str) -> None:
        pass

    def cwd(self, path: str) -> str | None:
        return None
