"""The plugin without contents, and conversions running while a kernel stays responsive."""

from __future__ import annotations

import asyncio
import io
import json
import time
from typing import Any

import pytest
from conftest import sample_notebook
from jupyter_core_server.keys import PLUGIN_MANAGER
from jupyter_core_server.pytest_plugin import KernelChannels

JSON = {"Content-Type": "application/json"}


@pytest.fixture
def jcs_enabled_plugins(request: pytest.FixtureRequest) -> set[str]:
    """Contents is disabled for tests marked ``without_contents``."""
    return {"nbconvert"} if request.node.get_closest_marker("without_contents") else {"contents", "nbconvert"}


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


def big_notebook(megabytes: int) -> dict[str, Any]:
    nb = sample_notebook()
    line = "x" * 99 + "\n"
    nb["cells"].append({"cell_type": "markdown", "metadata": {}, "source": line * (megabytes * 10_000)})
    return nb


@pytest.mark.parametrize("jcs_config", [{"NbconvertService": {"max_concurrent": 4}}], indirect=True)
@pytest.mark.parametrize("jcs_kernel", [{"name": "python3"}], indirect=True)
async def test_kernel_stays_responsive_during_conversions(jcs_client, jcs_kernel_client: KernelChannels) -> None:
    payload = json.dumps(big_notebook(5)).encode()

    async def convert() -> int:
        async with jcs_client.post("nbconvert/script", data=io.BytesIO(payload), headers=JSON) as response:
            await response.read()
            return int(response.status)

    assert (await jcs_kernel_client.execute("pass", timeout=60)).status == "ok"  # the kernel is up
    conversions = [asyncio.create_task(convert()) for _ in range(4)]
    await asyncio.sleep(0.3)  # the workers are running
    start = time.perf_counter()
    assert (await jcs_kernel_client.execute("pass", timeout=10)).status == "ok"
    took = time.perf_counter() - start
    statuses = await asyncio.wait_for(asyncio.gather(*conversions), 60)
    assert statuses == [200] * 4
    print(f"execute round trip during 4 conversions of a 5 MB notebook: {took * 1000:.0f} ms")
