"""The plugin contract: namespaced routes, collisions, failure isolation, requirements, static files."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

import aiohttp
import pytest
from aiohttp import web
from traitlets import Unicode
from traitlets.config import Application, Configurable, LoggingConfigurable

from jupyter_core_server import __version__, hookimpl, public
from jupyter_core_server.app import CoreServerApp
from jupyter_core_server.keys import SERVER
from jupyter_core_server.plugins import BUILTIN_PLUGINS, PluginManager
from jupyter_core_server.pytest_plugin import run_server
from jupyter_core_server.routing import STANDARD_PATHS, RouteConflict


async def get_json(session: aiohttp.ClientSession, url: str) -> tuple[int, Any]:
    async with session.get(url) as response:
        return response.status, await response.json()


# -- in-test plugins ----------------------------------------------------------------------------


class Hello:
    """A well-behaved third-party plugin."""

    @hookimpl
    def register_routes(self) -> Sequence[web.RouteDef]:
        async def greet(request: web.Request) -> web.Response:
            return web.json_response({"hello": request.match_info["who"]})

        @public
        async def anyone(request: web.Request) -> web.Response:
            return web.json_response({"public": True})

        return [web.get("/extension/api/hello/greet/{who}", greet), web.get("/extension/api/hello/public", anyone)]


class Rogue:
    """Claims paths outside its namespace."""

    def __init__(self, path: str) -> None:
        self.path = path

    @hookimpl
    def register_routes(self) -> Sequence[web.RouteDef]:
        async def steal(request: web.Request) -> web.Response:
            return web.json_response({"stolen": True})

        return [web.get("/extension/api/rogue/ok", steal), web.get(self.path, steal)]


class Claims:
    """Registers one given route (for collisions)."""

    def __init__(self, path: str) -> None:
        self.path = path

    @hookimpl
    def register_routes(self) -> Sequence[web.RouteDef]:
        async def handler(request: web.Request) -> web.Response:
            return web.json_response({})

        return [web.get(self.path, handler)]


class FailsToStart:
    """Its start-up raises; its routes must answer 503."""

    cleaned_up = False

    @hookimpl
    def register_routes(self) -> Sequence[web.RouteDef]:
        async def handler(request: web.Request) -> web.Response:
            return web.json_response({})

        return [web.get("/extension/api/flaky/x", handler)]

    @hookimpl
    def app_context(self) -> Callable[[web.Application], AsyncIterator[None]]:
        async def context(app: web.Application) -> AsyncIterator[None]:
            raise OSError("database unreachable")
            yield
            FailsToStart.cleaned_up = True  # pragma: no cover - must never run

        return context


class Needs:
    """Declares that it needs other plugins."""

    def __init__(self, *requires: str) -> None:
        self.requires = requires

    @hookimpl
    def register_routes(self) -> Sequence[web.RouteDef]:
        async def handler(request: web.Request) -> web.Response:
            return web.json_response({})

        return [web.get("/extension/api/needy/x", handler)]


@pytest.fixture
def lenient(jcs_plugin_manager: PluginManager) -> PluginManager:
    """Record plugin failures instead of raising them, as a real server does."""
    jcs_plugin_manager.strict = False
    return jcs_plugin_manager


# -- routes ---------------------------------------------------------------------------------------


@pytest.fixture
def hello(jcs_register_plugin) -> None:
    jcs_register_plugin(Hello(), "hello")


@pytest.mark.usefixtures("hello")
async def test_hook_register_routes(jcs_server, jcs_client) -> None:
    async with jcs_client.get("extension/api/hello/greet/ada") as response:
        assert response.status == 200
        assert await response.json() == {"hello": "ada"}
    async with aiohttp.ClientSession() as anonymous:
        async with anonymous.get(jcs_server.url + "extension/api/hello/greet/ada") as response:
            assert response.status == 403
        # @public lets anonymous clients in
        status, body = await get_json(anonymous, jcs_server.url + "extension/api/hello/public")
        assert (status, body) == (200, {"public": True})
    record = jcs_server.app.plugin_manager.records["hello"]
    assert "GET /extension/api/hello/greet/{who}" in record.routes


@pytest.mark.parametrize("jcs_config", [{"CoreServerApp": {"base_url": "/prefix/"}}], indirect=True)
@pytest.mark.usefixtures("hello")
async def test_plugin_routes_honour_base_url(jcs_server, jcs_client) -> None:
    assert jcs_server.url.endswith("/prefix/")
    async with jcs_client.get("extension/api/hello/greet/bob") as response:
        assert response.status == 200
    async with jcs_client.session.get(
        jcs_server.url.replace("/prefix/", "/") + "extension/api/hello/greet/bob"
    ) as response:
        assert response.status == 404


@pytest.mark.parametrize(
    ("path", "hint"),
    [
        ("/api/kernels/stolen", "reserved for the 'kernels' service"),
        ("/api/contents/x", "reserved for the 'contents' service"),
        ("/extension/api/hello/x", "/extension/api/rogue/"),
        ("/static/hello/x", "/extension/api/rogue/"),
        ("/elsewhere", "/extension/api/rogue/"),
        ("/extension/api/rogue{rest:.*}", "/extension/api/rogue/"),  # would also match /extension/api/rogue2/...
        ("/static/rogue{rest:.*}", "/extension/api/rogue/"),
        ("no-slash", "must start with '/'"),
    ],
)
async def test_route_outside_its_namespace_fails_only_that_plugin(
    lenient, jcs_register_plugin, jcs_config, path: str, hint: str
) -> None:
    jcs_register_plugin(Hello(), "hello")
    jcs_register_plugin(Rogue(path), "rogue")
    async with run_server(jcs_config, lenient) as server:
        record = server.app.plugin_manager.records["rogue"]
        assert record.state == "failed"
        assert hint in record.error
        assert record.routes == []  # none of its routes, not even the valid one
        headers = {"Authorization": f"token {server.token}"}
        async with aiohttp.ClientSession(headers=headers) as session:
            assert (await get_json(session, server.url + "extension/api/hello/greet/x"))[0] == 200
            assert (await get_json(session, server.url + "extension/api/rogue/ok"))[0] == 404
            status, plugins = await get_json(session, server.url + "api/plugins")
            assert status == 200 and {p["name"]: p["state"] for p in plugins}["rogue"] == "failed"


class Returns:
    """Returns something other than a list of route definitions from ``register_routes``."""

    def __init__(self, value: object) -> None:
        self.value = value

    @hookimpl
    def register_routes(self) -> object:
        return self.value


@pytest.mark.parametrize(
    "value",
    [
        pytest.param(web.static("/extension/api/odd/files", "."), id="static-def"),
        pytest.param(web.get("/extension/api/odd/x", Hello), id="single-route"),
        pytest.param(["/extension/api/odd/x"], id="strings"),
    ],
)
async def test_malformed_routes_fail_only_that_plugin(lenient, jcs_register_plugin, jcs_config, value: object) -> None:
    jcs_register_plugin(Hello(), "hello")
    jcs_register_plugin(Returns(value), "odd")
    async with run_server(jcs_config, lenient) as server:
        assert server.app.plugin_manager.records["odd"].state == "failed"
        assert server.app.plugin_manager.records["hello"].state == "enabled"


async def test_route_outside_its_namespace_is_an_error_in_strict_mode(
    jcs_register_plugin, jcs_plugin_manager, jcs_config
) -> None:
    jcs_register_plugin(Rogue("/api/status2"), "rogue")
    with pytest.raises(RuntimeError, match="rogue"):
        async with run_server(jcs_config, jcs_plugin_manager):
            pass


async def test_standard_service_may_claim_its_standard_paths(
    jcs_register_plugin, jcs_config, jcs_plugin_manager
) -> None:
    jcs_register_plugin(Claims("/api/contents/{path:.*}"), "contents")
    async with run_server(jcs_config, jcs_plugin_manager) as server:
        assert server.app.plugin_manager.records["contents"].state == "enabled"


async def test_two_plugins_claiming_one_route_stop_the_server_naming_both(
    jcs_register_plugin, jcs_config, jcs_plugin_manager, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Only services that share a standard path can collide: say "files" were split out of contents.
    monkeypatch.setitem(STANDARD_PATHS, "files", ("/files",))
    jcs_register_plugin(Claims("/files/{path:.*}"), "contents")
    jcs_register_plugin(Claims("/files/{path:.*}"), "files")
    with pytest.raises(
        RouteConflict,
        match=r"GET /files/\{path:\.\*\} is claimed by both plugin '(contents|files)' and plugin '(files|contents)'",
    ):
        async with run_server(jcs_config, jcs_plugin_manager):
            pass  # pragma: no cover - must not start


# -- start-up and clean-up --------------------------------------------------------------------------


async def test_plugin_whose_start_up_fails_is_isolated(lenient, jcs_register_plugin, jcs_config) -> None:
    jcs_register_plugin(Hello(), "hello")
    jcs_register_plugin(FailsToStart(), "flaky")
    async with run_server(jcs_config, lenient) as server:
        record = server.app.plugin_manager.records["flaky"]
        assert record.state == "failed"
        assert "OSError: database unreachable" in record.error
        headers = {"Authorization": f"token {server.token}"}
        async with aiohttp.ClientSession(headers=headers) as session:
            status, body = await get_json(session, server.url + "extension/api/flaky/x")
            assert status == 503
            assert body["reason"] == "plugin_failed" and "flaky" in body["message"]
            assert (await get_json(session, server.url + "extension/api/hello/greet/x"))[0] == 200
            assert (await get_json(session, server.url + "api/status"))[0] == 200
            status, plugins = await get_json(session, server.url + "api/plugins")
            flaky = next(p for p in plugins if p["name"] == "flaky")
            assert flaky["state"] == "failed" and "database unreachable" in flaky["error"]
        async with aiohttp.ClientSession() as anonymous:
            status, body = await get_json(anonymous, server.url + "api/ready")
            assert (status, body) == (503, {"ready": False, "failed": ["flaky"], "pool_filled": True})
            assert (await get_json(anonymous, server.url + "api/health"))[0] == 200
    assert FailsToStart.cleaned_up is False


async def test_plugin_whose_start_up_fails_stops_a_strict_server(
    jcs_register_plugin, jcs_plugin_manager, jcs_config
) -> None:
    jcs_register_plugin(FailsToStart(), "flaky")
    with pytest.raises(RuntimeError, match="flaky.*database unreachable"):
        async with run_server(jcs_config, jcs_plugin_manager):
            pass  # pragma: no cover - must not start


class Lifecycle:
    """Publishes state at start-up and records its clean-up."""

    KEY = web.AppKey("test_plugins.lifecycle", list)

    def __init__(self) -> None:
        self.events: list[str] = []

    @hookimpl
    def app_context(self, server: CoreServerApp) -> Callable[[web.Application], AsyncIterator[None]]:
        async def context(app: web.Application) -> AsyncIterator[None]:
            self.events.append(f"start {server.root_dir == app[SERVER].root_dir}")
            app[self.KEY] = self.events
            yield
            self.events.append("stop")

        return context

    @hookimpl
    def register_routes(self) -> Sequence[web.RouteDef]:
        async def events(request: web.Request) -> web.Response:
            return web.json_response(request.config_dict[self.KEY])

        return [web.get("/extension/api/life/events", events)]


class BreaksOnCleanup:
    @hookimpl
    def app_context(self) -> Callable[[web.Application], AsyncIterator[None]]:
        async def context(app: web.Application) -> AsyncIterator[None]:
            yield
            raise RuntimeError("cannot clean up")

        return context


async def test_hook_app_context(jcs_register_plugin, jcs_plugin_manager, jcs_config) -> None:
    life = Lifecycle()
    jcs_register_plugin(life, "life")
    jcs_register_plugin(BreaksOnCleanup(), "messy")
    async with run_server(jcs_config, jcs_plugin_manager) as server:
        assert life.events == ["start True"]
        assert isinstance(server.app.plugin_manager.records["life"].setup_ms, float)
        headers = {"Authorization": f"token {server.token}"}
        async with aiohttp.ClientSession(headers=headers) as session:
            assert await get_json(session, server.url + "extension/api/life/events") == (200, ["start True"])
    # clean-up ran although another plugin's clean-up raised
    assert life.events == ["start True", "stop"]


# -- requirements -----------------------------------------------------------------------------------


async def test_missing_requirement_is_a_clear_failure(lenient, jcs_register_plugin, jcs_config) -> None:
    jcs_register_plugin(Needs("contents", "kernels"), "needy")
    async with run_server(jcs_config, lenient) as server:
        record = server.app.plugin_manager.records["needy"]
        assert record.state == "failed"
        assert record.error == "requires plugin(s) contents, which are not installed or not enabled"
        assert record.requires == ("contents", "kernels")
        headers = {"Authorization": f"token {server.token}"}
        async with aiohttp.ClientSession(headers=headers) as session:
            assert (await get_json(session, server.url + "extension/api/needy/x"))[0] == 404


async def test_requirement_on_a_disabled_plugin_fails_too(
    lenient, jcs_register_plugin, jcs_config, jcs_isolated_paths
) -> None:
    lenient.records["sessions"].enabled = False
    jcs_register_plugin(Needs("sessions"), "needy")
    async with run_server(jcs_config, lenient) as server:
        assert "requires plugin(s) sessions" in server.app.plugin_manager.records["needy"].error


async def test_met_requirement_starts_the_plugin(jcs_register_plugin, jcs_plugin_manager, jcs_config) -> None:
    jcs_register_plugin(Needs("kernels"), "needy")
    async with run_server(jcs_config, jcs_plugin_manager) as server:
        assert server.app.plugin_manager.records["needy"].state == "enabled"


# -- static files -------------------------------------------------------------------------------------


class Assets:
    def __init__(self, directory: Path) -> None:
        self.directory = directory

    @hookimpl
    def register_static(self) -> str:
        return str(self.directory)


async def test_hook_register_static(jcs_register_plugin, jcs_plugin_manager, jcs_config, tmp_path: Path) -> None:
    (tmp_path / "assets" / "img").mkdir(parents=True)
    (tmp_path / "assets" / "app.js").write_text("console.log('hi')\n")
    (tmp_path / "assets" / "img" / "dot.svg").write_text("<svg/>")
    (tmp_path / "secret.txt").write_text("outside")
    jcs_register_plugin(Assets(tmp_path / "assets"), "assets")
    async with run_server(jcs_config, jcs_plugin_manager) as server:
        base = server.url + "static/assets/"
        async with aiohttp.ClientSession(headers={"Authorization": f"token {server.token}"}) as session:
            async with session.get(base + "app.js") as response:
                assert response.status == 200
                assert await response.text() == "console.log('hi')\n"
            async with session.get(base + "img/dot.svg") as response:
                assert response.status == 200
            async with session.get(base + "missing.js") as response:
                assert response.status == 404
            async with session.get(base + "..%2Fsecret.txt") as response:
                assert response.status in (403, 404)
                assert "outside" not in await response.text()
        async with aiohttp.ClientSession() as anonymous, anonymous.get(base + "app.js") as response:
            assert response.status == 403


async def test_static_directory_that_does_not_exist_fails_the_plugin(
    lenient, jcs_register_plugin, jcs_config, tmp_path: Path
) -> None:
    jcs_register_plugin(Assets(tmp_path / "nowhere"), "assets")
    async with run_server(jcs_config, lenient) as server:
        record = server.app.plugin_manager.records["assets"]
        assert record.state == "failed" and "does not exist" in record.error


# -- configurables and subcommands -----------------------------------------------------------------------


class Greeter(LoggingConfigurable):
    greeting = Unicode("hello", help="What to say.").tag(config=True)


class Greeting:
    @hookimpl
    def register_configurables(self) -> Sequence[type[Configurable]]:
        return [Greeter]

    @hookimpl
    def register_routes(self, server: CoreServerApp) -> Sequence[web.RouteDef]:
        greeter = Greeter(config=server.config)

        async def greet(request: web.Request) -> web.Response:
            return web.json_response({"greeting": greeter.greeting})

        return [web.get("/extension/api/greeting/", greet)]


@pytest.fixture
def greeting(jcs_register_plugin) -> None:
    jcs_register_plugin(Greeting(), "greeting")


@pytest.mark.parametrize("jcs_config", [{"Greeter": {"greeting": "bonjour", "greting": "typo"}}], indirect=True)
@pytest.mark.usefixtures("greeting")
async def test_hook_register_configurables(
    jcs_server, jcs_client, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    assert Greeter in jcs_server.app.classes
    jcs_server.app.print_help(classes=True)  # --help-all
    assert "--Greeter.greeting=<Unicode>" in capsys.readouterr().out
    async with jcs_client.get("extension/api/greeting/") as response:
        assert await response.json() == {"greeting": "bonjour"}
    warnings = [r.getMessage() for r in caplog.get_records("setup") if r.name == "jupyter_core_server"]
    assert "Config option Greeter.greting is not known; did you mean Greeter.greeting?" in warnings


class GreetApp(Application):
    name = "greet"
    description = "Print a greeting."
    who = Unicode("world", help="Whom to greet.").tag(config=True)
    aliases: ClassVar[dict[str, str]] = {"who": "GreetApp.who"}

    def start(self) -> None:
        print(f"hello {self.who} {' '.join(self.extra_args)}".strip())


class Subcommands:
    @hookimpl
    def register_subcommands(self) -> Mapping[str, tuple[type[Application], str]]:
        return {"greet": (GreetApp, "Print a greeting."), "list": (GreetApp, "Tries to take a core subcommand.")}


def test_hook_register_subcommands(
    jcs_plugin_manager: PluginManager, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    jcs_plugin_manager.register_object(Subcommands(), "subcommands")
    app = CoreServerApp()
    app.initialize(["greet", "--who", "ada", "extra"], plugin_manager=jcs_plugin_manager)
    assert isinstance(app.subapp, GreetApp)
    app.start()
    assert capsys.readouterr().out.strip() == "hello ada extra"
    assert app.subcommands["list"][0] == "jupyter_core_server.cli.ListApp"
    assert any("'list' is already taken" in r.getMessage() for r in caplog.records)


def test_help_lists_plugin_subcommands(jcs_plugin_manager: PluginManager, capsys: pytest.CaptureFixture[str]) -> None:
    jcs_plugin_manager.register_object(Subcommands(), "subcommands")
    app = CoreServerApp()
    app.plugin_manager = jcs_plugin_manager
    app.print_help()
    assert "greet\n    Print a greeting." in capsys.readouterr().out


# -- reporting ------------------------------------------------------------------------------------------


@pytest.mark.usefixtures("hello")
async def test_api_plugins_lists_every_plugin(jcs_client) -> None:
    async with jcs_client.get("api/plugins") as response:
        assert response.status == 200
        plugins = {p["name"]: p for p in await response.json()}
    assert set(BUILTIN_PLUGINS) | {"hello"} <= set(plugins)
    for name in BUILTIN_PLUGINS:
        record = plugins[name]
        assert record["distribution"] == "jupyter-core-server"
        assert record["version"] == __version__
        assert record["state"] == "enabled" and record["level"] == "default" and record["builtin"] is True
        assert isinstance(record["import_ms"], float) and record["import_ms"] >= 0
    assert plugins["api"]["routes"] and "GET /api/plugins" in plugins["api"]["routes"]
    assert plugins["hello"]["distribution"] == "(in-process)" and plugins["hello"]["state"] == "enabled"
    assert json.dumps(plugins)  # plain JSON all the way down


@pytest.mark.usefixtures("hello")
async def test_landing_page_lists_plugins_and_api_links(jcs_client) -> None:
    async with jcs_client.get("") as response:
        assert response.status == 200 and response.content_type == "text/html"
        page = await response.text()
    assert "<td>hello</td><td>(in-process)</td>" in page
    assert '<a href="/api/spec.yaml">' in page and '<a href="/api/status">' in page
