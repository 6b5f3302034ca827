"""Slow and oversized clients: half-open connections are closed, huge bodies refused up front.

The servers here use a short ``request_header_timeout`` so that the tests wait about a
second, not the production default.
"""

from __future__ import annotations

import asyncio
import io
import time
from collections.abc import AsyncIterator, Sequence

import aiohttp
import pytest
from aiohttp import web
from raw_http import closed_within, read_response

from jupyter_core_server import hookimpl

TIMEOUT = 0.6
slow_config = pytest.mark.parametrize(
    "jcs_config",
    [{"CoreServerApp": {"request_header_timeout": TIMEOUT, "max_body_size": 1024 * 1024}}],
    indirect=True,
    ids=["short"],
)


class Upload:
    """Reads the whole body, however slowly it arrives, and says how long it was."""

    @hookimpl
    def register_routes(self) -> Sequence[web.RouteDef]:
        async def upload(request: web.Request) -> web.Response:
            return web.json_response({"size": len(await request.read())})

        async def echo(request: web.Request) -> web.WebSocketResponse:
            ws = web.WebSocketResponse()
            await ws.prepare(request)
            async for message in ws:
                await ws.send_str(message.data)
            return ws

        return [web.post("/extension/api/upload/", upload), web.get("/extension/api/upload/echo", echo)]


@pytest.fixture
def upload(jcs_register_plugin) -> None:
    jcs_register_plugin(Upload(), "upload")


def head(port: int, token: str, method: str = "GET", path: str = "/api/status", extra: str = "") -> bytes:
    return f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: token {token}\r\n{extra}\r\n".encode()


@slow_config
async def test_a_connection_that_sends_nothing_is_closed(jcs_server) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", jcs_server.app.actual_port)
    try:
        started = time.monotonic()
        assert await closed_within(reader, TIMEOUT + 3)
        assert time.monotonic() - started >= TIMEOUT * 0.9
    finally:
        writer.close()


@slow_config
async def test_a_connection_that_sends_half_the_headers_is_closed(jcs_server) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", jcs_server.app.actual_port)
    try:
        writer.write(f"GET /api/status HTTP/1.1\r\nHost: 127.0.0.1:{jcs_server.app.actual_port}\r\n".encode())
        await writer.drain()
        for _ in range(3):  # trickling more header bytes does not extend the deadline
            await asyncio.sleep(TIMEOUT / 4)
            writer.write(b"X-Slow: 1\r\n")
            await writer.drain()
        assert await closed_within(reader, TIMEOUT + 3)
    finally:
        writer.close()


@slow_config
async def test_a_prompt_request_and_an_idle_keep_alive_connection_are_served(jcs_server) -> None:
    port, token = jcs_server.app.actual_port, jcs_server.token
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        await asyncio.sleep(TIMEOUT / 3)
        writer.write(head(port, token))
        await writer.drain()
        assert (await read_response(reader)).status == 200
        # between requests aiohttp's keep-alive timeout (an hour) applies, not the header timeout
        await asyncio.sleep(TIMEOUT * 2.5)
        writer.write(head(port, token))
        await writer.drain()
        assert (await read_response(reader)).status == 200
    finally:
        writer.close()


@slow_config
@pytest.mark.usefixtures("upload")
async def test_slow_uploads_and_open_websockets_are_not_cut(jcs_client) -> None:
    async def trickle() -> AsyncIterator[bytes]:
        for _ in range(6):
            yield b"x" * 1000
            await asyncio.sleep(TIMEOUT / 2)

    async with jcs_client.post("extension/api/upload/", data=trickle()) as response:
        assert response.status == 200
        assert await response.json() == {"size": 6000}

    async with jcs_client.ws_connect("extension/api/upload/echo") as ws:
        for i in range(3):
            await asyncio.sleep(TIMEOUT)
            await ws.send_str(f"ping {i}")
            message = await ws.receive(timeout=5)
            assert message.type == aiohttp.WSMsgType.TEXT and message.data == f"ping {i}"


@slow_config
@pytest.mark.usefixtures("upload")
async def test_a_declared_body_over_the_limit_is_refused_before_it_is_sent(jcs_server) -> None:
    port = jcs_server.app.actual_port
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        started = time.monotonic()
        extra = f"Content-Type: application/json\r\nContent-Length: {10**12}\r\n"
        writer.write(head(port, jcs_server.token, "POST", "/extension/api/upload/", extra))
        await writer.drain()
        response = await read_response(reader, timeout=5)
        assert time.monotonic() - started < 2
        assert response.status == 413
        assert response.headers["content-type"].startswith("application/json")
        body = response.json()
        assert body["reason"] == "body_too_large"
        assert str(1024 * 1024) in body["message"]
    finally:
        writer.close()


@slow_config
@pytest.mark.usefixtures("upload")
async def test_a_declared_body_over_the_limit_is_refused_even_before_authentication(jcs_server) -> None:
    async with aiohttp.ClientSession() as anonymous:
        headers = {"Content-Length": str(2 * 1024 * 1024)}
        async with anonymous.post(
            jcs_server.url + "extension/api/upload/", data=io.BytesIO(b"x" * (2 * 1024 * 1024)), headers=headers
        ) as response:
            assert response.status == 413
            assert (await response.json())["reason"] == "body_too_large"


@slow_config
@pytest.mark.usefixtures("upload")
async def test_a_body_within_the_limit_is_accepted(jcs_client) -> None:
    async with jcs_client.post("extension/api/upload/", data=b"y" * (1024 * 1024)) as response:
        assert response.status == 200
        assert await response.json() == {"size": 1024 * 1024}


def test_header_timeout_default_is_at_most_a_minute() -> None:
    from jupyter_core_server.app import CoreServerApp

    assert 0 < CoreServerApp().request_header_timeout <= 60
