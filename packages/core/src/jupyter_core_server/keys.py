"""Every ``web.AppKey`` the core publishes to plugins.

Plugins read shared state with ``request.config_dict[KEY]`` (or ``app[KEY]`` inside their
cleanup context); they never use string keys.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from aiohttp import web

from .activity import ActivityRegistry

if TYPE_CHECKING:
    import weakref

    from .app import CoreServerApp
    from .kernels.manager import KernelService
    from .kernelspecs.cache import KernelSpecCache
    from .plugins import PluginManager
    from .routing import RouteInfo
    from .sessions.manager import SessionManager

__all__ = [
    "DEFAULT_URL",
    "KERNELSPECS",
    "KERNEL_SERVICE",
    "PLUGIN_MANAGER",
    "ROUTE_INFO",
    "SERVER",
    "SESSION_MANAGER",
    "STATE",
    "WEBSOCKETS",
    "ServerState",
]


class ServerState:
    """When the server started, when it was last used, what runs, and whether start-up finished.

    ``last_activity`` is the time of the latest API request (the security middleware
    sets it). ``activity`` is the :class:`~jupyter_core_server.ActivityRegistry` of
    every source of use, that time included (as ``requests``): plugins whose things
    are used without a request (terminals) register theirs, and readers ask it for the
    latest activity. ``running`` maps a kind of thing (``"kernels"``) to a function
    that counts those running now; plugins that start processes register theirs, so
    that ``/api/status`` reports them and ``shutdown_no_activity_timeout`` waits for them.
    """

    __slots__ = ("activity", "last_activity", "ready", "running", "started")

    def __init__(self, now: float) -> None:
        self.started = now
        self.last_activity = now
        self.ready = False
        self.running: dict[str, Callable[[], int]] = {}
        self.activity = ActivityRegistry()
        self.activity.register("requests", lambda: self.last_activity)


# The annotations carry the value types for type checkers without importing the modules.
SERVER: web.AppKey[CoreServerApp] = web.AppKey("jupyter_core_server.server")
PLUGIN_MANAGER: web.AppKey[PluginManager] = web.AppKey("jupyter_core_server.plugin_manager")
ROUTE_INFO: web.AppKey[dict[Any, RouteInfo]] = web.AppKey("jupyter_core_server.route_info")
WEBSOCKETS: web.AppKey[weakref.WeakSet[web.WebSocketResponse]] = web.AppKey("jupyter_core_server.websockets")
STATE: web.AppKey[ServerState] = web.AppKey("jupyter_core_server.state")
KERNEL_SERVICE: web.AppKey[KernelService] = web.AppKey("jupyter_core_server.kernel_service")
KERNELSPECS: web.AppKey[KernelSpecCache] = web.AppKey("jupyter_core_server.kernelspecs")
SESSION_MANAGER: web.AppKey[SessionManager] = web.AppKey("jupyter_core_server.session_manager")
#: The page ``GET /`` redirects to (relative to ``base_url``, e.g. ``/lab``). A frontend
#: plugin sets it in its ``app_context``; when no plugin does, ``/`` shows the server's
#: own status page.
DEFAULT_URL: web.AppKey[str] = web.AppKey("jupyter_core_server.default_url", str)
