"""The server's own endpoints: version, status, plugins, probes and shutdown."""

from __future__ import annotations

import aiohttp

from jupyter_core_server import __version__


async def test_api_version_is_public(jcs_server) -> None:
    async with aiohttp.ClientSession() as session, session.get(jcs_server.url + "api") as response:
        assert response.status == 200
        assert await response.json() == {"version": __version__}


async def test_status_requires_token_and_reports_counts(jcs_server, jcs_client) -> None:
    async with aiohttp.ClientSession() as session, session.get(jcs_server.url + "api/status") as response:
        assert response.status == 403
        body = await response.json()
        assert body["reason"] == "unauthenticated"
    async with jcs_client.get("api/status") as response:
        assert response.status == 200
        status = await response.json()
    assert status["kernels"] == 0 and status["connections"] == 0 and status["ready"] is True
    assert status["started"].endswith("Z")


async def test_probes_are_public(jcs_server) -> None:
    async with aiohttp.ClientSession() as session:
        async with session.get(jcs_server.url + "api/health") as response:
            assert response.status == 200 and (await response.json()) == {"status": "ok"}
        async with session.get(jcs_server.url + "api/ready") as response:
            assert response.status == 200 and (await response.json()) == {
                "ready": True,
                "failed": [],
                "pool_filled": True,
            }
