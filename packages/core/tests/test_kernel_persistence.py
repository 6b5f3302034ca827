"""Kernels outlive a server restart with ``persistence_file``; idle servers stop themselves."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from kerneltools import wait_until

from jupyter_core_server.pytest_plugin import ServerProcess, open_kernel_channels, start_kernel


class UrlClient:
    """What the kernel_client helpers need of a client, for a server running as a subprocess."""

    def __init__(self, server: ServerProcess, session: aiohttp.ClientSession) -> None:
        self.base, self.session = server.url, session
        self.headers = {"Authorization": f"token {server.token}"}

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        return self.session.request(method, self.base + path, headers=self.headers, **kwargs)

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> Any:
        return self.request("POST", path, **kwargs)

    def ws_connect(self, path: str, **kwargs: Any) -> Any:
        return self.session.ws_connect(self.base + path, headers=self.headers, **kwargs)


@contextlib.asynccontextmanager
async def client_of(server: ServerProcess) -> AsyncIterator[UrlClient]:
    async with aiohttp.ClientSession() as session:
        yield UrlClient(server, session)


async def get_json(client: UrlClient, path: str) -> Any:
    async with client.get(path) as response:
        assert response.status == 200, await response.text()
        return await response.json()


async def run(client: UrlClient, kernel_id: str, code: str) -> str:
    async with open_kernel_channels(client, kernel_id, "v1") as kc:
        reply = await kc.execute(code)
        assert reply.reply.content["status"] == "ok", reply.reply.content
        return reply.stream()


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with contextlib.suppress(OSError):
        if Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0] == "Z":
            return False
    return True


@pytest.fixture
def record(tmp_path: Path) -> Iterator[Path]:
    """The persistence file; kernels it still names are killed after the test (they outlive servers)."""
    path = tmp_path / "state" / "kernels.json"
    seen: set[int] = set()
    yield path
    if path.exists():
        seen |= {k["provisioner"]["pid"] for k in json.loads(path.read_text())["kernels"].values()}
    for pid in seen:
        if alive(pid):
            os.kill(pid, signal.SIGKILL)


def kernel_pids(record: Path) -> dict[str, int]:
    return {kernel_id: k["provisioner"]["pid"] for kernel_id, k in json.loads(record.read_text())["kernels"].items()}


async def start_two_kernels(server: ServerProcess) -> tuple[str, str, str]:
    """Start a session's kernel and a bare kernel; define x = 41 in the first; return ids."""
    async with client_of(server) as client:
        body = {"path": "work.ipynb", "type": "notebook", "name": "work.ipynb", "kernel": {"name": "python3"}}
        async with client.post("api/sessions", json=body) as response:
            assert response.status == 201
            session = await response.json()
        other = await start_kernel(client, name="python3")
        assert await run(client, session["kernel"]["id"], "x = 41; print('set')") == "set\n"
    return session["id"], session["kernel"]["id"], other


async def check_taken_back(server: ServerProcess, session_id: str, kernel_id: str, other: str) -> None:
    async with client_of(server) as client:
        assert {k["id"] for k in await get_json(client, "api/kernels")} == {kernel_id, other}
        sessions = await get_json(client, "api/sessions")
        assert [(s["id"], s["path"], s["kernel"]["id"]) for s in sessions] == [(session_id, "work.ipynb", kernel_id)]
        assert await run(client, kernel_id, "print(x + 1)") == "42\n"
        assert await run(client, other, "print('still here')") == "still here\n"


async def test_kernels_survive_a_killed_server(jcs_cli_server, record: Path) -> None:
    args = f"--KernelService.persistence_file={record}"
    first = jcs_cli_server(args)
    session_id, kernel_id, other = await start_two_kernels(first)
    pids = kernel_pids(record)
    assert set(pids) == {kernel_id, other}
    assert oct(record.stat().st_mode & 0o777) == "0o600"  # it holds the kernels' keys

    first.send_signal(signal.SIGKILL)
    first.wait()
    assert all(alive(pid) for pid in pids.values())

    second = jcs_cli_server(args)
    assert "Took back 2 running kernel(s)" in second.stderr
    await check_taken_back(second, session_id, kernel_id, other)

    # Stopped without --keep-kernels, the server stops them all.
    second.send_signal(signal.SIGTERM)
    assert second.wait() == 0
    await wait_until(lambda: not any(alive(pid) for pid in pids.values()), timeout=20)
    assert json.loads(record.read_text())["kernels"] == {}


async def test_keep_kernels_leaves_them_for_the_next_server(jcs_cli_server, record: Path) -> None:
    args = f"--KernelService.persistence_file={record}"
    first = jcs_cli_server(args, "--keep-kernels")
    session_id, kernel_id, other = await start_two_kernels(first)
    pids = kernel_pids(record)
    first.send_signal(signal.SIGTERM)
    assert first.wait() == 0
    assert all(alive(pid) for pid in pids.values())

    second = jcs_cli_server(args)
    await check_taken_back(second, session_id, kernel_id, other)
    async with client_of(second) as client:
        async with client.post(f"api/kernels/{other}/restart") as response:
            assert response.status == 200  # a taken-back kernel can be restarted
        assert await run(client, other, "print('restarted')") == "restarted\n"


async def test_a_dead_recorded_kernel_is_dropped(jcs_cli_server, record: Path) -> None:
    args = f"--KernelService.persistence_file={record}"
    first = jcs_cli_server(args, "--keep-kernels")
    _, kernel_id, other = await start_two_kernels(first)
    pids = kernel_pids(record)
    first.send_signal(signal.SIGTERM)
    assert first.wait() == 0
    os.kill(pids[other], signal.SIGKILL)
    await wait_until(lambda: not alive(pids[other]), timeout=10)

    second = jcs_cli_server(args)
    async with client_of(second) as client:
        assert [k["id"] for k in await get_json(client, "api/kernels")] == [kernel_id]
    assert set(kernel_pids(record)) == {kernel_id}


async def test_idle_server_stops_itself_but_not_while_a_kernel_runs(jcs_cli_server) -> None:
    server = jcs_cli_server("--CoreServerApp.shutdown_no_activity_timeout=2")
    async with client_of(server) as client:
        kernel_id = await start_kernel(client, name="python3")
        await asyncio.sleep(4)
        assert server.process.poll() is None
        async with client.request("DELETE", f"api/kernels/{kernel_id}") as response:
            assert response.status == 204
    started = time.monotonic()
    assert server.wait(timeout=20) == 0
    assert time.monotonic() - started < 15
    assert "shutdown_no_activity_timeout" in server.stderr


async def test_pooled_kernels_of_a_killed_server_are_stopped_not_taken_back(jcs_cli_server, record: Path) -> None:
    args = f"--KernelService.persistence_file={record}"
    first = jcs_cli_server(args, '--KernelService.pool={"python3": 1}')

    def pooled() -> dict[str, int]:
        kernels = json.loads(record.read_text())["kernels"] if record.exists() else {}
        return {kernel_id: k["provisioner"]["pid"] for kernel_id, k in kernels.items() if k["pooled"]}

    await wait_until(pooled, timeout=60)
    async with client_of(first) as client:
        kernel_id = await start_kernel(client, name="python3")
    assert kernel_id not in pooled()
    await wait_until(pooled, timeout=60)  # refilled
    orphans = pooled()
    first.send_signal(signal.SIGKILL)
    first.wait()

    second = jcs_cli_server(args)
    async with client_of(second) as client:
        assert [k["id"] for k in await get_json(client, "api/kernels")] == [kernel_id]
    await wait_until(lambda: not any(alive(pid) for pid in orphans.values()), timeout=20)
    assert set(kernel_pids(record)) == {kernel_id}


async def test_a_taken_back_kernel_that_dies_is_restarted_and_its_clients_told(jcs_cli_server, record: Path) -> None:
    args = f"--KernelService.persistence_file={record}"
    first = jcs_cli_server(args)
    async with client_of(first) as client:
        kernel_id = await start_kernel(client, name="python3")
    first.send_signal(signal.SIGKILL)
    first.wait()

    second = jcs_cli_server(args)
    async with client_of(second) as client:
        async with open_kernel_channels(client, kernel_id, "v1") as kc:
            assert (await kc.execute("print('attached')")).stream() == "attached\n"
            os.kill(kernel_pids(record)[kernel_id], signal.SIGKILL)
            await kc.receive(
                lambda m: m.msg_type == "status" and m.content.get("execution_state") == "restarting", timeout=30
            )
        assert await run(client, kernel_id, "print('back')") == "back\n"
