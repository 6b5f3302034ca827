"""Uploads: a 30 MB file in chunks (as JupyterLab sends it), never visible half-written."""

from __future__ import annotations

import base64
import hashlib
import os
from pathlib import Path

from contents_calls import call, large_json

CHUNK = 1024 * 1024  # JupyterLab's chunk size


def chunks(data: bytes) -> list[tuple[int, bytes]]:
    """Number the pieces as JupyterLab does: 1, 2, ... and -1 for the last."""
    pieces = [data[start : start + CHUNK] for start in range(0, len(data), CHUNK)]
    return [(-1 if i == len(pieces) - 1 else i + 1, piece) for i, piece in enumerate(pieces)]


async def test_chunked_upload_of_30_mb(jcs_client, root: Path) -> None:
    data = os.urandom(30 * 1024 * 1024 + 12345)
    (root / "big.bin").write_bytes(b"old version")
    for number, piece in chunks(data):
        body = {"type": "file", "format": "base64", "chunk": number, "content": base64.b64encode(piece).decode()}
        status, model = await call(jcs_client, "PUT", "api/contents/big.bin", **large_json(body))
        assert status in (200, 201), model
        if number != -1:
            # the target is untouched until the last chunk; the parts are hidden
            assert (root / "big.bin").read_bytes() == b"old version"
            assert model["size"] == number * CHUNK
            status, listing = await call(jcs_client, "GET", "api/contents")
            assert [entry["name"] for entry in listing["content"]] == ["big.bin"]
    assert (root / "big.bin").read_bytes() == data
    assert model["size"] == len(data)
    assert model["hash"] == hashlib.sha256(data).hexdigest()
    assert sorted(p.name for p in root.iterdir()) == ["big.bin"]


async def test_chunked_text_upload_of_a_new_file(jcs_client, root: Path) -> None:
    text = "line of text\n" * 200_000
    pieces = chunks(text.encode())
    for number, piece in pieces:
        body = {"type": "file", "format": "text", "chunk": number, "content": piece.decode()}
        status, _ = await call(jcs_client, "PUT", "api/contents/log.txt", **large_json(body))
        assert status in (200, 201)
        assert (root / "log.txt").exists() == (number == -1)
    assert (root / "log.txt").read_text() == text


async def test_single_last_chunk_and_bad_chunks(jcs_client, root: Path) -> None:
    status, _ = await call(
        jcs_client,
        "PUT",
        "api/contents/one.txt",
        json={"type": "file", "format": "text", "chunk": -1, "content": "all"},
    )
    assert status == 201 and (root / "one.txt").read_text() == "all"
    status, error = await call(
        jcs_client, "PUT", "api/contents/two.txt", json={"type": "file", "format": "text", "chunk": 2, "content": "x"}
    )
    assert status == 400 and error["reason"] == "no_upload"
    for chunk in (0, -2, "1", 1.5, True):
        status, error = await call(
            jcs_client,
            "PUT",
            "api/contents/two.txt",
            json={"type": "file", "format": "text", "chunk": chunk, "content": "x"},
        )
        assert status == 400 and error["reason"] == "bad_chunk", chunk
    status, error = await call(
        jcs_client, "PUT", "api/contents/nb.ipynb", json={"type": "notebook", "chunk": 1, "content": {}}
    )
    assert status == 400 and error["reason"] == "bad_type"
    assert not (root / "two.txt").exists()
