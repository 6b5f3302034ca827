"""jupyter_server in gateway mode (``--gateway-url`` at us) runs code through this server.

jupyter_server is a test-only dependency: the ``tests-all`` nox session installs it and
sets ``JCS_REQUIRE_GATEWAY_TEST=1`` so that this test cannot silently skip there.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest
from jupyter_core_server.pytest_plugin import KernelChannels

JUPYTER_SERVER = os.environ.get("JCS_JUPYTER_SERVER") or shutil.which("jupyter-server")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def jupyter_server_cmd() -> str:
    if JUPYTER_SERVER is None:
        if os.environ.get("JCS_REQUIRE_GATEWAY_TEST"):
            pytest.fail("jupyter_server is required for this session but jupyter-server is not on PATH")
        pytest.skip("jupyter_server not installed (set JCS_JUPYTER_SERVER or run nox -s tests-all)")
    return JUPYTER_SERVER


@pytest.fixture
def gateway_client(tmp_path: Path, jupyter_server_cmd: str, jcs_cli_server) -> Iterator[tuple[str, str, object]]:
    """Our server, and jupyter_server using it as its gateway: ``(jupyter_server URL, its token, ours)``."""
    ours = jcs_cli_server()
    port, token = _free_port(), secrets.token_hex(16)
    env = {
        **os.environ,
        "JUPYTER_CONFIG_DIR": str(tmp_path / "js-config"),
        "JUPYTER_RUNTIME_DIR": str(tmp_path / "js-runtime"),
    }
    (tmp_path / "js-root").mkdir()
    process = subprocess.Popen(
        [
            jupyter_server_cmd,
            f"--port={port}",
            "--ip=127.0.0.1",
            "--no-browser",
            "--allow-root",
            f"--ServerApp.token={token}",
            f"--ServerApp.root_dir={tmp_path / 'js-root'}",
            f"--gateway-url=http://127.0.0.1:{ours.port}",
            f"--GatewayClient.auth_token={ours.token}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    try:
        yield f"http://127.0.0.1:{port}/", token, ours
    finally:
        process.terminate()
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


async def _wait_http(url: str, headers: dict[str, str], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    async with aiohttp.ClientSession(headers=headers) as session:
        while time.monotonic() < deadline:
            try:
                async with session.get(url) as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.2)
    raise TimeoutError(f"{url} did not answer 200 within {timeout} s")


async def test_jupyter_server_gateway_runs_code_through_us(gateway_client) -> None:
    base, token, ours = gateway_client
    headers = {"Authorization": f"token {token}"}
    await _wait_http(base + "api/kernelspecs", headers)
    async with aiohttp.ClientSession(headers=headers) as session:
        async with session.get(base + "api/kernelspecs") as response:
            assert "python3" in (await response.json())["kernelspecs"]
        async with session.post(base + "api/kernels", json={"name": "python3"}) as response:
            assert response.status == 201, await response.text()
            kernel = await response.json()
        # The kernel lives in our server, not in jupyter_server.
        status, body = ours.get("api/kernels", token=ours.token)
        assert status == 200 and kernel["id"] in [k["id"] for k in json.loads(body)]

        ws_url = f"ws://{base[len('http://') :]}api/kernels/{kernel['id']}/channels?session_id={uuid.uuid4()}"
        async with session.ws_connect(ws_url) as ws:
            result = await KernelChannels(ws, "legacy").execute("1+1", timeout=60, store_history=True)
            assert result.status == "ok" and result.data == [{"text/plain": "2"}]
        async with session.delete(base + f"api/kernels/{kernel['id']}") as response:
            assert response.status == 204
