"""Reporting the server's latest activity to the hub, so that the hub's idle culling sees real use."""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web
from jupyter_core_server import iso_time, keys

from .auth import HubAuth
from .hubapi import HubApiError

__all__ = ["latest_activity", "report_activity"]

log = logging.getLogger("jupyter_core_server.hub")


def latest_activity(app: web.Application) -> float:
    """Return the time of the latest real use, as the server's activity registry has it.

    API requests, kernel messages, terminal input and output, and whatever else a plugin
    registers there.
    """
    return app[keys.STATE].activity.latest()


async def report_activity(app: web.Application, hub: HubAuth) -> None:
    """POST the latest activity every ``JUPYTERHUB_ACTIVITY_INTERVAL`` seconds, from start-up on.

    A failed report is retried after 1, 2, 4 ... seconds, never later than the interval.
    Runs until cancelled.
    """
    interval = hub.env.activity_interval
    failures = 0
    while True:
        stamp = iso_time(latest_activity(app))
        try:
            await hub.client.post_activity(stamp)
        except HubApiError as exc:
            failures += 1
            delay = min(interval, 2.0 ** min(failures - 1, 16))
            log.warning("JupyterHub: activity report failed (%s); retrying in %.0fs.", exc, delay)
        else:
            if failures:
                log.info("JupyterHub: activity reports reach the hub again.")
            failures = 0
            delay = interval
            log.debug("JupyterHub: reported last activity %s.", stamp)
        await asyncio.sleep(delay)
