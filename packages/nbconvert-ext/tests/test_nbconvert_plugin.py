"""The plugin without contents, and conversions running while a kernel stays responsive."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from conftest import plugins_except, sample_notebook
from jupyter_core_server.keys import PLUGIN_MANAGER
from jupyter_core_server.plugins import PluginManager

JSON = {"Content-Type": "application/json"}


@pytest.fixture
def jcs_plugin_manager(jcs_isolated_paths: dict[str, Path], request: pytest.FixtureRequest) -> PluginManager:
    """Contents is disabled for tests marked ``without_contents``."""
    pm = PluginManager(strict=True)
    kept = ("nbconvert",) if request.node.get_closest_marker("without_contents") else ("contents", "nbconvert")
    pm.discover(plugins_except(*kept))
    return pm


@pytest.mark.without_contents
async def test_without_contents_only_post_converts(caplog: pytest.LogCaptureFixture, jcs_client) -> None:
    assert not jcs_client.server.web_app[PLUGIN_MANAGER].is_active("contents")
    async with jcs_client.get("nbconvert/html/sample.ipynb") as response:
        assert response.status == 503
        error = await response.json()
    assert error["reason"] == "contents_unavailable" and "contents" in error["message"]
    async with jcs_client.post("nbconvert/script", json=sample_notebook()) as response:
        assert response.status == 200
        assert "hello from the notebook" in await response.text()
    async with jcs_client.get("api/nbconvert") as response:
        assert response.status == 200
    unmet = [r for r in caplog.get_records("setup") if "optional dependency 'contents'" in r.getMessage()]
    assert len(unmet) == 1


@contextlib.asynccontextmanager
async def open_kernel(client: Any) -> AsyncIterator[aiohttp.ClientWebSocketResponse]:
    async with client.post("api/kernels", json={"name": "python3"}) as response:
        assert response.status == 201, await response.text()
        kernel_id = (await response.json())["id"]
    try:
        async with client.ws_connect(f"api/kernels/{kernel_id}/channels?session_id={uuid.uuid4().hex}") as ws:
            yield ws
    finally:
        async with client.delete(f"api/kernels/{kernel_id}") as response:
            assert response.status in (204, 404)


async def execute(ws: aiohttp.ClientWebSocketResponse, code: str) -> None:
    msg_id = uuid.uuid4().hex
    header = {"msg_id": msg_id, "msg_type": "execute_request", "username": "test", "session": "test", "version": "5.3"}
    content = {"code": code, "silent": False, "store_history": False, "user_expressions": {}, "allow_stdin": False}
    await ws.send_str(
        json.dumps({"header": header, "parent_header": {}, "metadata": {}, "content": content, "channel": "shell"})
    )
    while True:
        frame = await ws.receive()
        if frame.type != aiohttp.WSMsgType.TEXT:
            continue
        reply = json.loads(frame.data)
        if reply["header"]["msg_type"] == "execute_reply" and reply["parent_header"].get("msg_id") == msg_id:
            assert reply["content"]["status"] == "ok"
            return


def big_notebook(megabytes: int) -> dict[str, Any]:
    nb = sample_notebook()
    line = "x" * 99 + "\n"
    nb["cells"].append({"cell_type": "markdown", "metadata": {}, "source": line * (megabytes * 10_000)})
    return nb


@pytest.mark.parametrize("jcs_config", [{"NbconvertService": {"max_concurrent": 4}}], indirect=True)
async def test_kernel_stays_responsive_during_conversions(jcs_client) -> None:
    payload = json.dumps(big_notebook(5)).encode()

    async def convert() -> int:
        async with jcs_client.post("nbconvert/script", data=io.BytesIO(payload), headers=JSON) as response:
            await response.read()
            return int(response.status)

    async with open_kernel(jcs_client) as ws:
        await asyncio.wait_for(execute(ws, "pass"), 60)  # the kernel is up
        conversions = [asyncio.create_task(convert()) for _ in range(4)]
        await asyncio.sleep(0.3)  # the workers are running
        start = time.perf_counter()
        await asyncio.wait_for(execute(ws, "pass"), 10)
        took = time.perf_counter() - start
        statuses = await asyncio.wait_for(asyncio.gather(*conversions), 60)
    assert statuses == [200] * 4
    print(f"execute round trip during 4 conversions of a 5 MB notebook: {took * 1000:.0f} ms")
