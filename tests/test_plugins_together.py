"""The hub, frontend and contents plugins in one server, with the fixtures plugin authors get.

Without a JupyterHub environment the hub plugin stays inert (no routes, the server's own
token); the frontend serves its pages over the contents plugin; a kernel started for a
notebook runs in the notebook's folder and sees the file saved through the contents API.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
from pathlib import Path

import pytest
from jupyter_core_server.pytest_plugin import KERNEL_FRAMINGS, KernelChannels, ServerClient, open_kernel_channels
from traitlets.config import Config

TOGETHER = {
    "hub": "jupyter_core_server_hub",
    "frontend": "jupyter_core_server_frontend",
    "contents": "jupyter_core_server_contents",
}
_MISSING = [name for name, module in TOGETHER.items() if importlib.util.find_spec(module) is None]
pytestmark = pytest.mark.skipif(bool(_MISSING), reason=f"plugin(s) not installed: {', '.join(_MISSING)}")
_PAGE_CONFIG = re.compile(r'<script id="jupyter-config-data" type="application/json">(.*?)</script>', re.DOTALL)


@pytest.fixture
def jcs_enabled_plugins(monkeypatch: pytest.MonkeyPatch) -> set[str]:
    """Hub, frontend and contents, outside any JupyterHub environment."""
    for name in list(os.environ):
        if name.startswith("JUPYTERHUB_") or name == "JPY_API_TOKEN":
            monkeypatch.delenv(name)
    return set(TOGETHER)


@pytest.fixture
def jcs_config(jcs_config: Config, tmp_path: Path) -> Config:
    """Lab settings, workspaces and notebook signatures under ``tmp_path``; deletions skip the trash."""
    jcs_config.Frontend.user_settings_dir = str(tmp_path / "lab" / "user-settings")
    jcs_config.Frontend.workspaces_dir = str(tmp_path / "lab" / "workspaces")
    jcs_config.NotebookNotary.data_dir = str(tmp_path / "notary")
    jcs_config.ContentsManager.delete_to_trash = False
    return jcs_config


async def test_the_plugins_are_active_and_the_hub_is_inert(jcs_client: ServerClient) -> None:
    async with jcs_client.get("api/plugins") as response:
        assert response.status == 200
        records = {record["name"]: record for record in await response.json()}
    for name in [*TOGETHER, "api", "kernels", "kernelspecs", "sessions"]:
        assert records[name]["state"] == "enabled" and records[name]["error"] is None, records[name]
    assert records["hub"]["routes"] == []
    assert records["frontend"]["routes"] and records["contents"]["routes"]
    async with jcs_client.get("api/status") as response:
        assert response.status == 200
        assert "X-JupyterHub-Version" not in response.headers


async def test_lab_page_contents_and_a_notebook_kernel(jcs_client: ServerClient) -> None:
    async with jcs_client.get("lab") as response:
        assert response.status == 200 and response.content_type == "text/html"
        page = _PAGE_CONFIG.search(await response.text())
    assert page is not None
    config = json.loads(page.group(1))
    assert config["appName"] == "JupyterLab" and config["baseUrl"] == "/"

    async with jcs_client.put("api/contents/notes", json={"type": "directory"}) as response:
        assert response.status == 201, await response.text()
    model = {"type": "file", "format": "text", "content": "saved through contents\n"}
    async with jcs_client.put("api/contents/notes/hello.txt", json=model) as response:
        assert response.status == 201, await response.text()
    async with jcs_client.get("api/contents/notes") as response:
        assert response.status == 200
        assert [item["name"] for item in (await response.json())["content"]] == ["hello.txt"]

    session = {
        "path": "notes/analysis.ipynb",
        "type": "notebook",
        "name": "analysis.ipynb",
        "kernel": {"name": "python3"},
    }
    async with jcs_client.post("api/sessions", json=session) as response:
        assert response.status == 201, await response.text()
        kernel_id = (await response.json())["kernel"]["id"]
    async with open_kernel_channels(jcs_client, kernel_id, "v1") as kc:
        result = await kc.execute("print(open('hello.txt').read(), end='')")
    assert result.status == "ok" and result.stream() == "saved through contents\n"


@pytest.mark.parametrize("jcs_kernel_client", KERNEL_FRAMINGS, indirect=True)
async def test_a_kernel_executes_in_each_framing(jcs_kernel_client: KernelChannels) -> None:
    result = await jcs_kernel_client.execute("import sys; print(sys.version_info[0]); 6 * 7")
    assert result.status == "ok" and result.stream() == "3\n"
    assert result.data == [{"text/plain": "42"}]
