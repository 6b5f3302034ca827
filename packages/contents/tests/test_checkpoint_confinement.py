"""Checkpoints stay inside the root: a checkpoint folder or file linking out of it is refused.

A shared folder may carry a ``.ipynb_checkpoints`` that is a symbolic link to somewhere
else (an IPython startup folder, a home directory), or checkpoint files that are links.
No checkpoint operation, and no save, rename or delete that moves checkpoints along,
may read, write, create or delete anything there.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import nbformat
import pytest
from contents_calls import call
from nbformat.v4 import new_markdown_cell, new_notebook

SECRET = "the secret outside the root"
NOTEBOOK = {"type": "notebook", "content": {"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}}


def snapshot(folder: Path) -> dict[str, tuple[str, bytes | str, int]]:
    """Everything under ``folder`` (links not followed): kind, content or link target, mtime."""
    seen: dict[str, tuple[str, bytes | str, int]] = {}
    for directory, dirs, files in os.walk(folder):
        for name in dirs + files:
            path = Path(directory) / name
            st = path.lstat()
            if path.is_symlink():
                seen[str(path)] = ("link", os.readlink(path), st.st_mtime_ns)
            elif path.is_dir():
                seen[str(path)] = ("dir", "", st.st_mtime_ns)
            else:
                seen[str(path)] = ("file", path.read_bytes(), st.st_mtime_ns)
    seen[str(folder)] = ("dir", "", folder.stat().st_mtime_ns)
    return seen


@pytest.fixture
def outside(tmp_path: Path, root: Path) -> Path:
    """A folder beside the root holding checkpoint-named files with a secret."""
    folder = tmp_path / "outside"
    folder.mkdir()
    nbformat.write(new_notebook(cells=[new_markdown_cell(SECRET)]), str(folder / "nb-checkpoint.ipynb"))
    (folder / "doc-checkpoint.txt").write_text(SECRET)
    nbformat.write(new_notebook(cells=[new_markdown_cell("mine")]), str(root / "nb.ipynb"))
    (root / "doc.txt").write_text("mine")
    return folder


LAYOUTS = ["folder-link", "dangling-folder-link", "file-link", "dangling-file-link"]


@pytest.fixture(params=LAYOUTS)
def layout(request: pytest.FixtureRequest, root: Path, outside: Path) -> str:
    """Make the root's checkpoint folder, or the checkpoints in it, lead outside."""
    checkpoints = root / ".ipynb_checkpoints"
    if request.param == "folder-link":
        os.symlink(outside, checkpoints)
    elif request.param == "dangling-folder-link":
        os.symlink(outside / "not-yet", checkpoints)
    else:
        checkpoints.mkdir()
        for name in ("nb-checkpoint.ipynb", "doc-checkpoint.txt", "new-checkpoint.ipynb", "moved-checkpoint.ipynb"):
            target = outside / (name if request.param == "file-link" else "missing-" + name)
            os.symlink(target, checkpoints / name)
    return str(request.param)


def assert_refused(status: int, body: bytes | dict | None, what: str) -> None:
    assert status == 403, (what, status, body)
    assert isinstance(body, dict) and body["reason"] == "checkpoint_refused" and body["message"], (what, body)
    assert SECRET not in json.dumps(body), what


async def test_every_checkpoint_operation_is_refused(jcs_client, root: Path, outside: Path, layout: str) -> None:
    before = snapshot(outside)
    mine = {name: (root / name).read_bytes() for name in ("nb.ipynb", "doc.txt")}
    for name in mine:
        base = f"api/contents/{name}/checkpoints"
        for method, path in (
            ("GET", base),
            ("POST", base),
            ("POST", base + "/checkpoint"),
            ("DELETE", base + "/checkpoint"),
        ):
            status, body = await call(jcs_client, method, path)
            assert_refused(status, body, f"{layout}: {method} {path}")
            assert snapshot(outside) == before, f"{layout}: {method} {path} changed the outside folder"
    # nothing was restored from outside, and nothing outside was read into the root
    assert {name: (root / name).read_bytes() for name in mine} == mine
    for name in mine:
        status, model = await call(jcs_client, "GET", f"api/contents/{name}")
        assert status == 200 and SECRET not in json.dumps(model)
    assert not (outside / "not-yet").exists()


async def test_saves_skip_the_checkpoint_and_still_save(jcs_client, root: Path, outside: Path, layout: str) -> None:
    before = snapshot(outside)
    status, saved = await call(jcs_client, "PUT", "api/contents/new.ipynb", json=NOTEBOOK)  # a first save
    assert status == 201 and saved["path"] == "new.ipynb", (layout, status, saved)
    assert json.loads((root / "new.ipynb").read_text())["nbformat"] == 4
    status, saved = await call(jcs_client, "PUT", "api/contents/nb.ipynb", json=NOTEBOOK)
    assert status == 200, (layout, status, saved)
    status, created = await call(jcs_client, "POST", "api/contents", json={"type": "notebook"})
    assert status == 201 and (root / created["path"]).is_file(), (layout, status, created)
    status, copied = await call(jcs_client, "POST", "api/contents", json={"copy_from": "nb.ipynb"})
    assert status == 201 and (root / copied["path"]).is_file(), (layout, status, copied)
    assert snapshot(outside) == before, layout
    assert not (outside / "not-yet").exists()


async def test_renames_and_deletes_leave_outside_checkpoints_alone(
    jcs_client, root: Path, outside: Path, layout: str
) -> None:
    before = snapshot(outside)
    status, moved = await call(jcs_client, "PATCH", "api/contents/nb.ipynb", json={"path": "moved.ipynb"})
    assert status == 200 and moved["path"] == "moved.ipynb", (layout, status, moved)
    assert (root / "moved.ipynb").is_file() and not (root / "nb.ipynb").exists()
    assert snapshot(outside) == before, layout
    status, _ = await call(jcs_client, "DELETE", "api/contents/moved.ipynb")
    assert status == 204 and not (root / "moved.ipynb").exists(), layout
    status, _ = await call(jcs_client, "DELETE", "api/contents/doc.txt")
    assert status == 204 and not (root / "doc.txt").exists(), layout
    assert snapshot(outside) == before, layout


async def test_deleting_or_copying_a_folder_leaves_the_linked_checkpoints_alone(
    jcs_client, root: Path, outside: Path
) -> None:
    before = snapshot(outside)
    for name in ("only-checkpoints", "copied"):
        (root / name).mkdir()
        os.symlink(outside, root / name / ".ipynb_checkpoints")
    status, copy = await call(jcs_client, "POST", "api/contents", json={"copy_from": "copied"})
    assert status == 201, (status, copy)
    assert (await call(jcs_client, "DELETE", "api/contents/only-checkpoints"))[0] == 204  # counts as empty
    assert not os.path.lexists(root / "only-checkpoints")
    assert (await call(jcs_client, "DELETE", f"api/contents/{copy['path']}"))[0] == 204
    assert snapshot(outside) == before


async def test_the_refusal_is_logged_once_per_folder(
    jcs_client, root: Path, outside: Path, caplog: pytest.LogCaptureFixture
) -> None:
    os.symlink(outside, root / ".ipynb_checkpoints")
    (root / "sub").mkdir()
    os.symlink(outside, root / "sub" / ".ipynb_checkpoints")
    (root / "sub" / "doc.txt").write_text("mine too")
    caplog.set_level(logging.INFO, "jupyter_core_server")
    for _ in range(3):
        for path in ("nb.ipynb", "doc.txt", "sub/doc.txt"):
            await call(jcs_client, "GET", f"api/contents/{path}/checkpoints")
            await call(jcs_client, "POST", f"api/contents/{path}/checkpoints")
        await call(jcs_client, "PUT", "api/contents/new.ipynb", json=NOTEBOOK)
    refusals = [
        r
        for r in caplog.records
        if r.name.startswith("jupyter_core_server.contents")
        and "checkpoint" in r.getMessage().lower()
        and r.levelno >= logging.WARNING
    ]
    assert len(refusals) == 2, [r.getMessage() for r in refusals]
    assert {".ipynb_checkpoints" in r.getMessage() for r in refusals} == {True}
    assert any("sub/.ipynb_checkpoints" in r.getMessage() for r in refusals)
    assert str(outside) not in caplog.text


class TestNestedCheckpointDir:
    @pytest.fixture
    def jcs_config(self, jcs_config):
        jcs_config.FileCheckpoints.checkpoint_dir = "cp/inner"
        return jcs_config

    async def test_no_folder_is_created_through_a_link(self, jcs_client, root: Path, outside: Path) -> None:
        os.symlink(outside, root / "cp")
        before = snapshot(outside)
        status, _ = await call(jcs_client, "PUT", "api/contents/new.ipynb", json=NOTEBOOK)
        assert status == 201 and (root / "new.ipynb").is_file()
        status, body = await call(jcs_client, "POST", "api/contents/doc.txt/checkpoints")
        assert_refused(status, body, "nested")
        assert not (outside / "inner").exists()
        assert snapshot(outside) == before

    async def test_a_nested_folder_inside_the_root_works(self, jcs_client, root: Path, outside: Path) -> None:
        status, _ = await call(jcs_client, "POST", "api/contents/doc.txt/checkpoints")
        assert status == 201
        assert (root / "cp" / "inner" / "doc-checkpoint.txt").read_text() == "mine"


async def test_links_inside_the_root_still_work(jcs_client, root: Path, outside: Path) -> None:
    shared = root / "shared-checkpoints"
    shared.mkdir()
    os.symlink(shared, root / ".ipynb_checkpoints")
    status, _ = await call(jcs_client, "POST", "api/contents/doc.txt/checkpoints")
    assert status == 201 and (shared / "doc-checkpoint.txt").read_text() == "mine"
    (root / "doc.txt").write_text("changed")
    status, listed = await call(jcs_client, "GET", "api/contents/doc.txt/checkpoints")
    assert status == 200 and [c["id"] for c in listed] == ["checkpoint"]
    assert (await call(jcs_client, "POST", "api/contents/doc.txt/checkpoints/checkpoint"))[0] == 204
    assert (root / "doc.txt").read_text() == "mine"
    # a checkpoint file that is a link to a file inside the root is read through
    os.symlink(root / "doc.txt", shared / "nb-checkpoint.ipynb")
    (root / "doc.txt").write_text(json.dumps(NOTEBOOK["content"]))
    status, listed = await call(jcs_client, "GET", "api/contents/nb.ipynb/checkpoints")
    assert status == 200 and len(listed) == 1
    assert (await call(jcs_client, "DELETE", "api/contents/doc.txt/checkpoints/checkpoint"))[0] == 204
    assert not (shared / "doc-checkpoint.txt").exists()


async def test_a_checkpoint_folder_that_is_a_file(jcs_client, root: Path) -> None:
    (root / ".ipynb_checkpoints").write_text("not a folder")
    (root / "doc.txt").write_text("mine")
    status, _ = await call(jcs_client, "PUT", "api/contents/new.ipynb", json=NOTEBOOK)
    assert status == 201
    status, body = await call(jcs_client, "POST", "api/contents/doc.txt/checkpoints")
    assert status == 409 and body["reason"] == "bad_checkpoint_folder", (status, body)
    status, listed = await call(jcs_client, "GET", "api/contents/doc.txt/checkpoints")
    assert (status, listed) == (200, [])
    assert (root / ".ipynb_checkpoints").read_text() == "not a folder"


@pytest.mark.parametrize("value", ["/srv/checkpoints", "../up", "a/../../b", ""])
async def test_checkpoint_dir_must_stay_under_the_files_folder(jcs_config, jcs_plugin_manager, value: str) -> None:
    from jupyter_core_server.pytest_plugin import run_server

    jcs_config.FileCheckpoints.checkpoint_dir = value
    with pytest.raises(RuntimeError, match="checkpoint_dir"):
        async with run_server(jcs_config, jcs_plugin_manager):
            pass
