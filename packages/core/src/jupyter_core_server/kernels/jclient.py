"""Every use of jupyter_client beyond its public API, in one place.

jupyter_client has no public way to hand a multi-kernel manager a kernel it did not
start, nor to let a kernel outlive its manager: taking kernels back after a server
restart needs a few of its private attributes. They are set here and nowhere else,
for the versions in :data:`SUPPORTED` (the range ``pyproject.toml`` declares);
``tests/test_jupyter_client_adapter.py`` checks that the installed jupyter_client is
in that range and still has each attribute in :data:`PRIVATE_ATTRIBUTES`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from jupyter_client.provisioning.factory import KernelProvisionerFactory
from jupyter_client.provisioning.local_provisioner import LocalProvisioner

if TYPE_CHECKING:
    from jupyter_client.manager import AsyncKernelManager
    from jupyter_client.multikernelmanager import AsyncMultiKernelManager

__all__ = ["PRIVATE_ATTRIBUTES", "SUPPORTED", "adopt", "reattach", "release"]

#: The jupyter_client versions this module is written for: at least the first, below the second.
SUPPORTED = ((8, 6), (9,))

#: Private attributes used here, by the jupyter_client class that defines them.
PRIVATE_ATTRIBUTES: Mapping[str, tuple[str, ...]] = {
    "jupyter_client.multikernelmanager.AsyncMultiKernelManager": ("_kernels",),
    "jupyter_client.ioloop.AsyncIOLoopKernelManager": ("_launch_args", "_attempted_start", "_connection_file_written"),
}


async def reattach(
    manager: AsyncMultiKernelManager,
    kernel_id: str,
    *,
    kernel_name: str,
    connection: Mapping[str, Any],
    provisioner_info: Mapping[str, Any],
    process: Any = None,
) -> AsyncKernelManager | None:
    """Make a kernel manager for a kernel another server started; None if that kernel is gone.

    :param manager: The multi-kernel manager whose factory, connection directory and
        provisioner configuration the new kernel manager gets.
    :param connection: The kernel's connection info (ports, transport, key).
    :param provisioner_info: What the kernel's provisioner saved with ``get_provisioner_info``.
    :param process: A ``Popen``-like handle for a local kernel's process, which the
        previous server, not this one, was the parent of.
    :returns: A manager that polls, signals, restarts and stops the kernel as if this
        server had started it; it is not in ``manager`` yet (see :func:`adopt`).
    """
    km: AsyncKernelManager = manager.kernel_manager_factory(
        connection_file=os.path.join(manager.connection_dir, f"kernel-{kernel_id}.json"),
        parent=manager,
        log=manager.log,
        kernel_name=kernel_name,
    )
    km.kernel_id = kernel_id
    km.load_connection_info(dict(connection))  # type: ignore[arg-type] # a KernelConnectionInfo
    km.write_connection_file()  # the same content; it may have been removed meanwhile
    provisioner = KernelProvisionerFactory.instance(parent=manager).create_provisioner_instance(
        kernel_id, km.kernel_spec, parent=km
    )
    km.provisioner = provisioner
    await provisioner.load_provisioner_info(dict(provisioner_info))
    if process is not None and isinstance(provisioner, LocalProvisioner):
        provisioner.process = process
    if not await km.is_alive():
        return None
    km.ready.set_result(None)
    km._attempted_start = True  # later restarts and shutdowns then make a fresh ``ready`` future
    return km


def adopt(manager: AsyncMultiKernelManager, km: AsyncKernelManager, launch_args: Mapping[str, Any]) -> None:
    """File a reattached kernel with ``manager``, as if ``start_kernel(**launch_args)`` had started it.

    The launch arguments are what a restart of the kernel launches it with again.
    """
    km._launch_args = dict(launch_args)
    manager._kernels[km.kernel_id] = km


def release(km: AsyncKernelManager) -> None:
    """Let go of a kernel that keeps running for the next server: no restarter, connection file kept.

    jupyter_client deletes the connection file of a kernel it wrote it for when the
    manager is collected; the next server connects with that file.
    """
    km.stop_restarter()
    km._connection_file_written = False
