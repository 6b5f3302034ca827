"""The login page under attack: password checks off the event loop, failed attempts throttled per address.

Clients connect from several loopback addresses (``127.0.0.2``, ``127.0.0.3``, ...) so that
the server sees them as different client addresses.
"""

from __future__ import annotations

import asyncio
import statistics
import time

import aiohttp
import pytest

from jupyter_core_server.auth.identity import hash_password
from jupyter_core_server.auth.logins import LoginThrottle

PASSWORD = "correct horse"
HASHED = hash_password(PASSWORD)
FLOOD_CLIENTS = 4


def configured(**authenticator: object) -> pytest.MarkDecorator:
    """Start the test's server with a password and these ``Authenticator`` settings."""
    return pytest.mark.parametrize(
        "jcs_config",
        [{"Authenticator": {"hashed_password": HASHED, **authenticator}}],
        indirect=True,
        ids=["configured"],
    )


def client_from(address: str) -> aiohttp.ClientSession:
    """A client without credentials whose connections come from ``address`` (a loopback address)."""
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(local_addr=(address, 0)), cookie_jar=aiohttp.CookieJar(unsafe=True)
    )


async def post_login(session: aiohttp.ClientSession, url: str, password: str, **headers: str) -> aiohttp.ClientResponse:
    async with session.post(
        url + "login", data={"password": password, "next": "/api/kernels"}, headers=headers, allow_redirects=False
    ) as response:
        await response.read()
        return response


async def wrong_passwords(url: str, address: str, count: int) -> list[int]:
    """Post ``count`` wrong passwords from ``address``, one after the other; return the statuses."""
    statuses = []
    async with client_from(address) as session:
        for _ in range(count):
            statuses.append((await post_login(session, url, "wrong")).status)
    return statuses


async def health_latencies(url: str, done: asyncio.Event) -> list[float]:
    """Time ``GET /api/health`` every 20 ms until ``done`` is set (at most 1000 requests)."""
    latencies: list[float] = []
    async with aiohttp.ClientSession() as session:
        for _ in range(1000):
            if done.is_set():
                break
            start = time.perf_counter()
            async with session.get(url + "api/health") as response:
                await response.read()
                assert response.status == 200
            latencies.append(time.perf_counter() - start)
            await asyncio.sleep(0.02)
    return latencies


async def flood(url: str, per_client: int) -> tuple[list[list[int]], list[float]]:
    """Run ``FLOOD_CLIENTS`` concurrent clients posting wrong passwords while timing the health check."""
    done = asyncio.Event()
    probe = asyncio.create_task(health_latencies(url, done))
    try:
        statuses = await asyncio.gather(
            *(wrong_passwords(url, f"127.0.0.{2 + i}", per_client) for i in range(FLOOD_CLIENTS))
        )
    finally:
        done.set()
    return statuses, await probe


# A password check takes about 100 ms of CPU; on the event loop, four clients push the
# health check's median to several hundred milliseconds. Off the loop it stays at a few.
LATENCY_BOUND = 0.1


@configured(login_max_failures=1000)
async def test_password_checks_do_not_block_the_event_loop(jcs_server) -> None:
    statuses, latencies = await flood(jcs_server.url, per_client=5)
    assert all(status == 401 for per_client in statuses for status in per_client)  # every one was checked
    assert latencies
    assert statistics.median(latencies) < LATENCY_BOUND, latencies


@configured()
async def test_a_flood_of_wrong_passwords_is_throttled_per_address(jcs_server) -> None:
    statuses, latencies = await flood(jcs_server.url, per_client=12)
    for per_client in statuses:
        assert per_client == [401] * 5 + [429] * 7
    assert statistics.median(latencies) < LATENCY_BOUND, latencies


@configured()
async def test_the_sixth_failure_gets_429_with_retry_after(jcs_server) -> None:
    url = jcs_server.url
    async with client_from("127.0.0.2") as session:
        for _ in range(5):
            assert (await post_login(session, url, "wrong")).status == 401
        refused = await post_login(session, url, "wrong")
        assert refused.status == 429
        assert 0 < int(refused.headers["Retry-After"]) <= 60
        # refused before the password is even checked: the right one is refused too
        assert (await post_login(session, url, PASSWORD)).status == 429
        # an API client gets the JSON error shape
        response = await post_login(session, url, "wrong", Accept="application/json")
        assert response.status == 429 and "Retry-After" in response.headers
    async with (
        client_from("127.0.0.2") as session,
        session.post(url + "login", data={"password": "x"}, headers={"Accept": "application/json"}) as response,
    ):
        assert response.status == 429
        assert (await response.json())["reason"] == "too_many_login_attempts"
    async with client_from("127.0.0.3") as session:  # another address is not affected
        assert (await post_login(session, url, PASSWORD)).status == 302


@configured(login_max_failures=2, login_failure_window=3.0)
async def test_the_right_password_works_after_the_window(jcs_server) -> None:
    url = jcs_server.url
    async with client_from("127.0.0.2") as session:
        for _ in range(2):
            assert (await post_login(session, url, "wrong")).status == 401
        refused = await post_login(session, url, PASSWORD)
        assert refused.status == 429
        wait = int(refused.headers["Retry-After"])
        assert 1 <= wait <= 3
        await asyncio.sleep(wait + 0.1)
        assert (await post_login(session, url, PASSWORD)).status == 302
        async with session.get(url + "api/kernels") as response:
            assert response.status == 200


@configured()
async def test_a_successful_login_resets_the_count(jcs_server) -> None:
    url = jcs_server.url
    async with client_from("127.0.0.2") as session:
        for _ in range(4):
            assert (await post_login(session, url, "wrong")).status == 401
        assert (await post_login(session, url, PASSWORD)).status == 302
        for _ in range(5):
            assert (await post_login(session, url, "wrong")).status == 401
        assert (await post_login(session, url, "wrong")).status == 429


@configured(login_max_failures=0)
async def test_zero_turns_the_throttle_off(jcs_server) -> None:
    async with client_from("127.0.0.2") as session:
        for _ in range(7):
            assert (await post_login(session, jcs_server.url, "wrong")).status == 401


# -- the throttle's memory -------------------------------------------------------------------------


def test_the_throttle_counts_attempts_in_a_sliding_window() -> None:
    throttle = LoginThrottle(max_failures=2, window=10, capacity=10)
    assert throttle.admit("a", now=100) == 0 and throttle.admit("a", now=104) == 0
    assert throttle.admit("a", now=105) == 5  # until the first attempt leaves the window
    assert throttle.admit("a", now=109.5) == 0.5
    assert throttle.admit("a", now=110) == 0  # refused attempts did not count
    assert throttle.admit("a", now=111) == 3
    throttle.reset("a")
    assert throttle.admit("a", now=111) == 0


def test_the_throttle_forgets_old_addresses_and_caps_how_many_it_tracks() -> None:
    throttle = LoginThrottle(max_failures=1, window=10, capacity=3)
    for i in range(3):
        throttle.admit(f"10.0.0.{i}", now=100 + i)
    assert len(throttle) == 3
    throttle.admit("10.0.0.9", now=105)  # over the cap: the least recently seen address goes
    assert len(throttle) == 3
    assert throttle.admit("10.0.0.0", now=106) == 0 and throttle.admit("10.0.0.9", now=106) == 9
    throttle.admit("10.0.0.8", now=200)  # everything else is older than the window
    assert len(throttle) == 1
