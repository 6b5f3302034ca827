"""The plugin in-process and on the command line: inert without a hub, configured from the hub's variables.

Servers here are given a hub environment whose API address nobody listens on: what is
tested is everything the server decides before it needs the hub's answer. The answers
of a real hub are tested in ``test_real_hub.py``.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import aiohttp
import pytest
import pytest_asyncio
from hubtools import free_port
from importlib_metadata import entry_points
from jupyter_core_server.openapi import unmatched_routes
from jupyter_core_server.plugins import ENTRY_POINT_GROUP, PluginManager
from jupyter_core_server.pytest_plugin import CliServer, ServerClient, ServerHandle, run_server, server_command
from openapi_spec_validator import validate
from traitlets.config import Config

import jupyter_core_server_hub
from jupyter_core_server_hub import plugin

PREFIX = "/user/carol/"


def test_entry_point() -> None:
    (ep,) = [ep for ep in entry_points(group=ENTRY_POINT_GROUP) if ep.name == "hub"]
    assert ep.value == "jupyter_core_server_hub.plugin"
    assert ep.dist is not None and ep.dist.name == "jupyter-core-server-hub"
    assert ep.dist.version == jupyter_core_server_hub.__version__
    assert ep.load() is plugin


def hub_variables(port: int, root: Path | None = None, **extra: str) -> dict[str, str]:
    """What a spawner sets for user carol, with a hub API on a port where nothing listens."""
    hub = f"http://127.0.0.1:{free_port()}/hub/api"
    env = {
        "JUPYTERHUB_SERVICE_URL": f"http://127.0.0.1:{port}{PREFIX}",
        "JUPYTERHUB_SERVICE_PREFIX": PREFIX,
        "JUPYTERHUB_API_TOKEN": "0123456789abcdef0123456789abcdef",
        "JUPYTERHUB_CLIENT_ID": "jupyterhub-user-carol",
        "JUPYTERHUB_API_URL": hub,
        "JUPYTERHUB_ACTIVITY_URL": f"{hub}/users/carol/activity",
        "JUPYTERHUB_OAUTH_CALLBACK_URL": f"{PREFIX}oauth_callback",
        "JUPYTERHUB_OAUTH_ACCESS_SCOPES": json.dumps(["access:servers!server=carol/", "access:servers!user=carol"]),
        "JUPYTERHUB_USER": "carol",
        "JUPYTERHUB_SERVER_NAME": "",
        "JUPYTERHUB_BASE_URL": "/",
        **extra,
    }
    if root is not None:
        env["JUPYTERHUB_ROOT_DIR"] = str(root)
    return env


@pytest.fixture
def hub_config(jcs_config: Config) -> Config:
    """The test server's config without the address and root it sets, so the hub's variables decide."""
    for name in ("port", "root_dir"):
        del jcs_config.CoreServerApp[name]
    return jcs_config


@pytest_asyncio.fixture
async def hub_server(
    hub_env_clean: None,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    hub_config: Config,
    jcs_plugin_manager: PluginManager,
) -> AsyncIterator[ServerHandle]:
    """An in-process server started in carol's hub environment."""
    root = tmp_path / "carol-home"
    root.mkdir()
    for name, value in hub_variables(free_port(), root).items():
        monkeypatch.setenv(name, value)
    async with run_server(hub_config, jcs_plugin_manager) as server:
        yield server


# -- without a hub --------------------------------------------------------------------------


async def test_inert_without_the_hub_environment(hub_env_clean: None, jcs_client: ServerClient) -> None:
    async with jcs_client.get("api/status") as response:
        assert response.status == 200  # the core's own token, as without the plugin
        assert "X-JupyterHub-Version" not in response.headers
    async with jcs_client.get("oauth_callback", allow_redirects=False) as response:
        assert response.status == 404
    async with jcs_client.get("api/plugins") as response:
        record = {r["name"]: r for r in await response.json()}["hub"]
    assert record["state"] == "enabled" and record["routes"] == []
    assert jcs_client.server.app.base_url == "/"


IMPORTED = textwrap.dedent(
    """
    import sys
    from jupyter_core_server.app import CoreServerApp
    app = CoreServerApp()
    app.initialize([])
    app.make_app()
    print(any(name.startswith("jupyter_core_server_hub.") for name in sys.modules))
    """
)


def test_disabled_plugin_is_not_imported(jcs_cli_env: dict[str, str]) -> None:
    env = {**jcs_cli_env, **hub_variables(free_port())}

    def imported() -> bool:
        out = subprocess.run(
            [sys.executable, "-c", IMPORTED], env=env, capture_output=True, text=True, timeout=60, check=False
        )
        assert out.returncode == 0, out.stderr
        return out.stdout.strip() == "True"

    assert imported(), "the check must see the plugin when it is enabled"
    done = subprocess.run(
        [*server_command(), "plugin", "disable", "hub", "--user"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert not imported()


def test_hub_subcommand_refuses_to_start_without_the_hub(jcs_cli_env: dict[str, str]) -> None:
    done = subprocess.run(
        [*server_command(), "hub", "--port", "0"],
        env=jcs_cli_env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode != 0
    assert "JUPYTERHUB_API_TOKEN" in done.stderr and "Traceback" not in done.stderr


def test_mode_off_ignores_the_hub_environment(jcs_cli_env: dict[str, str], jcs_cli_server: CliServer) -> None:
    server = jcs_cli_server("--JupyterHubSingleUser.mode=off", env=hub_variables(free_port()))
    assert not server.url.endswith(PREFIX)
    status, _ = server.get("api/status", token=server.token)
    assert status == 200


# -- in a hub's environment -----------------------------------------------------------------


async def test_hook_configure_server(hub_server: ServerHandle, tmp_path: Path) -> None:
    app = hub_server.app
    assert app.base_url == PREFIX
    assert hub_server.url == f"http://127.0.0.1:{app.port}{PREFIX}"
    assert app.root_dir == str((tmp_path / "carol-home").resolve())
    assert app.port_retries == 0 and app.allow_remote_access


async def test_explicit_settings_win_over_the_hub(
    hub_env_clean: None,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    jcs_config: Config,
    jcs_plugin_manager: PluginManager,
) -> None:
    for name, value in hub_variables(free_port(), tmp_path).items():
        monkeypatch.setenv(name, value)
    async with run_server(jcs_config, jcs_plugin_manager) as server:  # jcs_config sets port 0 and a root
        assert server.app.root_dir == str(Path(jcs_config.CoreServerApp.root_dir).resolve())
        assert server.app.base_url == PREFIX


async def test_browser_without_login_is_sent_to_the_hub(hub_server: ServerHandle) -> None:
    async with aiohttp.ClientSession() as session:
        async with session.get(hub_server.url + "?x=1", allow_redirects=False) as response:
            assert response.status == 302
            location = urlsplit(response.headers["Location"])
            state_cookie = response.cookies["jupyterhub-user-carol-oauth-state"]
        assert location.path == "/hub/api/oauth2/authorize"
        query = {k: v[0] for k, v in parse_qs(location.query).items()}
        assert query["client_id"] == "jupyterhub-user-carol"
        assert query["redirect_uri"] == f"{PREFIX}oauth_callback"
        assert query["response_type"] == "code" and query["code_challenge_method"] == "S256"
        assert len(query["state"]) >= 20 and len(query["code_challenge"]) == 43
        assert state_cookie["httponly"] and state_cookie["path"] == PREFIX
        assert query["state"] not in state_cookie.value or "." in state_cookie.value  # signed, not bare


async def test_api_without_credentials_is_refused(hub_server: ServerHandle) -> None:
    async with aiohttp.ClientSession() as session:
        async with session.get(hub_server.url + "api/status", allow_redirects=False) as response:
            assert response.status == 403
            assert (await response.json())["reason"] == "unauthenticated"
            assert response.headers["X-JupyterHub-Version"]
        async with session.get(hub_server.url + "api") as response:
            assert response.status == 200  # the hub's readiness probe
        # the server's own token is not a hub credential
        headers = {"Authorization": f"token {hub_server.token}"}
        async with session.get(hub_server.url + "api/status", headers=headers) as response:
            assert response.status == 503  # it is asked about at the hub, which does not answer here
            assert (await response.json())["reason"] == "hub_unavailable"


async def test_oauth_callback_checks_the_state(hub_server: ServerHandle) -> None:
    callback = hub_server.url + "oauth_callback"
    jar = aiohttp.CookieJar(unsafe=True)
    async with aiohttp.ClientSession(cookie_jar=jar) as session:
        async with session.get(callback, allow_redirects=False) as response:
            assert response.status == 400 and (await response.json())["reason"] == "oauth_parameters"
        async with session.get(callback, params={"code": "c", "state": "s"}, allow_redirects=False) as response:
            assert response.status == 400 and (await response.json())["reason"] == "oauth_state"
        async with session.get(hub_server.url, allow_redirects=False) as response:
            state = parse_qs(urlsplit(response.headers["Location"]).query)["state"][0]
        async with session.get(callback, params={"code": "c", "state": state + "x"}, allow_redirects=False) as response:
            assert response.status == 400 and (await response.json())["reason"] == "oauth_state"
        async with session.get(callback, params={"error": "access_denied"}, allow_redirects=False) as response:
            assert response.status == 403 and (await response.json())["reason"] == "oauth_refused"
        # the right state reaches the code exchange, which needs the (absent) hub
        async with session.get(callback, params={"code": "c", "state": state}, allow_redirects=False) as response:
            assert response.status == 403 and (await response.json())["reason"] == "oauth_exchange"
            assert "jupyterhub-user-carol" not in response.cookies


async def test_forged_login_cookie_is_sent_to_the_hub(hub_server: ServerHandle) -> None:
    cookies = {"jupyterhub-user-carol": "eyJwIjoibG9naW4ifQ.forged"}
    async with (
        aiohttp.ClientSession(cookies=cookies) as session,
        session.get(hub_server.url, allow_redirects=False) as response,
    ):
        assert response.status == 302 and "/hub/api/oauth2/authorize" in response.headers["Location"]


async def test_logout_goes_to_the_hub(hub_server: ServerHandle) -> None:
    async with (
        aiohttp.ClientSession() as session,
        session.get(hub_server.url + "logout", allow_redirects=False) as response,
    ):
        assert response.status == 302
        assert response.headers["Location"] == "/hub/logout"
        assert response.cookies["jupyterhub-user-carol"].value == ""


async def test_spec_describes_exactly_the_routes(hub_server: ServerHandle) -> None:
    spec = hub_server.app.openapi
    validate(spec)
    assert unmatched_routes(hub_server.web_app, spec) == (set(), set())
    assert "/oauth_callback" in spec["paths"]
