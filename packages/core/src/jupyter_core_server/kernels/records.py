"""What the server keeps of each kernel: one :class:`KernelRecord`, and the :class:`Launch` it came from.

A record is made when a kernel process starts (or is taken back from the persistence
file) and lives as long as the server knows the kernel: in the warm pool, then in the
kernel service. Its live state (activity, execution state, connections and replay
buffers) is the bridge's, which the websocket hot path updates without going through
the record.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypedDict

from ..times import iso_time

if TYPE_CHECKING:
    from jupyter_client.manager import AsyncKernelManager

    from .channels import KernelBridge

__all__ = ["BridgeView", "KernelModel", "KernelRecord", "Launch"]


class KernelModel(TypedDict, total=False):
    """The REST model of a kernel."""

    id: str
    name: str
    last_activity: str
    execution_state: str
    connections: int
    reason: str


@dataclass
class Launch:
    """What a request added to a kernel's launch: working directory and environment."""

    cwd: str
    env: dict[str, str] = field(default_factory=dict)


@dataclass(eq=False)
class KernelRecord:
    """One kernel: its id and kernelspec, how it was launched, who owns it, its manager and bridge.

    :param kernel_id: The kernel's id (a UUID string).
    :param name: The kernelspec it runs.
    :param launch: Its working directory and the environment a request added; enough to
        restart it or to take it back after a server restart.
    :param manager: jupyter_client's manager of the kernel process.
    :param bridge: The websocket-to-ZMQ bridge: connections, activity, replay buffers.
    :param owner: The user who started it (``""`` for a pooled kernel not handed out yet).
    :param reason: Why the kernel is dead, once it could not be restarted.
    """

    kernel_id: str
    name: str
    launch: Launch
    manager: AsyncKernelManager
    bridge: KernelBridge
    owner: str = ""
    reason: str | None = None

    @property
    def last_activity(self) -> float:
        """POSIX time of the kernel's latest user activity."""
        return self.bridge.last_activity

    @property
    def connections(self) -> int:
        """How many websocket clients are attached."""
        return self.bridge.connection_count

    def model(self) -> KernelModel:
        """The kernel's REST model."""
        bridge = self.bridge
        model: KernelModel = {
            "id": self.kernel_id,
            "name": self.name,
            "last_activity": iso_time(bridge.last_activity),
            "execution_state": bridge.execution_state,
            "connections": bridge.connection_count,
        }
        if self.reason is not None:
            model["reason"] = self.reason
        return model


class BridgeView(Mapping[str, "KernelBridge"]):
    """A live, read-only view of records as their bridges, by kernel id."""

    def __init__(self, records: Mapping[str, KernelRecord]) -> None:
        self._records = records

    def __getitem__(self, kernel_id: str) -> KernelBridge:
        return self._records[kernel_id].bridge

    def __iter__(self) -> Iterator[str]:
        return iter(self._records)

    def __len__(self) -> int:
        return len(self._records)
