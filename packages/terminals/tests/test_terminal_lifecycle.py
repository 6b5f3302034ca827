"""Terminals end with the server, when culled, and never leave a process behind."""

from __future__ import annotations

import asyncio
import signal
import sys

import aiohttp
import pytest
from jupyter_core_server.plugins import PluginManager
from jupyter_core_server.pytest_plugin import CliServer, ServerClient, run_server
from terminal_client import Remote, is_running, kill_all, new_terminal, open_terminal, terminal_names, wait_gone
from traitlets.config import Config

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX ptys and signals")


async def test_sigterm_with_three_terminals_leaves_no_process(jcs_cli_server: CliServer) -> None:
    server = jcs_cli_server()
    pids: list[int] = []
    try:
        async with aiohttp.ClientSession(headers={"Authorization": f"token {server.token}"}) as session:
            remote = Remote(server.url, session)
            names = [await new_terminal(remote) for _ in range(3)]
            clients = [open_terminal(remote, name) for name in names]
            terms = [await client.__aenter__() for client in clients]
            for term in terms:
                pids.append(await term.shell_pid())
            # a foreground job and a background job that ignores SIGHUP, in two of them
            await terms[0].stdin("sleep 900\r")
            await terms[1].stdin('sh -c \'trap "" HUP; echo IG""N=$$; exec sleep 901\' &\r')
            pids.append(int((await terms[1].read_until(r"IGN=(\d+)")).group(1)))
            assert len(set(pids)) == 4 and all(is_running(pid) for pid in pids)

            server.send_signal(signal.SIGTERM)
            # clients still connected: the server must not wait for them
            for term in terms:
                await term.until_closed(timeout=30)
            for client in clients:
                await client.__aexit__(None, None, None)
        assert server.wait(timeout=30) == 0
        assert await wait_gone(pids, timeout=1.0) == [], "terminal processes survived the server"
        assert "Shutting down 3 terminal(s)" in server.stderr
    finally:
        kill_all(pids)


async def test_stopping_an_embedded_server_ends_its_terminals(
    jcs_config: Config, jcs_plugin_manager: PluginManager
) -> None:
    pids: list[int] = []
    try:
        async with run_server(jcs_config, jcs_plugin_manager) as server, aiohttp.ClientSession() as session:
            session.headers["Authorization"] = f"token {server.token}"
            remote = Remote(server.url, session)
            for _ in range(2):
                async with open_terminal(remote, await new_terminal(remote)) as term:
                    pids.append(await term.shell_pid())
        assert [pid for pid in pids if is_running(pid)] == []
    finally:
        kill_all(pids)


@pytest.mark.parametrize(
    "jcs_config", [{"TerminalManager": {"cull_inactive_timeout": 1, "cull_interval": 1}}], indirect=True
)
async def test_idle_terminals_are_culled(jcs_client: ServerClient) -> None:
    idle, busy = await new_terminal(jcs_client), await new_terminal(jcs_client)
    async with open_terminal(jcs_client, idle) as term:
        pid = await term.shell_pid()
    async with open_terminal(jcs_client, busy) as term:
        await term.stdin("while true; do echo tick; sleep 0.3; done\r")  # output is activity
        deadline = asyncio.get_running_loop().time() + 15
        while idle in await terminal_names(jcs_client):
            assert asyncio.get_running_loop().time() < deadline, "the idle terminal was not culled"
            await asyncio.sleep(0.2)
        assert await wait_gone([pid], timeout=5) == []
        assert await terminal_names(jcs_client) == [busy]
        await term.stdin("\x03")


async def test_terminate_timeout_bounds_a_stubborn_process(
    jcs_config: Config, jcs_plugin_manager: PluginManager
) -> None:
    jcs_config.TerminalManager.terminate_timeout = 0.3
    pids: list[int] = []
    try:
        async with run_server(jcs_config, jcs_plugin_manager) as server, aiohttp.ClientSession() as session:
            session.headers["Authorization"] = f"token {server.token}"
            remote = Remote(server.url, session)
            name = await new_terminal(remote)
            async with open_terminal(remote, name) as term:
                # a shell that ignores every polite signal
                await term.stdin("trap '' HUP TERM INT; echo PID''=$$\r")
                pids.append(int((await term.read_until(r"PID=(\d+)")).group(1)))
                start = asyncio.get_running_loop().time()
                async with remote.delete(f"api/terminals/{name}") as response:
                    assert response.status == 204
                assert asyncio.get_running_loop().time() - start < 5
                assert not is_running(pids[0])
    finally:
        kill_all(pids)


async def test_exit_hangs_up_the_jobs_left_behind(jcs_client: ServerClient) -> None:
    pids: list[int] = []
    try:
        name = await new_terminal(jcs_client)
        async with open_terminal(jcs_client, name) as term:
            out = await term.run("sleep 600 & echo BG=$!")
            pids.append(int(out.split("BG=")[1].split()[0]))
            await term.stdin('sh -c \'trap "" HUP; echo IG""N=$$; exec sleep 700\' &\r')
            pids.append(int((await term.read_until(r"IGN=(\d+)")).group(1)))
            await term.stdin("exit\r")
            await term.until_closed()
            assert term.disconnect == ["disconnect", 1]
        # as when a terminal window closes: SIGHUP ends the job, a job that ignores it runs on
        assert await wait_gone(pids[:1], timeout=5) == []
        assert is_running(pids[1])
        assert await terminal_names(jcs_client) == []
    finally:
        kill_all(pids)


async def test_job_control(jcs_client: ServerClient) -> None:
    name = await new_terminal(jcs_client)
    async with open_terminal(jcs_client, name) as term:
        await term.run("true")
        await term.stdin("sleep 600\r")
        await asyncio.sleep(0.3)
        await term.stdin("\x1a")  # Ctrl-Z: the foreground job is stopped
        await term.read_until(r"Stopped")
        await term.stdin("kill %1\r")
        await term.stdin("sleep 601\r")
        await asyncio.sleep(0.3)
        await term.stdin("\x03")  # Ctrl-C: SIGINT to the foreground job only; the shell answers
        assert (await term.run("echo st''ill-here")).strip().endswith("still-here")
