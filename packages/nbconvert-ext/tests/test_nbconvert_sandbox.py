"""Every nbconvert answer is sandboxed and ``nosniff``; what a notebook declares never makes it active.

The ``script`` exporter takes the output type from ``metadata.language_info.mimetype``
and writes cell sources as they are, so a notebook can ask for any type. These tests
store (or post) notebooks declaring active types, malformed types and header-breaking
names, and check the headers of every answer on a real server.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from conftest import HOSTILE_SOURCE, sample_notebook, script_notebook
from multidict import CIMultiDictProxy

from jupyter_core_server_nbconvert.responses import sandboxed_policy

#: What the acceptance criteria name: each is an active document type, or one spelled so
#: that an exact comparison with ``text/html`` misses it.
HOSTILE_TYPES = [
    "text/html",
    "text/html; charset=utf-8",
    "TEXT/HTML",
    " text/html",
    "image/svg+xml",
    "application/xhtml+xml",
    "text/xml",
]
PLAIN = "text/plain; charset=utf-8"


def csp_directives(headers: CIMultiDictProxy[str]) -> dict[str, list[str]]:
    """The one Content-Security-Policy of a response, as ``{directive: [values]}``."""
    policies = headers.getall("Content-Security-Policy", [])
    assert len(policies) == 1, policies
    directives: dict[str, list[str]] = {}
    for directive in policies[0].split(";"):
        name, *values = directive.split() or [""]
        if name:
            directives[name.lower()] = values
    return directives


def assert_sandboxed(headers: CIMultiDictProxy[str], what: str) -> None:
    directives = csp_directives(headers)
    assert directives.get("sandbox") == ["allow-scripts"], (what, directives)
    assert directives.get("frame-ancestors"), (what, directives)
    assert headers.getall("X-Content-Type-Options", []) == ["nosniff"], what


async def fetch(client: Any, method: str, path: str, **kwargs: Any) -> tuple[int, CIMultiDictProxy[str], bytes]:
    async with client.request(method, path, **kwargs) as response:
        return response.status, response.headers, await response.read()


@pytest.mark.parametrize("mimetype", HOSTILE_TYPES)
async def test_declared_active_types_are_served_as_plain_text(jcs_client, root: Path, mimetype: str) -> None:
    notebook = script_notebook(mimetype, ".html")
    (root / "hostile.ipynb").write_text(json.dumps(notebook))
    requests = [
        ("GET", "nbconvert/script/hostile.ipynb", {}),
        ("GET", "nbconvert/script/hostile.ipynb", {"params": {"download": "1"}}),
        ("POST", "nbconvert/script", {"json": {"content": notebook, "name": "hostile.ipynb"}}),
    ]
    for method, path, kwargs in requests:
        what = f"{method} {path} {kwargs.get('params', '')}"
        status, headers, body = await fetch(jcs_client, method, path, **kwargs)
        assert status == 200, (what, body)
        assert_sandboxed(headers, what)
        assert headers.getall("Content-Type") == [PLAIN], what
        assert HOSTILE_SOURCE in body.decode(), what
        if "params" in kwargs:
            assert headers["Content-Disposition"].startswith("attachment;"), what
        else:
            assert "Content-Disposition" not in headers, what


async def test_every_nbconvert_answer_is_sandboxed(jcs_client, jcs_server, root: Path) -> None:
    requests: list[tuple[str, str, dict[str, Any], int]] = [
        ("GET", "api/nbconvert", {}, 200),
        ("GET", "nbconvert/html/sample.ipynb", {}, 200),
        ("HEAD", "nbconvert/html/sample.ipynb", {}, 200),
        ("GET", "nbconvert/notebook/sample.ipynb", {"params": {"download": "1"}}, 200),
        ("POST", "nbconvert/markdown", {"json": sample_notebook()}, 200),  # a zip: the PNG is extracted
        ("GET", "nbconvert/nosuch/sample.ipynb", {}, 404),
        ("GET", "nbconvert/html/missing.ipynb", {}, 404),
        ("GET", "nbconvert/html", {}, 405),
        ("POST", "nbconvert/html", {"json": {"cells": "not a list", "nbformat": 4}}, 400),
        ("POST", "nbconvert/html", {"data": b"{not json"}, 400),
    ]
    for method, path, kwargs, expected in requests:
        status, headers, body = await fetch(jcs_client, method, path, **kwargs)
        assert status == expected, (method, path, body)
        assert_sandboxed(headers, f"{method} {path}")
    # answers the security layer gives before a handler runs belong to these routes too
    async with aiohttp.ClientSession() as anonymous:
        for headers_sent, expected in (({}, 403), ({"Accept": "text/html"}, 302)):
            url = jcs_server.url + "nbconvert/html/sample.ipynb"
            async with anonymous.get(url, headers=headers_sent, allow_redirects=False) as response:
                assert response.status == expected
                assert_sandboxed(response.headers, f"anonymous {headers_sent}")


@pytest.mark.parametrize(
    ("declared", "served"),
    [
        ("text/x-julia", "text/x-julia; charset=utf-8"),
        ("TEXT/X-Julia ", "text/x-julia; charset=utf-8"),
        ("text/x-python; charset=utf-8", "text/x-python; charset=utf-8"),
        ("text/plain", PLAIN),
        ("application/json", "application/json; charset=utf-8"),
        ("text/markdown", "text/markdown; charset=utf-8"),
        ("text/x-rst", "text/x-rst; charset=utf-8"),
    ],
)
async def test_declared_source_types_stay_inline(jcs_client, declared: str, served: str) -> None:
    status, headers, body = await fetch(jcs_client, "POST", "nbconvert/script", json=script_notebook(declared))
    assert status == 200, body
    assert headers.getall("Content-Type") == [served]
    assert "Content-Disposition" not in headers
    assert_sandboxed(headers, declared)


@pytest.mark.parametrize(
    "declared",
    [
        "text/html\r\nX-Injected: yes",
        "text/x-python\nX-Injected: yes",
        "text/x-python\r",
        "text/x-python; charset=utf-8; charset=latin-1",
        "text/x-python; charset=utf-8; CHARSET=utf-8",
        "text/x-python; charset",
        "text/plain, text/html",
        "text/x-py thon",
        "text/x-pythön",
        "text/x-python\x00",
        "text/",
        "/html",
        "",
        "text/javascript",
        "text/x-javascript",
        "text/x-foo+xml",
        "application/octet-stream",
    ],
)
async def test_malformed_or_unknown_declared_types_are_plain_text(jcs_client, declared: str) -> None:
    status, headers, body = await fetch(jcs_client, "POST", "nbconvert/script", json=script_notebook(declared))
    assert status == 200, body
    assert headers.getall("Content-Type") == [PLAIN]
    assert "X-Injected" not in headers
    assert_sandboxed(headers, repr(declared))


async def test_html_export_stays_inline_and_sandboxed(jcs_client, root: Path) -> None:
    status, headers, body = await fetch(jcs_client, "GET", "nbconvert/html/sample.ipynb")
    assert status == 200, body
    assert headers.getall("Content-Type") == ["text/html; charset=utf-8"]
    assert "Content-Disposition" not in headers
    assert_sandboxed(headers, "html")


def _single_line(value: str) -> None:
    assert "\r" not in value and "\n" not in value, value


async def test_names_with_line_breaks_get_an_answer(jcs_client, root: Path) -> None:
    notebook = script_notebook("text/x-julia", ".jl")
    (root / "line\rbreak.ipynb").write_text(json.dumps(notebook))  # a line feed never matches a route
    requests = [
        ("GET", "nbconvert/script/line%0Dbreak.ipynb", {}),
        ("POST", "nbconvert/script", {"json": {"content": notebook, "name": "evil\r\nX-Injected: yes.ipynb"}}),
        ("POST", "nbconvert/script", {"json": script_notebook("text/x-julia", ".jl\r\nX-Injected: yes")}),
        ("POST", "nbconvert/script", {"json": {"content": notebook, "name": "tab\there\x7f\x1b.ipynb"}}),
    ]
    for method, path, kwargs in requests:
        status, headers, body = await fetch(jcs_client, method, path, params={"download": "1"}, **kwargs)
        assert status == 200, (path, body)
        assert "X-Injected" not in headers
        disposition = headers["Content-Disposition"]
        assert disposition.startswith("attachment;")
        _single_line(disposition)
        assert all(0x20 <= ord(c) < 0x7F for c in disposition), disposition
        assert_sandboxed(headers, path)
    status, headers, _ = await fetch(jcs_client, "GET", "nbconvert/script/line%0Dbreak.ipynb", params={"download": "1"})
    assert "filename*=UTF-8''line_break.jl" in headers["Content-Disposition"]


async def test_symbolic_link_loops_are_a_4xx(jcs_client, root: Path) -> None:
    (root / "self.ipynb").symlink_to("self.ipynb")
    (root / "a.ipynb").symlink_to("b.ipynb")
    (root / "b.ipynb").symlink_to("a.ipynb")
    (root / "loop").symlink_to("loop")
    for name in ("self.ipynb", "a.ipynb", "loop/x.ipynb"):
        status, headers, body = await fetch(jcs_client, "GET", f"nbconvert/html/{name}")
        assert 400 <= status < 500, (name, status, body)
        assert set(json.loads(body)) == {"message", "reason"}, body
        assert_sandboxed(headers, name)


@pytest.mark.parametrize(
    ("existing", "expected"),
    [
        ("", "frame-ancestors 'self'; sandbox allow-scripts"),
        ("frame-ancestors 'self'", "frame-ancestors 'self'; sandbox allow-scripts"),
        (
            "default-src 'self'; frame-ancestors https://hub.example",
            "default-src 'self'; frame-ancestors https://hub.example; sandbox allow-scripts",
        ),
        (
            "frame-ancestors 'none'; sandbox allow-scripts allow-same-origin",
            "frame-ancestors 'none'; sandbox allow-scripts",
        ),
        ("sandbox", "frame-ancestors 'self'; sandbox"),
        ("frame-ancestors 'self', frame-ancestors *", "frame-ancestors 'self'; sandbox allow-scripts"),
    ],
)
def test_sandbox_is_added_to_the_servers_policy(existing: str, expected: str) -> None:
    assert sandboxed_policy(existing) == expected
