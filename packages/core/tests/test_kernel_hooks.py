"""The kernel and session event hooks, each proven with an in-test plugin."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from kerneltools import wait_until

from jupyter_core_server import hookimpl
from jupyter_core_server.keys import KERNEL_SERVICE, SERVER
from jupyter_core_server.pytest_plugin import open_kernel_channels, start_kernel


class Recorder:
    """Implements every kernel/session event hook and records the calls."""

    def __init__(self, cwd: Path) -> None:
        self.cwd = cwd
        self.cwd_asked: list[str] = []
        self.started: list[dict[str, Any]] = []
        self.stopped: list[str] = []
        self.sessions: list[tuple[str, dict[str, Any]]] = []

    @hookimpl
    def kernel_cwd(self, path: str) -> str | None:
        self.cwd_asked.append(path)
        return str(self.cwd) if path.startswith("elsewhere/") else None

    @hookimpl
    def kernel_started(self, kernel: dict[str, Any]) -> None:
        self.started.append(dict(kernel))

    @hookimpl
    def kernel_stopped(self, kernel_id: str) -> None:
        self.stopped.append(kernel_id)

    @hookimpl
    def session_changed(self, session: dict[str, Any], change: str) -> None:
        self.sessions.append((change, dict(session)))


@pytest.fixture
def recorder(jcs_register_plugin, tmp_path: Path) -> Recorder:
    cwd = tmp_path / "plugin-chosen-cwd"
    cwd.mkdir()
    plugin = Recorder(cwd)
    jcs_register_plugin(plugin, "recorder")
    return plugin


async def kernel_cwd(client, kernel_id: str) -> str:
    async with open_kernel_channels(client, kernel_id, "v1") as kc:
        return (await kc.execute("import os; print(os.getcwd())")).stream().strip()


@pytest.mark.usefixtures("recorder")
async def test_hook_kernel_cwd(jcs_client, jcs_config, recorder: Recorder) -> None:
    root = Path(jcs_config.CoreServerApp.root_dir)
    (root / "notebooks").mkdir()

    plugin_chosen = await start_kernel(jcs_client, name="python3", path="elsewhere/analysis.ipynb")
    assert os.path.realpath(await kernel_cwd(jcs_client, plugin_chosen)) == os.path.realpath(recorder.cwd)
    assert "elsewhere/analysis.ipynb" in recorder.cwd_asked

    # the plugin answers None: the core falls back to the path's folder under root_dir
    core_chosen = await start_kernel(jcs_client, name="python3", path="notebooks/other.ipynb")
    assert os.path.realpath(await kernel_cwd(jcs_client, core_chosen)) == os.path.realpath(root / "notebooks")

    # a session's path goes through the hook too
    async with jcs_client.post(
        "api/sessions", json={"path": "elsewhere/s.ipynb", "type": "notebook", "kernel": {"name": "python3"}}
    ) as response:
        kernel_id = (await response.json())["kernel"]["id"]
    assert os.path.realpath(await kernel_cwd(jcs_client, kernel_id)) == os.path.realpath(recorder.cwd)


@pytest.mark.usefixtures("recorder")
async def test_hook_kernel_started(jcs_client, recorder: Recorder) -> None:
    kernel_id = await start_kernel(jcs_client, name="python3")
    [started] = recorder.started
    assert started["id"] == kernel_id and started["name"] == "python3"
    assert {"last_activity", "execution_state", "connections"} <= set(started)


@pytest.mark.usefixtures("recorder")
async def test_hook_kernel_stopped(jcs_client, recorder: Recorder) -> None:
    kernel_id = await start_kernel(jcs_client, name="python3")
    assert recorder.stopped == []
    async with jcs_client.delete(f"api/kernels/{kernel_id}") as response:
        assert response.status == 204
    assert recorder.stopped == [kernel_id]


@pytest.mark.usefixtures("recorder")
async def test_hook_session_changed(jcs_client, recorder: Recorder) -> None:
    body = {"path": "a.ipynb", "type": "notebook", "name": "a.ipynb", "kernel": {"name": "python3"}}
    async with jcs_client.post("api/sessions", json=body) as response:
        session = await response.json()
    async with jcs_client.post("api/sessions", json=body) as response:
        assert response.status == 201  # the existing session: no new event
    async with jcs_client.patch(f"api/sessions/{session['id']}", json={"path": "b.ipynb"}) as response:
        assert response.status == 200
    async with jcs_client.delete(f"api/sessions/{session['id']}") as response:
        assert response.status == 204

    assert [change for change, _ in recorder.sessions] == ["created", "modified", "deleted"]
    assert all(model["id"] == session["id"] for _, model in recorder.sessions)
    assert recorder.sessions[0][1]["path"] == "a.ipynb"
    assert recorder.sessions[1][1]["path"] == "b.ipynb"
    assert recorder.sessions[0][1]["kernel"]["id"] == session["kernel"]["id"]
    # the session's kernel was stopped with it
    await wait_until(lambda: recorder.stopped == [session["kernel"]["id"]])


class AppReader:
    """A ``kernel_cwd`` that answers from state published on the running application."""

    def __init__(self) -> None:
        self.apps: list[web.Application] = []

    @hookimpl
    def kernel_cwd(self, app: web.Application, path: str) -> str | None:
        self.apps.append(app)
        return os.path.join(app[SERVER].root_dir, "chosen") if path == "from-the-app.ipynb" else None


@pytest.fixture
def app_reader(jcs_register_plugin) -> AppReader:
    reader = AppReader()
    jcs_register_plugin(reader, "app-reader")
    return reader


async def test_kernel_cwd_gets_the_running_application(app_reader: AppReader, jcs_server) -> None:
    service = jcs_server.web_app[KERNEL_SERVICE]
    assert service.cwd_for("from-the-app.ipynb") == os.path.join(jcs_server.app.root_dir, "chosen")
    assert app_reader.apps == [jcs_server.web_app]
