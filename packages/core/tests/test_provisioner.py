"""Kernels start through jupyter_client's provisioners: an installed custom one works unchanged.

Needs the test distribution ``tests/fixtures/jcs-test-provisioner`` at the repository root
(``pip install -e tests/fixtures/jcs-test-provisioner``); skipped without it.
"""

from __future__ import annotations

import os
from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path

import pytest
from kerneltools import python_kernelspec

from jupyter_core_server.keys import KERNEL_SERVICE
from jupyter_core_server.pytest_plugin import open_kernel_channels, start_kernel

PROVISIONER = "jcs-test-provisioner"


def _installed() -> bool:
    try:
        dist = distribution(PROVISIONER)
    except PackageNotFoundError:
        return False
    return any(ep.group == "jupyter_client.kernel_provisioners" and ep.name == PROVISIONER for ep in dist.entry_points)


pytestmark = pytest.mark.skipif(
    not _installed(), reason=f"{PROVISIONER} is not installed (pip install -e tests/fixtures/{PROVISIONER})"
)


@pytest.fixture
def provisioned_spec(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A kernelspec that names the test provisioner, on ``JUPYTER_PATH`` before the server starts."""
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter-path"))
    monkeypatch.delenv("JCS_PROVISIONED", raising=False)
    return python_kernelspec(
        tmp_path / "jupyter-path",
        "provisioned",
        "Python (test provisioner)",
        kernel_provisioner={"provisioner_name": PROVISIONER},
    )


async def test_kernel_starts_through_an_installed_provisioner(provisioned_spec: str, jcs_server, jcs_client) -> None:
    kernel_id = await start_kernel(jcs_client, name=provisioned_spec)
    provisioner = jcs_server.web_app[KERNEL_SERVICE].manager.get_kernel(kernel_id).provisioner
    assert type(provisioner).__name__ == "MarkerProvisioner"
    async with open_kernel_channels(jcs_client, kernel_id, "v1") as kc:
        reply = await kc.execute('import os; print(os.environ.get("JCS_PROVISIONED"))')
        assert reply.stream() == "1\n"

    # and the default kernelspec still goes through jupyter_client's local provisioner
    plain = await start_kernel(jcs_client, name="python3")
    async with open_kernel_channels(jcs_client, plain, "v1") as kc:
        assert (await kc.execute('import os; print(os.environ.get("JCS_PROVISIONED"))')).stream() == "None\n"


@pytest.fixture
def separate_spec(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A kernelspec served by the remote-shaped ``jcs-separate-provisioner``."""
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter-path"))
    provisioner = {"provisioner_name": "jcs-separate-provisioner"}
    return python_kernelspec(
        tmp_path / "jupyter-path", "separate", "Python (separate process group)", kernel_provisioner=provisioner
    )


async def test_a_remote_shaped_provisioner_plugs_in_unchanged(separate_spec: str, jcs_server, jcs_client) -> None:
    kernel_id = await start_kernel(jcs_client, name=separate_spec)
    km = jcs_server.web_app[KERNEL_SERVICE].manager.get_kernel(kernel_id)
    provisioner = km.provisioner
    assert type(provisioner).__name__ == "SeparateProcessProvisioner"
    own_file = provisioner.connection_file
    assert own_file != km.connection_file and Path(own_file).exists()
    probe = (
        "import os, sys; print(os.getpgid(0) == os.getpid(), os.getpgid(0) != os.getpgid(os.getppid()), sys.argv[-1])"
    )
    async with open_kernel_channels(jcs_client, kernel_id, "v1") as kc:
        assert (await kc.execute(probe)).stream().split() == ["True", "True", own_file]
        # Interrupts reach the kernel through the provisioner's own signalling. The cell
        # catches SIGINT itself: whether ipykernel turns a SIGINT into KeyboardInterrupt
        # depends on where its event loop is when the signal lands.
        waits = (
            "import signal, time\ngot = []\nsignal.signal(signal.SIGINT, lambda *a: got.append(1))\n"
            "print('ready', flush=True)\n"
        )
        waits += (
            "for _ in range(300):\n    if got: break\n    time.sleep(0.1)\nprint('interrupted' if got else 'timed out')"
        )
        msg_id = await kc.send("shell", "execute_request", {"code": waits, "silent": False})
        await kc.receive(lambda m: m.msg_type == "stream" and "ready" in m.content["text"])
        async with jcs_client.post(f"api/kernels/{kernel_id}/interrupt") as response:
            assert response.status == 204
        output = await kc.receive(
            lambda m: m.msg_type == "stream" and m.parent_id == msg_id and "ready" not in m.content["text"]
        )
        assert output.content["text"] == "interrupted\n"
    async with jcs_client.post(f"api/kernels/{kernel_id}/restart") as response:
        assert response.status == 200
    async with open_kernel_channels(jcs_client, kernel_id, "v1") as kc:
        assert (await kc.execute("print('after restart')")).stream() == "after restart\n"
    pid = provisioner.pid
    async with jcs_client.delete(f"api/kernels/{kernel_id}") as response:
        assert response.status == 204
    assert not Path(own_file).exists()
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
