"""The unmodified JupyterLab and Notebook 7 applications in headless Chromium against this server.

Needs the ``playwright`` package (its driver only: no browser download) and a Chromium
installed by the system (Debian's ``chromium``); skipped when either is missing. Every
request the pages make to this server and every console error is recorded; the tests
fail on any 4xx/5xx answer except the deliberate ones listed in :data:`EXPECTED_MISSING`.
"""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path
from typing import Any

import pytest
from chromium import CHROMIUM

playwright_api = pytest.importorskip("playwright.async_api")
if CHROMIUM is None and os.environ.get("JCS_REQUIRE_BROWSER"):
    raise RuntimeError("JCS_REQUIRE_BROWSER is set but no chromium executable is on PATH")
pytestmark = [pytest.mark.browser, pytest.mark.skipif(CHROMIUM is None, reason="no system Chromium installed")]

#: Console errors of the applications' own code, not of a server answer (Notebook 7 logs this
#: one when a notebook view is torn down as its tab closes).
CLIENT_ONLY_ERRORS = ("reading 'updateRenderOption'",)
#: Services of plugins these tests do not load: the pages cope with their absence.
EXPECTED_MISSING = ("/api/nbconvert", "/lsp/")
TIMEOUT_MS = 60_000


class PageLog:
    """Console errors and failed requests to the server under test."""

    def __init__(self, server_url: str) -> None:
        self.server_url = server_url
        self.console: list[str] = []
        self.failed: list[str] = []

    def attach(self, page: Any) -> None:
        page.on("console", lambda msg: self.console.append(msg.text) if msg.type == "error" else None)
        page.on("response", self._response)

    def _response(self, response: Any) -> None:
        url = response.url
        if url.startswith(self.server_url) and response.status >= 400:
            path = "/" + url[len(self.server_url) :]
            if not path.startswith(EXPECTED_MISSING):
                self.failed.append(f"{response.status} {response.request.method} {path}")

    def check(self) -> None:
        assert not self.failed, self.failed
        # errors from the expected-missing services, or from the CDN MathJax with no network, are not the server's
        ours = [
            m
            for m in self.console
            if not any(s in m for s in ("nbconvert", "lsp", "cdnjs", "404 (Not Found)", *CLIENT_ONLY_ERRORS))
        ]
        assert not ours, ours


@pytest.fixture
def jcs_config(jcs_config: Any) -> Any:
    jcs_config.Frontend.expose_app_in_browser = True
    return jcs_config


async def wait_for_file(path: Path, needle: str, timeout: float = 60) -> str:
    async with asyncio.timeout(timeout):
        while True:
            if path.is_file():
                text = path.read_text()
                if needle in text:
                    return text
            await asyncio.sleep(0.25)


async def run_first_cell(page: Any) -> None:
    """Type 1+1 in the active notebook's first cell once its kernel is idle, run it, wait for 2."""
    await page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=TIMEOUT_MS)
    cell = page.locator(".jp-Cell .cm-content").first
    await cell.click()
    await page.keyboard.type("1+1")
    await page.keyboard.press("Shift+Enter")
    output = page.locator(".jp-OutputArea-output").first
    await output.wait_for(timeout=TIMEOUT_MS)
    await playwright_api.expect(output).to_have_text("2", timeout=TIMEOUT_MS)


async def test_jupyterlab_notebook_terminal_and_settings(jcs_server, browser, root: Path, tmp_path: Path) -> None:
    log = PageLog(jcs_server.url)
    page = await browser.new_page()
    log.attach(page)
    await page.goto(jcs_server.url + f"lab?token={jcs_server.token}", timeout=TIMEOUT_MS)
    await page.wait_for_function("() => window.jupyterapp && window.jupyterapp.started", timeout=TIMEOUT_MS)
    await page.wait_for_selector(".jp-Launcher", timeout=TIMEOUT_MS)
    assert "token" not in page.url

    await page.evaluate("() => window.jupyterapp.commands.execute('notebook:create-new', {kernelName: 'python3'})")
    await run_first_cell(page)
    # the first save of an untitled notebook asks for a name: keep the proposed one
    await page.evaluate("() => { window.jupyterapp.commands.execute('docmanager:save'); }")
    accept = page.locator(".jp-Dialog .jp-mod-accept")
    await accept.wait_for(timeout=TIMEOUT_MS)
    await accept.click()
    saved = json.loads(await wait_for_file(root / "Untitled.ipynb", "1+1"))
    assert "".join(saved["cells"][0]["source"]) == "1+1"
    assert "2" in json.dumps(saved["cells"][0]["outputs"])

    await page.evaluate("() => { window.jupyterapp.commands.execute('terminal:create-new'); }")
    terminal = page.locator(".jp-Terminal").first
    await terminal.wait_for(timeout=TIMEOUT_MS)
    await page.wait_for_timeout(1000)  # the shell prints its prompt first
    await terminal.click()
    await page.keyboard.type("echo from-the-terminal-$((6*7)) > echoed.txt\n")
    assert (await wait_for_file(root / "echoed.txt", "from-the-terminal-42")).strip() == "from-the-terminal-42"

    await page.evaluate(
        "() => { window.jupyterapp.commands.execute('apputils:change-theme', {theme: 'JupyterLab Dark'}); }"
    )
    settings_file = (
        tmp_path / "lab" / "user-settings" / "@jupyterlab" / "apputils-extension" / "themes.jupyterlab-settings"
    )
    await wait_for_file(settings_file, "JupyterLab Dark")
    await page.reload(timeout=TIMEOUT_MS)
    await page.wait_for_function("() => document.body.dataset.jpThemeName === 'JupyterLab Dark'", timeout=TIMEOUT_MS)
    await page.close()
    log.check()


async def test_notebook7_tree_open_notebook_and_run_a_cell(jcs_server, browser, root: Path) -> None:
    import nbformat

    kernelspec = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nbformat.v4.new_notebook(metadata={"kernelspec": kernelspec}), root / "existing.ipynb")
    log = PageLog(jcs_server.url)
    page = await browser.new_page()
    log.attach(page)
    await page.goto(jcs_server.url + f"tree?token={jcs_server.token}", timeout=TIMEOUT_MS)
    listing = page.locator(".jp-DirListing-item", has_text="existing.ipynb")
    await listing.wait_for(timeout=TIMEOUT_MS)
    async with page.context.expect_page(timeout=TIMEOUT_MS) as opened:
        await listing.dblclick()
    notebook = await opened.value
    log.attach(notebook)
    await notebook.wait_for_load_state(timeout=TIMEOUT_MS)
    assert "/notebooks/existing.ipynb" in notebook.url
    await run_first_cell(notebook)
    await notebook.close()
    await page.close()
    log.check()
