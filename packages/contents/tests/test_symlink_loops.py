"""Symbolic links in a loop answer like missing paths (404, JSON) on every contents route, never 500."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from contents_calls import call, text_model

NOTEBOOK = {"type": "notebook", "content": {"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}}
LOOPS = ["a", "b", "loop", "loop.ipynb", "loop/x", "a/x.ipynb", "sub/loop", "sub/loop/deeper/x.txt"]


@pytest.fixture
def loops(root: Path) -> Path:
    """``a -> b``, ``b -> a``, ``loop -> loop`` (also as ``.ipynb`` and in a folder), beside ordinary files."""
    os.symlink("b", root / "a")
    os.symlink("a", root / "b")
    os.symlink("loop", root / "loop")
    os.symlink("loop.ipynb", root / "loop.ipynb")
    (root / "sub").mkdir()
    os.symlink("loop", root / "sub" / "loop")
    (root / "sub" / "fine.txt").write_text("fine")
    (root / "good.txt").write_text("good")
    return root


def assert_not_found(status: int, body: object, what: str) -> None:
    assert status == 404, (what, status, body)
    assert isinstance(body, dict) and body["reason"] == "not_found" and body["message"], (what, body)


@pytest.mark.parametrize("path", LOOPS)
async def test_every_contents_route_answers_404(jcs_client, loops: Path, path: str) -> None:
    base = f"api/contents/{path}"
    for method, url, body in (
        ("GET", base, None),
        ("GET", base + "?content=0", None),
        ("GET", base + "?type=notebook", None),
        ("PUT", base, text_model("x")),
        ("PUT", base, NOTEBOOK),
        ("PUT", base, {"type": "directory"}),
        ("PUT", base, {**text_model("x"), "chunk": 1}),
        ("PATCH", base, {"path": "renamed"}),
        ("POST", base, {"type": "notebook"}),
        ("POST", base, {"type": "directory"}),
        ("DELETE", base, None),
        ("GET", base + "/checkpoints", None),
        ("POST", base + "/checkpoints", None),
        ("POST", base + "/checkpoints/checkpoint", None),
        ("DELETE", base + "/checkpoints/checkpoint", None),
        ("POST", base + "/trust", None),
    ):
        status, answer = await call(jcs_client, method, url, json=body)
        assert_not_found(status, answer, f"{method} {url} {body}")
    async with jcs_client.get(f"files/{path}") as response:
        assert response.status == 404 and (await response.json())["reason"] == "not_found", path
    async with jcs_client.request("HEAD", f"files/{path}") as response:
        assert response.status == 404, path
    assert os.path.islink(loops / "loop") and os.path.islink(loops / "a")  # nothing was deleted or moved


@pytest.mark.parametrize("path", LOOPS)
async def test_loops_as_targets_of_copies_and_renames(jcs_client, loops: Path, path: str) -> None:
    status, answer = await call(jcs_client, "POST", "api/contents", json={"copy_from": path})
    assert_not_found(status, answer, f"copy from {path}")
    status, answer = await call(jcs_client, "POST", f"api/contents/{path}", json={"copy_from": "good.txt"})
    assert_not_found(status, answer, f"copy to {path}")
    status, answer = await call(jcs_client, "PATCH", "api/contents/good.txt", json={"path": path})
    assert 400 <= status < 500 and answer["reason"], (path, status, answer)
    assert (loops / "good.txt").read_text() == "good"


async def test_listings_skip_looping_links(jcs_client, loops: Path) -> None:
    status, listing = await call(jcs_client, "GET", "api/contents")
    assert status == 200
    assert {entry["name"] for entry in listing["content"]} == {"good.txt", "sub"}
    status, listing = await call(jcs_client, "GET", "api/contents/sub", params={"limit": "10"})
    assert status == 200 and [entry["name"] for entry in listing["content"]] == ["fine.txt"]


async def test_a_looping_checkpoint_folder(jcs_client, root: Path) -> None:
    os.symlink(".ipynb_checkpoints", root / ".ipynb_checkpoints")
    (root / "doc.txt").write_text("mine")
    status, saved = await call(jcs_client, "PUT", "api/contents/new.ipynb", json=NOTEBOOK)
    assert status == 201 and saved["path"] == "new.ipynb"
    for method, url in (
        ("GET", "api/contents/doc.txt/checkpoints"),
        ("POST", "api/contents/doc.txt/checkpoints"),
        ("POST", "api/contents/doc.txt/checkpoints/checkpoint"),
        ("DELETE", "api/contents/doc.txt/checkpoints/checkpoint"),
    ):
        status, answer = await call(jcs_client, method, url)
        assert 400 <= status < 500 and answer["reason"], (method, url, status, answer)
    assert (await call(jcs_client, "PATCH", "api/contents/doc.txt", json={"path": "moved.txt"}))[0] == 200
    assert (await call(jcs_client, "DELETE", "api/contents/moved.txt"))[0] == 204
