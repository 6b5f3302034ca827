"""Framing in headless Chromium: JupyterLab works in a frame of its own origin, and no other origin can frame it.

A page on another port of the same host is another origin but the same site, so the
browser sends it the login cookie: without ``frame-ancestors 'self'`` it could show a
logged-in JupyterLab in an invisible frame and trick the user into clicking in it.

Needs ``playwright`` and a system Chromium, like ``test_browser.py``.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from aiohttp import web
from chromium import CHROMIUM
from jupyter_core_server import hookimpl

playwright_api = pytest.importorskip("playwright.async_api")
if CHROMIUM is None and os.environ.get("JCS_REQUIRE_BROWSER"):
    raise RuntimeError("JCS_REQUIRE_BROWSER is set but no chromium executable is on PATH")
pytestmark = [pytest.mark.browser, pytest.mark.skipif(CHROMIUM is None, reason="no system Chromium installed")]

TIMEOUT_MS = 60_000
FRAMER = '<!doctype html><title>framer</title><iframe id="app" src="{src}" width="1200" height="800"></iframe>'


class Framer:
    """Serves a page of the server's own origin that frames ``/lab``."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    @hookimpl
    def register_static(self) -> str:
        return str(self.directory)


@pytest.fixture
def jcs_config(jcs_config: Any) -> Any:
    jcs_config.Frontend.expose_app_in_browser = True
    return jcs_config


@pytest.fixture
def framer(jcs_register_plugin, tmp_path: Path) -> None:
    directory = tmp_path / "framer"
    directory.mkdir()
    (directory / "framer.html").write_text(FRAMER.format(src="/lab"))
    jcs_register_plugin(Framer(directory), "framer")


@pytest_asyncio.fixture
async def other_origin(jcs_server: Any) -> AsyncIterator[str]:
    """A second web server on another port of 127.0.0.1 whose page frames the Jupyter server's ``/lab``."""

    async def page(request: web.Request) -> web.Response:
        return web.Response(text=FRAMER.format(src=jcs_server.url + "lab"), content_type="text/html")

    app = web.Application()
    app.router.add_get("/", page)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        await runner.cleanup()


async def lab_frame(page: Any) -> Any:
    """Wait for the iframe's first navigation to end and return its frame."""
    handle = await page.wait_for_selector("iframe#app", timeout=TIMEOUT_MS)
    frame = await handle.content_frame()
    assert frame is not None
    await frame.wait_for_load_state("load", timeout=TIMEOUT_MS)
    return frame


@pytest.mark.usefixtures("framer")
async def test_lab_loads_in_a_frame_of_its_own_origin(jcs_server, browser) -> None:
    page = await browser.new_page()
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    await page.goto(jcs_server.url + f"lab?token={jcs_server.token}", timeout=TIMEOUT_MS)  # log in: the cookie
    await page.wait_for_function("() => window.jupyterapp && window.jupyterapp.started", timeout=TIMEOUT_MS)

    await page.goto(jcs_server.url + "static/framer/framer.html", timeout=TIMEOUT_MS)
    frame = await lab_frame(page)
    assert frame.url.startswith(jcs_server.url + "lab")
    await frame.wait_for_function("() => window.jupyterapp && window.jupyterapp.started", timeout=TIMEOUT_MS)
    await frame.wait_for_selector(".jp-Launcher", timeout=TIMEOUT_MS)
    assert not [e for e in errors if "frame-ancestors" in e or "Content Security Policy" in e], errors
    await page.close()


async def test_another_origin_cannot_frame_lab(jcs_server, browser, other_origin: str) -> None:
    page = await browser.new_page()
    await page.goto(jcs_server.url + f"lab?token={jcs_server.token}", timeout=TIMEOUT_MS)  # logged in, as a victim is
    await page.wait_for_function("() => window.jupyterapp && window.jupyterapp.started", timeout=TIMEOUT_MS)

    refused = asyncio.get_running_loop().create_future()

    def on_console(msg: Any) -> None:
        if "frame-ancestors" in msg.text and not refused.done():
            refused.set_result(msg.text)

    page.on("console", on_console)
    await page.goto(other_origin, timeout=TIMEOUT_MS)
    frame = await lab_frame(page)
    async with asyncio.timeout(20):  # the refusal is logged as the frame's navigation ends
        message = await refused
    assert "frame-ancestors 'self'" in message and jcs_server.url.rstrip("/") in message, message
    # The frame shows the browser's error page, never the application.
    assert not frame.url.startswith(jcs_server.url)
    assert await frame.evaluate("() => typeof window.jupyterapp") == "undefined"
    await page.close()
