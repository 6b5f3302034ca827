"""The Markdown summary of a run: machine, versions, date, then one row per figure.

Each benchmark module may expose ``summary(result) -> list[dict]`` (rows made with
``common.summary_row``): the figure for this server, jupyter_server and the limit (the
bare aiohttp app for HTTP, direct ZMQ for kernels), each as ``median (min–max)`` over
runs where there are several, the ratio, the target from the issue and whether it is met.
"""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

from servers import JUPYTER_SERVER, OURS, ServerSpec, package_version

OUR_PACKAGES = (
    "jupyter-core-server",
    "jupyter-core-server-contents",
    "aiohttp",
    "jupyter_client",
    "pyzmq",
    "ipykernel",
)
JS_PACKAGES = ("jupyter_server", "tornado", "jupyter_client", "pyzmq", "ipykernel")


def load_average() -> list[float]:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return []


def machine() -> dict[str, Any]:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gib = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_gib = round(int(line.split()[1]) / 2**20, 1)
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cpus": os.cpu_count(),
        "memory_gib": mem_gib,
        "system": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "wrk": _wrk_version(),
    }


def _wrk_version() -> str:
    wrk = shutil.which("wrk")
    if not wrk:
        return ""
    try:
        out = subprocess.run([wrk, "--version"], capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return (out.stdout or out.stderr).split("[")[0].strip()


def package_versions(specs: dict[str, ServerSpec]) -> dict[str, dict[str, str]]:
    out = {OURS: {d: package_version(sys.executable, d) for d in OUR_PACKAGES}}
    js = specs.get(JUPYTER_SERVER)
    if js is not None and js.python:
        out[JUPYTER_SERVER] = {d: package_version(js.python, d) for d in JS_PACKAGES}
    return out


def _cell(text: Any) -> str:
    return str(text).replace("|", "\\|") if text not in (None, "") else "–"


def rows(results: dict, modules: dict[str, ModuleType]) -> list[dict]:
    out: list[dict] = []
    for name, result in results["benchmarks"].items():
        module = modules.get(name)
        if module is None or "error" in result or not hasattr(module, "summary"):
            continue
        out.extend(module.summary(result))
    return out


def markdown(results: dict, modules: dict[str, ModuleType]) -> str:
    meta = results["meta"]
    m = meta["machine"]
    args = meta["args"]
    mode = (
        "--quick (small sizes, one round: the figures show the suite works, not how fast)"
        if args.get("quick")
        else "full"
    )
    lines = [
        "## Benchmark run",
        "",
        (
            f"- date: {meta['timestamp']} (took {meta.get('minutes', '?')} min); "
            f"commit {meta['git_commit'] or '?'}; mode: {mode}"
        ),
        f"- machine: {m['cpu']}, {m['cpus']} CPUs, {m['memory_gib']} GiB; {m['system']}; Python {m['python']}"
        + (f"; {m['wrk']}" if m.get("wrk") else ""),
        (
            f"- load average (1, 5, 15 min) before: {meta['load_average']['before']}, "
            f"after: {meta['load_average']['after']}"
        ),
    ]
    for server, versions in meta["packages"].items():
        listed = ", ".join(f"{d} {v}" for d, v in versions.items() if v)
        lines.append(f"- {'this server' if server == OURS else server}: {listed}")
    for note in meta.get("notes", []):
        lines.append(f"- **{note}**" if "NOT" in note else f"- {note}")
    table = rows(results, modules)
    lines += [
        "",
        (
            "Figures are `median (min–max)` over the runs; *limit* is the bare aiohttp app for HTTP and a "
            "jupyter_client talking ZMQ to the kernel (no server) for kernel figures; *js* is jupyter_server."
        ),
        "",
        "| measure | this server | jupyter_server | limit | ratio | target | verdict |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in table:
        verdict = "" if not r["target"] else ("n/a" if r["met"] is None else ("met" if r["met"] else "**MISSED**"))
        lines.append(
            "| "
            + " | ".join(
                _cell(x)
                for x in (r["measure"], r["ours"], r["jupyter_server"], r["limit"], r["ratio"], r["target"], verdict)
            )
            + " |"
        )
    judged = [r for r in table if r["target"] and r["met"] is not None]
    missed = [r for r in judged if not r["met"]]
    lines += ["", f"Targets met: {len(judged) - len(missed)} of {len(judged)}."]
    if missed:
        lines.append(
            "Missed: " + "; ".join(f"{r['measure']} ({r['ratio']}; target {r['target']})" for r in missed) + "."
        )
    errors = {n: r["error"] for n, r in results["benchmarks"].items() if "error" in r}
    for name, error in errors.items():
        lines.append(f"- benchmark `{name}` FAILED: {error.splitlines()[0] if error else ''}")
    return "\n".join(lines)
