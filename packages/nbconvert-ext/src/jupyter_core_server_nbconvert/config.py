"""``NbconvertService``: the settings of the nbconvert plugin."""

from __future__ import annotations

from traitlets import Float, Integer
from traitlets.config import LoggingConfigurable

__all__ = ["NbconvertService"]


class NbconvertService(LoggingConfigurable):
    """How many conversions run at once, and for how long."""

    time_limit = Float(
        120.0,
        help="""Seconds a conversion may take. A conversion still running then is stopped
        (its worker process is killed) and the request answers 504. 0 or less: no limit.""",
    ).tag(config=True)

    max_concurrent = Integer(
        2,
        help="""Conversions running at the same time, each in its own worker process.
        Further requests wait for a free slot (the wait counts against no time limit).""",
    ).tag(config=True)
