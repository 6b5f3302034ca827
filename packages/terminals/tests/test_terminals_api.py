"""``/api/terminals``: models, names, working directories and errors, as jupyter_server's terminals."""

from __future__ import annotations

import os
import re
import shutil
from datetime import datetime
from pathlib import Path

import pytest
from jupyter_core_server import keys
from jupyter_core_server.pytest_plugin import ServerClient, ServerHandle
from terminal_client import is_running, kill_all, new_terminal, open_terminal, terminal_names, wait_until

from jupyter_core_server_terminals.config import default_shell_command
from jupyter_core_server_terminals.keys import TERMINALS

ISO_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")


async def test_empty_list(jcs_client: ServerClient) -> None:
    async with jcs_client.get("api/terminals") as response:
        assert response.status == 200
        assert response.content_type == "application/json"
        assert await response.json() == []


async def test_create_get_list_delete(jcs_client: ServerClient) -> None:
    async with jcs_client.post("api/terminals") as response:  # no body at all
        assert response.status == 200
        model = await response.json()
    assert model["name"] == "1"
    assert ISO_Z.match(model["last_activity"]), model
    assert await new_terminal(jcs_client) == "2"

    async with jcs_client.get("api/terminals/1") as response:
        assert response.status == 200
        assert (await response.json())["name"] == "1"
    assert await terminal_names(jcs_client) == ["1", "2"]

    async with jcs_client.delete("api/terminals/1") as response:
        assert response.status == 204
    assert await terminal_names(jcs_client) == ["2"]
    # the smallest free number is reused, as terminado names terminals
    assert await new_terminal(jcs_client) == "1"


async def test_unknown_terminal_is_a_json_404(jcs_client: ServerClient) -> None:
    for method in ("GET", "DELETE"):
        async with jcs_client.request(method, "api/terminals/42") as response:
            assert response.status == 404
            assert response.content_type == "application/json"
            body = await response.json()
        assert body["reason"] == "no_such_terminal"
        assert "42" in body["message"]


async def test_chosen_name(jcs_client: ServerClient) -> None:
    assert await new_terminal(jcs_client, name="build_1") == "build_1"
    # asking again for a running name returns that terminal instead of a second one
    assert await new_terminal(jcs_client, name="build_1") == "build_1"
    assert await terminal_names(jcs_client) == ["build_1"]
    assert await new_terminal(jcs_client) == "1"


@pytest.mark.parametrize("body", [{"name": "a b"}, {"name": "../x"}, {"name": 7}, {"name": "x" * 101}])
async def test_invalid_name_is_refused(jcs_client: ServerClient, body: dict[str, object]) -> None:
    async with jcs_client.post("api/terminals", json=body) as response:
        assert response.status == 400
        assert (await response.json())["reason"] == "invalid_terminal_name"
    assert await terminal_names(jcs_client) == []


@pytest.mark.parametrize("raw", [b"[1, 2]", b"{not json", b'{"cwd": 3}'])
async def test_invalid_body_is_refused(jcs_client: ServerClient, raw: bytes) -> None:
    async with jcs_client.post("api/terminals", data=raw, headers={"Content-Type": "application/json"}) as response:
        assert response.status == 400
        body = await response.json()
    assert set(body) >= {"message", "reason"}
    assert await terminal_names(jcs_client) == []


async def test_cwd_is_relative_to_the_root(jcs_server: ServerHandle, jcs_client: ServerClient) -> None:
    root = Path(jcs_server.app.root_dir)
    (root / "work" / "deep").mkdir(parents=True)
    cases = {
        "work/deep": root / "work" / "deep",
        str(root / "work"): root / "work",  # absolute, inside the root
        "missing/dir": root,  # not a directory: the root, as jupyter_server does
        "": root,
    }
    for cwd, expected in cases.items():
        name = await new_terminal(jcs_client, cwd=cwd)
        async with open_terminal(jcs_client, name) as term:
            assert (await term.run("pwd -P")).strip() == str(expected.resolve())


@pytest.mark.parametrize("cwd", ["..", "work/../..", "/", "link_out"])
async def test_cwd_outside_the_root_is_refused(jcs_server: ServerHandle, jcs_client: ServerClient, cwd: str) -> None:
    root = Path(jcs_server.app.root_dir)
    (root / "work").mkdir()
    (root / "link_out").symlink_to(root.parent)
    async with jcs_client.post("api/terminals", json={"cwd": cwd}) as response:
        assert response.status == 400
        body = await response.json()
    assert body["reason"] == "cwd_outside_root"
    assert cwd in body["message"]
    assert await terminal_names(jcs_client) == []


@pytest.mark.parametrize("cwd", ["~nosuchuser", "~nosuchuser/work", "loop", "loop/below", "work\x00x"])
async def test_unusable_cwd_is_refused(jcs_server: ServerHandle, jcs_client: ServerClient, cwd: str) -> None:
    root = Path(jcs_server.app.root_dir)
    (root / "work").mkdir()
    (root / "loop").symlink_to(root / "loop_back")  # loop -> loop_back -> loop
    (root / "loop_back").symlink_to(root / "loop")
    async with jcs_client.post("api/terminals", json={"cwd": cwd}) as response:
        assert response.status == 400, await response.text()
        assert response.content_type == "application/json"
        body = await response.json()
    assert body["reason"] == "invalid_cwd"
    assert "Traceback" not in body["message"]
    assert await terminal_names(jcs_client) == []


async def test_environment(jcs_server: ServerHandle, jcs_client: ServerClient) -> None:
    name = await new_terminal(jcs_client)
    async with open_terminal(jcs_client, name) as term:
        out = await term.run('printf "%s|%s|%s" "$TERM" "$JUPYTER_SERVER_ROOT" "$JUPYTER_SERVER_URL"')
    assert out.split("|") == ["xterm-256color", jcs_server.app.root_dir, jcs_server.url]


async def test_delete_kills_the_whole_session(jcs_client: ServerClient) -> None:
    name = await new_terminal(jcs_client)
    pids: list[int] = []
    try:
        async with open_terminal(jcs_client, name) as term:
            pids.append(await term.shell_pid())
            # a background job, and a process that ignores SIGHUP (it says so once it does)
            out = await term.run("sleep 600 & echo BG=$!")
            pids.append(int(re.findall(r"BG=(\d+)", out)[0]))
            await term.stdin('sh -c \'trap "" HUP; echo IG""N=$$; exec sleep 700\' &\r')
            pids.append(int((await term.read_until(r"IGN=(\d+)")).group(1)))
            assert len(pids) == 3 and all(is_running(p) for p in pids)
            async with jcs_client.delete(f"api/terminals/{name}") as response:
                assert response.status == 204
            # DELETE answers once the processes are gone
            assert [p for p in pids if is_running(p)] == []
            await term.until_closed()
            assert term.disconnect == ["disconnect", 1]
        assert await terminal_names(jcs_client) == []
    finally:
        kill_all(pids)


async def test_last_activity_follows_input_and_output(jcs_client: ServerClient) -> None:
    name = await new_terminal(jcs_client)

    async def last_activity() -> datetime:
        async with jcs_client.get(f"api/terminals/{name}") as response:
            return datetime.fromisoformat((await response.json())["last_activity"].replace("Z", "+00:00"))

    async def server_activity() -> datetime:
        async with jcs_client.get("api/status") as response:  # /api/status itself is not activity
            return datetime.fromisoformat((await response.json())["last_activity"].replace("Z", "+00:00"))

    async with open_terminal(jcs_client, name) as term:
        await term.run("true")
        before, server_before = await last_activity(), await server_activity()
        # output only, no request: the shell prints a second later
        await term.stdin("sleep 1; echo la''ter\r")
        await term.read_until(r"later")
        assert await last_activity() > before
        assert await server_activity() > server_before


async def test_terminal_use_is_the_servers_terminals_activity(
    jcs_server: ServerHandle, jcs_client: ServerClient
) -> None:
    registry = jcs_server.web_app[keys.STATE].activity
    name = await new_terminal(jcs_client)
    async with open_terminal(jcs_client, name) as term:
        await term.run("true")
        before = registry.times()
        await term.stdin("sleep 1; echo la''ter\r")  # output a second later, and no request
        await term.read_until(r"later")
        used = registry.times()
        assert used["terminals"] > before["terminals"]
        assert used["requests"] == before["requests"]
        assert registry.latest() >= used["terminals"]
        await term.stdin("exit\r")
        await wait_until(lambda: name not in jcs_server.web_app[TERMINALS].terminals, what="the shell to end")
    # a terminal that ended still counts: its last use was real
    assert registry.times()["terminals"] >= used["terminals"]


@pytest.mark.parametrize("jcs_config", [{"TerminalManager": {"shell_command": ["/nonexistent/shell"]}}], indirect=True)
async def test_bad_shell_command_is_a_500(jcs_client: ServerClient) -> None:
    async with jcs_client.post("api/terminals") as response:
        assert response.status == 500
        body = await response.json()
    assert body["reason"] == "terminal_start_failed"
    assert "/nonexistent/shell" in body["message"]
    assert await terminal_names(jcs_client) == []


@pytest.mark.parametrize(
    "jcs_config",
    [{"TerminalManager": {"shell_command": ["/bin/sh", "-c", "echo con''figured=$0; exec /bin/sh"]}}],
    indirect=True,
)
async def test_configured_shell_command(jcs_client: ServerClient) -> None:
    name = await new_terminal(jcs_client)
    async with open_terminal(jcs_client, name) as term:
        await term.read_until(r"configured=/bin/sh")


@pytest.mark.parametrize("jcs_config", [{"TerminalManager": {"shell_command": []}}], indirect=True)
async def test_default_shell_is_the_users_login_shell(jcs_client: ServerClient) -> None:
    # the server does not run in a terminal here (pytest captures its output): a login shell
    shell = os.environ.get("SHELL") or shutil.which("sh")
    name = await new_terminal(jcs_client)
    async with open_terminal(jcs_client, name) as term:
        args = (await term.run("tr '\\0' ' ' < /proc/$$/cmdline", timeout=60)).split()
    assert args == [shell, "-l"]


def test_default_shell_command() -> None:
    assert default_shell_command({"SHELL": "/usr/bin/zsh"}, interactive=False) == ["/usr/bin/zsh", "-l"]
    assert default_shell_command({"SHELL": "/usr/bin/zsh"}, interactive=True) == ["/usr/bin/zsh"]
    assert default_shell_command({}, interactive=True) == [shutil.which("sh") or "/bin/sh"]
