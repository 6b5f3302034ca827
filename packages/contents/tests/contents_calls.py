"""Small request helpers shared by the contents tests."""

from __future__ import annotations

import io
import json
from typing import Any

from jupyter_core_server.pytest_plugin import ServerClient


async def call(client: ServerClient, method: str, path: str, **kwargs: Any) -> tuple[int, Any]:
    """Send a request; return the status and the decoded JSON body (``None`` when empty)."""
    async with client.request(method, path, **kwargs) as response:
        raw = await response.read()
        if not raw:
            return response.status, None
        return response.status, await response.json(content_type=None)


def text_model(content: str) -> dict[str, Any]:
    """The body of a text file save."""
    return {"type": "file", "format": "text", "content": content}


def large_json(body: Any) -> dict[str, Any]:
    """Request arguments for a large JSON body (aiohttp warns about raw bytes over 1 MiB)."""
    return {"data": io.BytesIO(json.dumps(body).encode()), "headers": {"Content-Type": "application/json"}}
