"""``/api/kernels``: the REST model, starting with options, errors, and activity tracking."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from kerneltools import wait_until

from jupyter_core_server.pytest_plugin import open_kernel_channels, start_kernel

MODEL_KEYS = {"id", "name", "last_activity", "execution_state", "connections"}


async def get_model(client, kernel_id: str) -> dict:
    async with client.get(f"api/kernels/{kernel_id}") as response:
        assert response.status == 200
        return await response.json()


async def test_start_list_get_and_delete(jcs_server, jcs_client) -> None:
    async with jcs_client.get("api/kernels") as response:
        assert response.status == 200 and await response.json() == []

    async with jcs_client.post("api/kernels", json={"name": "python3"}) as response:
        assert response.status == 201
        model = await response.json()
        assert response.headers["Location"].endswith(f"/api/kernels/{model['id']}")
        assert response.headers["Location"] == f"/api/kernels/{model['id']}"  # base_url is /
    assert MODEL_KEYS <= set(model)
    assert model["name"] == "python3" and model["connections"] == 0
    assert model["last_activity"].endswith("Z")
    uuid.UUID(model["id"])

    async with jcs_client.get("api/kernels") as response:
        assert [k["id"] for k in await response.json()] == [model["id"]]
    assert (await get_model(jcs_client, model["id"]))["id"] == model["id"]

    async with jcs_client.delete(f"api/kernels/{model['id']}") as response:
        assert response.status == 204
    async with jcs_client.get("api/kernels") as response:
        assert await response.json() == []


async def test_empty_body_starts_the_default_kernel(jcs_client) -> None:
    async with jcs_client.post("api/kernels") as response:
        assert response.status == 201
        assert (await response.json())["name"] == "python3"


async def test_kernel_id_is_honoured_and_checked(jcs_client) -> None:
    wanted = str(uuid.uuid4())
    async with jcs_client.post("api/kernels", json={"name": "python3", "kernel_id": wanted}) as response:
        assert response.status == 201
        assert (await response.json())["id"] == wanted
    async with jcs_client.post("api/kernels", json={"name": "python3", "kernel_id": wanted}) as response:
        assert response.status == 409
        assert "message" in await response.json()
    async with jcs_client.post("api/kernels", json={"name": "python3", "kernel_id": "../../etc"}) as response:
        assert response.status == 400
        assert (await response.json())["reason"] == "invalid_kernel_id"
    async with jcs_client.get("api/kernels") as response:
        assert [k["id"] for k in await response.json()] == [wanted]


async def test_unknown_kernel_name_is_404_json(jcs_client) -> None:
    async with jcs_client.post("api/kernels", json={"name": "no-such-kernel"}) as response:
        assert response.status == 404
        assert response.content_type == "application/json"
        body = await response.json()
        assert "no-such-kernel" in body["message"]
    async with jcs_client.get("api/kernels") as response:
        assert await response.json() == []


@pytest.mark.parametrize("body", ["[1]", "{not json", '{"env": "x"}', '{"env": {"KERNEL_X": 3}}'])
async def test_bad_bodies_are_400(jcs_client, body: str) -> None:
    async with jcs_client.post("api/kernels", data=body, headers={"Content-Type": "application/json"}) as response:
        assert response.status == 400
        assert "message" in await response.json()


@pytest.mark.parametrize("path", ["a\x00b.ipynb", "\x00", "work/\x00/x.ipynb"])
async def test_nul_in_path_is_400(jcs_client, path: str) -> None:
    async with jcs_client.post("api/kernels", json={"name": "python3", "path": path}) as response:
        assert response.status == 400, await response.text()
        assert (await response.json())["reason"] == "invalid_path"
    async with jcs_client.get("api/kernels") as response:
        assert await response.json() == []


@pytest.mark.parametrize("jcs_config", [{"KernelService": {"allowed_env": ["JCS_ALLOWED"]}}], indirect=True)
async def test_env_allow_list(jcs_client, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("JCS_ALLOWED", raising=False)
    monkeypatch.delenv("KERNEL_FOO", raising=False)
    kernel_id = await start_kernel(jcs_client, name="python3", env={"KERNEL_FOO": "bar baz", "JCS_ALLOWED": "yes"})
    async with open_kernel_channels(jcs_client, kernel_id, "v1") as kc:
        reply = await kc.execute(
            'import os; print(repr(os.environ.get("KERNEL_FOO")), repr(os.environ.get("JCS_ALLOWED")))'
        )
        assert reply.stream() == "'bar baz' 'yes'\n"


@pytest.mark.parametrize(
    "env",
    [
        {"PATH": "/tmp"},
        {"LD_PRELOAD": "/tmp/x.so"},
        {"KERNEL_FOO": "a\nb"},
        {"KERNEL_FOO": "a\x00b"},
        {"KERNEL_FOO": "x" * 4097},
        {"kernel_foo": "x"},
    ],
    ids=["PATH", "LD_PRELOAD", "newline", "nul", "too-long", "lowercase"],
)
async def test_env_outside_the_allow_list_is_refused(jcs_client, env: dict[str, str]) -> None:
    async with jcs_client.post("api/kernels", json={"name": "python3", "env": env}) as response:
        assert response.status == 400
        assert (await response.json())["reason"] == "invalid_env"
    async with jcs_client.get("api/kernels") as response:
        assert await response.json() == []


@pytest.mark.parametrize("method, suffix", [("GET", ""), ("DELETE", ""), ("POST", "/interrupt"), ("POST", "/restart")])
async def test_unknown_kernel_is_404(jcs_client, method: str, suffix: str) -> None:
    async with jcs_client.request(method, f"api/kernels/{uuid.uuid4()}{suffix}") as response:
        assert response.status == 404
        assert (await response.json())["reason"] == "no_such_kernel"


async def test_interrupt_restart_and_status_counts(jcs_client) -> None:
    kernel_id = await start_kernel(jcs_client, name="python3")
    async with jcs_client.post(f"api/kernels/{kernel_id}/interrupt") as response:
        assert response.status == 204
    async with jcs_client.post(f"api/kernels/{kernel_id}/restart") as response:
        assert response.status == 200
        model = await response.json()
    assert model["id"] == kernel_id and MODEL_KEYS <= set(model)

    second = await start_kernel(jcs_client, name="python3")
    async with (
        open_kernel_channels(jcs_client, kernel_id, "v1") as a,
        open_kernel_channels(jcs_client, second, "legacy"),
    ):
        await a.execute("pass")
        async with jcs_client.get("api/status") as response:
            status = await response.json()
        assert status["kernels"] == 2 and status["connections"] == 2
        assert (await get_model(jcs_client, kernel_id))["connections"] == 1

    async def connections_gone() -> bool:
        async with jcs_client.get("api/status") as response:
            return (await response.json())["connections"] == 0

    await wait_until(connections_gone)


async def test_last_activity_counts_user_requests_not_frontend_chatter(jcs_client) -> None:
    kernel_id = await start_kernel(jcs_client, name="python3")
    async with open_kernel_channels(jcs_client, kernel_id, "v1") as kc:
        await kc.request("kernel_info_request")
        start = await get_model(jcs_client, kernel_id)
        await asyncio.sleep(0.05)
        await kc.request("kernel_info_request")
        await kc.request("comm_info_request", {})
        assert (await get_model(jcs_client, kernel_id))["last_activity"] == start["last_activity"]

        await kc.execute("pass")
        after = await get_model(jcs_client, kernel_id)
        assert after["last_activity"] > start["last_activity"]
        assert after["execution_state"] == "idle"
