"""``/terminals/websocket/{name}``: the terminado JSON protocol on a real pty."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import aiohttp
import pytest
from jupyter_core_server.pytest_plugin import ServerClient, ServerHandle
from terminal_client import TermClient, new_terminal, open_terminal, terminal_names, wait_until

from jupyter_core_server_terminals.keys import TERMINALS


@pytest.fixture
async def term(jcs_client: ServerClient) -> AsyncIterator[TermClient]:
    name = await new_terminal(jcs_client)
    async with open_terminal(jcs_client, name) as client:
        yield client


async def test_echo_hello(term: TermClient) -> None:
    await term.stdin("echo hel''lo\r")  # the echoed command line says hel''lo; only the output says hello
    await term.read_until(r"[\r\n]hello\r\n")
    assert all(m[0] in ("stdout", "setup") for m in term.messages)


async def test_set_size_reaches_the_program(term: TermClient) -> None:
    await term.send("set_size", 40, 120, 600, 1400)  # frontends add pixel sizes; they are ignored
    assert (await term.run("stty size")).strip() == "40 120"
    await term.send("set_size", 30, 100)
    assert (await term.run("stty size")).strip() == "30 100"


async def test_non_ascii_round_trip(term: TermClient) -> None:
    text = "café ✓ 日本語 🙂"
    await term.stdin(f"echo '{text[:2]}''{text[2:]}'\r")
    await term.read_until(rf"[\r\n]{text}\r\n")


async def test_utf8_split_across_reads_comes_out_whole(term: TermClient) -> None:
    # the two bytes of "é" reach the pty half a second apart: two separate reads
    await term.stdin("printf 'sp''lit:\\303'; sleep 0.5; printf '\\251:end\\n'\r")
    await term.read_until(r"split:é:end")
    assert "\ufffd" not in term.output


async def test_late_joiner_gets_the_scrollback(jcs_client: ServerClient) -> None:
    name = await new_terminal(jcs_client)
    async with open_terminal(jcs_client, name) as first:
        await first.stdin("echo mark''er-1\r")
        await first.read_until(r"marker-1")
        async with open_terminal(jcs_client, name) as late:
            # the scrollback comes right after setup, before any new output
            message = await late.receive()
            assert message is not None and message[0] == "stdout"
            assert "marker-1" in message[1]
            # and both clients see what either one types
            await late.stdin("echo mark''er-2\r")
            await late.read_until(r"[\r\n]marker-2")
            await first.read_until(r"[\r\n]marker-2")


async def test_window_fits_the_smallest_client(jcs_client: ServerClient) -> None:
    name = await new_terminal(jcs_client)
    async with open_terminal(jcs_client, name) as big:
        await big.send("set_size", 50, 200)
        async with open_terminal(jcs_client, name) as small:
            await small.send("set_size", 20, 70)
            assert (await big.run("stty size")).strip() == "20 70"
        # the small client left: the window grows back
        assert (await big.run("stty size")).strip() == "50 200"


async def test_exit_disconnects_and_removes_the_terminal(jcs_client: ServerClient) -> None:
    name = await new_terminal(jcs_client)
    async with open_terminal(jcs_client, name) as term, open_terminal(jcs_client, name) as other:
        await term.run("true")
        await term.stdin("echo by''e; exit\r")
        await term.until_closed()
        await other.until_closed()
    for client in (term, other):
        assert client.disconnect == ["disconnect", 1]
        assert client.messages[-1] == ["disconnect", 1]
    assert "bye" in term.output  # output written just before the exit is delivered
    assert await terminal_names(jcs_client) == []
    with pytest.raises(aiohttp.WSServerHandshakeError) as info:
        async with jcs_client.ws_connect(f"terminals/websocket/{name}"):
            pass
    assert info.value.status == 404


async def test_websocket_to_unknown_terminal_is_a_404(jcs_client: ServerClient) -> None:
    with pytest.raises(aiohttp.WSServerHandshakeError) as info:
        async with jcs_client.ws_connect("terminals/websocket/7"):
            pass
    assert info.value.status == 404


async def test_websocket_needs_credentials(jcs_server: ServerHandle) -> None:
    async with aiohttp.ClientSession() as session:
        async with session.post(
            jcs_server.url + "api/terminals", headers={"Authorization": f"token {jcs_server.token}"}
        ) as r:
            name = (await r.json())["name"]
        with pytest.raises(aiohttp.WSServerHandshakeError) as info:
            async with session.ws_connect(jcs_server.ws_url(f"terminals/websocket/{name}")):
                pass
        assert info.value.status == 403
        # the token in the query, as non-browser clients send it
        async with session.ws_connect(jcs_server.ws_url(f"terminals/websocket/{name}?token={jcs_server.token}")) as ws:
            assert json.loads((await ws.receive(timeout=10)).data) == ["setup", {}]


async def test_malformed_frames_are_ignored(term: TermClient) -> None:
    for frame in (
        "not json",
        "{}",
        "[]",
        "[1, 2]",
        '["stdin"]',
        '["stdin", 5]',
        '["set_size", "x", 3]',
        '["set_size", 0, 80]',
        '["set_size", 40]',
        '["unknown", 1]',
    ):
        await term.ws.send_str(frame)
    await term.ws.send_bytes(b"binary")
    assert (await term.run("echo st''ill")).strip() == "still"


@pytest.mark.parametrize("depth", [1000, 100_000])
async def test_deeply_nested_frames_are_ignored(term: TermClient, depth: int) -> None:
    await term.ws.send_str("[" * depth + "]" * depth)
    await term.ws.send_str('["stdin", ' + "[" * depth + "]" * depth + "]")
    await term.ws.send_str('["set_size", ' + '{"a":' * depth + "1" + "}" * depth + ", 80]")
    assert (await term.run("echo st''ill")).strip() == "still"
    assert not term.ws.closed


async def test_large_paste_is_delivered_in_full(term: TermClient) -> None:
    # far more than the pty's input buffer: the server must wait for the program, not drop input
    await term.stdin("echo re''ady; wc -c\r")
    await term.read_until(r"[\r\n]ready\r\n")  # the tty is in canonical mode for wc now
    line = "x" * 999 + "\n"
    for _ in range(300):
        await term.stdin(line * 4)
    await term.stdin("\x04")  # end of input for wc
    # every byte arrived; the count may follow a partial echo line (the tty drops echoes it
    # cannot write while output is backed up, as any terminal does)
    await term.read_until(r"1200000\r\n", timeout=60)


async def test_stalled_client_pauses_reading(jcs_server: ServerHandle, jcs_client: ServerClient) -> None:
    name = await new_terminal(jcs_client)
    terminal = jcs_server.web_app[TERMINALS].get(name)
    limit = jcs_server.web_app[TERMINALS].settings.output_buffer_size
    async with open_terminal(jcs_client, name) as stalled:
        await stalled.stdin("yes\r")
        # the client does not read: the server queues up to its limit, then stops reading the pty
        await wait_until(lambda: terminal.paused, what="reading paused")
        backlog = [s.backlog for s in terminal.subscribers]
        await asyncio.sleep(0.5)
        assert [s.backlog for s in terminal.subscribers] == backlog, "the queue grew while reading was paused"
        assert all(b <= limit + 65536 for b in backlog)
        await stalled.stdin("\x03")  # input still reaches the program: Ctrl-C ends yes
        # reading it all resumes the terminal
        await stalled.read_until(r"\^C", timeout=60)
        assert not terminal.paused
        assert (await stalled.run("echo ba''ck")).strip() == "back"
