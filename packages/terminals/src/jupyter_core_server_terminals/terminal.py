"""One running terminal on the event loop: output fan-out, scrollback, flow control, input.

Output is read off the event loop's selector (``loop.add_reader``), never by polling,
decoded with an incremental UTF-8 decoder (a character split across two reads comes
out whole) and handed to every :class:`Subscriber`. Each subscriber queues what its
client has not received yet. When one queue passes its limit, the terminal stops
reading the pty until every queue has drained to a quarter of it: the program writing
then blocks in the kernel, as on a slow serial line, instead of the server buffering
without bound. A client that never reads therefore pauses its terminal; other
terminals and kernels are not affected.

Input goes the other way through a small buffer: when the pty does not take it (the
program is not reading), :meth:`Terminal.write` says so and the websocket stops being
read until :meth:`Terminal.input_drained`.
"""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import logging
import os
import signal
import time
from collections import deque
from collections.abc import Callable, Coroutine
from typing import Any

from .process import PtyProcess

__all__ = ["Subscriber", "Terminal"]

log = logging.getLogger("jupyter_core_server.terminals")

READ_SIZE = 65536
INPUT_BUFFER_LIMIT = 65536  # bytes of input waiting for the pty before writers wait
MAX_DIMENSION = 10000  # rows or columns; larger sizes are not terminals


class Subscriber:
    """What one client of a terminal has yet to receive.

    The terminal :meth:`push`\\ es output; the client's writer takes it with
    :meth:`take` (everything queued, joined) and sends it. :attr:`size` is the
    client's window size, if it sent one.
    """

    def __init__(self, terminal: Terminal) -> None:
        self.terminal = terminal
        self.size: tuple[int, int] | None = None
        self.backlog = 0  # characters queued
        self._chunks: deque[str] = deque()
        self._ready = asyncio.Event()
        self._ended = False

    def push(self, text: str) -> None:
        """Queue output for the client."""
        self._chunks.append(text)
        self.backlog += len(text)
        self._ready.set()

    def end(self) -> None:
        """Mark the end of output: :meth:`take` returns ``None`` once the queue is empty."""
        self._ended = True
        self._ready.set()

    async def take(self, limit: int = 1 << 20) -> str | None:
        """Wait for output and return up to about ``limit`` characters of it, or ``None`` at the end."""
        while not self._chunks:
            if self._ended:
                return None
            self._ready.clear()
            await self._ready.wait()
        parts = []
        size = 0
        while self._chunks and size < limit:
            chunk = self._chunks.popleft()
            parts.append(chunk)
            size += len(chunk)
        self.backlog -= size
        self.terminal.subscriber_drained()
        return "".join(parts)


class Terminal:
    """A named shell on a pty, shared by any number of clients.

    :param name: The terminal's name in the REST API.
    :param process: The spawned process; the terminal owns it from now on.
    :param scrollback_size: Characters of recent output kept for clients that connect later.
    :param output_buffer_size: Characters queued per client before reading pauses.
    :param kill_timeout: Seconds processes get after ``SIGHUP`` before ``SIGKILL``.
    :param on_activity: Called (with no argument) on every input and output.
    :param on_close: Called once with the terminal when it has ended and every client
        was told.
    """

    def __init__(
        self,
        name: str,
        process: PtyProcess,
        *,
        scrollback_size: int,
        output_buffer_size: int,
        kill_timeout: float,
        on_activity: Callable[[], None],
        on_close: Callable[[Terminal], None],
    ) -> None:
        self.name = name
        self.process = process
        self.last_activity = time.time()
        self.subscribers: list[Subscriber] = []
        self.exit_status: int | None = None
        self._loop = asyncio.get_running_loop()
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._scrollback: deque[str] = deque()
        self._scrollback_chars = 0
        self._scrollback_size = max(0, scrollback_size)
        self._high_water = max(4096, output_buffer_size)
        self._low_water = self._high_water // 4
        self._kill_timeout = max(0.0, kill_timeout)
        self._on_activity = on_activity
        self._on_close = on_close
        self._reading = False
        self._paused = False
        self._input = bytearray()
        self._input_drained = asyncio.Event()
        self._input_drained.set()
        self._writing = False
        self._ending = False  # no more output will be read
        self._closed = asyncio.Event()
        self._tasks: set[asyncio.Task[None]] = set()
        #: Set when the pty closed while the shell still ran: the task that ends it.
        self.reaper: asyncio.Task[None] | None = None
        self._exit_timer: asyncio.TimerHandle | None = None
        self._exit_fd = process.exit_fd()
        self._start_reading()
        if self._exit_fd is not None:
            self._loop.add_reader(self._exit_fd, self._on_exit)
        else:
            self._spawn(self._poll_exit())

    def _spawn(self, coroutine: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        task = asyncio.create_task(coroutine)
        self._tasks.add(task)  # the loop only keeps weak references to tasks
        task.add_done_callback(self._tasks.discard)
        return task

    # -- state ----------------------------------------------------------------------------------

    @property
    def closed(self) -> bool:
        """Whether the terminal has ended (its clients were told)."""
        return self._closed.is_set()

    @property
    def paused(self) -> bool:
        """Whether reading is paused because a client is behind."""
        return self._paused

    def touch(self) -> None:
        """Record activity now (the terminal's and the server's)."""
        self.last_activity = time.time()
        self._on_activity()

    # -- output ---------------------------------------------------------------------------------

    def _start_reading(self) -> None:
        if not self._reading and not self._ending and self.process.fd >= 0:
            self._loop.add_reader(self.process.fd, self._on_readable)
            self._reading = True

    def _stop_reading(self) -> None:
        if self._reading:
            self._loop.remove_reader(self.process.fd)
            self._reading = False

    def _on_readable(self) -> None:
        # One read per wake-up, even when more is waiting: the event loop serves kernels
        # and other terminals in between, and the program writing is paced by it.
        try:
            data = self.process.read(READ_SIZE)
        except OSError as exc:
            log.warning("Terminal %s: reading failed: %s", self.name, exc)
            data = b""
        if data is None:
            return
        if not data:  # every process closed the pty
            self._finish()
            return
        self._emit(self._decoder.decode(data))
        if any(s.backlog > self._high_water for s in self.subscribers):
            self._paused = True
            self._stop_reading()

    def _emit(self, text: str) -> None:
        if not text:
            return
        self.touch()
        if self._scrollback_size:
            self._scrollback.append(text)
            self._scrollback_chars += len(text)
            while self._scrollback_chars - len(self._scrollback[0]) >= self._scrollback_size:
                self._scrollback_chars -= len(self._scrollback.popleft())
        for subscriber in self.subscribers:
            subscriber.push(text)

    def scrollback(self) -> str:
        """Return the recent output kept for late joiners (at most ``scrollback_size`` characters).

        When older output had to be cut, the text starts after the first line break
        past the cut, so that a client does not begin with half an escape sequence.
        """
        text = "".join(self._scrollback)
        if len(text) > self._scrollback_size:
            text = text[len(text) - self._scrollback_size :]
            newline = text.find("\n")
            if newline >= 0:
                text = text[newline + 1 :]
        return text

    def subscriber_drained(self) -> None:
        """Resume reading once every client is within a quarter of its queue limit."""
        if self._paused and all(s.backlog <= self._low_water for s in self.subscribers):
            self._paused = False
            self._start_reading()

    # -- clients --------------------------------------------------------------------------------

    def subscribe(self) -> Subscriber:
        """Attach a client; its queue starts with the scrollback."""
        subscriber = Subscriber(self)
        backlog = self.scrollback()
        if backlog:
            subscriber.push(backlog)
        if self.closed:
            subscriber.end()
        else:
            self.subscribers.append(subscriber)
        return subscriber

    def unsubscribe(self, subscriber: Subscriber) -> None:
        """Detach a client; the window is fitted to the remaining clients."""
        with contextlib.suppress(ValueError):
            self.subscribers.remove(subscriber)
        self.subscriber_drained()
        self.fit_size()

    def set_client_size(self, subscriber: Subscriber, rows: int, cols: int) -> None:
        """Record a client's window size and fit the terminal to the clients.

        :raises ValueError: for a size that no screen has.
        """
        if not (0 < rows <= MAX_DIMENSION and 0 < cols <= MAX_DIMENSION):
            raise ValueError(f"window size {rows}x{cols} is out of range")
        subscriber.size = (rows, cols)
        self.fit_size()

    def fit_size(self) -> None:
        """Size the pty to the smallest client, as terminado does.

        A window smaller than a client's leaves some of its space unused; a larger
        one would wrap lines wrongly on the smaller client.
        """
        sizes = [s.size for s in self.subscribers if s.size is not None]
        if not sizes or self.process.fd < 0:
            return
        rows = min(r for r, _ in sizes)
        cols = min(c for _, c in sizes)
        try:
            if self.process.get_size() != (rows, cols):
                self.process.set_size(rows, cols)
        except OSError as exc:
            log.debug("Terminal %s: cannot resize: %s", self.name, exc)

    # -- input ----------------------------------------------------------------------------------

    def write(self, text: str) -> bool:
        """Send ``text`` to the process as typed input.

        :returns: ``False`` when input is piling up because the program is not reading
            it; the caller should then wait for :meth:`input_drained` before writing
            more, as a real terminal would make a paste wait.
        """
        if self._ending or not text:
            return True
        self.touch()
        # A lone surrogate (half of an emoji a client split) cannot be encoded; replace it.
        self._input += text.encode("utf-8", errors="replace")
        self._flush_input()
        return len(self._input) <= INPUT_BUFFER_LIMIT

    async def input_drained(self) -> None:
        """Wait until the pty has taken most of the pending input, or the terminal ended."""
        while len(self._input) > INPUT_BUFFER_LIMIT and not self._ending:
            self._input_drained.clear()
            await self._input_drained.wait()

    def _flush_input(self) -> None:
        while self._input and self.process.fd >= 0:
            try:
                written = self.process.write(self._input[:READ_SIZE])
            except OSError as exc:
                log.debug("Terminal %s: input dropped: %s", self.name, exc)
                self._input.clear()
                break
            if not written:
                break
            del self._input[:written]
        if self._input and not self._writing and self.process.fd >= 0:
            self._loop.add_writer(self.process.fd, self._flush_input)
            self._writing = True
        elif not self._input and self._writing:
            self._loop.remove_writer(self.process.fd)
            self._writing = False
        if len(self._input) <= INPUT_BUFFER_LIMIT:
            self._input_drained.set()

    # -- the end --------------------------------------------------------------------------------

    def _on_exit(self) -> None:
        """The process exited. Its last output may still be on its way through the pty:
        read on until the pty reports end of file, or for at most half a second (a
        background job may keep the pty open)."""
        if self._exit_fd is not None:
            self._loop.remove_reader(self._exit_fd)
        self.exit_status = self.process.poll()
        if self._exit_timer is None:
            self._exit_timer = self._loop.call_later(0.5, self._finish)

    async def _poll_exit(self) -> None:
        while self.process.poll() is None:
            await asyncio.sleep(0.5)
        self._on_exit()

    def _finish(self) -> None:
        """The process ended or closed the pty: deliver the last output, tell the clients, hang up."""
        if self._ending:
            return
        self._ending = True
        self._stop_reading()
        with contextlib.suppress(OSError):
            # Bounded: a background job may still be writing (it gets SIGHUP below).
            for _ in range(16):
                if self.process.fd < 0 or not (data := self.process.read(READ_SIZE)):
                    break
                self._emit(self._decoder.decode(data))
        self._emit(self._decoder.decode(b"", final=True))
        self._release()
        # As when a terminal window closes: every job left in the session gets SIGHUP.
        self.process.hang_up()
        self.exit_status = self.process.poll()
        log.info("Terminal %s closed (exit status %s)", self.name, self.exit_status)
        if self.exit_status is None:  # the pty was closed but the shell runs on: end it
            self.reaper = self._spawn(self._reap_shell())
        self._end_clients()

    async def _reap_shell(self) -> None:
        deadline = time.monotonic() + self._kill_timeout
        while self.process.poll() is None and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        if self.process.poll() is None:
            self.process.signal_group(signal.SIGKILL)
            await self._wait_reaped()
        self.exit_status = self.process.poll()

    async def _wait_reaped(self) -> None:
        for _ in range(200):  # SIGKILL cannot be ignored: a matter of milliseconds
            if self.process.poll() is not None:
                return
            await asyncio.sleep(0.01)

    def _release(self) -> None:
        if self._exit_timer is not None:
            self._exit_timer.cancel()
        if self._writing:
            self._loop.remove_writer(self.process.fd)
            self._writing = False
        self._input.clear()
        self._input_drained.set()
        self.process.close_fd()
        if self._exit_fd is not None:
            self._loop.remove_reader(self._exit_fd)
            with contextlib.suppress(OSError):
                os.close(self._exit_fd)
            self._exit_fd = None

    def _end_clients(self) -> None:
        for subscriber in self.subscribers:
            subscriber.end()
        self.subscribers.clear()
        self._closed.set()
        self._on_close(self)

    async def terminate(self) -> None:
        """End the terminal and every process in its session; return once they are gone.

        Closing the pty and ``SIGHUP`` to every job ask politely; whatever is left in
        the session after ``kill_timeout`` seconds gets ``SIGKILL``. Processes that left
        the session (``setsid``, daemons) are out of reach, as in any terminal.
        """
        if not self._ending:
            self._ending = True
            self._stop_reading()
            self._release()
            self.process.hang_up()
            self.process.signal_group(signal.SIGTERM)
        deadline = time.monotonic() + self._kill_timeout
        while time.monotonic() < deadline and (self.process.poll() is None or self.process.session_pids()):
            await asyncio.sleep(0.05)
        self.process.kill_session()
        await self._wait_reaped()
        for _ in range(100):  # SIGKILL is delivered asynchronously: wait until the session is empty
            if not self.process.session_pids():
                break
            await asyncio.sleep(0.01)
            self.process.kill_session()
        self.exit_status = self.process.poll()
        for task in list(self._tasks):
            if task is not asyncio.current_task():
                task.cancel()
        if not self.closed:
            log.info("Terminal %s ended (exit status %s)", self.name, self.exit_status)
            self._end_clients()

    async def wait_closed(self) -> None:
        """Wait until the terminal has ended and its clients were told."""
        await self._closed.wait()
