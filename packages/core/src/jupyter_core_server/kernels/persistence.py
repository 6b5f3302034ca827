"""Kernels that outlive the server: a file naming the running kernels, and taking them back.

With ``KernelService.persistence_file`` set, kernels are launched independent of the
server process (jupyter_client's ``independent``: no ``JPY_PARENT_PID``, so ipykernel
does not exit with its parent) and every change of the kernel set rewrites the file:
per kernel its id, kernelspec, owner, working directory and requested env, connection
info and what the provisioner needs to find its kernel again (``get_provisioner_info``).
A server started on the same file takes back every kernel whose process still runs,
with the same id, so sessions (kept in ``SessionManager.database_filepath``) stay intact.

The file holds kernels' signing keys: it is written atomically with mode 0600.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..files import write_text_atomic
from . import jclient
from .records import KernelRecord, Launch

if TYPE_CHECKING:
    from jupyter_client.manager import AsyncKernelManager
    from jupyter_client.multikernelmanager import AsyncMultiKernelManager

__all__ = ["DetachedProcess", "Ledger", "Survivor", "entry_of", "take_back"]

log = logging.getLogger("jupyter_core_server")

_CONNECTION_KEYS = (
    "transport",
    "ip",
    "shell_port",
    "iopub_port",
    "stdin_port",
    "control_port",
    "hb_port",
    "key",
    "signature_scheme",
)


def _start_time(pid: int) -> str | None:
    """The kernel-clock start time of ``pid`` (Linux), to tell a kernel from a process that reused its pid."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rpartition(")")[2].split()[19]


class DetachedProcess:
    """A ``Popen``-like handle on a process that is not this server's child.

    A taken-back kernel's parent was the previous server; ``LocalProvisioner`` polls,
    signals and waits through this handle exactly as through the ``Popen`` it had.
    """

    stdin = stdout = stderr = None

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            try:
                os.kill(self.pid, 0)
                state = Path(f"/proc/{self.pid}/stat").read_text().rpartition(")")[2].split()[0]
            except ProcessLookupError:
                self.returncode = -1
            except OSError:
                state = ""
            else:
                if state in ("Z", "X"):
                    self.returncode = -1
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        deadline = time.monotonic() + (timeout if timeout is not None else 3600)
        while self.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.returncode if self.returncode is not None else 0

    def send_signal(self, signum: int) -> None:
        if self.poll() is None:
            os.kill(self.pid, signum)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)


async def entry_of(record: KernelRecord, *, pooled: bool = False) -> dict[str, Any]:
    """What the persistence file keeps of one kernel (a pooled one is stopped, not taken back)."""
    km = record.manager
    provisioner = await km.provisioner.get_provisioner_info() if km.provisioner is not None else {}
    pid = provisioner.get("pid")
    return {
        "name": record.name,
        "pooled": pooled,
        "owner": record.owner,
        "cwd": record.launch.cwd,
        "env": record.launch.env,
        "connection": {k: v for k, v in km.get_connection_info(session=False).items() if k in _CONNECTION_KEYS},
        "provisioner": provisioner,
        "started": _start_time(pid) if isinstance(pid, int) else None,
    }


class Ledger:
    """The persistence file's content: an entry per kernel process that may outlive the server.

    Every change is written at once, so that a server killed at any moment leaves a file
    naming every kernel it ran (pooled ones too, which the next server stops).
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self._entries: dict[str, dict[str, Any]] = {}

    def put(self, kernel_id: str, entry: dict[str, Any]) -> None:
        """Record (or update) a kernel's entry and write the file."""
        self._entries[kernel_id] = entry
        self.save()

    def drop(self, kernel_id: str) -> None:
        """Forget a stopped kernel; the file is written only if it named it."""
        if self._entries.pop(kernel_id, None) is not None:
            self.save()

    def replace(self, entries: dict[str, dict[str, Any]]) -> None:
        """Make ``entries`` the whole content and write the file."""
        self._entries = dict(entries)
        self.save()

    def save(self) -> None:
        """Write the file atomically, readable by this user only."""
        data = json.dumps(
            {"version": 1, "kernels": self._entries}, default=lambda v: v.decode() if isinstance(v, bytes) else str(v)
        )
        write_text_atomic(self.path, data, mode=0o600)


def load(path: str) -> dict[str, dict[str, Any]]:
    """Read the file's entries; a missing or unreadable file has none (logged)."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        kernels = data["kernels"]
        if not isinstance(kernels, dict):
            raise TypeError("'kernels' is not an object")
        return kernels
    except FileNotFoundError:
        return {}
    except (OSError, ValueError, KeyError, TypeError) as exc:
        log.error("Ignoring the kernel persistence file %s: %s", path, exc)
        return {}


@dataclass
class Survivor:
    """A recorded kernel that still runs, reattached and ready to be adopted by the service."""

    kernel_id: str
    manager: AsyncKernelManager
    name: str
    launch: Launch
    owner: str
    entry: dict[str, Any]


async def take_back(path: str, manager: AsyncMultiKernelManager, root_dir: str) -> list[Survivor]:
    """Reattach to every kernel the file at ``path`` names that still runs.

    Pooled kernels left by the previous server are stopped; kernels that are gone are
    dropped (logged). The caller adopts the survivors and rewrites the file.
    """
    survivors = []
    for kernel_id, entry in load(path).items():
        try:
            km = await _reattach(manager, kernel_id, entry)
        except Exception as exc:  # noqa: BLE001 - one bad entry must not stop the server
            log.error("Could not take back kernel %s: %s", kernel_id, exc)
            km = None
        if km is None:
            log.info("Kernel %s from the persistence file no longer runs; dropped", kernel_id)
        elif entry.get("pooled"):
            log.info("Stopping pooled kernel %s left by the previous server", kernel_id)
            await km.shutdown_kernel(now=True)
        else:
            launch = Launch(cwd=str(entry.get("cwd") or root_dir), env=dict(entry.get("env") or {}))
            survivors.append(Survivor(kernel_id, km, str(entry["name"]), launch, str(entry.get("owner") or ""), entry))
            log.info("Took back kernel %s (%s)", kernel_id, entry.get("name"))
    return survivors


async def _reattach(
    manager: AsyncMultiKernelManager, kernel_id: str, entry: dict[str, Any]
) -> AsyncKernelManager | None:
    """A kernel manager attached to the recorded kernel, or None if that kernel is gone."""
    provisioner_info = dict(entry.get("provisioner") or {})
    pid = provisioner_info.get("pid")
    if isinstance(pid, int) and entry.get("started") and _start_time(pid) != entry["started"]:
        return None  # the pid now belongs to another process
    return await jclient.reattach(
        manager,
        kernel_id,
        kernel_name=str(entry["name"]),
        connection=entry["connection"],
        provisioner_info=provisioner_info,
        process=DetachedProcess(pid) if isinstance(pid, int) else None,
    )
