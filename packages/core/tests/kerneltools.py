"""Kernel helpers of the core's tests that plugin authors do not need.

The kernel websocket client itself is public: ``jupyter_core_server.pytest_plugin``
(:class:`~jupyter_core_server.pytest_plugin.KernelChannels`, ``open_kernel_channels``).
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = ["python_kernelspec", "wait_until"]


async def wait_until(condition: Callable[[], Any], timeout: float = 10.0, interval: float = 0.05) -> Any:
    """Poll an async or plain ``condition`` until it is truthy; return its value."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"condition not met within {timeout} s")
        await asyncio.sleep(interval)


def python_kernelspec(jupyter_path: Path, name: str, display_name: str, **metadata: Any) -> str:
    """Write an ipykernel kernelspec ``name`` under ``jupyter_path/kernels``; return ``name``.

    Put ``jupyter_path`` on ``JUPYTER_PATH`` before the server starts so that it is found.
    """
    spec_dir = jupyter_path / "kernels" / name
    spec_dir.mkdir(parents=True)
    spec = {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": display_name,
        "language": "python",
        "metadata": metadata,
    }
    (spec_dir / "kernel.json").write_text(json.dumps(spec))
    return name
