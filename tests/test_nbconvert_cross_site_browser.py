"""A link on another site must not turn a stored notebook's export into code running as the user.

End to end, in headless Chromium: the browser logs in to a server (core, contents and
nbconvert on 127.0.0.1), so it holds the ``SameSite=Lax`` login cookie that browsers send
on top-level navigations. A page served by a second server, on another port of
127.0.0.1 (same site) or on ``localhost`` (another site), then navigates the browser to
``/nbconvert/script/<notebook>``, where the notebook declares an active output type and
its cell is a script that reads the ``_xsrf`` cookie and starts a kernel. The
navigation must be refused (403) and no kernel may start.

Needs the ``playwright`` package (its driver only) and the system Chromium at
``/usr/bin/chromium``; skipped when either is missing, unless ``JCS_REQUIRE_BROWSER`` is
set, when their absence is an error.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import nbformat
import pytest
import pytest_asyncio
from aiohttp import web
from importlib_metadata import entry_points
from jupyter_core_server.plugins import ENTRY_POINT_GROUP, PluginManager
from nbformat import v4

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
if os.environ.get("JCS_REQUIRE_BROWSER"):
    import playwright.async_api as playwright_api

    if not os.access(CHROMIUM, os.X_OK):
        raise RuntimeError(f"JCS_REQUIRE_BROWSER is set but {CHROMIUM} is missing")
else:
    playwright_api = pytest.importorskip("playwright.async_api")
pytestmark = pytest.mark.skipif(not os.access(CHROMIUM, os.X_OK), reason=f"no Chromium at {CHROMIUM}")

TIMEOUT_MS = 30_000
#: How long a script that did run would have to start its kernel.
KERNEL_WAIT_S = 8.0

# Reads the XSRF cookie as a page of the server's origin can, and starts a kernel with it.
ATTACK = """
var xsrf = (document.cookie.match(/(?:^|; )_xsrf=([^;]*)/) || [])[1] || "";
fetch("{base}api/kernels", {{method: "POST", credentials: "same-origin",
  headers: {{"X-XSRFToken": xsrf, "Content-Type": "application/json"}},
  body: JSON.stringify({{name: "python3"}})}}).then(function (r) {{ document.title = "kernel " + r.status; }});
"""

#: A declared type an exact ``== "text/html"`` comparison misses, and an XML document type.
HOSTILE = {
    "text/html; charset=utf-8": "<html><body><script>{attack}</script></body></html>",
    "image/svg+xml": '<svg xmlns="http://www.w3.org/2000/svg"><script><![CDATA[{attack}]]></script></svg>',
}


def hostile_notebook(mimetype: str, base: str) -> dict[str, Any]:
    """A notebook whose ``script`` export is, byte for byte, a document running :data:`ATTACK`."""
    nb = v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "hostile"}
    nb.metadata["language_info"] = {"name": "hostile", "file_extension": ".html", "mimetype": mimetype}
    nb.cells = [v4.new_code_cell(HOSTILE[mimetype].format(attack=ATTACK.format(base=base)))]
    nbformat.validate(nb)
    return json.loads(nbformat.writes(nb))


@pytest.fixture
def jcs_plugin_manager(jcs_isolated_paths: dict[str, Path]) -> PluginManager:
    """The core with contents and nbconvert; every other installed plugin is off."""
    pm = PluginManager(strict=True)
    pm.discover(
        {ep.name: False for ep in entry_points(group=ENTRY_POINT_GROUP) if ep.name not in ("contents", "nbconvert")}
    )
    return pm


@pytest.fixture
def jcs_config(jcs_config: Any, tmp_path: Path) -> Any:
    jcs_config.NotebookNotary.data_dir = str(tmp_path / "notary")
    return jcs_config


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest_asyncio.fixture
async def other_site() -> AsyncIterator[dict[str, str]]:
    """A second HTTP server on 127.0.0.1 whose pages send the browser to ``?to=``, as a link would."""
    pages: dict[str, str] = {}

    async def page(request: web.Request) -> web.Response:
        target = json.dumps(request.query["to"])
        html = f"<!doctype html><title>elsewhere</title><script>location.href = {target};</script>"
        return web.Response(text=html, content_type="text/html")

    app = web.Application()
    app.router.add_get("/", page)
    runner = web.AppRunner(app)
    await runner.setup()
    port = _free_port()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    pages["same-site"] = f"http://127.0.0.1:{port}/"  # another port of the server's host
    pages["cross-site"] = f"http://localhost:{port}/"  # another site to the browser
    try:
        yield pages
    finally:
        await runner.cleanup()


@pytest_asyncio.fixture
async def browser() -> AsyncIterator[Any]:
    async with playwright_api.async_playwright() as p:
        instance = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield instance
        finally:
            await instance.close()


async def kernels(client: Any) -> list[dict[str, Any]]:
    async with client.get("api/kernels") as response:
        assert response.status == 200
        found: list[dict[str, Any]] = await response.json()
        return found


@pytest.mark.parametrize("site", ["same-site", "cross-site"])
@pytest.mark.parametrize("mimetype", list(HOSTILE))
async def test_link_from_another_site_starts_no_kernel(
    jcs_server, jcs_client, browser, other_site: dict[str, str], mimetype: str, site: str
) -> None:
    root = Path(jcs_server.app.root_dir)
    (root / "shared.ipynb").write_text(json.dumps(hostile_notebook(mimetype, urlsplit(jcs_server.url).path)))
    target = jcs_server.url + "nbconvert/script/shared.ipynb"

    context = await browser.new_context()
    try:
        page = await context.new_page()
        login = await page.goto(jcs_server.url + f"api/status?token={jcs_server.token}", timeout=TIMEOUT_MS)
        assert login is not None and login.status == 200
        assert {c["name"] for c in await context.cookies(jcs_server.url)} >= {"_xsrf"}

        async with page.expect_response(lambda r: r.url.startswith(target), timeout=TIMEOUT_MS) as answer:
            await page.goto(other_site[site] + "?" + urlencode({"to": target}), timeout=TIMEOUT_MS)
        response = await answer.value
        await page.wait_for_load_state("load", timeout=TIMEOUT_MS)
        assert page.url.startswith(target)  # the link was followed, and answered by the server

        started: list[dict[str, Any]] = []
        loop = asyncio.get_running_loop()
        deadline = loop.time() + KERNEL_WAIT_S
        while not started and loop.time() < deadline:
            started = await kernels(jcs_client)
            await asyncio.sleep(0.25)
        assert started == [], f"the export ran in the server's origin and started a kernel ({await page.title()!r})"
        assert response.status == 403
        assert json.loads(await response.text())["reason"] == "cross_site"
    finally:
        await context.close()
