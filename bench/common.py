"""What every benchmark module shares: the run context, statistics and table output.

A benchmark module exposes ``NAME``, ``SERVERS`` (which servers it compares),
``run(ctx) -> dict`` (JSON-serialisable result) and ``report(result) -> list[str]``
(the lines to print). ``run.py`` lists the modules in ``BENCHMARKS``.
"""

from __future__ import annotations

import math
import statistics
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from servers import ServerSpec


@dataclass
class Context:
    """What ``run.py`` hands to each benchmark."""

    args: Any  # argparse.Namespace
    specs: dict[str, ServerSpec]
    log: Callable[[str], None] = field(default=lambda msg: print(msg, file=sys.stderr, flush=True))


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def ratio(a: float | None, b: float | None) -> float | None:
    if a is None or b is None or b == 0 or math.isnan(a) or math.isnan(b):
        return None
    return a / b


def fmt_ratio(label: str, value: float | None, target: str = "", met: bool | None = None) -> str:
    text = f"{label}: " + ("n/a" if value is None else f"{value:.3f}")
    if target:
        verdict = "n/a" if met is None else ("MET" if met else "MISSED")
        text += f"   (target {target}: {verdict})"
    return text


def table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[str]:
    """A plain left-aligned text table."""
    cells = [[str(c) for c in header]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return lines


def spread(values: Sequence[float], scale: float = 1.0, digits: int = 0) -> str:
    """``median (min–max)`` of ``values`` times ``scale``: the figure and how far runs moved."""
    vals = [v * scale for v in values if v is not None and not math.isnan(v)]
    if not vals:
        return "–"
    f = f"{{:,.{digits}f}}"
    mid = f.format(statistics.median(vals))
    if len(vals) == 1:
        return mid
    return f"{mid} ({f.format(min(vals))}–{f.format(max(vals))})"


def summary_row(
    measure: str,
    ours: str = "–",
    jupyter_server: str = "–",
    limit: str = "–",
    ratio_text: str = "",
    target: str = "",
    met: bool | None = None,
) -> dict[str, Any]:
    """One row of the Markdown summary (``run.py`` collects them from each module's ``summary()``)."""
    return {
        "measure": measure,
        "ours": ours,
        "jupyter_server": jupyter_server,
        "limit": limit,
        "ratio": ratio_text,
        "target": target,
        "met": met,
    }


def verdict(met: bool | None) -> str:
    return "n/a" if met is None else ("met" if met else "MISSED")
