"""Conditional saves: a PUT that carries what the client last saw is refused with 409 if the file changed."""

from __future__ import annotations

import os
import time
from datetime import datetime, timezone
from email.utils import format_datetime
from pathlib import Path

from contents_calls import call, text_model


async def test_if_match_hash(jcs_client, root: Path) -> None:
    (root / "doc.txt").write_text("v1")
    status, model = await call(jcs_client, "GET", "api/contents/doc.txt", params={"hash": "1"})
    seen = model["hash"]
    status, saved = await call(
        jcs_client, "PUT", "api/contents/doc.txt", json=text_model("v2"), headers={"If-Match": f'"{seen}"'}
    )
    assert status == 200 and (root / "doc.txt").read_text() == "v2"

    # someone else changes the file; the client still holds the hash of v2 it saved
    (root / "doc.txt").write_text("changed elsewhere")
    status, error = await call(
        jcs_client, "PUT", "api/contents/doc.txt", json=text_model("v3"), headers={"If-Match": f'"{saved["hash"]}"'}
    )
    assert status == 409 and error["reason"] == "file_changed"
    assert error["hash"] == __import__("hashlib").sha256(b"changed elsewhere").hexdigest()
    assert error["last_modified"].endswith("Z")
    assert (root / "doc.txt").read_text() == "changed elsewhere"

    # the current hash (or any of a list, weak or not) is accepted
    status, _ = await call(
        jcs_client,
        "PUT",
        "api/contents/doc.txt",
        json=text_model("v3"),
        headers={"If-Match": f'"x", W/"{error["hash"]}"'},
    )
    assert status == 200 and (root / "doc.txt").read_text() == "v3"
    # without a precondition, jupyter_server's behaviour: overwrite
    status, _ = await call(jcs_client, "PUT", "api/contents/doc.txt", json=text_model("v4"))
    assert status == 200


async def test_if_match_star_and_deleted_files(jcs_client, root: Path) -> None:
    status, error = await call(
        jcs_client, "PUT", "api/contents/gone.txt", json=text_model("x"), headers={"If-Match": "*"}
    )
    assert status == 409 and error["hash"] is None and not (root / "gone.txt").exists()
    (root / "here.txt").write_text("h")
    status, _ = await call(jcs_client, "PUT", "api/contents/here.txt", json=text_model("x"), headers={"If-Match": "*"})
    assert status == 200


async def test_if_unmodified_since_with_the_models_timestamp(jcs_client, root: Path) -> None:
    (root / "nb.txt").write_text("v1")
    status, model = await call(jcs_client, "GET", "api/contents/nb.txt", params={"content": "0"})
    status, saved = await call(
        jcs_client,
        "PUT",
        "api/contents/nb.txt",
        json=text_model("v2"),
        headers={"If-Unmodified-Since": model["last_modified"]},
    )
    assert status == 200
    later = time.time() + 5
    os.utime(root / "nb.txt", (later, later))  # changed on disk after the client's save
    status, error = await call(
        jcs_client,
        "PUT",
        "api/contents/nb.txt",
        json=text_model("v3"),
        headers={"If-Unmodified-Since": saved["last_modified"]},
    )
    assert status == 409 and error["reason"] == "file_changed"
    http_date = format_datetime(datetime.fromtimestamp(later + 1, timezone.utc), usegmt=True)
    status, _ = await call(
        jcs_client, "PUT", "api/contents/nb.txt", json=text_model("v3"), headers={"If-Unmodified-Since": http_date}
    )
    assert status == 200
    status, error = await call(
        jcs_client, "PUT", "api/contents/nb.txt", json=text_model("v4"), headers={"If-Unmodified-Since": "yesterday"}
    )
    assert status == 400 and error["reason"] == "bad_precondition"


async def test_notebook_etag_round_trip(jcs_client, root: Path) -> None:
    body = {"type": "notebook", "content": {"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}}
    async with jcs_client.put("api/contents/n.ipynb", json=body) as response:
        etag = response.headers["ETag"]
    async with jcs_client.get("api/contents/n.ipynb", params={"hash": "1"}) as response:
        assert response.headers["ETag"] == etag
    status, _ = await call(jcs_client, "PUT", "api/contents/n.ipynb", json=body, headers={"If-Match": etag})
    assert status == 200
