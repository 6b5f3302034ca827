"""A page that uses ``@jupyterlab/services`` with the token, in headless Chromium, on the server's own host.

Such a page (a dashboard, an embedding app served by a plugin) sends the token in the
``Authorization`` header of its REST calls; its kernel and terminal websockets carry
no token, because the library only appends it to websocket URLs on another host. They
are authenticated by the login cookie that the server sets on a token-authenticated
request, as jupyter_server does.

The library is the one JupyterLab's Node client tests use (``tests/node_client``, its
npm packages pinned by the lockfile), bundled for the browser with esbuild from the npm
registry; the bundle is built once and kept in pytest's cache. Needs Node.js, npm, the
``playwright`` package and a system Chromium; skipped without them, unless
``JCS_REQUIRE_BROWSER`` is set (then a missing one is a failure).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

import pytest
from aiohttp import web
from chromium import CHROMIUM
from jupyter_core_server import hookimpl, public
from jupyter_core_server.keys import SERVER

NPM = shutil.which("npm")
playwright_api = pytest.importorskip("playwright.async_api")
pytestmark = pytest.mark.browser

NODE_CLIENT = Path(__file__).resolve().parents[3] / "tests" / "node_client"
ESBUILD = "esbuild@0.25.12"
ENTRY = """import { ServerConnection, KernelManager, SessionManager, TerminalManager } from '@jupyterlab/services';
window.jupyterlabServices = { ServerConnection, KernelManager, SessionManager, TerminalManager };
"""
TIMEOUT_MS = 60_000

#: What the page does: a session with a kernel that runs code, then a terminal that
#: echoes, each over its websocket; every wait is bounded.
SCRIPT = """async ({ token }) => {
  const { ServerConnection, KernelManager, SessionManager, TerminalManager } = window.jupyterlabServices;
  const base = location.origin + '/';
  const serverSettings = ServerConnection.makeSettings({ baseUrl: base, wsUrl: base.replace(/^http/, 'ws'), token });
  const bounded = (promise, what) => Promise.race([
    promise,
    new Promise((_, reject) => setTimeout(() => reject(new Error(`${what}: no answer in 30 s`)), 30000)),
  ]);
  const until = (test, what) => bounded(new Promise((resolve) => {
    const poll = () => (test() ? resolve() : setTimeout(poll, 50));
    poll();
  }), what);
  const result = { appendToken: serverSettings.appendToken };
  const kernelManager = new KernelManager({ serverSettings });
  const sessions = new SessionManager({ serverSettings, kernelManager });
  const session = await sessions.startNew(
    { path: 'from-the-page.ipynb', type: 'notebook', name: 'from-the-page.ipynb', kernel: { name: 'python3' } });
  let printed = '';
  const future = session.kernel.requestExecute({ code: 'print(6 * 7)' });
  future.onIOPub = (msg) => { if (msg.header.msg_type === 'stream') printed += msg.content.text; };
  await bounded(future.done, 'kernel execute over the websocket');
  result.kernel = printed.trim();
  const terminals = new TerminalManager({ serverSettings });
  const terminal = await terminals.startNew();
  let screen = '';
  terminal.messageReceived.connect((_, msg) => { if (msg.type === 'stdout') screen += msg.content[0]; });
  await until(() => terminal.connectionStatus === 'connected', 'terminal websocket');
  terminal.send({ type: 'stdin', content: ['echo from-the-page-$((6*7))\\r'] });
  await until(() => screen.includes('from-the-page-42'), 'terminal echo');
  result.terminal = 'from-the-page-42';
  await terminal.shutdown();
  await session.shutdown();
  return result;
}"""


def _missing() -> str | None:
    if CHROMIUM is None:
        return "no system Chromium installed"
    if NPM is None:
        return "npm is not installed: the @jupyterlab/services bundle cannot be built"
    return None


@pytest.fixture(scope="session")
def services_bundle(pytestconfig: pytest.Config, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``@jupyterlab/services`` as one browser script (an IIFE setting ``window.jupyterlabServices``)."""
    reason = _missing()
    if reason is not None:
        if os.environ.get("JCS_REQUIRE_BROWSER"):
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)
    assert NPM is not None
    lock = (NODE_CLIENT / "package-lock.json").read_bytes()
    key = hashlib.sha256(lock + ESBUILD.encode() + ENTRY.encode()).hexdigest()[:16]
    cache = getattr(pytestconfig, "cache", None)  # absent with -p no:cacheprovider
    folder = cache.mkdir(f"jupyterlab-services-{key}") if cache is not None else tmp_path_factory.mktemp("services")
    bundle = folder / "services.js"
    if bundle.is_file():
        return bundle
    for name in ("package.json", "package-lock.json"):
        shutil.copyfile(NODE_CLIENT / name, folder / name)
    npm = [NPM, "--no-audit", "--no-fund", "--loglevel=error"]
    subprocess.run([*npm, "ci"], cwd=folder, check=True, timeout=600, stdout=subprocess.DEVNULL)
    subprocess.run(
        [*npm, "install", "--no-save", ESBUILD], cwd=folder, check=True, timeout=600, stdout=subprocess.DEVNULL
    )
    (folder / "entry.mjs").write_text(ENTRY)
    building = folder / "services.js.part"
    esbuild = folder / "node_modules" / ".bin" / "esbuild"
    command = [
        str(esbuild),
        "entry.mjs",
        "--bundle",
        "--format=iife",
        "--platform=browser",
        "--log-level=warning",
        f"--outfile={building.name}",
    ]
    subprocess.run(command, cwd=folder, check=True, timeout=120)
    building.replace(bundle)
    return bundle


class ServicesPage:
    """Serves, same-origin and public, an empty page and the library bundle: the page brings its own code."""

    def __init__(self, bundle: Path) -> None:
        self.bundle = bundle

    @hookimpl
    def register_routes(self) -> Sequence[web.RouteDef]:
        @public
        async def page(request: web.Request) -> web.Response:
            # the page configuration a JupyterLab page carries, without the token: the page's code passes it
            config = json.dumps({"baseUrl": request.config_dict[SERVER].base_url, "terminalsAvailable": True})
            html = (
                '<!doctype html><html><head><meta charset="utf-8"><link rel="icon" href="data:,">'
                f'<script id="jupyter-config-data" type="application/json">{config}</script>'
                '<script src="services.js"></script></head><body></body></html>'
            )
            return web.Response(text=html, content_type="text/html")

        @public
        async def script(request: web.Request) -> web.FileResponse:
            return web.FileResponse(self.bundle, headers={"Content-Type": "text/javascript"})

        return [
            web.get("/extension/api/servicespage/index.html", page),
            web.get("/extension/api/servicespage/services.js", script),
        ]


@pytest.fixture
def services_page(services_bundle: Path, jcs_register_plugin) -> None:
    jcs_register_plugin(ServicesPage(services_bundle), "servicespage")


@pytest.mark.usefixtures("services_page")
async def test_token_page_opens_kernel_and_terminal_websockets_with_the_cookie(jcs_server, browser) -> None:
    context = await browser.new_context()
    page = await context.new_page()
    sockets: list[str] = []
    refused: list[str] = []
    page.on("websocket", lambda ws: sockets.append(ws.url))
    page.on("response", lambda r: refused.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    await page.goto(jcs_server.url + "extension/api/servicespage/index.html", timeout=TIMEOUT_MS)
    await page.wait_for_function("() => window.jupyterlabServices !== undefined", timeout=TIMEOUT_MS)
    assert not await context.cookies(), "the page itself is public: no cookie yet"

    result = await page.evaluate(SCRIPT, {"token": jcs_server.token})

    assert result == {"appendToken": False, "kernel": "42", "terminal": "from-the-page-42"}
    assert any("/api/kernels/" in url for url in sockets) and any("/terminals/websocket/" in url for url in sockets)
    assert not [url for url in sockets if "token=" in url], sockets  # cookie-authenticated, not by a query token
    assert jcs_server.app.cookie_name in {c["name"] for c in await context.cookies()}
    assert not refused, refused
    await context.close()
