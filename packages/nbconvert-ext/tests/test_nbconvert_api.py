"""``/api/nbconvert`` and conversions of stored and posted notebooks, on a real server."""

from __future__ import annotations

import io
import json
import shutil
import zipfile
from pathlib import Path
from typing import Any

import pytest
from conftest import PNG_B64, sample_notebook
from jupyter_core_server.openapi import unmatched_routes
from yarl import URL

FORMATS = ["html", "script", "markdown", "notebook", "asciidoc", "rst"]
NEEDS_PANDOC = {"asciidoc", "rst"}


async def test_exporters_are_listed_with_mimetypes(jcs_client) -> None:
    async with jcs_client.get("api/nbconvert") as response:
        assert response.status == 200
        exporters = await response.json()
    for name in FORMATS:
        assert "output_mimetype" in exporters[name]
    assert exporters["html"]["output_mimetype"] == "text/html"
    assert exporters["notebook"]["output_mimetype"] == "application/json"


async def test_routes_and_spec_agree(jcs_client) -> None:
    async with jcs_client.get("api/spec.json") as response:
        spec = await response.json()
    undocumented, unrouted = unmatched_routes(jcs_client.server.web_app, spec)
    assert not {r for r in undocumented if "nbconvert" in r}
    assert not {r for r in unrouted if "nbconvert" in r}


def _pandoc_missing(status: int, body: bytes) -> bool:
    if status != 500:
        return False
    error = json.loads(body)
    assert error["reason"] == "missing_dependency", error
    assert "pandoc" in error["message"]
    return True


@pytest.mark.parametrize("fmt", FORMATS)
async def test_stored_notebook_converts(jcs_client, root: Path, fmt: str) -> None:
    async with jcs_client.get(f"nbconvert/{fmt}/sample.ipynb", params={"download": "true"}) as response:
        status, body, headers = response.status, await response.read(), response.headers
    if fmt in NEEDS_PANDOC and shutil.which("pandoc") is None:
        assert _pandoc_missing(status, body)  # the error must name what to install
        return
    assert status == 200, body
    disposition = headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    if headers["Content-Type"] == "application/zip":  # an extracted image: the document plus a PNG
        assert fmt in ("markdown", "rst", "asciidoc"), fmt
        assert 'filename="sample.zip"' in disposition
        archive = zipfile.ZipFile(io.BytesIO(body))
        names = archive.namelist()
        assert any(n.endswith(".png") for n in names), names
        document = [n for n in names if n.startswith("sample.")]
        assert document, names
        assert "hello from the notebook" in archive.read(document[0]).decode()
        return
    text = body.decode()
    assert "hello from the notebook" in text
    if fmt == "html":
        assert headers["Content-Type"] == "text/html; charset=utf-8"
        assert "sandbox allow-scripts" in headers["Content-Security-Policy"]
        assert 'filename="sample.html"' in disposition
        assert PNG_B64 in text and "ZeroDivisionError" in text
    if fmt == "script":
        assert 'filename="sample.py"' in disposition
    if fmt == "notebook":
        assert json.loads(text)["cells"][2]["outputs"][0]["data"]["image/png"] == PNG_B64


async def test_no_attachment_without_download(jcs_client, root: Path) -> None:
    async with jcs_client.get("nbconvert/script/sample.ipynb") as response:
        assert response.status == 200
        assert "Content-Disposition" not in response.headers
        assert "hello from the notebook" in await response.text()


async def test_posted_notebook_converts(jcs_client) -> None:
    for body in ({"content": sample_notebook(), "name": "posted.ipynb"}, sample_notebook()):
        async with jcs_client.post("nbconvert/html", json=body) as response:
            assert response.status == 200, await response.text()
            assert "sandbox allow-scripts" in response.headers["Content-Security-Policy"]
            assert "hello from the notebook" in await response.text()


async def test_unknown_format_lists_the_valid_ones(jcs_client, root: Path) -> None:
    for method, path, kwargs in (
        ("GET", "nbconvert/nosuch/sample.ipynb", {}),
        ("POST", "nbconvert/nosuch", {"json": sample_notebook()}),
    ):
        async with jcs_client.request(method, path, **kwargs) as response:
            assert response.status == 404
            error = await response.json()
        assert error["reason"] == "unknown_format"
        assert "html" in error["message"] and "script" in error["message"]


async def test_invalid_notebook_is_a_400_with_the_validation_message(jcs_client) -> None:
    broken: dict[str, Any] = sample_notebook()
    broken["cells"][0]["cell_type"] = "bogus"
    async with jcs_client.post("nbconvert/html", json=broken) as response:
        assert response.status == 400
        error = await response.json()
    assert error["reason"] == "invalid_notebook"
    assert error["message"].startswith("Invalid notebook:")


async def test_missing_notebook_is_404(jcs_client, root: Path) -> None:
    async with jcs_client.get("nbconvert/html/nosuch.ipynb") as response:
        assert response.status == 404


async def raw(client: Any, raw_path: str) -> tuple[int, Any]:
    url = URL(client.server.url + raw_path, encoded=True)
    async with client.session.get(url) as response:
        return response.status, await response.read()


@pytest.mark.parametrize("probe", ["../x.ipynb", "%2e%2e/x.ipynb", "%2E%2E%2Fx.ipynb", "sub/../../x.ipynb"])
async def test_traversal_is_refused_as_contents_refuses_it(jcs_client, root: Path, tmp_path: Path, probe: str) -> None:
    (tmp_path / "x.ipynb").write_text(json.dumps(sample_notebook()))
    status, body = await raw(jcs_client, "nbconvert/html/" + probe)
    expected_status, expected_body = await raw(jcs_client, "api/contents/" + probe)
    assert expected_status == 404
    assert status == expected_status, body
    assert b"hello from the notebook" not in body
    assert json.loads(body)["reason"] == json.loads(expected_body)["reason"]


@pytest.mark.parametrize("jcs_config", [{"NbconvertService": {"time_limit": 0.05}}], indirect=True)
async def test_time_limit_stops_a_conversion(jcs_client) -> None:
    async with jcs_client.post("nbconvert/html", json=sample_notebook()) as response:
        assert response.status == 504
        error = await response.json()
    assert error["reason"] == "time_limit" and "time limit" in error["message"]
