"""JupyterLab's own client library, ``@jupyterlab/services`` in Node, drives this server.

This is the code path JupyterLab (and other frontends built on it) use: REST calls with
its request helpers, the kernel websocket with the subprotocols it offers, its session,
contents and terminal managers. ``driver.mjs`` runs the steps and prints one JSON line
per step; this test starts a real server with every plugin and checks each line.

Needs Node and ``npm ci`` in this folder (``nox -s node-client`` does both). Without them
the test skips with the reason, unless ``JCS_REQUIRE_NODE_CLIENT=1`` makes that a failure.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
from pathlib import Path

import pytest
from jupyter_core_server.pytest_plugin import ServerHandle

HERE = Path(__file__).parent
NODE = shutil.which("node")
STEPS = [
    "kernelspecs",
    "kernel execute",
    "kernel stdin",
    "kernel interrupt",
    "kernel restart",
    "kernel list and shutdown",
    "contents",
    "contents errors",
    "session",
    "terminal",
    "nbconvert formats",
    "done",
]


def missing_requirement() -> str | None:
    if NODE is None:
        return "Node.js is not installed (node not on PATH); install it to run the @jupyterlab/services tests"
    if not (HERE / "node_modules" / "@jupyterlab" / "services").is_dir():
        return f"npm dependencies missing: run `npm ci` in {HERE.name}/ (nox -s node-client does it)"
    for name in ("jupyter_core_server_contents", "jupyter_core_server_terminals", "jupyter_core_server_nbconvert"):
        try:
            __import__(name)
        except ImportError:
            return f"{name} is not installed; this test drives a server with every plugin"
    return None


@pytest.fixture
def node() -> str:
    reason = missing_requirement()
    if reason is not None:
        if os.environ.get("JCS_REQUIRE_NODE_CLIENT"):
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)
    assert NODE is not None
    return NODE


@pytest.mark.timeout(300)
async def test_jupyterlab_services_drives_every_service(node: str, jcs_server: ServerHandle) -> None:
    process = await asyncio.create_subprocess_exec(
        node,
        str(HERE / "driver.mjs"),
        jcs_server.url,
        jcs_server.token,
        cwd=HERE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=270)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    lines = [json.loads(line) for line in stdout.decode().splitlines() if line.startswith("{")]
    failed = [line for line in lines if not line["ok"]]
    assert not failed, json.dumps(failed, indent=2) + "\n" + stderr.decode()[-3000:]
    assert [line["step"] for line in lines] == STEPS, stdout.decode() + stderr.decode()[-3000:]
    assert process.returncode == 0
    by_step = {line["step"]: line for line in lines}
    # JupyterLab offers the v1 binary subprotocol and the server accepts it.
    assert by_step["kernel execute"]["subprotocol"] == "v1.kernel.websocket.jupyter.org"
