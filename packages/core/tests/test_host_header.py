"""The ``Host`` header: malformed values are a 400, and only documented loopback names pass.

A lenient parser can read ``localhost:8888@evil.com`` or ``[::1]evil.com`` as a loopback
name, which is what a DNS-rebinding page needs; such values are refused before any other
check, also when ``allow_remote_access`` lets every well-formed name through.
"""

from __future__ import annotations

import pytest
from raw_http import exchange

from jupyter_core_server.auth.origin import is_loopback, parse_host

MALFORMED = [
    "localhost:{port}@evil.com",
    "[::1]evil.com",
    "[::1]:{port}evil.com",
    "localhost:abc",
    "localhost:",
    "localhost:99999",
    "local host",
    ":{port}",
    "user@localhost:{port}",
    "user:pass@localhost",
    "::1",
    "::1:{port}",
    "localhost:{port}:{port}",
    "localhost:{port}/evil",
    "localhost:{port} evil",
    "localhost:{port}#",
    "localhost\\@evil.com",
    "[::1",
    "[]:{port}",
    "[evil.com]:{port}",
    "[127.0.0.1]:{port}",
    "localhost..",
    ".localhost",
    "local%68ost",
    "loc\u00e1lhost",
]
LOOPBACK = ["localhost:{port}", "127.0.0.1:{port}", "[::1]:{port}", "LOCALHOST", "127.1.2.3", "localhost", "[::1]"]
FOREIGN = [
    "evil.example",
    "evil.example:80",
    "localhost.evil.com",
    "127.0.0.1.nip.io",
    "[2001:db8::1]:80",
    "10.0.0.1",
    "evil_name.example",
    "localhost.:{port}",
]


def configured(**sections: dict[str, object]) -> pytest.MarkDecorator:
    return pytest.mark.parametrize("jcs_config", [sections], indirect=True, ids=["configured"])


async def status_with_host(jcs_server, jcs_client, host: str) -> tuple[int, dict[str, object]]:
    async with jcs_client.get("api/status", headers={"Host": host.format(port=jcs_server.app.actual_port)}) as response:
        assert response.content_type == "application/json"
        return response.status, await response.json()


@pytest.mark.parametrize("host", MALFORMED)
async def test_malformed_host_is_400(jcs_server, jcs_client, host: str) -> None:
    status, body = await status_with_host(jcs_server, jcs_client, host)
    assert (status, body["reason"]) == (400, "invalid_host"), host


@pytest.mark.parametrize("host", LOOPBACK)
async def test_loopback_host_is_served(jcs_server, jcs_client, host: str) -> None:
    status, _ = await status_with_host(jcs_server, jcs_client, host)
    assert status == 200, host


@pytest.mark.parametrize("host", FOREIGN)
async def test_well_formed_foreign_host_is_403(jcs_server, jcs_client, host: str) -> None:
    status, body = await status_with_host(jcs_server, jcs_client, host)
    assert (status, body["reason"]) == (403, "host_not_allowed"), host


@configured(CoreServerApp={"allow_remote_access": True})
async def test_remote_access_takes_any_well_formed_host_but_no_malformed_one(jcs_server, jcs_client) -> None:
    for host in FOREIGN + LOOPBACK:
        status, _ = await status_with_host(jcs_server, jcs_client, host)
        assert status == 200, host
    for host in MALFORMED:
        status, body = await status_with_host(jcs_server, jcs_client, host)
        assert (status, body["reason"]) == (400, "invalid_host"), host


async def test_a_request_without_host_is_refused_as_before(jcs_server) -> None:
    response = await exchange(
        jcs_server.app.actual_port,
        f"GET /api/status HTTP/1.0\r\nAuthorization: token {jcs_server.token}\r\n\r\n".encode(),
    )
    assert (response.status, response.json()["reason"]) == (403, "host_not_allowed")


@configured(CoreServerApp={"allow_remote_access": True})
async def test_an_http11_request_without_host_is_400(jcs_server) -> None:
    response = await exchange(
        jcs_server.app.actual_port,
        f"GET /api/status HTTP/1.1\r\nAuthorization: token {jcs_server.token}\r\n\r\n".encode(),
    )
    # aiohttp's parser refuses it already; the edge middleware would otherwise
    assert (response.status, response.json()["reason"]) in ((400, "malformed_request"), (400, "invalid_host"))


async def test_two_host_headers_are_400(jcs_server) -> None:
    port = jcs_server.app.actual_port
    raw = (
        f"GET /api/status HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nHost: evil.example\r\n"
        f"Authorization: token {jcs_server.token}\r\n\r\n"
    )
    response = await exchange(port, raw.encode())
    assert response.status == 400


def test_parse_host_splits_name_and_port() -> None:
    assert parse_host("LocalHost:8888") == ("localhost", 8888)
    assert parse_host("[::1]:80") == ("::1", 80)
    assert parse_host("[::1]") == ("::1", None)
    assert parse_host("example.org") == ("example.org", None)
    assert parse_host("localhost:8888@evil.com") is None
    assert parse_host("[::1]evil.com") is None


@pytest.mark.parametrize(
    ("name", "loopback"),
    [
        ("localhost", True),
        ("ip6-localhost", True),
        ("127.0.0.5", True),
        ("::1", True),
        ("localhost.evil.com", False),
        ("0.0.0.0", False),
        ("", False),
    ],
)
def test_only_documented_names_are_loopback(name: str, loopback: bool) -> None:
    assert is_loopback(name) is loopback
