"""Fixtures of the frontend plugin's tests: a real server with contents, terminals and this plugin.

Every other installed plugin is off. User settings, workspaces and the Jupyter config
levels live under ``tmp_path``; the JupyterLab and Notebook 7 files are the ones the
``jupyterlab`` and ``notebook`` distributions installed in the test environment.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
from chromium import CHROMIUM
from importlib_metadata import entry_points
from jupyter_core_server.plugins import ENTRY_POINT_GROUP
from traitlets.config import Config

pytest_plugins = ["jupyter_core_server.pytest_plugin"]

WANTED = {"contents", "terminals", "frontend"}
_BASH = shutil.which("bash")
TEST_SHELL = [_BASH, "--noprofile", "--norc"] if _BASH else ["/bin/sh"]
_CONFIG_DATA = re.compile(r'<script id="jupyter-config-data" type="application/json">(.*?)</script>', re.DOTALL)


def others_off(wanted: set[str] = WANTED) -> dict[str, bool]:
    return {ep.name: ep.name in wanted for ep in entry_points(group=ENTRY_POINT_GROUP)}


@pytest.fixture
def jcs_enabled_plugins() -> set[str]:
    """The built-in plugins and :data:`WANTED`."""
    return WANTED


@pytest.fixture
def jcs_config(jcs_config: Config, tmp_path: Path) -> Config:
    jcs_config.Frontend.user_settings_dir = str(tmp_path / "lab" / "user-settings")
    jcs_config.Frontend.workspaces_dir = str(tmp_path / "lab" / "workspaces")
    jcs_config.TerminalManager.shell_command = TEST_SHELL
    jcs_config.NotebookNotary.data_dir = str(tmp_path / "notary")
    jcs_config.ContentsManager.delete_to_trash = False
    return jcs_config


@pytest.fixture
def root(tmp_path: Path) -> Path:
    path = tmp_path / "root"
    path.mkdir(exist_ok=True)
    return path


def page_config_of(html: str) -> dict[str, Any]:
    """Return the page configuration embedded in an application page."""
    match = _CONFIG_DATA.search(html)
    assert match, html[:500]
    data: dict[str, Any] = json.loads(match.group(1))
    return data


@pytest_asyncio.fixture
async def browser_session(jcs_server: Any) -> AsyncIterator[aiohttp.ClientSession]:
    """A client that keeps cookies for 127.0.0.1, as a browser does, and sends no token header."""
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
        yield session


@pytest_asyncio.fixture
async def browser() -> AsyncIterator[Any]:
    """Headless Chromium through playwright, closed after the test.

    The browser test modules skip themselves when playwright or Chromium is missing
    (and fail instead when ``JCS_REQUIRE_BROWSER`` is set).
    """
    playwright_api = pytest.importorskip("playwright.async_api")
    async with playwright_api.async_playwright() as p:
        instance = await p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        try:
            yield instance
        finally:
            await instance.close()
