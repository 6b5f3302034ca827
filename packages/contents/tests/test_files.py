"""``/files/{path}``: raw bytes, content types, downloads, HEAD, ranges, validators, cross-site refusal."""

from __future__ import annotations

import gzip
from pathlib import Path

import aiohttp
import pytest
from contents_calls import call


@pytest.fixture
def files(root: Path) -> Path:
    (root / "page.html").write_text("<script>alert(1)</script>")
    (root / "notes.txt").write_text("0123456789abcdef")
    (root / "data.csv").write_text("a,b\n1,2\n")
    (root / "data.csv.gz").write_bytes(gzip.compress(b"something else"))
    (root / "nb.ipynb").write_text('{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}\n')
    (root / "blob").write_bytes(b"\x00\x01")
    (root / "sub").mkdir()
    return root


async def test_content_types_and_headers(jcs_client, files) -> None:
    expected = {
        "notes.txt": "text/plain; charset=UTF-8",
        "page.html": "text/html",
        "data.csv": "text/csv",
        "data.csv.gz": "application/gzip",
        "nb.ipynb": "application/x-ipynb+json",
        "blob": "application/octet-stream",
    }
    for name, content_type in expected.items():
        async with jcs_client.get(f"files/{name}") as response:
            assert response.status == 200, name
            assert response.headers["Content-Type"].split(";")[0] == content_type.split(";")[0], name
            assert "sandbox" in response.headers["Content-Security-Policy"]
            assert response.headers["X-Content-Type-Options"] == "nosniff"
            assert response.headers["Cache-Control"] == "no-cache"
            assert await response.read() == (files / name).read_bytes()
    async with jcs_client.get("files/notes.txt") as response:
        assert response.headers["Content-Type"] == "text/plain; charset=UTF-8"
        assert "Content-Disposition" not in response.headers


async def test_no_precompressed_sibling_is_served_instead(jcs_client, files) -> None:
    async with jcs_client.get("files/data.csv", headers={"Accept-Encoding": "gzip"}, auto_decompress=False) as response:
        assert "Content-Encoding" not in response.headers
        assert await response.read() == b"a,b\n1,2\n"


async def test_download_and_notebooks_are_attachments(jcs_client, files) -> None:
    async with jcs_client.get("files/notes.txt", params={"download": "1"}) as response:
        assert response.headers["Content-Disposition"] == "attachment; filename*=utf-8''notes.txt"
    async with jcs_client.get("files/nb.ipynb") as response:
        assert response.headers["Content-Disposition"].startswith("attachment")
    (files / "ünï code.txt").write_text("u")
    async with jcs_client.get("files/ünï code.txt", params={"download": "1"}) as response:
        assert response.status == 200
        assert response.headers["Content-Disposition"] == "attachment; filename*=utf-8''%C3%BCn%C3%AF%20code.txt"


async def test_head_range_and_validators(jcs_client, files) -> None:
    async with jcs_client.request("HEAD", "files/notes.txt") as response:
        assert response.status == 200
        assert response.headers["Content-Length"] == "16"
        assert await response.read() == b""
        etag, last_modified = response.headers["ETag"], response.headers["Last-Modified"]
    async with jcs_client.get("files/notes.txt", headers={"Range": "bytes=4-7"}) as response:
        assert response.status == 206
        assert response.headers["Content-Range"] == "bytes 4-7/16"
        assert await response.read() == b"4567"
    async with jcs_client.get("files/notes.txt", headers={"Range": "bytes=100-"}) as response:
        assert response.status == 416
    async with jcs_client.get("files/notes.txt", headers={"If-None-Match": etag}) as response:
        assert response.status == 304
    async with jcs_client.get("files/notes.txt", headers={"If-Modified-Since": last_modified}) as response:
        assert response.status == 304


async def test_missing_directories_and_hidden_are_404(jcs_client, files) -> None:
    for path in ("missing.txt", "sub", "sub/"):
        async with jcs_client.get(f"files/{path}") as response:
            assert response.status == 404, path
            assert (await response.json())["reason"] == "not_found"


async def cookie_session(server) -> aiohttp.ClientSession:
    """A browser-like session: logged in through ``?token=``, holding only the cookies."""
    jar = aiohttp.CookieJar(unsafe=True)
    session = aiohttp.ClientSession(cookie_jar=jar)
    async with session.get(server.url + "api/status", params={"token": server.token}) as response:
        assert response.status == 200
    return session


async def test_cross_site_inclusion_is_refused(jcs_server, files) -> None:
    session = await cookie_session(jcs_server)
    url = jcs_server.url + "files/notes.txt"
    host = url.split("/")[2]
    try:
        cases = [
            ({"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Dest": "image"}, 403),
            ({"Sec-Fetch-Site": "same-site"}, 403),
            ({"Sec-Fetch-Site": "cross-site", "Referer": "https://evil.example/page"}, 403),
            ({}, 403),  # no browser hints, no XSRF token, no referer
            ({"Referer": "https://evil.example/page"}, 403),
            ({"Sec-Fetch-Site": "same-origin"}, 200),
            ({"Sec-Fetch-Site": "none"}, 200),  # typed into the address bar
            ({"Referer": f"http://{host}/lab"}, 200),
        ]
        for headers, status in cases:
            async with session.get(url, headers=headers) as response:
                assert response.status == status, headers
                if status == 403:
                    assert (await response.json())["reason"] == "cross_site"
        xsrf = next(c.value for c in session.cookie_jar if c.key == "_xsrf")
        async with session.get(url, headers={"X-XSRFToken": xsrf}) as response:
            assert response.status == 200
        async with session.get(url, params={"_xsrf": xsrf}) as response:
            assert response.status == 200
    finally:
        await session.close()


async def test_token_requests_need_no_same_site_proof(jcs_client, files) -> None:
    async with jcs_client.get("files/notes.txt", headers={"Sec-Fetch-Site": "cross-site"}) as response:
        assert response.status == 200


async def test_api_and_files_agree(jcs_client, files) -> None:
    _, model = await call(jcs_client, "GET", "api/contents/notes.txt")
    async with jcs_client.get("files/notes.txt") as response:
        assert (await response.read()).decode() == model["content"]
