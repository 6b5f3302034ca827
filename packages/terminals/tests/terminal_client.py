"""Test helpers: a terminado-protocol websocket client and process checks.

Written from the protocol description (JSON arrays ``["stdin", text]``,
``["set_size", rows, cols]`` in; ``["setup", {}]``, ``["stdout", text]``,
``["disconnect", code]`` out), not from the server's code.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import signal
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, Protocol

import aiohttp

__all__ = [
    "TIMEOUT",
    "Client",
    "Remote",
    "TermClient",
    "is_running",
    "kill_all",
    "new_terminal",
    "open_terminal",
    "rss_kib",
    "terminal_names",
    "wait_gone",
    "wait_until",
]

TIMEOUT = 20.0


class TermClient:
    """One websocket client of a terminal; collects output as it reads."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self.messages: list[list[Any]] = []
        self.output = ""
        self.disconnect: list[Any] | None = None

    async def send(self, *message: Any) -> None:
        await self.ws.send_str(json.dumps(list(message)))

    async def stdin(self, text: str) -> None:
        await self.send("stdin", text)

    async def receive(self, timeout: float = TIMEOUT) -> list[Any] | None:
        """Return the next message, or ``None`` once the socket is closed."""
        frame = await self.ws.receive(timeout=timeout)
        if frame.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSING, aiohttp.WSMsgType.CLOSED):
            return None
        assert frame.type == aiohttp.WSMsgType.TEXT, f"unexpected frame {frame!r}"
        message = json.loads(frame.data)
        assert isinstance(message, list) and message and isinstance(message[0], str), message
        self.messages.append(message)
        if message[0] == "stdout":
            self.output += message[1]
        elif message[0] == "disconnect":
            self.disconnect = message
        return message

    async def read_until(self, pattern: str, timeout: float = TIMEOUT) -> re.Match[str]:
        """Read until the collected output matches ``pattern`` (a regex); return the match."""
        deadline = time.monotonic() + timeout
        regex = re.compile(pattern)
        while not (match := regex.search(self.output)):
            left = deadline - time.monotonic()
            try:
                closed = left <= 0 or await self.receive(left) is None
            except asyncio.TimeoutError:
                closed = True
            if closed:
                raise AssertionError(f"no {pattern!r} within {timeout}s; output so far:\n{self.output[-2000:]!r}")
        return match

    async def run(self, command: str, timeout: float = TIMEOUT) -> str:
        """Type ``command`` and return its output (``\r\n`` line ends, as a terminal shows them).

        The output is framed by two markers that are split by quotes in the typed text
        (``'ab''cd'``), so the terminal's echo of the command line never matches.
        """
        a, b = uuid.uuid4().hex[:8], uuid.uuid4().hex[:8]
        await self.stdin(f"echo '{a}''{b}'; {command}; echo '{b}''{a}'\r")
        return (await self.read_until(rf"(?s){a}{b}\r\n(.*?){b}{a}", timeout)).group(1)

    async def shell_pid(self) -> int:
        """Ask the shell for its process id."""
        await self.stdin("echo PID''=$$\r")
        return int((await self.read_until(r"PID=(\d+)")).group(1))

    async def until_closed(self, timeout: float = TIMEOUT) -> None:
        """Read until the server closes the socket."""
        deadline = time.monotonic() + timeout
        while await self.receive(max(0.01, deadline - time.monotonic())) is not None:
            pass


class Client(Protocol):
    """What the helpers need of a client: ``jcs_client``, or a :class:`Remote`."""

    def ws_connect(self, path: str, **kwargs: Any) -> Any: ...


class Remote:
    """A client of a server in another process, with ``jcs_client``'s path-relative methods."""

    def __init__(self, url: str, session: aiohttp.ClientSession) -> None:
        self.url = url  # ends with "/"
        self.session = session

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        return self.session.request(method, self.url + path, **kwargs)

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> Any:
        return self.request("POST", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> Any:
        return self.request("DELETE", path, **kwargs)

    def ws_connect(self, path: str, **kwargs: Any) -> Any:
        return self.session.ws_connect("ws" + self.url[4:] + path, **kwargs)


@contextlib.asynccontextmanager
async def open_terminal(client: Client, name: str) -> AsyncIterator[TermClient]:
    """Connect to terminal ``name``'s websocket; check that ``setup`` comes first."""
    async with client.ws_connect(f"terminals/websocket/{name}") as ws:
        term = TermClient(ws)
        first = await term.receive()
        assert first == ["setup", {}], first
        yield term


async def new_terminal(client: Any, **body: Any) -> str:
    """Create a terminal through REST; return its name."""
    async with client.post("api/terminals", json=body) as response:
        assert response.status == 200, await response.text()
        model = await response.json()
    assert set(model) == {"name", "last_activity"}, model
    return str(model["name"])


async def terminal_names(client: Any) -> list[str]:
    """The names ``GET /api/terminals`` lists."""
    async with client.get("api/terminals") as response:
        assert response.status == 200, await response.text()
        return [model["name"] for model in await response.json()]


# -- processes ----------------------------------------------------------------------------------


def is_running(pid: int) -> bool:
    """Whether ``pid`` is a live process (a zombie counts as gone)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state != "Z"


async def wait_gone(pids: list[int], timeout: float) -> list[int]:
    """Wait until none of ``pids`` runs; return those still running at the timeout."""
    deadline = time.monotonic() + timeout
    while (alive := [p for p in pids if is_running(p)]) and time.monotonic() < deadline:
        await asyncio.sleep(0.02)
    return alive


def kill_all(pids: list[int]) -> None:
    """Never leave a process behind, even when a test fails."""
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)


def rss_kib(pid: int) -> int:
    """Resident set size of ``pid`` in KiB (Linux ``/proc``)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError(f"no VmRSS for {pid}")


async def wait_until(predicate: Any, timeout: float = TIMEOUT, what: str = "condition") -> None:
    """Poll an async or plain predicate until it is true."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return
        assert time.monotonic() < deadline, f"{what} not met within {timeout}s"
        await asyncio.sleep(0.05)
