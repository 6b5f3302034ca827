"""The served OpenAPI document is valid 3.1 and describes exactly the routes the server has."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pytest
import yaml
from aiohttp import web
from openapi_spec_validator import validate
from openapi_spec_validator.validation.exceptions import OpenAPIValidationError

from jupyter_core_server import hookimpl
from jupyter_core_server.app import CoreServerApp
from jupyter_core_server.openapi import SpecConflict, build_spec, openapi_path, unmatched_routes
from jupyter_core_server.pytest_plugin import run_server
from jupyter_core_server.serve import run


async def served_spec(jcs_client) -> dict[str, Any]:
    async with jcs_client.get("api/spec.json") as response:
        assert response.status == 200
        assert response.content_type == "application/json"
        return await response.json()


async def test_served_spec_is_valid_openapi_3_1(jcs_client) -> None:
    spec = await served_spec(jcs_client)
    assert spec["openapi"].startswith("3.1")
    validate(spec)  # raises on any error, with the JSON path of the problem


async def test_yaml_and_json_are_the_same_document(jcs_client) -> None:
    spec = await served_spec(jcs_client)
    async with jcs_client.get("api/spec.yaml") as response:
        assert response.status == 200
        assert response.content_type == "application/yaml"
        assert yaml.safe_load(await response.text()) == spec


async def test_spec_matches_the_router_exactly(jcs_server, jcs_client) -> None:
    spec = await served_spec(jcs_client)
    assert unmatched_routes(jcs_server.web_app, spec) == (set(), set())
    assert "GET /api/status" in {f"{m.upper()} {p}" for p, item in spec["paths"].items() for m in item}


async def test_unmatched_routes_sees_both_directions(jcs_server, jcs_client) -> None:
    spec = await served_spec(jcs_client)
    del spec["paths"]["/api/status"]
    spec["paths"]["/api/ghost"] = {"get": {"responses": {"200": {"description": "never"}}}}
    assert unmatched_routes(jcs_server.web_app, spec) == ({"GET /api/status"}, {"GET /api/ghost"})


@pytest.mark.parametrize("jcs_config", [{"CoreServerApp": {"base_url": "/lab/user/"}}], indirect=True)
async def test_spec_names_the_base_url(jcs_server, jcs_client) -> None:
    spec = await served_spec(jcs_client)
    assert spec["servers"] == [{"url": "/lab/user/"}]
    assert unmatched_routes(jcs_server.web_app, spec) == (set(), set())


class Widgets:
    """A plugin with a route, its OpenAPI fragment and its own component."""

    @hookimpl
    def register_routes(self) -> Sequence[web.RouteDef]:
        async def widget(request: web.Request) -> web.Response:
            return web.json_response({"id": request.match_info["widget_id"]})

        return [web.get(r"/extension/api/widgets/{widget_id:\d+}", widget)]

    @hookimpl
    def openapi_spec(self) -> Mapping[str, Any]:
        return {
            "paths": {
                "/extension/api/widgets/{widget_id}": {
                    "get": {
                        "operationId": "getWidget",
                        "tags": ["widgets"],
                        "summary": "Get a widget",
                        "parameters": [
                            {"name": "widget_id", "in": "path", "required": True, "schema": {"type": "integer"}}
                        ],
                        "responses": {
                            "200": {
                                "description": "The widget.",
                                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Widget"}}},
                            },
                            "403": {"$ref": "#/components/responses/Forbidden"},
                        },
                    }
                }
            },
            "components": {"schemas": {"Widget": {"type": "object", "properties": {"id": {"type": "string"}}}}},
        }


@pytest.fixture
def widgets(jcs_register_plugin) -> None:
    jcs_register_plugin(Widgets(), "widgets")


@pytest.mark.usefixtures("widgets")
async def test_hook_openapi_spec(jcs_server, jcs_client) -> None:
    spec = await served_spec(jcs_client)
    validate(spec)
    assert "/extension/api/widgets/{widget_id}" in spec["paths"]
    assert "Widget" in spec["components"]["schemas"]
    assert unmatched_routes(jcs_server.web_app, spec) == (set(), set())
    async with jcs_client.get("extension/api/widgets/7") as response:
        assert await response.json() == {"id": "7"}


class Undocumented:
    @hookimpl
    def register_routes(self) -> Sequence[web.RouteDef]:
        async def hidden(request: web.Request) -> web.Response:
            return web.json_response({})

        return [web.get("/extension/api/undocumented/x", hidden)]


@pytest.fixture
def undocumented(jcs_register_plugin) -> None:
    jcs_register_plugin(Undocumented(), "undocumented")


@pytest.mark.usefixtures("undocumented")
async def test_undocumented_plugin_route_is_reported(jcs_server, jcs_client) -> None:
    spec = await served_spec(jcs_client)
    assert unmatched_routes(jcs_server.web_app, spec) == ({"GET /extension/api/undocumented/x"}, set())


def test_two_plugins_describing_one_operation_is_an_error() -> None:
    fragment = {"paths": {"/x": {"get": {"responses": {"200": {"description": "x"}}}}}}
    with pytest.raises(ValueError, match="GET /x is described by both plugin .a. and plugin .b."):
        build_spec("/", [("a", fragment), ("b", fragment)])


def test_conflicting_components_are_an_error() -> None:
    one = {"components": {"schemas": {"Thing": {"type": "string"}}}}
    other = {"components": {"schemas": {"Thing": {"type": "integer"}}}}
    build_spec("/", [("a", one), ("b", one)])  # identical definitions may be shared
    with pytest.raises(ValueError, match="components.schemas.Thing is defined differently by plugin .b."):
        build_spec("/", [("a", one), ("b", other)])


def test_broken_spec_is_caught_by_the_validator() -> None:
    spec = build_spec("/", [("a", {"paths": {"/x": {"get": {"responses": {"200": {}}}}}})])
    with pytest.raises(OpenAPIValidationError):
        validate(spec)


@pytest.mark.parametrize(
    ("aiohttp_path", "expected"),
    [
        ("/api/kernels/{kernel_id}", "/api/kernels/{kernel_id}"),
        (r"/api/kernels/{kernel_id:[\w-]+}/channels", "/api/kernels/{kernel_id}/channels"),
        (r"/x/{n:\d{1,3}}", "/x/{n}"),
        ("/api/contents{path:.*}", "/api/contents{path}"),
    ],
)
def test_openapi_path(aiohttp_path: str, expected: str) -> None:
    assert openapi_path(aiohttp_path) == expected


class Assets:
    def __init__(self, directory: str) -> None:
        self.directory = directory

    @hookimpl
    def register_static(self) -> str:
        return self.directory


async def test_static_files_are_described(jcs_register_plugin, jcs_plugin_manager, jcs_config, tmp_path) -> None:
    jcs_register_plugin(Assets(str(tmp_path)), "assets")
    async with run_server(jcs_config, jcs_plugin_manager) as server:
        validate(server.app.openapi)
        assert "/static/assets/{filename}" in server.app.openapi["paths"]
        assert unmatched_routes(server.web_app, server.app.openapi) == (set(), set())


class Describes:
    """Describes ``GET /api/status`` again, as a careless plugin might."""

    @hookimpl
    def openapi_spec(self) -> Mapping[str, Any]:
        return {"paths": {"/api/status": {"get": {"responses": {"200": {"description": "mine"}}}}}}


async def test_a_conflicting_description_stops_the_start_up(
    jcs_register_plugin, jcs_config, jcs_plugin_manager
) -> None:
    jcs_register_plugin(Describes(), "describes")
    with pytest.raises(SpecConflict, match=r"GET /api/status is described by both plugin 'api' and plugin 'describes'"):
        async with run_server(jcs_config, jcs_plugin_manager):
            pass  # pragma: no cover - must not start


def test_the_command_line_reports_a_conflict_in_one_line(
    jcs_register_plugin, jcs_config, jcs_plugin_manager, capsys: pytest.CaptureFixture[str]
) -> None:
    jcs_register_plugin(Describes(), "describes")
    server = CoreServerApp(config=jcs_config)
    jcs_plugin_manager.load_enabled()
    server.initialize([], plugin_manager=jcs_plugin_manager)
    with pytest.raises(SystemExit) as stopped:
        run(server)
    assert stopped.value.code == 1
    assert capsys.readouterr().err.splitlines() == [
        "jupyter-core-server: cannot start: GET /api/status is described by both plugin 'api' and plugin 'describes'"
    ]


class Configures:
    @hookimpl
    def configure_server(self, server: CoreServerApp) -> None:
        server.base_url = "/configured/"


def test_make_app_alone_runs_configure_server(jcs_register_plugin, jcs_config, jcs_plugin_manager) -> None:
    jcs_register_plugin(Configures(), "configures")
    server = CoreServerApp(config=jcs_config)
    jcs_plugin_manager.load_enabled()
    server.initialize([], plugin_manager=jcs_plugin_manager)
    app = server.make_app()
    assert server.base_url == "/configured/"
    assert "/configured/api/status" in {resource.canonical for resource in app.router.resources()}
