"""Every error is JSON ``{"message", "reason"}`` with the right status; no traceback unless debug."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import pytest
from aiohttp import web

from jupyter_core_server import NotFound, hookimpl
from jupyter_core_server.errors import read_json


class Faulty:
    """Routes that fail in each way a handler can."""

    @hookimpl
    def register_routes(self) -> Sequence[web.RouteDef]:
        async def echo(request: web.Request) -> web.Response:
            return web.json_response({"got": await read_json(request)})

        async def crash(request: web.Request) -> web.Response:
            raise RuntimeError("secret internal detail")

        async def missing(request: web.Request) -> web.Response:
            raise NotFound("No widget with ID 42", "no_such_widget")

        async def teapot(request: web.Request) -> web.Response:
            raise web.HTTPConflict(text="Widget is locked")

        return [
            web.post("/extension/api/faulty/echo", echo),
            web.get("/extension/api/faulty/crash", crash),
            web.get("/extension/api/faulty/missing", missing),
            web.get("/extension/api/faulty/conflict", teapot),
        ]


@pytest.fixture
def faulty(jcs_register_plugin) -> None:
    jcs_register_plugin(Faulty(), "faulty")


async def error_body(response) -> dict:
    assert response.content_type == "application/json"
    body = await response.json()
    assert {"message", "reason"} <= set(body)
    assert isinstance(body["message"], str) and body["message"]
    return body


@pytest.mark.usefixtures("faulty")
@pytest.mark.parametrize("payload", [b"{not json", b"\xff\xfe", b"[1, 2", b"   "])
async def test_malformed_json_body_is_400(jcs_client, payload: bytes) -> None:
    headers = {"Content-Type": "application/json"}
    async with jcs_client.post("extension/api/faulty/echo", data=payload, headers=headers) as response:
        assert response.status == 400
        body = await error_body(response)
    assert body["reason"] in ("invalid_json", "missing_body")


@pytest.mark.usefixtures("faulty")
async def test_valid_json_body_is_accepted(jcs_client) -> None:
    async with jcs_client.post("extension/api/faulty/echo", json={"a": [1]}) as response:
        assert response.status == 200
        assert await response.json() == {"got": {"a": [1]}}


@pytest.mark.parametrize("path", ["nope", "api/nope", "extension/api/nobody/here", "static/nobody/x.js"])
async def test_unknown_route_is_404_json(jcs_client, path: str) -> None:
    async with jcs_client.get(path) as response:
        assert response.status == 404
        await error_body(response)


@pytest.mark.usefixtures("faulty")
async def test_api_errors_keep_message_and_reason(jcs_client) -> None:
    async with jcs_client.get("extension/api/faulty/missing") as response:
        assert response.status == 404
        assert await error_body(response) == {"message": "No widget with ID 42", "reason": "no_such_widget"}
    async with jcs_client.get("extension/api/faulty/conflict") as response:
        assert response.status == 409
        assert (await error_body(response))["message"] == "Widget is locked"


@pytest.mark.usefixtures("faulty")
async def test_unexpected_error_is_500_without_traceback(jcs_client, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR, logger="jupyter_core_server"):
        async with jcs_client.get("extension/api/faulty/crash") as response:
            assert response.status == 500
            text = await response.text()
            body = await error_body(response)
    assert body == {"message": "Unhandled error", "reason": "internal_error"}
    assert "secret internal detail" not in text and "Traceback" not in text
    # the traceback goes to the log instead
    assert any(r.exc_info and "secret internal detail" in str(r.exc_info[1]) for r in caplog.records)


@pytest.mark.usefixtures("faulty")
@pytest.mark.parametrize("jcs_config", [{"CoreServerApp": {"debug": True}}], indirect=True)
async def test_unexpected_error_has_traceback_in_debug(jcs_client) -> None:
    async with jcs_client.get("extension/api/faulty/crash") as response:
        assert response.status == 500
        body = await error_body(response)
    assert body["reason"] == "internal_error"
    assert "Traceback" in body["traceback"] and "secret internal detail" in body["traceback"]


@pytest.mark.parametrize(("method", "path"), [("DELETE", "api/status"), ("PUT", "api/me"), ("GET", "api/shutdown")])
async def test_method_not_allowed_is_405_json(jcs_client, method: str, path: str) -> None:
    async with jcs_client.request(method, path) as response:
        assert response.status == 405
        await error_body(response)
        assert "Allow" in response.headers


async def test_unauthenticated_error_is_json(jcs_server) -> None:
    import aiohttp

    async with aiohttp.ClientSession() as session, session.get(jcs_server.url + "api/status") as response:
        assert response.status == 403
        assert (await error_body(response))["reason"] == "unauthenticated"


@pytest.mark.parametrize("jcs_config", [{"CoreServerApp": {"max_body_size": 1024}}], indirect=True)
@pytest.mark.usefixtures("faulty")
async def test_too_large_body_is_413_json(jcs_client) -> None:
    async with jcs_client.post("extension/api/faulty/echo", data=b"[" + b"1," * 2000 + b"1]") as response:
        assert response.status == 413
        await error_body(response)
