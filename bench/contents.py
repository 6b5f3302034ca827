"""Contents API: large listings, large notebooks and a large text file, ours vs jupyter_server.

Both servers serve a copy of the same tree from their own temporary root:

- ``big/``: 10,000 small files (a few of them notebooks), listed with
  ``GET /api/contents/big?content=1`` (what a file browser asks for);
- ``images.ipynb``: a 20 MB notebook whose size is mostly PNG outputs (few, large strings);
- ``text.ipynb``: a 20 MB notebook of many cells with long text outputs (many small strings);
- ``text5.txt``: a 5 MB text file.

Each notebook and the text file is read with ``GET ...?content=1&hash=1`` (what JupyterLab
asks when it opens a document) and saved with ``PUT`` of the model it read (the same
request bytes for both servers). One discarded warm-up, then ``--contents-rounds`` rounds
in alternating server order; the median of each operation is reported, with the ratio
jupyter_server / ours (how many times faster ours is). Targets: listing >= 10, GET and
PUT of ``text.ipynb`` >= 2; the others are reported (for ``images.ipynb`` both servers
are bound by parsing, escaping and fsyncing 20 MB of JSON, which neither can skip).
"""

from __future__ import annotations

import base64
import http.client
import json
import random
import time
from pathlib import Path
from typing import Any

from common import Context, median, ratio, spread, summary_row, table
from servers import HOST, JUPYTER_SERVER, OURS, BenchError, ServerProcess, http_get

NAME = "contents"
SERVERS = (OURS, JUPYTER_SERVER)
# The notebook targets are checked on text.ipynb; images.ipynb and text5.txt are reported.
LIST = "list {n} files"
TARGETS = {LIST: 10.0, "GET text.ipynb": 2.0, "PUT text.ipynb": 2.0}
TIMEOUT = 120.0


def _image_notebook(target: int, seed: int = 1) -> dict[str, Any]:
    rnd = random.Random(seed)
    cells: list[dict[str, Any]] = []
    size = 0
    while size < target:
        n = len(cells)
        png = base64.b64encode(rnd.randbytes(60_000)).decode("ascii")
        text = "".join(f"line {k} of output {n}\n" for k in range(300))
        cells.append(
            {
                "id": f"cell-{n}",
                "cell_type": "code",
                "execution_count": n,
                "metadata": {},
                "source": [f"x = compute({n})\n", "plot(x)\n"],
                "outputs": [
                    {"output_type": "stream", "name": "stdout", "text": text.splitlines(True)},
                    {
                        "output_type": "display_data",
                        "data": {"image/png": png, "text/plain": ["<Figure>"]},
                        "metadata": {},
                    },
                ],
            }
        )
        if n % 4 == 0:
            cells.append(
                {
                    "id": f"md-{n}",
                    "cell_type": "markdown",
                    "metadata": {},
                    "source": [f"## Step {n}\n", "Some *text*.\n"],
                }
            )
        size += len(png) + len(text) + 200
    return _notebook(cells)


def _text_notebook(target: int, seed: int = 2) -> dict[str, Any]:
    rnd = random.Random(seed)
    cells: list[dict[str, Any]] = []
    size = 0
    while size < target:
        n = len(cells)
        lines = [f"epoch {n} batch {k} loss {rnd.random():.6f} acc {rnd.random():.4f}\n" for k in range(150)]
        rows = [f"row {k}: {rnd.random()}\n" for k in range(40)]
        html = ["<table>\n", *(f"<tr><td>{k}</td><td>{rnd.random():f}</td></tr>\n" for k in range(40)), "</table>"]
        cells.append(
            {
                "id": f"cell-{n}",
                "cell_type": "code",
                "execution_count": n,
                "metadata": {},
                "source": [f"x_{k} = compute({k})  # step\n" for k in range(10)],
                "outputs": [
                    {"output_type": "stream", "name": "stdout", "text": lines},
                    {
                        "output_type": "execute_result",
                        "execution_count": n,
                        "metadata": {},
                        "data": {"text/plain": rows, "text/html": html},
                    },
                ],
            }
        )
        if n % 3 == 0:
            cells.append(
                {
                    "id": f"md-{n}",
                    "cell_type": "markdown",
                    "metadata": {},
                    "source": [f"## Step {n}\n", "Explanation.\n"],
                }
            )
        size += sum(map(len, lines)) + sum(map(len, rows)) + sum(map(len, html)) + 400
    return _notebook(cells)


def _notebook(cells: list[dict[str, Any]]) -> dict[str, Any]:
    kernelspec = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return {"cells": cells, "metadata": {"kernelspec": kernelspec}, "nbformat": 4, "nbformat_minor": 5}


def _list_label(files: int) -> str:
    return LIST.format(n=f"{files // 1000}k" if files % 1000 == 0 else files)


def _write_tree(root: Path, files: int, notebook_bytes: int, text_bytes: int) -> None:
    big = root / "big"
    big.mkdir()
    for i in range(files):
        suffix = ".ipynb" if i % 100 == 0 else ".txt"
        (big / f"file_{i:05d}{suffix}").write_text("{}" if suffix == ".ipynb" else f"file {i}\n")
    for name, make in (("images.ipynb", _image_notebook), ("text.ipynb", _text_notebook)):
        (root / name).write_text(json.dumps(make(notebook_bytes), indent=1, sort_keys=True, ensure_ascii=False) + "\n")
    rnd = random.Random(3)
    line = "".join(rnd.choice("abcdefghijklmnopqrstuvwxyz ") for _ in range(99)) + "\n"
    (root / "text5.txt").write_text(line * (text_bytes // len(line)))


def _request(server: ServerProcess, method: str, path: str, body: bytes | None = None) -> tuple[float, bytes]:
    conn = http.client.HTTPConnection(HOST, server.port, timeout=TIMEOUT)
    headers = dict(server.headers)
    if body is not None:
        headers["Content-Type"] = "application/json"
    try:
        start = time.perf_counter()
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        data = response.read()
        elapsed = time.perf_counter() - start
    finally:
        conn.close()
    if response.status >= 300:
        raise BenchError(f"{server.spec.name}: {method} {path} answered {response.status}: {data[:300]!r}")
    return elapsed, data


def _operations(bodies: dict[str, bytes], files: int) -> list[tuple[str, str, str, bytes | None]]:
    ops: list[tuple[str, str, str, bytes | None]] = [(_list_label(files), "GET", "/api/contents/big?content=1", None)]
    for name in ("images.ipynb", "text.ipynb", "text5.txt"):
        ops.append((f"GET {name}", "GET", f"/api/contents/{name}?content=1&hash=1", None))
        ops.append((f"PUT {name}", "PUT", f"/api/contents/{name}", bodies[name]))
    return ops


def run(ctx: Context) -> dict:
    names = [n for n in SERVERS if n in ctx.specs]
    rounds = max(1, ctx.args.contents_rounds)
    files = ctx.args.contents_files
    targets = {(_list_label(files) if k == LIST else k): v for k, v in TARGETS.items()}
    running: dict[str, ServerProcess] = {}
    samples: dict[str, dict[str, list[float]]] = {n: {} for n in names}
    sizes: dict[str, dict[str, int]] = {n: {} for n in names}
    try:
        for name in names:
            server = ServerProcess(ctx.specs[name])
            ctx.log(f"[contents] writing the test tree for {name} ...")
            _write_tree(server.workdir, files, int(ctx.args.notebook_mb * 1e6), int(ctx.args.text_mb * 1e6))
            running[name] = server
            server.start()
            server.wait_ready(timeout=ctx.args.startup_timeout)
            status, _ = http_get(server.port, "/api/contents", server.headers)
            if status != 200:
                raise BenchError(
                    f"{name}: GET /api/contents answered {status}; install the contents plugin next to the core "
                    "(pip install ./packages/contents)"
                )
        first = running[names[0]]
        bodies = {}
        for doc in ("images.ipynb", "text.ipynb", "text5.txt"):
            _, data = _request(first, "GET", f"/api/contents/{doc}?content=1")
            model = json.loads(data)
            bodies[doc] = json.dumps(
                {"type": model["type"], "format": model["format"], "content": model["content"]}
            ).encode()
        ops = _operations(bodies, files)
        for name in names:  # warm-up, discarded (and a check that both list the same)
            for label, method, path, body in ops:
                _, data = _request(running[name], method, path, body)
                if label.startswith("list"):
                    count = len(json.loads(data)["content"])
                    if count != files:
                        raise BenchError(f"{name} listed {count} entries, not {files}")
                sizes[name][label] = len(data)
        for i in range(rounds):
            order = names if i % 2 == 0 else list(reversed(names))
            for name in order:
                for label, method, path, body in ops:
                    elapsed, _ = _request(running[name], method, path, body)
                    samples[name].setdefault(label, []).append(elapsed)
                ctx.log(
                    f"[contents] round {i + 1}/{rounds} {name}: "
                    + ", ".join(f"{label} {samples[name][label][-1] * 1000:.0f} ms" for label, *_ in ops)
                )
    finally:
        for server in running.values():
            server.stop()
    medians = {n: {label: median(values) for label, values in samples[n].items()} for n in names}
    ratios: dict[str, float | None] = {}
    if JUPYTER_SERVER in medians:
        for label in medians[OURS]:
            ratios[label] = ratio(medians[JUPYTER_SERVER][label], medians[OURS][label])
    met = {label: (None if ratios.get(label) is None else ratios[label] >= goal) for label, goal in targets.items()}  # type: ignore[operator]
    return {
        "rounds": rounds,
        "sizes": {"files": files, "notebook_mb": ctx.args.notebook_mb, "text_mb": ctx.args.text_mb},
        "servers": {
            n: {
                "version": ctx.specs[n].version,
                "median_s": medians[n],
                "samples_s": samples[n],
                "response_bytes": sizes[n],
            }
            for n in names
        },
        "ratios_js_over_ours": ratios,
        "targets": {label: {"ratio >=": goal, "met": met[label]} for label, goal in targets.items()},
        "target": {"met": None if not ratios else all(v for v in met.values() if v is not None)},
    }


def report(result: dict) -> list[str]:
    servers = result["servers"]
    names = list(servers)
    ratios = result["ratios_js_over_ours"]
    rows = []
    for label in servers[OURS]["median_s"]:
        goal = result["targets"].get(label, {})
        verdict = "" if not goal else ("n/a" if goal["met"] is None else ("MET" if goal["met"] else "MISSED"))
        rows.append(
            [
                label,
                *(f"{servers[n]['median_s'][label] * 1000:.0f}" for n in names),
                "n/a" if ratios.get(label) is None else f"{ratios[label]:.1f}x",
                f">= {goal['ratio >=']:.0f}x {verdict}" if goal else "",
            ]
        )
    header = ["operation", *(f"{n} ms" for n in names), "jupyter_server/ours", "target"]
    return [
        (
            f"Contents API ({result['sizes']['files']:,} files; notebooks of {result['sizes']['notebook_mb']:g} MB; "
            f"text file of {result['sizes']['text_mb']:g} MB): median of {result['rounds']} rounds, alternating order "
            "(ratio > 1: ours is faster)"
        ),
        *table(header, rows),
    ]


def summary(result: dict) -> list[dict]:
    servers = result["servers"]
    ratios = result["ratios_js_over_ours"]
    sizes = result["sizes"]
    rows = []
    for label in servers[OURS]["median_s"]:
        goal = result["targets"].get(label)
        what = label
        if label.startswith("list"):
            what = f"contents: list a folder of {sizes['files']:,} files"
        elif label.endswith(".ipynb"):
            kind = "text-cell" if "text" in label else "image"
            what = f"contents: {label.split()[0]} {sizes['notebook_mb']:g} MB {kind} notebook"
        else:
            what = f"contents: {label.split()[0]} {sizes['text_mb']:g} MB text file"

        def fig(name: str, label: str = label) -> str:
            return spread(servers[name]["samples_s"][label], 1000) + " ms" if name in servers else "–"

        r = ratios.get(label)
        rows.append(
            summary_row(
                what,
                fig(OURS),
                fig(JUPYTER_SERVER),
                "–",
                "" if r is None else f"js takes {r:.1f} ×",
                "" if goal is None else f"js/ours ≥ {goal['ratio >=']:g}",
                None if goal is None else goal["met"],
            )
        )
    return rows
