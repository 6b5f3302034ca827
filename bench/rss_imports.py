"""Resident memory that importing the server's dependencies costs, one import after another.

    python bench/rss_imports.py                 # the server's import chain
    python bench/rss_imports.py aiohttp.web zmq # any modules, in this order

Each line is VmRSS (and its anonymous / file-backed parts) after importing that module
in this fresh interpreter, with the increase over the line before. The server process
cannot use less than the last line at idle; the rss benchmark compares the rest.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

DEFAULT = [
    "ssl",
    "asyncio",
    "aiohttp",
    "aiohttp.web",
    "zmq",
    "zmq.asyncio",
    "traitlets.config",
    "jupyter_core.paths",
    "jupyter_client.session",
    "jupyter_client.multikernelmanager",
    "yaml",
    "sqlite3",
    "jupyter_core_server.app",
    "jupyter_core_server.cli",
]


def status() -> dict[str, float]:
    out = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key = line.split(":", 1)[0]
        if key in ("VmRSS", "RssAnon", "RssFile"):
            out[key] = int(line.split()[1]) / 1024
    return out


def main() -> int:
    modules = sys.argv[1:] or DEFAULT
    prev = status()
    print(f"{'module':36s} {'VmRSS':>7s} {'anon':>6s} {'file':>6s} {'+RSS':>6s}")
    print(f"{'(interpreter)':36s} {prev['VmRSS']:7.1f} {prev['RssAnon']:6.1f} {prev['RssFile']:6.1f}")
    for name in modules:
        importlib.import_module(name)
        now = status()
        print(
            f"{name:36s} {now['VmRSS']:7.1f} {now['RssAnon']:6.1f} {now['RssFile']:6.1f} "
            f"{now['VmRSS'] - prev['VmRSS']:+6.1f}"
        )
        prev = now
    print(f"{len(sys.modules)} modules loaded")
    return 0


if __name__ == "__main__":
    sys.exit(main())
