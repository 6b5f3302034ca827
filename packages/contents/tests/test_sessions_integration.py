"""Sessions through the hooks: kernels start in their document's folder; sessions follow renames."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from contents_calls import call
from jupyter_core_server.keys import KERNEL_SERVICE

from jupyter_core_server_contents.config import ContentsManager


async def test_kernel_cwd_hook_answers_the_documents_folder(jcs_server, root: Path) -> None:
    (root / "project" / "deep").mkdir(parents=True)
    hook = jcs_server.app.plugin_manager.hook.kernel_cwd
    cases = {
        "project/nb.ipynb": root / "project",
        "/project/deep/x.ipynb": root / "project" / "deep",
        "project/deep": root / "project" / "deep",  # a directory is used as it is
        "top.ipynb": root,
        "missing/nb.ipynb": root,
        "../outside/nb.ipynb": root,
    }
    for path, expected in cases.items():
        assert hook(server=jcs_server.app, app=jcs_server.web_app, path=path) == str(expected.resolve()), path
        assert jcs_server.web_app[KERNEL_SERVICE].cwd_for(path) == str(expected.resolve()), path


def test_kernel_cwd_reuses_the_running_service(jcs_server, root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A kernel start asks the service the plugin runs; it builds no new ``ContentsManager``."""
    (root / "project").mkdir()
    built: list[ContentsManager] = []
    original = ContentsManager.__init__

    def counted(self: ContentsManager, **kwargs: object) -> None:
        built.append(self)
        original(self, **kwargs)

    monkeypatch.setattr(ContentsManager, "__init__", counted)
    for _ in range(3):
        assert jcs_server.web_app[KERNEL_SERVICE].cwd_for("project/nb.ipynb") == str((root / "project").resolve())
    assert built == []


class TestOwnRoot:
    """With ``ContentsManager.root_dir`` set apart from the server's, kernels follow the contents root."""

    @pytest.fixture
    def jcs_config(self, jcs_config, tmp_path: Path):
        (tmp_path / "docs" / "project").mkdir(parents=True)
        jcs_config.ContentsManager.root_dir = str(tmp_path / "docs")
        return jcs_config

    async def test_cwd_under_the_contents_root(self, jcs_server, tmp_path: Path) -> None:
        cwd = jcs_server.web_app[KERNEL_SERVICE].cwd_for("project/nb.ipynb")
        assert cwd == str((tmp_path / "docs" / "project").resolve())


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads the kernel's cwd from /proc")
async def test_session_kernel_starts_in_the_folder_and_follows_a_rename(jcs_client, jcs_server, root: Path) -> None:
    (root / "project").mkdir()
    await call(jcs_client, "PUT", "api/contents/project/nb.ipynb", json={"type": "notebook"})
    body = {"path": "project/nb.ipynb", "type": "notebook", "name": "nb.ipynb", "kernel": {"name": "python3"}}
    status, session = await call(jcs_client, "POST", "api/sessions", json=body)
    assert status == 201, session
    kernel = jcs_server.web_app[KERNEL_SERVICE].manager.get_kernel(session["kernel"]["id"])
    pid = kernel.provisioner.pid
    assert os.readlink(f"/proc/{pid}/cwd") == str((root / "project").resolve())

    (root / "done").mkdir()
    status, _ = await call(jcs_client, "PATCH", "api/contents/project/nb.ipynb", json={"path": "done/final.ipynb"})
    assert status == 200
    status, moved = await call(jcs_client, "GET", f"api/sessions/{session['id']}")
    assert moved["path"] == "done/final.ipynb" and moved["name"] == "final.ipynb"
    assert moved["notebook"] == {"path": "done/final.ipynb", "name": "final.ipynb"}

    # moving a whole folder moves the sessions below it
    status, _ = await call(jcs_client, "PATCH", "api/contents/done", json={"path": "archive"})
    status, moved = await call(jcs_client, "GET", f"api/sessions/{session['id']}")
    assert moved["path"] == "archive/final.ipynb" and moved["kernel"]["id"] == session["kernel"]["id"]
