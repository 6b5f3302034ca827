"""What the kernel benchmarks (exec, iopub, rss, cpu) share.

Three ways to reach an ipykernel ``python3`` kernel:

- ``WSKernel``: an aiohttp websocket client on ``/api/kernels/{id}/channels`` of ours or
  jupyter_server, speaking either the legacy JSON framing or the
  ``v1.kernel.websocket.jupyter.org`` subprotocol;
- ``DirectKernel``: jupyter_client's ``AsyncKernelClient`` talking ZMQ to a kernel that
  ``AsyncKernelManager`` started in this process, with no server in between (the limit);

and both answer ``await client.execute(code, timeout, collect)`` with an ``ExecResult``:
time from just before the execute_request is sent until the execute_reply *and* the
IOPub ``status: idle`` of that request have both arrived, plus what came back.

jupyter_server is started with ``--ZMQChannelsWebsocketConnection.limit_rate=False``
(in 2.x the IOPub rate limiter's traits live on that class; the ``ServerApp.*`` names
are deprecated aliases), so its output is not truncated by the 1 MB/s / 1000 msg/s
default limits. The iopub benchmark checks that it takes effect.

Every wait is bounded; every server and kernel is ended by the PID or API that started it.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import statistics
import struct
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from contextlib import ExitStack, asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from queue import Empty
from typing import Any, TypeVar

import aiohttp

from common import Context
from servers import JUPYTER_SERVER, OURS, BenchError, ServerProcess, child_pids, proc_cmdline

DIRECT = "direct"
DIRECT_RAW = "direct-raw"
V1_PROTOCOL = "v1.kernel.websocket.jupyter.org"
LEGACY, V1 = "legacy", "v1"
FRAMINGS = (LEGACY, V1)
KERNEL_NAME = "python3"
# jupyter_server 2.x: the rate limiter lives on ZMQChannelsWebsocketConnection (ServerApp.limit_rate is deprecated).
JS_NO_RATE_LIMIT = "--ZMQChannelsWebsocketConnection.limit_rate=False"
KERNEL_START_TIMEOUT = 120.0
HTTP_TIMEOUT = 120.0

T = TypeVar("T")


def server_args(name: str, rate_limit: bool = False) -> list[str]:
    """Extra command-line flags for a kernel benchmark: jupyter_server's rate limiter off."""
    return [JS_NO_RATE_LIMIT] if name == JUPYTER_SERVER and not rate_limit else []


def kernel_servers(ctx: Context) -> list[str]:
    """The servers of this run that kernel benchmarks compare (ours first)."""
    return [n for n in (OURS, JUPYTER_SERVER) if n in ctx.specs]


def percentile(values: Sequence[float], p: float) -> float:
    """Linear-interpolated percentile (``p`` in 0..100) of ``values``."""
    if not values:
        return float("nan")
    data = sorted(values)
    k = (len(data) - 1) * p / 100
    lo = int(k)
    hi = min(lo + 1, len(data) - 1)
    return data[lo] + (data[hi] - data[lo]) * (k - lo)


def med(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


# --------------------------------------------------------------------------------------------
# Workloads


def prints_code(n: int) -> str:
    return f"for i in range({n}):\n    print(i, flush=True)\n"


def lines_code(n: int) -> str:
    return f"for i in range({n}):\n    print(i)\n"


def prints_expected(n: int) -> str:
    return "".join(f"{i}\n" for i in range(n))


def chunks_code(n: int, size: int) -> str:
    return f"import sys\nfor _ in range({n}):\n    sys.stdout.write('x' * {size}); sys.stdout.flush()\n"


# --------------------------------------------------------------------------------------------
# Results


@dataclass
class ExecResult:
    """What one execute_request brought back."""

    seconds: float
    reply_status: str
    iopub_msgs: int = 0  # IOPub messages whose parent is this request
    messages: int = 0  # every message received while waiting (all channels, any parent)
    frame_bytes: int = 0  # websocket payload bytes received (0 for direct ZMQ)
    stdout: list[str] = field(default_factory=list)
    stdout_chars: int = 0
    stream_msgs: int = 0
    stderr: str = ""

    def stdout_text(self) -> str:
        return "".join(self.stdout)


class _Deadline:
    def __init__(self, timeout: float, what: str) -> None:
        self.end = time.monotonic() + timeout
        self.timeout = timeout
        self.what = what

    def remaining(self) -> float:
        left = self.end - time.monotonic()
        if left <= 0:
            raise BenchError(f"{self.what}: no answer within {self.timeout:g} s")
        return left


def _header(msg_type: str, session: str) -> dict[str, Any]:
    return {
        "msg_id": uuid.uuid4().hex,
        "msg_type": msg_type,
        "username": "bench",
        "session": session,
        "date": datetime.now(timezone.utc).isoformat(),
        "version": "5.3",
    }


def _execute_content(code: str) -> dict[str, Any]:
    return {
        "code": code,
        "silent": False,
        "store_history": False,
        "user_expressions": {},
        "allow_stdin": False,
        "stop_on_error": True,
    }


# --------------------------------------------------------------------------------------------
# Websocket client


def encode_v1(channel: str, parts: Sequence[bytes]) -> bytes:
    """v1 framing: u64 LE offset count, the offsets, the channel name, then the parts."""
    chan = channel.encode()
    offsets = [8 * (len(parts) + 3)]
    offsets.append(offsets[0] + len(chan))
    for part in parts:
        offsets.append(offsets[-1] + len(part))
    return b"".join([struct.pack(f"<{len(offsets) + 1}Q", len(offsets), *offsets), chan, *parts])


class WSMsg:
    """One received message; ``content`` is decoded only when asked for (v1 carries raw bytes)."""

    __slots__ = ("_content", "channel", "msg_type", "parent_id")

    def __init__(self, channel: str, msg_type: str, parent_id: str, content: Any) -> None:
        self.channel = channel
        self.msg_type = msg_type
        self.parent_id = parent_id
        self._content = content

    @property
    def content(self) -> dict[str, Any]:
        if isinstance(self._content, (bytes, bytearray)):
            self._content = json.loads(self._content)
        return self._content


def decode_v1(data: bytes) -> WSMsg:
    (count,) = struct.unpack_from("<Q", data)
    offs = struct.unpack_from(f"<{count}Q", data, 8)
    channel = data[offs[0] : offs[1]].decode()
    header = json.loads(data[offs[1] : offs[2]])
    parent = json.loads(data[offs[2] : offs[3]])
    return WSMsg(channel, header.get("msg_type", ""), parent.get("msg_id", ""), data[offs[4] : offs[5]])


def decode_legacy(text: str | bytes) -> WSMsg:
    msg = json.loads(text)
    return WSMsg(
        msg.get("channel", ""),
        msg["header"].get("msg_type", ""),
        (msg.get("parent_header") or {}).get("msg_id", ""),
        msg.get("content") or {},
    )


def decode_legacy_binary(data: bytes) -> WSMsg:
    (count,) = struct.unpack_from("!I", data)
    offs = [*struct.unpack_from(f"!{count}I", data, 4), len(data)]
    return decode_legacy(data[offs[0] : offs[1]])


class WSKernel:
    """One websocket connection to a kernel, in the legacy or v1 framing."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse, framing: str, session_id: str) -> None:
        self.ws = ws
        self.framing = framing
        self.v1 = framing == V1
        self.session_id = session_id
        self.frames = 0
        self.frame_bytes = 0

    @classmethod
    async def connect(
        cls, http: aiohttp.ClientSession, server: ServerProcess, kernel_id: str, framing: str, timeout: float = 60.0
    ) -> WSKernel:
        session_id = uuid.uuid4().hex
        url = f"{server.ws_base_url}/api/kernels/{kernel_id}/channels?session_id={session_id}"
        ws = await asyncio.wait_for(
            http.ws_connect(
                url,
                protocols=(V1_PROTOCOL,) if framing == V1 else (),
                headers=server.headers,
                max_msg_size=0,
                compress=0,
                autoping=True,
                heartbeat=None,
            ),
            timeout,
        )
        got = ws.protocol or LEGACY
        if (got == V1_PROTOCOL) != (framing == V1):
            await ws.close()
            raise BenchError(f"{server.spec.name}: asked for {framing} framing, server chose {got!r}")
        return cls(ws, framing, session_id)

    async def close(self) -> None:
        await asyncio.wait_for(self.ws.close(), 10)

    async def send(self, msg_type: str, content: dict[str, Any], channel: str = "shell") -> str:
        header = _header(msg_type, self.session_id)
        if self.v1:
            parts = [json.dumps(header).encode(), b"{}", b"{}", json.dumps(content).encode()]
            await self.ws.send_bytes(encode_v1(channel, parts))
        else:
            msg = {"header": header, "parent_header": {}, "metadata": {}, "content": content, "channel": channel}
            msg["buffers"] = []
            await self.ws.send_str(json.dumps(msg))
        return header["msg_id"]

    async def recv(self, deadline: _Deadline) -> WSMsg:
        ws = self.ws
        while True:
            m = await ws.receive(timeout=deadline.remaining())
            if m.type == aiohttp.WSMsgType.BINARY:
                self.frames += 1
                self.frame_bytes += len(m.data)
                return decode_v1(m.data) if self.v1 else decode_legacy_binary(m.data)
            if m.type == aiohttp.WSMsgType.TEXT:
                self.frames += 1
                self.frame_bytes += len(m.data)  # characters; the payloads here are ASCII
                return decode_legacy(m.data)
            if m.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSING, aiohttp.WSMsgType.CLOSED):
                raise BenchError(f"websocket closed by the server ({ws.close_code})")
            if m.type == aiohttp.WSMsgType.ERROR:
                raise BenchError(f"websocket error: {ws.exception()}")

    async def kernel_info(self, timeout: float = 60.0) -> None:
        deadline = _Deadline(timeout, "kernel_info_reply")
        msg_id = await self.send("kernel_info_request", {})
        while True:
            msg = await self.recv(deadline)
            if msg.msg_type == "kernel_info_reply" and msg.parent_id == msg_id:
                return

    async def execute(self, code: str, timeout: float, collect: bool = False) -> ExecResult:
        deadline = _Deadline(timeout, "execute_reply + idle over the websocket")
        frames0, bytes0 = self.frames, self.frame_bytes
        t0 = time.perf_counter()
        msg_id = await self.send("execute_request", _execute_content(code))
        status = ""
        idle = False
        res = ExecResult(0.0, "")
        while not (status and idle):
            msg = await self.recv(deadline)
            if msg.parent_id != msg_id:
                continue
            mt = msg.msg_type
            if msg.channel == "iopub":
                res.iopub_msgs += 1
                if mt == "stream":
                    res.stream_msgs += 1
                    if collect:
                        c = msg.content
                        if c.get("name") == "stdout":
                            res.stdout.append(c["text"])
                        else:
                            res.stderr += c.get("text", "")
                elif mt == "status":
                    idle = msg.content.get("execution_state") == "idle"
            elif mt == "execute_reply":
                status = msg.content.get("status", "?")
        res.seconds = time.perf_counter() - t0
        res.reply_status = status
        res.messages = self.frames - frames0
        res.frame_bytes = self.frame_bytes - bytes0
        res.stdout_chars = sum(len(s) for s in res.stdout)
        return res


# --------------------------------------------------------------------------------------------
# Direct ZMQ client


class DirectKernel:
    """A kernel started by jupyter_client's AsyncKernelManager, reached with AsyncKernelClient.

    ``raw=False`` (label ``direct``) is the reference the targets use: the client's own
    ``get_iopub_msg`` / ``get_shell_msg``, which check each message's HMAC and parse its
    dates. ``raw=True`` (label ``direct-raw``, for information) reads the same client's
    ZMQ sockets itself and decodes only what the websocket client decodes (header, parent
    header, and content when needed): the floor with this harness's parsing cost.
    """

    framing = "zmq"

    def __init__(self, raw: bool = False) -> None:
        self.raw = raw
        self._tmp = tempfile.TemporaryDirectory(prefix="bench-direct-")
        self.km: Any = None
        self.kc: Any = None

    async def start(self, timeout: float = KERNEL_START_TIMEOUT) -> None:
        from jupyter_client.manager import AsyncKernelManager

        workdir = Path(self._tmp.name)
        self.km = AsyncKernelManager(kernel_name=KERNEL_NAME, connection_file=str(workdir / "kernel-direct.json"))
        await asyncio.wait_for(self.km.start_kernel(cwd=str(workdir)), timeout)
        self.kc = self.km.client()
        self.kc.start_channels()
        await self.kc.wait_for_ready(timeout=timeout)

    async def stop(self) -> None:
        if self.kc is not None:
            self.kc.stop_channels()
        if self.km is not None:
            try:
                await asyncio.wait_for(self.km.shutdown_kernel(now=False), 30)
            except (asyncio.TimeoutError, RuntimeError):
                await asyncio.wait_for(self.km.shutdown_kernel(now=True), 30)
        self._tmp.cleanup()

    async def _next(self, channel: str, deadline: _Deadline, raw: bool) -> tuple[str, str, Any]:
        """(msg_type, parent msg_id, content) of the next message on ``channel``."""
        kc = self.kc
        if not raw:
            get = kc.get_iopub_msg if channel == "iopub" else kc.get_shell_msg
            try:
                msg = await get(timeout=deadline.remaining())
            except Empty:
                raise BenchError(f"direct kernel: no {channel} message within {deadline.timeout:g} s") from None
            return msg["msg_type"], msg["parent_header"].get("msg_id", ""), msg["content"]
        sock = (kc.iopub_channel if channel == "iopub" else kc.shell_channel).socket
        if not await sock.poll(deadline.remaining() * 1000):
            raise BenchError(f"direct kernel: no {channel} message within {deadline.timeout:g} s")
        frames = await sock.recv_multipart()
        i = frames.index(b"<IDS|MSG>")
        header = json.loads(frames[i + 2])
        parent = json.loads(frames[i + 3])
        return header.get("msg_type", ""), parent.get("msg_id", ""), frames[i + 5]

    async def execute(self, code: str, timeout: float, collect: bool = False, raw: bool | None = None) -> ExecResult:
        raw = self.raw if raw is None else raw
        deadline = _Deadline(timeout, "execute_reply + idle over ZMQ")
        res = ExecResult(0.0, "")
        t0 = time.perf_counter()
        msg_id = self.kc.execute(code, silent=False, store_history=False, allow_stdin=False, stop_on_error=True)
        while True:
            mt, parent_id, content = await self._next("iopub", deadline, raw)
            res.messages += 1
            if parent_id != msg_id:
                continue
            res.iopub_msgs += 1
            if mt == "stream":
                res.stream_msgs += 1
                if collect:
                    c = json.loads(content) if isinstance(content, bytes) else content
                    if c.get("name") == "stdout":
                        res.stdout.append(c["text"])
                    else:
                        res.stderr += c.get("text", "")
            elif mt == "status":
                c = json.loads(content) if isinstance(content, bytes) else content
                if c.get("execution_state") == "idle":
                    break
        while True:
            mt, parent_id, content = await self._next("shell", deadline, raw)
            res.messages += 1
            if parent_id == msg_id and mt == "execute_reply":
                c = json.loads(content) if isinstance(content, bytes) else content
                res.reply_status = c.get("status", "?")
                break
        res.seconds = time.perf_counter() - t0
        res.stdout_chars = sum(len(s) for s in res.stdout)
        return res


# --------------------------------------------------------------------------------------------
# Servers and their kernels


def http_session(server: ServerProcess) -> aiohttp.ClientSession:
    return aiohttp.ClientSession(headers=server.headers, timeout=aiohttp.ClientTimeout(total=HTTP_TIMEOUT))


async def start_kernel(http: aiohttp.ClientSession, server: ServerProcess) -> str:
    url = f"{server.base_url}/api/kernels"
    async with http.post(
        url, json={"name": KERNEL_NAME}, timeout=aiohttp.ClientTimeout(total=KERNEL_START_TIMEOUT)
    ) as r:
        body = await r.text()
        if r.status != 201:
            raise BenchError(f"{server.spec.name}: POST /api/kernels answered {r.status}: {body[:300]}")
        return str(json.loads(body)["id"])


async def delete_kernel(http: aiohttp.ClientSession, server: ServerProcess, kernel_id: str) -> int:
    async with http.delete(f"{server.base_url}/api/kernels/{kernel_id}") as r:
        await r.read()
        return r.status


def kernel_pids(server_pid: int) -> list[int]:
    """Descendants of the server that run ipykernel (kernels may sit below a provisioner shell)."""
    found, todo = [], child_pids(server_pid)
    while todo:
        pid = todo.pop()
        todo += child_pids(pid)
        if any("ipykernel" in a for a in proc_cmdline(pid)):
            found.append(pid)
    return found


@contextmanager
def kernel_server(ctx: Context, name: str, rate_limit: bool = False) -> Iterator[ServerProcess]:
    """A fresh server for one benchmark group; on exit, stop it and make sure its kernels are gone.

    Kernels should be deleted through the API before; any ipykernel process the server
    started that outlives it is ended by its PID (it is ours: our server spawned it).
    """
    server = ServerProcess(ctx.specs[name], extra_args=server_args(name, rate_limit))
    kernels: list[int] = []
    try:
        server.start()
        server.wait_ready(timeout=ctx.args.startup_timeout)
        yield server
    finally:
        if server.pid:
            kernels = kernel_pids(server.pid)
        server.stop()
        _reap(kernels, ctx)


def _reap(pids: list[int], ctx: Context) -> None:
    deadline = time.monotonic() + 10
    alive = list(pids)
    while alive and time.monotonic() < deadline:
        alive = [p for p in alive if any("ipykernel" in a for a in proc_cmdline(p))]
        if alive:
            time.sleep(0.1)
    for pid in alive:
        ctx.log(f"  kernel process {pid} outlived its server; ending it")
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass


@dataclass
class Target:
    """One way to reach a kernel in a round: ``ours legacy``, ``jupyter_server v1``, ``direct zmq`` ..."""

    label: str
    name: str  # server name, DIRECT or DIRECT_RAW
    framing: str
    client: Any  # WSKernel or DirectKernel
    server_pid: int = 0  # 0 for direct
    kernel_pid: int = 0
    raw: bool | None = None  # DirectKernel only

    async def execute(self, code: str, timeout: float, collect: bool = False) -> ExecResult:
        if self.raw is None:
            return await self.client.execute(code, timeout, collect)
        return await self.client.execute(code, timeout, collect, raw=self.raw)


@contextmanager
def fleet(ctx: Context, names: Sequence[str]) -> Iterator[dict[str, ServerProcess]]:
    """Fresh servers for one round (started one after another, all stopped on exit)."""
    with ExitStack() as stack:
        yield {name: stack.enter_context(kernel_server(ctx, name)) for name in names}


@asynccontextmanager
async def open_targets(servers: dict[str, ServerProcess], direct: bool = True) -> AsyncIterator[list[Target]]:
    """One kernel and one websocket per (server, framing), plus a direct kernel read two ways.

    A kernel per framing keeps an idle connection from receiving the other's output. The
    direct kernel is shared by ``direct`` (jupyter_client's reading) and ``direct-raw``.
    """
    targets: list[Target] = []
    sessions: list[tuple[aiohttp.ClientSession, ServerProcess, list[str]]] = []
    kernel: DirectKernel | None = None
    try:
        for name, server in servers.items():
            http = http_session(server)
            ids: list[str] = []
            sessions.append((http, server, ids))
            before = set(kernel_pids(server.pid))
            for framing in FRAMINGS:
                ids.append(await start_kernel(http, server))
                client = await WSKernel.connect(http, server, ids[-1], framing)
                new = [pid for pid in kernel_pids(server.pid) if pid not in before]
                before.update(new)
                pid = new[0] if len(new) == 1 else 0
                targets.append(Target(f"{name} {framing}", name, framing, client, server.pid, pid))
        if direct:
            kernel = DirectKernel()
            await kernel.start()
            pid = int(getattr(kernel.km.provisioner, "pid", 0) or 0)
            targets.append(Target(f"{DIRECT} zmq", DIRECT, "zmq", kernel, 0, pid, raw=False))
            targets.append(Target(f"{DIRECT_RAW} zmq", DIRECT_RAW, "zmq", kernel, 0, pid, raw=True))
        yield targets
    finally:
        for t in targets:
            if isinstance(t.client, WSKernel):
                try:
                    await t.client.close()
                except (asyncio.TimeoutError, aiohttp.ClientError):
                    pass
        for http, server, ids in sessions:
            for kernel_id in ids:
                try:
                    await delete_kernel(http, server, kernel_id)
                except (asyncio.TimeoutError, aiohttp.ClientError):
                    pass
            await http.close()
        if kernel is not None:
            await kernel.stop()


def rotated(items: Sequence[T], n: int) -> list[T]:
    """``items`` rotated by ``n`` and reversed every other time: nobody always goes first or last."""
    k = n % len(items) if items else 0
    out = list(items[k:]) + list(items[:k])
    return out if n % 2 == 0 else out[::-1]


def run_async(coro_fn: Callable[[], Awaitable[T]]) -> T:
    """Run one benchmark group's coroutine in a fresh event loop."""

    async def main() -> T:
        return await coro_fn()

    return asyncio.run(main())


def order_for_round(items: Sequence[str], rnd: int) -> list[str]:
    """Alternate the order between rounds, so nobody always goes first."""
    return list(items) if rnd % 2 == 0 else list(reversed(items))
