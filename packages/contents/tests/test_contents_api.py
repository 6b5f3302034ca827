"""``/api/contents``: jupyter_server's verb matrix for files, notebooks and directories, on real files."""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path

import nbformat
import pytest
from contents_calls import call, text_model
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

MODEL_KEYS = {
    "name",
    "path",
    "type",
    "writable",
    "created",
    "last_modified",
    "mimetype",
    "content",
    "format",
    "size",
    "hash",
    "hash_algorithm",
}


def write_notebook(path: Path, cells: int = 2) -> dict:
    nb = new_notebook(cells=[new_markdown_cell("# Title"), *(new_code_cell(f"x = {i}") for i in range(cells - 1))])
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(path))
    return nb


# -- GET -------------------------------------------------------------------------------------------


async def test_get_directory_lists_entries_without_content(jcs_client, root: Path) -> None:
    (root / "sub").mkdir()
    (root / "a.txt").write_text("hello")
    write_notebook(root / "nb.ipynb")
    status, model = await call(jcs_client, "GET", "api/contents")
    assert status == 200
    assert set(model) == MODEL_KEYS
    assert model["type"] == "directory" and model["path"] == "" and model["format"] == "json"
    entries = {entry["name"]: entry for entry in model["content"]}
    assert set(entries) == {"sub", "a.txt", "nb.ipynb"}
    assert entries["sub"]["type"] == "directory" and entries["sub"]["size"] is None
    assert entries["a.txt"] | {"created": None, "last_modified": None} == {
        "name": "a.txt",
        "path": "a.txt",
        "type": "file",
        "writable": True,
        "created": None,
        "last_modified": None,
        "mimetype": "text/plain",
        "content": None,
        "format": None,
        "size": 5,
        "hash": None,
        "hash_algorithm": None,
    }
    assert entries["nb.ipynb"]["type"] == "notebook" and entries["nb.ipynb"]["mimetype"] is None
    assert all(entry["last_modified"].endswith("Z") for entry in entries.values())

    status, nested = await call(jcs_client, "GET", "api/contents/sub/")
    assert status == 200 and nested["path"] == "sub" and nested["content"] == []
    status, bare = await call(jcs_client, "GET", "api/contents", params={"content": "0"})
    assert bare["content"] is None and bare["format"] is None


async def test_get_file_text_base64_and_hash(jcs_client, root: Path) -> None:
    (root / "a.txt").write_text("héllo\n", encoding="utf-8")
    status, model = await call(jcs_client, "GET", "api/contents/a.txt", params={"hash": "1"})
    assert status == 200
    assert model["content"] == "héllo\n" and model["format"] == "text" and model["mimetype"] == "text/plain"
    assert model["hash_algorithm"] == "sha256"
    assert model["hash"] == __import__("hashlib").sha256("héllo\n".encode()).hexdigest()

    status, model = await call(jcs_client, "GET", "api/contents/a.txt", params={"format": "base64"})
    assert model["format"] == "base64" and base64.b64decode(model["content"]) == "héllo\n".encode()

    (root / "blob.bin").write_bytes(bytes(range(256)))
    status, model = await call(jcs_client, "GET", "api/contents/blob.bin")
    assert model["format"] == "base64" and model["mimetype"] == "application/octet-stream"
    assert base64.b64decode(model["content"]) == bytes(range(256))
    status, error = await call(jcs_client, "GET", "api/contents/blob.bin", params={"format": "text"})
    assert status == 400 and error["reason"] == "bad_format"

    status, model = await call(jcs_client, "GET", "api/contents/a.txt", params={"content": "0", "hash": "1"})
    assert model["content"] is None and model["hash"]


async def test_get_notebook_and_type_coercions(jcs_client, root: Path) -> None:
    write_notebook(root / "nb.ipynb", cells=3)
    status, model = await call(jcs_client, "GET", "api/contents/nb.ipynb")
    assert status == 200 and model["type"] == "notebook" and model["format"] == "json"
    content = model["content"]
    assert content["nbformat"] == 4 and len(content["cells"]) == 3
    assert content["cells"][1]["source"] == "x = 0"  # lines joined in memory
    assert content["cells"][1]["metadata"]["trusted"] is False  # never signed here
    await call(jcs_client, "PUT", "api/contents/nb.ipynb", json={"type": "notebook", "content": content})
    status, model = await call(jcs_client, "GET", "api/contents/nb.ipynb")
    assert model["content"]["cells"][1]["metadata"]["trusted"] is True  # no rich output: signed on save
    assert "message" not in model

    status, as_file = await call(jcs_client, "GET", "api/contents/nb.ipynb", params={"type": "file"})
    assert as_file["type"] == "file" and json.loads(as_file["content"])["nbformat"] == 4

    (root / "plain.json").write_text((root / "nb.ipynb").read_text())
    status, as_nb = await call(jcs_client, "GET", "api/contents/plain.json", params={"type": "notebook"})
    assert as_nb["type"] == "notebook" and len(as_nb["content"]["cells"]) == 3

    status, error = await call(jcs_client, "GET", "api/contents/nb.ipynb", params={"type": "directory"})
    assert status == 400 and error["reason"] == "bad_type"
    status, error = await call(jcs_client, "GET", "api/contents", params={"type": "notebook"})
    assert status == 400 and error["reason"] == "bad_type"
    status, error = await call(jcs_client, "GET", "api/contents/nb.ipynb", params={"format": "xml"})
    assert status == 400
    status, error = await call(jcs_client, "GET", "api/contents/nb.ipynb", params={"content": "2"})
    assert status == 400
    status, error = await call(jcs_client, "GET", "api/contents/nb.ipynb", params={"hash": "yes"})
    assert status == 400
    status, error = await call(jcs_client, "GET", "api/contents/missing.txt")
    assert status == 404 and error["reason"] == "not_found" and "missing.txt" in error["message"]


async def test_invalid_notebook_still_opens_with_message(jcs_client, root: Path) -> None:
    nb = new_notebook(cells=[new_code_cell("1")])
    nb.cells[0]["bogus"] = True
    (root / "bad.ipynb").write_text(json.dumps(nb))
    status, model = await call(jcs_client, "GET", "api/contents/bad.ipynb")
    assert status == 200
    assert model["message"].startswith("Notebook validation failed")
    assert "bogus" in model["message"]
    assert model["content"]["cells"][0]["source"] == "1"

    (root / "garbage.ipynb").write_text("{not json")
    status, error = await call(jcs_client, "GET", "api/contents/garbage.ipynb")
    assert status == 400 and error["reason"] == "unreadable_notebook"


async def test_deeply_nested_notebook_on_disk_is_a_400(jcs_client, root: Path) -> None:
    """A hostile notebook in a shared folder: refused by the JSON depth limit, not a 500."""
    deep = "[" * 5000 + "]" * 5000
    (root / "deep.ipynb").write_text(
        f'{{"nbformat": 4, "nbformat_minor": 5, "metadata": {{"x": {deep}}}, "cells": []}}'
    )
    status, error = await call(jcs_client, "GET", "api/contents/deep.ipynb")
    assert status == 400 and error["reason"] == "unreadable_notebook"
    assert "nested deeper" in error["message"]


async def test_old_notebook_format_is_converted(jcs_client, root: Path) -> None:
    v3 = {
        "nbformat": 3,
        "nbformat_minor": 0,
        "metadata": {"name": ""},
        "worksheets": [
            {
                "cells": [{"cell_type": "code", "input": "1 + 1", "language": "python", "outputs": [], "metadata": {}}],
                "metadata": {},
            }
        ],
    }
    (root / "old.ipynb").write_text(json.dumps(v3))
    status, model = await call(jcs_client, "GET", "api/contents/old.ipynb")
    assert status == 200 and model["content"]["nbformat"] == 4
    assert model["content"]["cells"][0]["source"] == "1 + 1"


# -- PUT -------------------------------------------------------------------------------------------


async def test_put_creates_then_saves_and_returns_the_hash(jcs_client, root: Path) -> None:
    status, model = await call(jcs_client, "PUT", "api/contents/new.txt", json=text_model("one"))
    assert status == 201 and model["name"] == "new.txt" and model["content"] is None
    assert model["hash"] == __import__("hashlib").sha256(b"one").hexdigest() and model["size"] == 3
    async with jcs_client.put("api/contents/new.txt", json=text_model("two")) as response:
        assert response.status == 200
        assert response.headers["Location"] == "/api/contents/new.txt"
        saved = await response.json()
        assert response.headers["ETag"] == f'"{saved["hash"]}"'
    assert (root / "new.txt").read_text() == "two"
    status, read = await call(jcs_client, "GET", "api/contents/new.txt", params={"hash": "1"})
    assert read["hash"] == saved["hash"]


async def test_put_notebook_writes_nbformat_bytes_and_keeps_trust(jcs_client, root: Path) -> None:
    nb = new_notebook(cells=[new_markdown_cell("# T\ntext"), new_code_cell("print(1)\nprint(2)")])
    nb.cells[1].outputs = [new_output("display_data", data={"text/html": "<b>rich</b>"})]
    nb.cells[1].metadata["trusted"] = True  # the user ran it here
    status, model = await call(
        jcs_client, "PUT", "api/contents/project/nb.ipynb", json={"type": "notebook", "content": nb}
    )
    assert status == 404  # no such directory yet
    (root / "project").mkdir()
    status, model = await call(
        jcs_client, "PUT", "api/contents/project/nb.ipynb", json={"type": "notebook", "format": "json", "content": nb}
    )
    assert status == 201 and model["type"] == "notebook" and "message" not in model
    on_disk = (root / "project" / "nb.ipynb").read_text()
    stripped = json.loads(json.dumps(nb))
    stripped["cells"][1]["metadata"].pop("trusted")
    assert on_disk == nbformat.writes(nbformat.from_dict(stripped)) + "\n"  # byte for byte what nbformat writes
    assert '"trusted"' not in on_disk

    status, read = await call(jcs_client, "GET", "api/contents/project/nb.ipynb")
    assert read["content"]["cells"][1]["metadata"]["trusted"] is True  # signed on save

    # a notebook saved with untrusted rich output is not trusted after a reload
    nb.cells[1].metadata["trusted"] = False
    nb.cells[1].outputs[0]["data"]["text/html"] = "<b>other</b>"
    await call(jcs_client, "PUT", "api/contents/project/nb.ipynb", json={"type": "notebook", "content": nb})
    status, read = await call(jcs_client, "GET", "api/contents/project/nb.ipynb")
    assert read["content"]["cells"][1]["metadata"]["trusted"] is False
    status, _ = await call(jcs_client, "POST", "api/contents/project/nb.ipynb/trust")
    assert status == 201
    status, read = await call(jcs_client, "GET", "api/contents/project/nb.ipynb")
    assert read["content"]["cells"][1]["metadata"]["trusted"] is True

    status, checkpoints = await call(jcs_client, "GET", "api/contents/project/nb.ipynb/checkpoints")
    assert [c["id"] for c in checkpoints] == ["checkpoint"]  # one always exists for a saved notebook


async def test_put_invalid_notebook_is_saved_with_a_message(jcs_client, root: Path) -> None:
    nb = json.loads(json.dumps(new_notebook(cells=[new_code_cell("1"), new_code_cell("2")])))
    nb["cells"][1]["surprise"] = 1
    status, model = await call(jcs_client, "PUT", "api/contents/bad.ipynb", json={"type": "notebook", "content": nb})
    assert status == 201 and "surprise" in model["message"]
    assert json.loads((root / "bad.ipynb").read_text())["cells"][1]["surprise"] == 1
    # saved again unchanged: still reported (what passed validation before is not what failed)
    status, model = await call(jcs_client, "PUT", "api/contents/bad.ipynb", json={"type": "notebook", "content": nb})
    assert status == 200 and "surprise" in model["message"]
    del nb["cells"][1]["surprise"]
    status, model = await call(jcs_client, "PUT", "api/contents/bad.ipynb", json={"type": "notebook", "content": nb})
    assert "message" not in model


async def test_put_binary_base64_round_trip(jcs_client, root: Path) -> None:
    payload = os.urandom(200_000) + bytes(range(256))
    body = {"type": "file", "format": "base64", "content": base64.b64encode(payload).decode()}
    status, model = await call(jcs_client, "PUT", "api/contents/data.bin", json=body)
    assert status == 201 and model["size"] == len(payload)
    assert (root / "data.bin").read_bytes() == payload
    status, read = await call(jcs_client, "GET", "api/contents/data.bin")
    assert read["format"] == "base64" and base64.b64decode(read["content"]) == payload
    async with jcs_client.get("files/data.bin") as response:
        assert await response.read() == payload


async def test_put_errors(jcs_client, root: Path) -> None:
    (root / "d").mkdir()
    (root / "a.txt").write_text("x")
    cases = [
        ({"type": "file", "content": "x"}, "bad_format"),  # no format
        ({"type": "file", "format": "text", "content": 5}, "bad_content"),
        ({"type": "file", "format": "base64", "content": "@@@"}, "bad_content"),
        ({"format": "text", "content": "x"}, "missing_type"),  # existing file: type required
        ({"type": "file", "format": "text"}, "missing_content"),
        ({"type": "notebook", "content": {"cells": []}}, "bad_notebook"),
        ({"copy_from": "a.txt"}, "copy_with_put"),
    ]
    for body, reason in cases:
        status, error = await call(jcs_client, "PUT", "api/contents/a.txt", json=body)
        assert (status, error["reason"]) == (400, reason), body
    status, error = await call(jcs_client, "PUT", "api/contents/d", json=text_model("x"))
    assert status == 400 and error["reason"] == "bad_type"
    status, error = await call(
        jcs_client, "PUT", "api/contents/a.txt", data=b"{nope", headers={"Content-Type": "application/json"}
    )
    assert status == 400 and error["reason"] == "invalid_json"
    assert (root / "a.txt").read_text() == "x"


async def test_put_new_file_without_content_and_directories(jcs_client, root: Path) -> None:
    status, model = await call(jcs_client, "PUT", "api/contents/folder0", json={"type": "directory"})
    status, model = await call(
        jcs_client, "PUT", "api/contents/folder0", json={}
    )  # as jupyter_server: untitled file inside
    assert status == 201 and model["path"] == "folder0/untitled"
    status, model = await call(jcs_client, "PUT", "api/contents/blank.ipynb", json={"type": "notebook"})
    assert status == 201 and json.loads((root / "blank.ipynb").read_text())["nbformat"] == 4
    status, model = await call(jcs_client, "PUT", "api/contents/folder", json={"type": "directory"})
    assert status == 201 and model["type"] == "directory" and (root / "folder").is_dir()
    status, model = await call(jcs_client, "PUT", "api/contents/folder", json={"type": "directory"})
    assert status == 200


async def test_save_keeps_permissions(jcs_client, root: Path) -> None:
    target = root / "script.sh"
    target.write_text("echo 1\n")
    target.chmod(0o750)
    await call(jcs_client, "PUT", "api/contents/script.sh", json=text_model("echo 2\n"))
    assert target.read_text() == "echo 2\n"
    assert target.stat().st_mode & 0o777 == 0o750
    assert not [p for p in root.iterdir() if p.name.startswith(".~")]  # no temporary file left


# -- POST ------------------------------------------------------------------------------------------


async def test_post_untitled_names(jcs_client, root: Path) -> None:
    names = []
    for body in (
        {"type": "notebook"},
        {"type": "notebook"},
        {"ext": ".txt"},
        {"ext": ".txt"},
        None,
        {"type": "directory"},
        {"type": "directory"},
    ):
        status, model = await call(jcs_client, "POST", "api/contents", json=body)
        assert status == 201
        names.append(model["name"])
    assert names == [
        "Untitled.ipynb",
        "Untitled1.ipynb",
        "untitled.txt",
        "untitled1.txt",
        "untitled",
        "Untitled Folder",
        "Untitled Folder 1",
    ]
    assert (root / "Untitled Folder 1").is_dir()
    assert json.loads((root / "Untitled.ipynb").read_text()) == {
        "cells": [],
        "metadata": {},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    status, model = await call(jcs_client, "POST", "api/contents/Untitled Folder", json={"type": "file", "ext": ".py"})
    assert model["path"] == "Untitled Folder/untitled.py"
    status, error = await call(jcs_client, "POST", "api/contents/untitled.txt", json={"type": "file"})
    assert status == 400 and error["reason"] == "post_to_file"
    status, error = await call(jcs_client, "POST", "api/contents/nowhere", json={"type": "file"})
    assert status == 404


async def test_post_copy(jcs_client, root: Path) -> None:
    write_notebook(root / "nb.ipynb")
    (root / "data.tar.gz").write_bytes(b"\x1f\x8b")
    (root / "dir").mkdir()
    (root / "dir" / "inner.txt").write_text("in")
    copies = []
    for source, target in (
        ("nb.ipynb", ""),
        ("nb.ipynb", ""),
        ("nb-Copy1.ipynb", ""),
        ("data.tar.gz", ""),
        ("nb.ipynb", "dir"),
        ("dir", ""),
    ):
        status, model = await call(jcs_client, "POST", f"api/contents/{target}", json={"copy_from": source})
        assert status == 201, model
        copies.append(model["path"])
    assert copies == [
        "nb-Copy1.ipynb",
        "nb-Copy2.ipynb",
        "nb-Copy3.ipynb",
        "data-Copy1.tar.gz",
        "dir/nb.ipynb",
        "dir-Copy1",
    ]
    assert (root / "nb-Copy1.ipynb").read_bytes() == (root / "nb.ipynb").read_bytes()
    assert (root / "dir-Copy1" / "inner.txt").read_text() == "in"
    status, model = await call(jcs_client, "POST", "api/contents/dir/renamed.ipynb", json={"copy_from": "nb.ipynb"})
    assert status == 201 and model["path"] == "dir/renamed.ipynb"
    status, _ = await call(jcs_client, "POST", "api/contents/none/x.ipynb", json={"copy_from": "nb.ipynb"})
    assert status == 404
    status, _ = await call(jcs_client, "POST", "api/contents", json={"copy_from": "missing.ipynb"})
    assert status == 404


# -- PATCH and DELETE ------------------------------------------------------------------------------


async def test_patch_renames_and_moves(jcs_client, root: Path) -> None:
    write_notebook(root / "nb.ipynb")
    (root / "dest").mkdir()
    await call(jcs_client, "POST", "api/contents/nb.ipynb/checkpoints")
    async with jcs_client.patch("api/contents/nb.ipynb", json={"path": "dest/moved.ipynb"}) as response:
        assert response.status == 200
        assert response.headers["Location"] == "/api/contents/dest/moved.ipynb"
        model = await response.json()
    assert model["path"] == "dest/moved.ipynb" and model["type"] == "notebook" and model["content"] is None
    assert (root / "dest" / "moved.ipynb").exists() and not (root / "nb.ipynb").exists()
    status, checkpoints = await call(jcs_client, "GET", "api/contents/dest/moved.ipynb/checkpoints")
    assert len(checkpoints) == 1  # the checkpoint moved along

    (root / "other.txt").write_text("o")
    status, error = await call(jcs_client, "PATCH", "api/contents/other.txt", json={"path": "dest/moved.ipynb"})
    assert status == 409 and error["reason"] == "exists"
    status, error = await call(jcs_client, "PATCH", "api/contents/missing.txt", json={"path": "x.txt"})
    assert status == 404
    status, error = await call(jcs_client, "PATCH", "api/contents/other.txt", json={"path": "no/such/dir.txt"})
    assert status == 404
    status, error = await call(jcs_client, "PATCH", "api/contents/other.txt")
    assert status == 400
    status, same = await call(jcs_client, "PATCH", "api/contents/other.txt", json={"path": "other.txt"})
    assert status == 200 and same["path"] == "other.txt"
    status, moved_dir = await call(jcs_client, "PATCH", "api/contents/dest", json={"path": "renamed"})
    assert status == 200 and moved_dir["type"] == "directory" and (root / "renamed" / "moved.ipynb").exists()


async def test_delete_files_and_directories(jcs_client, root: Path) -> None:
    (root / "a.txt").write_text("a")
    (root / "full").mkdir()
    (root / "full" / "x.txt").write_text("x")
    (root / "only-checkpoints" / ".ipynb_checkpoints").mkdir(parents=True)
    assert (await call(jcs_client, "DELETE", "api/contents/a.txt"))[0] == 204
    assert not (root / "a.txt").exists()
    assert (await call(jcs_client, "DELETE", "api/contents/a.txt"))[0] == 404
    status, error = await call(jcs_client, "DELETE", "api/contents/full")
    assert status == 400 and error["reason"] == "not_empty" and (root / "full" / "x.txt").exists()
    assert (await call(jcs_client, "DELETE", "api/contents/only-checkpoints"))[0] == 204
    status, error = await call(jcs_client, "DELETE", "api/contents")
    assert status == 400 and error["reason"] == "root"
    assert root.is_dir()


class TestAlwaysDeleteDir:
    @pytest.fixture
    def jcs_config(self, jcs_config):
        jcs_config.ContentsManager.always_delete_dir = True
        return jcs_config

    async def test_non_empty_directory_is_deleted(self, jcs_client, root: Path) -> None:
        (root / "full").mkdir()
        (root / "full" / "x.txt").write_text("x")
        assert (await call(jcs_client, "DELETE", "api/contents/full"))[0] == 204
        assert not (root / "full").exists()


class TestTrash:
    @pytest.fixture
    def jcs_config(self, jcs_config, tmp_path, monkeypatch):
        monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
        jcs_config.ContentsManager.delete_to_trash = True
        return jcs_config

    async def test_delete_sends_to_the_trash(self, jcs_client, root: Path, tmp_path: Path) -> None:
        (root / "keep.txt").write_text("precious")
        (root / "folder").mkdir()
        (root / "folder" / "inner.txt").write_text("inner")
        assert (await call(jcs_client, "DELETE", "api/contents/keep.txt"))[0] == 204
        assert (await call(jcs_client, "DELETE", "api/contents/folder"))[0] == 204
        assert not (root / "keep.txt").exists() and not (root / "folder").exists()
        trashed = {p.name for p in (tmp_path / "xdg" / "Trash" / "files").iterdir()}
        assert trashed == {"keep.txt", "folder"}
        assert (tmp_path / "xdg" / "Trash" / "files" / "keep.txt").read_text() == "precious"


# -- checkpoints -----------------------------------------------------------------------------------


async def test_checkpoint_create_restore_delete(jcs_client, root: Path) -> None:
    (root / "doc.txt").write_text("version 1")
    status, checkpoints = await call(jcs_client, "GET", "api/contents/doc.txt/checkpoints")
    assert status == 200 and checkpoints == []
    async with jcs_client.post("api/contents/doc.txt/checkpoints") as response:
        assert response.status == 201
        checkpoint = await response.json()
        assert response.headers["Location"] == "/api/contents/doc.txt/checkpoints/checkpoint"
    assert checkpoint["id"] == "checkpoint" and checkpoint["last_modified"].endswith("Z")
    assert (root / ".ipynb_checkpoints" / "doc-checkpoint.txt").read_text() == "version 1"

    await call(jcs_client, "PUT", "api/contents/doc.txt", json=text_model("version 2"))
    assert (await call(jcs_client, "POST", "api/contents/doc.txt/checkpoints/checkpoint"))[0] == 204
    assert (root / "doc.txt").read_text() == "version 1"
    assert (await call(jcs_client, "POST", "api/contents/doc.txt/checkpoints/other"))[0] == 404
    assert (await call(jcs_client, "DELETE", "api/contents/doc.txt/checkpoints/checkpoint"))[0] == 204
    status, error = await call(jcs_client, "DELETE", "api/contents/doc.txt/checkpoints/checkpoint")
    assert status == 404 and error["reason"] == "no_such_checkpoint"
    assert (await call(jcs_client, "POST", "api/contents/missing.txt/checkpoints"))[0] == 404

    # checkpoints go with the file when it is deleted
    await call(jcs_client, "POST", "api/contents/doc.txt/checkpoints")
    await call(jcs_client, "DELETE", "api/contents/doc.txt")
    assert not (root / ".ipynb_checkpoints" / "doc-checkpoint.txt").exists()
    # and the checkpoint directory itself is hidden from listings
    status, listing = await call(jcs_client, "GET", "api/contents")
    assert ".ipynb_checkpoints" not in {entry["name"] for entry in listing["content"]}
