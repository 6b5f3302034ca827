"""Gateway-grade kernel operations: warm pool, admission control, culling, Kernel Gateway switches."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from kerneltools import python_kernelspec, wait_until

from jupyter_core_server.auth.identity import Identity
from jupyter_core_server.hookspecs import hookimpl
from jupyter_core_server.keys import KERNEL_SERVICE
from jupyter_core_server.pytest_plugin import open_kernel_channels, start_kernel

NAMESPACE = "print(sorted(k for k in globals() if not k.startswith('_')))"


def config(**kernel_service: Any) -> Any:
    return pytest.mark.parametrize("jcs_config", [{"KernelService": kernel_service}], indirect=True, ids=["configured"])


async def run(client: Any, kernel_id: str, code: str) -> str:
    async with open_kernel_channels(client, kernel_id, "v1") as kc:
        reply = await kc.execute(code)
        assert reply.reply.content["status"] == "ok", reply.reply.content
        return reply.stream()


async def ready(client: Any) -> tuple[int, dict[str, Any]]:
    async with client.get("api/ready") as response:
        return response.status, await response.json()


async def is_ready(client: Any) -> bool:
    return (await ready(client))[0] == 200


# -- warm pool ---------------------------------------------------------------------------------


@config(pool={"python3": 2})
async def test_pooled_kernel_is_a_clean_fresh_kernel_and_the_pool_refills(jcs_client, jcs_server) -> None:
    service = jcs_server.web_app[KERNEL_SERVICE]
    await wait_until(lambda: is_ready(jcs_client), timeout=60)
    status, body = await ready(jcs_client)
    assert status == 200 and body["pool_filled"] is True
    pooled_ids = set(service.warm_pool.ready["python3"])
    assert len(pooled_ids) == 2
    async with jcs_client.get("api/kernels") as response:
        assert await response.json() == []  # pooled kernels are not listed

    kernel_id = await start_kernel(jcs_client, name="python3")
    assert kernel_id in pooled_ids
    fresh_id = await start_kernel(jcs_client, name="python3", kernel_id="5f6b3a9e-0d4e-4a51-9b57-0c2f9e7f1a10")
    assert fresh_id not in pooled_ids
    async with open_kernel_channels(jcs_client, kernel_id, "v1") as kc:
        reply = await kc.execute(NAMESPACE, store_history=True)
        assert reply.reply.content["execution_count"] == 1  # nothing ran visibly before
        pooled_namespace = reply.stream()
    assert pooled_namespace == await run(jcs_client, fresh_id, NAMESPACE)
    await wait_until(lambda: len(service.warm_pool.ready["python3"]) == 2, timeout=60)
    assert kernel_id not in service.warm_pool.ready["python3"]


@config(pool={"python3": 1})
async def test_pooled_python_kernel_takes_the_requests_cwd_env_and_path(jcs_client, jcs_server, jcs_config) -> None:
    service = jcs_server.web_app[KERNEL_SERVICE]
    folder = Path(jcs_config.CoreServerApp.root_dir) / "sub"
    folder.mkdir()
    await wait_until(lambda: service.warm_pool.ready.get("python3"), timeout=60)
    pooled = service.warm_pool.ready["python3"][0]
    body = {"path": "sub/analysis.ipynb", "type": "notebook", "name": "analysis.ipynb", "kernel": {"name": "python3"}}
    async with jcs_client.post("api/sessions", json=body) as response:
        assert response.status == 201
        kernel_id = (await response.json())["kernel"]["id"]
    assert kernel_id == pooled
    out = await run(jcs_client, kernel_id, "import os; print(os.getcwd(), __session__, os.environ['JPY_SESSION_NAME'])")
    assert out.split() == [str(folder), "sub/analysis.ipynb", "sub/analysis.ipynb"]
    await wait_until(lambda: service.warm_pool.ready.get("python3"), timeout=60)
    pooled = service.warm_pool.ready["python3"][0]
    kernel_id = await start_kernel(jcs_client, name="python3", env={"KERNEL_GREETING": "hello"})
    assert kernel_id == pooled
    assert await run(jcs_client, kernel_id, "import os; print(os.environ['KERNEL_GREETING'])") == "hello\n"


@pytest.fixture
def other_spec(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A second Python kernelspec, ``other``, on JUPYTER_PATH."""
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter-path"))
    return python_kernelspec(tmp_path / "jupyter-path", "other", "Other")


@config(pool={"no-such-kernel": 1})
async def test_ready_waits_for_the_pool(jcs_client, caplog: pytest.LogCaptureFixture) -> None:
    status, body = await ready(jcs_client)
    assert status == 503 and body == {"ready": False, "failed": [], "pool_filled": False}
    await wait_until(lambda: "Could not start a pooled no-such-kernel kernel" in caplog.text, timeout=30)
    assert (await ready(jcs_client))[0] == 503


@config(pool={"python3": 1}, seed_code="seeded = 41")
async def test_seed_code_runs_in_pooled_and_fresh_kernels(jcs_client, jcs_server) -> None:
    service = jcs_server.web_app[KERNEL_SERVICE]
    await wait_until(lambda: service.warm_pool.ready.get("python3"), timeout=60)
    pooled = await start_kernel(jcs_client, name="python3")
    fresh = await start_kernel(jcs_client, name="python3", kernel_id="0b0c5e64-6f0b-4a1d-8c1e-1f2a3b4c5d6e")
    for kernel_id in (pooled, fresh):
        assert await run(jcs_client, kernel_id, "print(seeded + 1)") == "42\n"


async def test_seed_notebook_runs_its_code_cells(jcs_config, jcs_plugin_manager, tmp_path: Path) -> None:
    import aiohttp

    from jupyter_core_server.pytest_plugin import ServerClient, run_server

    notebook = {
        "cells": [
            {"cell_type": "markdown", "metadata": {}, "source": "# Seed"},
            {
                "cell_type": "code",
                "metadata": {},
                "source": ["base = 40\n", "step = 2"],
                "outputs": [],
                "execution_count": None,
            },
        ],
        "metadata": {"kernelspec": {"name": "python3", "language": "python", "display_name": "Python 3"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    seed = tmp_path / "seed.ipynb"
    seed.write_text(json.dumps(notebook))
    jcs_config.KernelService.seed_notebook = str(seed)

    async with (
        run_server(jcs_config, jcs_plugin_manager) as server,
        aiohttp.ClientSession(headers={"Authorization": f"token {server.token}"}) as session,
    ):
        client = ServerClient(server, session)
        kernel_id = await start_kernel(client, name="python3")
        assert await run(client, kernel_id, "print(base + step)") == "42\n"


# -- admission control -------------------------------------------------------------------------


@config(max_kernels=5, limit_retry_after=7)
async def test_fifty_concurrent_starts_admit_exactly_the_limit(jcs_client) -> None:
    async def attempt() -> tuple[int, dict[str, Any], str | None]:
        async with jcs_client.post("api/kernels", json={"name": "python3"}) as response:
            return response.status, await response.json(), response.headers.get("Retry-After")

    results = await asyncio.gather(*(attempt() for _ in range(50)))
    statuses = sorted(status for status, _, _ in results)
    assert statuses == [201] * 5 + [429] * 45
    refused = [(body, retry) for status, body, retry in results if status == 429]
    assert all(
        body["reason"] == "too_many_kernels" and "maximum of 5 kernels" in body["message"] for body, _ in refused
    )
    assert all(retry == "7" for _, retry in refused)

    started = [body["id"] for status, body, _ in results if status == 201]
    async with jcs_client.delete(f"api/kernels/{started[0]}") as response:
        assert response.status == 204
    assert (await attempt())[0] == 201
    assert (await attempt())[0] == 429
    async with jcs_client.post(
        "api/sessions", json={"path": "a.ipynb", "type": "notebook", "kernel": {"name": "python3"}}
    ) as response:
        assert response.status == 429
        assert response.headers["Retry-After"] == "7"


class HeaderIdentity:
    """Identifies the user by an ``X-Test-User`` header (token auth still applies)."""

    @hookimpl
    def identify(self, request: web.Request, server: Any) -> Identity | None:
        user = request.headers.get("X-Test-User")
        return Identity(username=user) if user else None


@pytest.fixture
def header_identity(jcs_register_plugin) -> None:
    jcs_register_plugin(HeaderIdentity(), "header-identity")


@config(max_kernels_per_user=2)
async def test_per_user_limit_counts_each_users_kernels(header_identity: None, jcs_client) -> None:
    async def attempt(user: str) -> int:
        async with jcs_client.post("api/kernels", json={"name": "python3"}, headers={"X-Test-User": user}) as response:
            if response.status == 429:
                assert "Retry-After" in response.headers
                assert "your maximum of 2" in (await response.json())["message"]
            return response.status

    alice = await asyncio.gather(*(attempt("alice") for _ in range(4)))
    assert sorted(alice) == [201, 201, 429, 429]
    assert await attempt("bob") == 201


# -- culling ------------------------------------------------------------------------------------


@config(cull_idle_timeout=2, cull_interval=1)
async def test_idle_kernels_are_culled_but_busy_and_connected_ones_are_not(jcs_client) -> None:
    body = {"path": "idle.ipynb", "type": "notebook", "kernel": {"name": "python3"}}
    async with jcs_client.post("api/sessions", json=body) as response:
        idle = (await response.json())["kernel"]["id"]
    busy = await start_kernel(jcs_client, name="python3")
    connected = await start_kernel(jcs_client, name="python3")
    async with (
        open_kernel_channels(jcs_client, busy, "v1") as busy_client,
        open_kernel_channels(jcs_client, connected, "v1"),
    ):
        await busy_client.send("shell", "execute_request", {"code": "import time; time.sleep(8)", "silent": False})
        await busy_client.receive(lambda m: m.msg_type == "status" and m.content["execution_state"] == "busy")

        async def kernel_ids() -> set[str]:
            async with jcs_client.get("api/kernels") as response:
                return {k["id"] for k in await response.json()}

        await wait_until(lambda: _without(kernel_ids(), idle), timeout=15)
        assert await kernel_ids() == {busy, connected}
        async with jcs_client.get("api/sessions") as response:
            assert await response.json() == []  # the culled kernel's session went with it


async def _without(ids: Any, kernel_id: str) -> bool:
    return kernel_id not in await ids


@config(cull_idle_timeout=1, cull_interval=1, cull_busy=True)
async def test_cull_busy_culls_a_kernel_that_runs_too_long(jcs_client) -> None:
    busy = await start_kernel(jcs_client, name="python3")
    async with open_kernel_channels(jcs_client, busy, "v1") as kc:
        await kc.send("shell", "execute_request", {"code": "import time; time.sleep(30)", "silent": False})
        await kc.receive(lambda m: m.msg_type == "status" and m.content["execution_state"] == "busy")

    async def gone() -> bool:
        async with jcs_client.get(f"api/kernels/{busy}") as response:
            return response.status == 404

    await wait_until(gone, timeout=15)


# -- Kernel Gateway switches ------------------------------------------------------------------


@config(list_kernels=False)
async def test_listing_can_be_turned_off(jcs_client) -> None:
    kernel_id = await start_kernel(jcs_client, name="python3")
    for path in ("api/kernels", "api/sessions"):
        async with jcs_client.get(path) as response:
            assert response.status == 403
            assert (await response.json())["reason"] == "listing_disabled"
    async with jcs_client.get(f"api/kernels/{kernel_id}") as response:
        assert response.status == 200


@pytest.mark.parametrize(
    "jcs_config, requested, expected",
    [
        ({"KernelService": {"default_kernel_name": "other"}}, None, "other"),
        ({"KernelService": {"default_kernel_name": "other"}}, "python3", "python3"),
        ({"KernelService": {"force_kernel_name": "other"}}, "python3", "other"),
    ],
    indirect=["jcs_config"],
    ids=["default", "named", "forced"],
)
async def test_default_and_forced_kernel_names(
    other_spec: str, jcs_client, requested: str | None, expected: str
) -> None:
    body = {"name": requested} if requested else {}
    async with jcs_client.post("api/kernels", json=body) as response:
        assert response.status == 201
        assert (await response.json())["name"] == expected
    async with jcs_client.get("api/kernelspecs") as response:
        assert (await response.json())["default"] == "other"  # what clients offer by default
