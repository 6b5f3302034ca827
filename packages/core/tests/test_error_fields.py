"""Every error, with its extra fields and headers, is rendered by the one error middleware."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import pytest
from aiohttp import web

from jupyter_core_server import ApiError, hookimpl

REPO = Path(__file__).resolve().parents[3]


class Conflicted:
    """Routes raising an error with extra fields, and an aiohttp error with headers."""

    @hookimpl
    def register_routes(self) -> Sequence[web.RouteDef]:
        async def conflict(request: web.Request) -> web.Response:
            raise ApiError("It changed.", "file_changed", status=409, extra={"hash": "abc", "last_modified": None})

        async def busy(request: web.Request) -> web.Response:
            raise web.HTTPServiceUnavailable(headers={"Retry-After": "7"}, text="Busy")

        return [web.put("/extension/api/conflicted/x", conflict), web.get("/extension/api/conflicted/busy", busy)]


@pytest.fixture
def conflicted(jcs_register_plugin) -> None:
    jcs_register_plugin(Conflicted(), "conflicted")


@pytest.mark.usefixtures("conflicted")
async def test_extra_fields_follow_message_and_reason(jcs_client) -> None:
    async with jcs_client.put("extension/api/conflicted/x") as response:
        assert response.status == 409
        assert await response.json() == {
            "message": "It changed.",
            "reason": "file_changed",
            "hash": "abc",
            "last_modified": None,
        }


def test_extra_fields_cannot_replace_message_or_reason() -> None:
    with pytest.raises(ValueError, match="reason"):
        ApiError("x", "y", extra={"reason": "other"})
    assert ApiError("x").extra == {}


@pytest.mark.usefixtures("conflicted")
@pytest.mark.parametrize("jcs_config", [{"CoreServerApp": {"allow_origin": "https://app.example"}}], indirect=True)
async def test_errors_raised_by_handlers_keep_cors_and_their_headers(jcs_client) -> None:
    origin = {"Origin": "https://app.example"}
    async with jcs_client.put("extension/api/conflicted/x", headers=origin) as response:
        assert response.status == 409
        assert response.headers["Access-Control-Allow-Origin"] == "https://app.example"
    async with jcs_client.get("extension/api/conflicted/busy", headers=origin) as response:
        assert response.status == 503
        assert response.headers["Retry-After"] == "7"
        assert response.headers["Access-Control-Allow-Origin"] == "https://app.example"
        assert (await response.json())["message"] == "Busy"
    async with jcs_client.request("PATCH", "api/status", headers=origin) as response:
        assert response.status == 405 and "GET" in response.headers["Allow"]


def test_errors_are_rendered_only_by_the_error_middleware() -> None:
    """No module but ``errors.py`` builds an error response; everything else raises."""
    calls = re.compile(r"\bjson_error\(")
    offenders = [
        str(path.relative_to(REPO))
        for path in sorted(REPO.glob("packages/*/src/**/*.py"))
        if path.name != "errors.py" and calls.search(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []
    from jupyter_core_server import errors

    assert not hasattr(errors, "error_middleware")  # only make_error_middleware(debug), which the app uses
