"""Kernels that outlive the server: a record of running kernels, and taking them back.

With ``KernelService.persistence_file`` set, kernels are launched independent of the
server process (jupyter_client's ``independent``: no ``JPY_PARENT_PID``, so ipykernel
does not exit with its parent) and every change of the kernel set rewrites the record:
id, kernelspec, owner, working directory and requested env, connection info and what
the provisioner needs to find its kernel again (``get_provisioner_info``). A server
started on the same record takes back every kernel whose process still runs, with the
same id, so sessions (kept in ``SessionManager.database_filepath``) stay intact.

The record holds kernels' signing keys: it is written atomically with mode 0600.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jupyter_client.provisioning import LocalProvisioner
from jupyter_client.provisioning.factory import KernelProvisionerFactory

from ..files import write_text_atomic

if TYPE_CHECKING:
    from .manager import KernelService, Launch

__all__ = ["DetachedProcess", "restore", "save"]

log = logging.getLogger("jupyter_core_server")

_CONNECTION_KEYS = ("transport", "ip", "shell_port", "iopub_port", "stdin_port", "control_port", "hb_port", "key", "signature_scheme")


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


async def record_of(service: KernelService, kernel_id: str, launch: Launch, owner: str, *, pooled: bool = False) -> dict[str, Any]:
    """What the persistence file keeps of one kernel (a pooled one is stopped, not taken back)."""
    km = service.manager.get_kernel(kernel_id)
    provisioner = await km.provisioner.get_provisioner_info() if km.provisioner is not None else {}
    pid = provisioner.get("pid")
    return {
        "name": service.names[kernel_id],
        "pooled": pooled,
        "owner": owner,
        "cwd": launch.cwd,
        "env": launch.env,
        "connection": {k: v for k, v in km.get_connection_info(session=False).items() if k in _CONNECTION_KEYS},
        "provisioner": provisioner,
        "started": _start_time(pid) if isinstance(pid, int) else None,
    }


def save(path: str, records: dict[str, dict[str, Any]]) -> None:
    """Write the record atomically, readable by this user only."""
    data = json.dumps({"version": 1, "kernels": records}, default=lambda v: v.decode() if isinstance(v, bytes) else str(v))
    write_text_atomic(path, data, mode=0o600)


def load(path: str) -> dict[str, dict[str, Any]]:
    """Read the record; a missing or unreadable file is an empty one (logged)."""
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


async def restore(service: KernelService) -> list[str]:
    """Take back the recorded kernels that still run; return their ids."""
    taken = []
    records = load(service.persistence_file)
    for kernel_id, record in records.items():
        try:
            km = await _reattach(service, kernel_id, record)
        except Exception as exc:  # noqa: BLE001 - one bad record must not stop the server
            log.error("Could not take back kernel %s: %s", kernel_id, exc)
            km = None
        if km is None:
            log.info("Kernel %s from the persistence file no longer runs; dropped", kernel_id)
        elif record.get("pooled"):
            log.info("Stopping pooled kernel %s left by the previous server", kernel_id)
            await km.shutdown_kernel(now=True)
        else:
            _adopt(service, kernel_id, km, record)
            taken.append(kernel_id)
            log.info("Took back kernel %s (%s)", kernel_id, record.get("name"))
    service.records = {k: records[k] for k in taken}
    save(service.persistence_file, service.records)
    return taken


async def _reattach(service: KernelService, kernel_id: str, record: dict[str, Any]) -> Any:
    """A kernel manager attached to the recorded kernel, or None if that kernel is gone."""
    name = str(record["name"])
    provisioner_info = dict(record.get("provisioner") or {})
    pid = provisioner_info.get("pid")
    if isinstance(pid, int) and record.get("started") and _start_time(pid) != record["started"]:
        return None  # the pid now belongs to another process
    km: Any = service.manager.kernel_manager_factory(
        connection_file=os.path.join(service.manager.connection_dir, f"kernel-{kernel_id}.json"),
        parent=service.manager,
        log=service.manager.log,
        kernel_name=name,
    )
    km.kernel_id = kernel_id
    km.load_connection_info(record["connection"])
    km.write_connection_file()  # the same content; it may have been removed meanwhile
    km.provisioner = KernelProvisionerFactory.instance(parent=service.manager).create_provisioner_instance(kernel_id, km.kernel_spec, parent=km)
    await km.provisioner.load_provisioner_info(provisioner_info)
    if isinstance(km.provisioner, LocalProvisioner) and isinstance(pid, int):
        km.provisioner.process = DetachedProcess(pid)  # type: ignore[assignment] # Popen-like on purpose
    if not await km.is_alive():
        return None
    km.ready.set_result(None)
    km._attempted_start = True  # later restarts and shutdowns then get a fresh ``ready`` future
    return km


def _adopt(service: KernelService, kernel_id: str, km: Any, record: dict[str, Any]) -> None:
    """File a taken-back kernel with the service, as if this server had started it."""
    from .manager import Launch

    launch = Launch(cwd=str(record.get("cwd") or service.server.root_dir), env=dict(record.get("env") or {}))
    # What start_kernel would have saved, so that a restart of this kernel works.
    km._launch_args = {"env": {**os.environ, **launch.env}, "cwd": launch.cwd, **service.independent_launch()}
    service.manager._kernels[kernel_id] = km
    service.names[kernel_id] = str(record["name"])
    service.owners[kernel_id] = str(record.get("owner") or "")
    service.launches[kernel_id] = launch
    service.bridges[kernel_id] = service._bridge(kernel_id, km)
    km.start_restarter()
