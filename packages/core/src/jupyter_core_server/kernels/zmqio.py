"""ZMQ sockets driven straight from the asyncio event loop.

``zmq.asyncio`` costs a future, a poller registration and a task switch per message;
on the IOPub hot path that was half the server's CPU. Here a socket's file descriptor
is watched with ``loop.add_reader`` and every waiting message is read in one go with
non-blocking receives. ZMQ's descriptor is edge-triggered, so the socket is drained
again after each send, when ZMQ may have taken in messages without signalling.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import zmq

__all__ = ["LoopSocket"]

_BATCH = 500  # messages read per wake-up before yielding to other callbacks
_SEND_TIMEOUT = 10.0


class LoopSocket:
    """A plain ZMQ socket whose incoming messages are delivered to ``on_message`` on the loop."""

    def __init__(self, socket: zmq.Socket[bytes], on_message: Callable[[list[bytes]], None]) -> None:
        self.socket = socket
        self.on_message = on_message
        self.loop = asyncio.get_running_loop()
        self.fd = int(socket.getsockopt(zmq.FD))
        self.closed = False
        self.loop.add_reader(self.fd, self.drain)
        # Messages that arrived before the reader was added raised no edge: look now.
        self.loop.call_soon(self.drain)

    def drain(self) -> None:
        """Read every waiting message (up to a batch; the rest on the next loop turn)."""
        if self.closed:
            return
        socket, deliver = self.socket, self.on_message
        for _ in range(_BATCH):
            try:
                frames = socket.recv_multipart(zmq.NOBLOCK)
            except zmq.Again:
                return
            except zmq.ZMQError:
                return
            deliver(frames)
        self.loop.call_soon(self.drain)

    async def send(self, frames: list[bytes]) -> None:
        """Send a multipart message; wait (bounded) while ZMQ's send queue is full."""
        deadline = time.monotonic() + _SEND_TIMEOUT
        while True:
            try:
                self.socket.send_multipart(frames, zmq.NOBLOCK)
                break
            except zmq.Again:
                if time.monotonic() > deadline:
                    raise TimeoutError("the kernel did not take a message within 10 s") from None
                await asyncio.sleep(0.005)
        self.loop.call_soon(self.drain)

    def close(self) -> None:
        """Stop watching and close the socket."""
        if not self.closed:
            self.closed = True
            self.loop.remove_reader(self.fd)
            self.socket.close(linger=0)
