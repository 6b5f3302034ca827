"""Requests HTTP's parser refuses: a JSON 400, and no credential in any log line.

aiohttp's own error path logs the raw request line or header that failed to parse, which
is where a ``?token=``, an ``Authorization`` header or a cookie would reach the log. The
server runs as the real command with ``--debug`` (everything logged), and its whole
output is searched afterwards.
"""

from __future__ import annotations

import asyncio
import secrets

import pytest
from raw_http import exchange, read_response

from jupyter_core_server.pytest_plugin import CliServer

COOKIE_SECRET = secrets.token_hex(20)


def malformed_requests(token: str, port: int) -> dict[str, bytes]:
    """Each request the parser refuses, each carrying the token (and a cookie value) somewhere."""
    host = f"Host: 127.0.0.1:{port}\r\n"
    cookie = f"Cookie: jupyter-core-server-{port}={COOKIE_SECRET}\r\n"
    return {
        "request line over 8 KB": f"GET /api/status?token={token}&pad={'A' * 9000} HTTP/1.1\r\n{host}\r\n",
        "HTTP/9.9": f"GET /api/status?token={token} HTTP/9.9\r\n{host}{cookie}\r\n",
        "control character in Authorization": (
            f"GET /api/status HTTP/1.1\r\n{host}{cookie}Authorization: token {token}\x01\r\n\r\n"
        ),
        "invalid header name": (
            f"GET /api/status HTTP/1.1\r\n{host}Authorization: token {token}\r\nX{token} Y: 1\r\n\r\n"
        ),
        "header over 8 KB": f"GET /api/status HTTP/1.1\r\n{host}Cookie: a={COOKIE_SECRET}{'B' * 9000}\r\n\r\n",
    }


def check_error(status: int, headers: dict[str, str], body: dict[str, object], case: str) -> None:
    assert status == 400, case
    assert headers["content-type"].startswith("application/json"), (case, headers)
    assert set(body) == {"message", "reason"} and body["reason"] == "malformed_request", (case, body)
    assert headers["x-content-type-options"] == "nosniff", case
    assert headers["content-security-policy"] == "frame-ancestors 'self'", case


async def test_parser_errors_are_json_and_never_log_a_credential(jcs_cli_server: CliServer) -> None:
    server = jcs_cli_server("--debug")
    token = server.token
    assert token
    for case, raw in malformed_requests(token, server.port).items():
        response = await exchange(server.port, raw.encode("latin-1"))
        body = response.json()
        check_error(response.status, response.headers, body, case)
        assert token not in str(body["message"]) and COOKIE_SECRET not in str(body["message"]), case

    # A bad method after a good request on one connection: aiohttp logs that one at error
    # level (a first request's bad method, often TLS sent to a plain port, only at debug).
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    try:
        writer.write(
            (
                f"GET /api/status HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\nAuthorization: token {token}\r\n\r\n"
            ).encode()
        )
        await writer.drain()
        first = await read_response(reader)
        assert first.status == 200
        writer.write(f"GE(T /api/status?token={token} HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n\r\n".encode())
        await writer.drain()
        second = await read_response(reader)
        check_error(second.status, second.headers, second.json(), "bad method")
    finally:
        writer.close()

    # the server still serves, and then its whole output is collected
    status, _ = await asyncio.to_thread(server.get, "api/status", token)
    assert status == 200
    server.stop()
    output = server.stdout + server.stderr
    assert output.count(token) == 1, [line for line in output.splitlines() if token in line]
    assert f"?token={token}" in server.stdout.split("Plugins:")[0]  # the one place: the banner
    assert COOKIE_SECRET not in output
    assert "Malformed request" in server.stderr  # logged, without the request's text


@pytest.mark.parametrize("raw", [b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", b"NOT HTTP AT ALL\r\n\r\n"])
async def test_garbage_gets_a_json_400_and_the_server_lives_on(jcs_server, jcs_client, raw: bytes) -> None:
    response = await exchange(jcs_server.app.actual_port, raw)
    assert response.status == 400
    assert response.json()["reason"] == "malformed_request"
    async with jcs_client.get("api/status") as ok:
        assert ok.status == 200
