"""HTTP/1.1 over a plain TCP connection, for requests no well-behaved client sends.

Each helper is bounded by a timeout: a server that neither answers nor closes fails the
test instead of hanging it.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any

__all__ = ["RawResponse", "closed_within", "exchange", "read_response"]


@dataclass
class RawResponse:
    """A parsed answer: status code, headers (names lower-cased) and body."""

    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


async def read_response(reader: asyncio.StreamReader, timeout: float = 10) -> RawResponse:
    """Read one response: the head, then ``Content-Length`` bytes (or up to the end of the stream)."""
    async with asyncio.timeout(timeout):
        head = await reader.readuntil(b"\r\n\r\n")
        status_line, *lines = head.decode("latin-1").split("\r\n")
        headers: dict[str, str] = {}
        for line in lines:
            if line:
                name, _, value = line.partition(":")
                key = name.strip().lower()
                # repeated headers are joined, as RFC 9110 allows for list-valued ones
                headers[key] = f"{headers[key]}, {value.strip()}" if key in headers else value.strip()
        status = int(status_line.split(" ", 2)[1])
        if "content-length" in headers:
            body = await reader.readexactly(int(headers["content-length"]))
        elif status in (101, 204, 304):
            body = b""
        else:
            body = await reader.read()
    return RawResponse(status, headers, body)


async def exchange(port: int, data: bytes, timeout: float = 10) -> RawResponse:
    """Send ``data`` on a new connection to ``127.0.0.1:port`` and read one response."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(data)
        await writer.drain()
        return await read_response(reader, timeout)
    finally:
        writer.close()


async def closed_within(reader: asyncio.StreamReader, timeout: float) -> bool:
    """Return whether the server closes the connection (without sending anything) within ``timeout`` s."""
    try:
        async with asyncio.timeout(timeout):
            data = await reader.read(65536)
    except TimeoutError:
        return False
    except ConnectionResetError:
        return True
    return data == b""
