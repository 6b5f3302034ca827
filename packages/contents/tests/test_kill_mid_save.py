"""Killing the server at any moment of a save leaves the old file or the new one, whole.

A real ``jupyter-core-server`` process saves a large file; it is killed with SIGKILL
while the new bytes are being written (its temporary file is on disk), at other moments,
and after the save. Every wait is bounded.
"""

from __future__ import annotations

import http.client
import json
import signal
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest

SIZE = 48 * 1024 * 1024
OLD, NEW = b"o", b"N"

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")


def put_in_background(url: str, token: str, body: bytes) -> threading.Thread:
    parts = urlsplit(url)

    def send() -> None:
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        try:
            conn.request(
                "PUT",
                parts.path + "api/contents/big.txt",
                body=body,
                headers={"Authorization": f"token {token}", "Content-Type": "application/json"},
            )
            conn.getresponse().read()
        except OSError:
            pass  # the server died under us: expected
        finally:
            conn.close()

    thread = threading.Thread(target=send, daemon=True)
    thread.start()
    return thread


def wait_for(predicate, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.0005)
    return False


def temp_files(root: Path) -> list[Path]:
    return [p for p in root.iterdir() if p.name.startswith(".~big.txt.")]


def assert_whole(path: Path) -> bytes:
    data = path.read_bytes()
    assert len(data) == SIZE, f"truncated: {len(data)} bytes"
    assert data in (OLD * SIZE, NEW * SIZE), "a mix of old and new bytes"
    return data[:1]


@pytest.mark.timeout(120)
def test_kill_during_save(jcs_cli_server, tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir(exist_ok=True)
    target = root / "big.txt"
    target.write_bytes(OLD * SIZE)
    body = json.dumps({"type": "file", "format": "text", "content": (NEW * SIZE).decode()}).encode()
    outcomes = []
    # kill: as soon as the new bytes start landing, a little later, and before the write starts
    for moment in ("writing", "writing+3ms", "early"):
        server = jcs_cli_server()
        sender = put_in_background(server.url, server.token, body)
        if moment.startswith("writing"):
            assert wait_for(lambda: bool(temp_files(root)), timeout=30), "the save never started writing"
            if moment.endswith("ms"):
                time.sleep(0.003)
        else:
            time.sleep(0.01)
        server.send_signal(signal.SIGKILL)
        server.wait(timeout=30)
        sender.join(timeout=30)
        # (the partial temporary file shows the kill landed mid-write: typically a few MB of 48)
        outcomes.append((moment, assert_whole(target), [p.stat().st_size for p in temp_files(root)]))
        # a leftover temporary file is hidden: listings and the file browser never show it
        for leftover in temp_files(root):
            assert leftover.name.startswith(".")
            leftover.unlink()
    assert outcomes[-1][1] == OLD  # killed before the write: untouched

    server = jcs_cli_server()
    sender = put_in_background(server.url, server.token, body)
    sender.join(timeout=60)
    assert assert_whole(target) == NEW
    assert not temp_files(root)
