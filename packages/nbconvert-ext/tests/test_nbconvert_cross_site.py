"""``GET /nbconvert/{format}/{path}`` refuses cross-site requests exactly as ``/files`` does.

A browser sends its ``SameSite=Lax`` login cookie on a top-level navigation from any
site, so without this check a link elsewhere could open a stored notebook's export in
the server's origin. Requests carrying the token are never cross-site: another site
cannot know it.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
from conftest import script_notebook
from test_nbconvert_sandbox import assert_sandboxed

PATH = "nbconvert/script/hostile.ipynb"


@pytest.fixture
def hostile(root: Path) -> Path:
    path = root / "hostile.ipynb"
    path.write_text(json.dumps(script_notebook("text/html")))
    return path


@pytest_asyncio.fixture
async def cookie_session(jcs_server: Any) -> AsyncIterator[aiohttp.ClientSession]:
    """A browser-like session: logged in through ``?token=``, holding only the cookies."""
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
        async with session.get(jcs_server.url + "api/status", params={"token": jcs_server.token}) as response:
            assert response.status == 200
        assert {cookie.key for cookie in session.cookie_jar} >= {"_xsrf"}
        yield session


@pytest.mark.parametrize(
    "headers",
    [
        {"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "navigate", "Sec-Fetch-Dest": "document"},
        {"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Dest": "iframe"},
        {"Sec-Fetch-Site": "same-site", "Sec-Fetch-Mode": "navigate"},  # another port of this host
        {"Sec-Fetch-Site": "cross-site", "Referer": "https://evil.example/page"},
        {},  # an older browser: no fetch metadata, no referer, no XSRF token
        {"Referer": "https://evil.example/page"},
    ],
)
async def test_cookie_only_cross_site_get_is_refused(
    jcs_server, cookie_session, hostile: Path, headers: dict[str, str]
) -> None:
    for params in ({}, {"download": "1"}):
        async with cookie_session.get(jcs_server.url + PATH, headers=headers, params=params) as response:
            assert response.status == 403, (headers, params)
            error = await response.json()
            assert_sandboxed(response.headers, "refusal")
        assert error["reason"] == "cross_site", error
        assert "<script>" not in json.dumps(error)


async def test_same_origin_get_with_the_cookie_converts(jcs_server, cookie_session, hostile: Path) -> None:
    host = jcs_server.url.split("/")[2]
    xsrf = next(cookie.value for cookie in cookie_session.cookie_jar if cookie.key == "_xsrf")
    for headers, params in (
        ({"Sec-Fetch-Site": "same-origin", "Sec-Fetch-Mode": "navigate"}, {"download": "1"}),
        ({"Sec-Fetch-Site": "none"}, {}),  # typed into the address bar
        ({"Referer": f"http://{host}/lab"}, {}),
        ({"X-XSRFToken": xsrf}, {}),
        ({}, {"_xsrf": xsrf}),
    ):
        async with cookie_session.get(jcs_server.url + PATH, headers=headers, params=params) as response:
            assert response.status == 200, (headers, params, await response.text())
            assert "document.domain" in await response.text()


async def test_token_header_requests_pass_whatever_the_site(jcs_client, hostile: Path) -> None:
    cross_site = {"Sec-Fetch-Site": "cross-site", "Referer": "https://evil.example/"}
    async with jcs_client.get(PATH, headers=cross_site) as response:  # Authorization: token ...
        assert response.status == 200, await response.text()


async def test_answers_as_files_answers(jcs_server, cookie_session, root: Path, hostile: Path) -> None:
    """The same check as ``/files``: a ``?token=`` link is a login, treated as the cookie is."""
    (root / "notes.txt").write_text("notes")
    cases: list[tuple[dict[str, str], dict[str, str]]] = [
        ({"Sec-Fetch-Site": "cross-site"}, {}),
        ({"Sec-Fetch-Site": "cross-site"}, {"token": jcs_server.token}),
        ({"Sec-Fetch-Site": "same-origin"}, {}),
        ({}, {}),
    ]
    for headers, params in cases:
        answers = []
        for path in (PATH, "files/notes.txt"):
            async with cookie_session.get(jcs_server.url + path, headers=headers, params=params) as response:
                answers.append(response.status)
        assert answers[0] == answers[1], (headers, params, answers)
