"""Kernel lifecycle on top of jupyter_client's async multi-kernel manager (no aiohttp here).

Every kernel provisioner installed through jupyter_client's entry points works
unchanged, because kernels are started by ``AsyncMultiKernelManager``.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import time
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypedDict, cast

from jupyter_client.multikernelmanager import AsyncMultiKernelManager
from jupyter_core.paths import jupyter_runtime_dir
from traitlets import Bool, Float, Integer, List, Unicode
from traitlets.config import LoggingConfigurable

from ..errors import ApiError, BadRequest, NotFound
from ..kernelspecs.cache import NoSuchKernelSpec
from .channels import KernelBridge
from .ratelimit import RateLimiter

if TYPE_CHECKING:
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import AsyncKernelManager

    from ..app import CoreServerApp

__all__ = ["KernelModel", "KernelService", "NoSuchKernel"]

log = logging.getLogger("jupyter_core_server")

_KERNEL_ENV = re.compile(r"KERNEL_[A-Za-z0-9_]+")
_BAD_ENV_VALUE = re.compile(r"[\x00\r\n]")


class KernelModel(TypedDict, total=False):
    """The REST model of a kernel."""

    id: str
    name: str
    last_activity: str
    execution_state: str
    connections: int
    reason: str


class NoSuchKernel(NotFound):
    """No kernel has this id."""

    def __init__(self, kernel_id: str) -> None:
        super().__init__(f"No kernel with ID {kernel_id}", "no_such_kernel")


class KernelService(LoggingConfigurable):
    """Starts, tracks and stops kernels, and owns their websocket bridges."""

    kernel_info_timeout = Float(60.0, help="Seconds to wait for a kernel to answer kernel_info when a client connects.").tag(config=True)
    buffer_offline_messages = Bool(True, help="Keep messages for a disconnected client and replay them when it reconnects with the same session_id.").tag(config=True)
    buffer_max_bytes = Integer(64 * 1024 * 1024, help="Largest replay buffer per disconnected client, in bytes; older messages are dropped (and the client told) past it.").tag(config=True)
    buffer_max_age = Float(600.0, help="Seconds a disconnected client's messages are kept for replay.").tag(config=True)
    websocket_ping_interval = Float(30.0, help="Seconds between websocket pings that keep idle connections alive; 0 disables them.").tag(config=True)
    websocket_max_message_size = Integer(1024 * 1024 * 1024, help="Largest websocket message accepted from a client, in bytes.").tag(config=True)
    allowed_env = List(Unicode(), help="Environment variable names (besides KERNEL_*) a client may set in POST /api/kernels.").tag(config=True)
    default_kernel_name = Unicode("", help="Kernel started when a request names none (default: the kernelspec manager's default).").tag(config=True)
    limit_rate = Bool(False, help="Drop IOPub output beyond the rate limits below (jupyter_server's limiter; off by default).").tag(config=True)
    iopub_msg_rate_limit = Float(1000.0, help="With limit_rate: most output messages per second, averaged over rate_limit_window.").tag(config=True)
    iopub_data_rate_limit = Float(1_000_000.0, help="With limit_rate: most output bytes per second, averaged over rate_limit_window.").tag(config=True)
    rate_limit_window = Float(3.0, help="With limit_rate: seconds over which rates are averaged.").tag(config=True)

    def __init__(self, server: CoreServerApp, kernel_spec_manager: KernelSpecManager) -> None:
        super().__init__(parent=server)
        self.server = server
        self.manager = AsyncMultiKernelManager(
            parent=self,
            kernel_spec_manager=kernel_spec_manager,
            kernel_manager_class="jupyter_client.ioloop.AsyncIOLoopKernelManager",
        )
        if not self.manager.connection_dir:
            # Connection files hold the kernels' signing keys: keep them in the private
            # runtime directory, never in the working directory (jupyter_client's default).
            self.manager.connection_dir = jupyter_runtime_dir()
            os.makedirs(self.manager.connection_dir, mode=0o700, exist_ok=True)
        self.kernel_specs = kernel_spec_manager
        self.bridges: dict[str, KernelBridge] = {}
        self.names: dict[str, str] = {}
        self.reasons: dict[str, str] = {}
        self._last_activity = time.time()
        self.started_hook: Any = None
        self.stopped_hook: Any = None
        self.cwd_hook: Callable[[str], str | None] = lambda path: None
        self._background: set[asyncio.Future[None]] = set()

    # -- queries ---------------------------------------------------------------------------

    def count(self) -> int:
        return len(self.bridges)

    def connection_count(self) -> int:
        return sum(b.connection_count for b in self.bridges.values())

    def last_activity(self) -> float:
        return self._last_activity

    def bridge(self, kernel_id: str) -> KernelBridge:
        try:
            return self.bridges[kernel_id]
        except KeyError:
            raise NoSuchKernel(kernel_id) from None

    def model(self, kernel_id: str) -> KernelModel:
        from ..api.handlers import iso

        bridge = self.bridge(kernel_id)
        model: KernelModel = {
            "id": kernel_id,
            "name": self.names[kernel_id],
            "last_activity": iso(bridge.last_activity),
            "execution_state": bridge.execution_state,
            "connections": bridge.connection_count,
        }
        if kernel_id in self.reasons:
            model["reason"] = self.reasons[kernel_id]
        return model

    def models(self) -> list[KernelModel]:
        return [self.model(k) for k in list(self.bridges)]

    # -- lifecycle ---------------------------------------------------------------------------

    def _env(self, requested: Any) -> dict[str, str]:
        if requested is None:
            return {}
        if not isinstance(requested, dict):
            raise BadRequest("env must be an object of string values", "invalid_env")
        env: dict[str, str] = {}
        for key, value in requested.items():
            if not isinstance(value, str) or not isinstance(key, str):
                raise BadRequest(f"env value of {key!r} must be a string", "invalid_env")
            if not (_KERNEL_ENV.fullmatch(key) or key in self.allowed_env):
                continue  # ignored, as Kernel Gateway does: only KERNEL_* and allowed names pass
            if len(value) > 4096 or _BAD_ENV_VALUE.search(value):
                raise BadRequest(f"env value of {key} is too long or has control characters", "invalid_env")
            env[key] = value
        return env

    def cwd_for(self, path: str | None) -> str:
        """Where a kernel for ``path`` starts: a plugin's answer, else the path's folder under root_dir."""
        root = self.server.root_dir
        if not path:
            return root
        answer = self.cwd_hook(path)
        if answer is not None:
            return answer
        folder = os.path.realpath(os.path.join(root, os.path.dirname(path.strip("/"))))
        inside = folder == root or folder.startswith(root + os.sep)
        return folder if inside and os.path.isdir(folder) else root

    async def start(self, name: str | None, *, path: str | None = None, kernel_id: str | None = None, env: Any = None) -> str:
        """Start a kernel and return its id."""
        name = name or self.default_kernel_name or self.manager.default_kernel_name
        if kernel_id is not None:
            try:
                kernel_id = str(uuid.UUID(str(kernel_id)))
            except ValueError:
                raise BadRequest(f"kernel_id {kernel_id!r} is not a UUID", "invalid_kernel_id") from None
            if kernel_id in self.bridges:
                raise ApiError(f"A kernel with ID {kernel_id} already exists", "kernel_exists", status=409)
        kernel_env = {**os.environ, **self._env(env)}
        if path:
            kernel_env["JPY_SESSION_NAME"] = path
        try:
            self.kernel_specs.get_kernel_spec(name)
        except Exception:  # noqa: BLE001 - jupyter_client raises NoSuchKernel (a KeyError)
            raise NoSuchKernelSpec(name) from None
        kwargs: dict[str, Any] = {"env": kernel_env, "cwd": self.cwd_for(path)}
        if kernel_id:
            kwargs["kernel_id"] = kernel_id
        kernel_id = await self.manager.start_kernel(kernel_name=name, **kwargs)
        km = self.manager.get_kernel(kernel_id)
        self.names[kernel_id] = name
        self.bridges[kernel_id] = KernelBridge(
            kernel_id,
            km,
            buffer_max_bytes=self.buffer_max_bytes if self.buffer_offline_messages else 0,
            buffer_max_age=self.buffer_max_age,
            kernel_info_timeout=self.kernel_info_timeout,
            on_activity=self._touch,
            rate_limiter=RateLimiter(self.iopub_msg_rate_limit, self.iopub_data_rate_limit, self.rate_limit_window) if self.limit_rate else None,
        )
        self.bridges[kernel_id].execution_state = "idle"
        km.add_restart_callback(lambda: self._on_restart(kernel_id), "restart")
        km.add_restart_callback(lambda: self._on_dead(kernel_id), "dead")
        self._touch()
        if self.started_hook is not None:
            self.started_hook(self.model(kernel_id))
        return kernel_id

    def _touch(self) -> None:
        self._last_activity = time.time()

    def _on_restart(self, kernel_id: str) -> None:
        bridge = self.bridges.get(kernel_id)
        if bridge is not None:
            log.warning("Kernel %s died and is being restarted", kernel_id)
            bridge.broadcast_status("restarting")
            # The restarter calls back before it restarts, possibly on new ports: hold client
            # messages until the bridge has followed the kernel.
            bridge.connected.clear()
            task = asyncio.ensure_future(self._follow_restart(kernel_id))
            self._background.add(task)
            task.add_done_callback(self._background.discard)

    async def _follow_restart(self, kernel_id: str) -> None:
        """Reconnect a kernel's bridge once the automatic restart is done."""
        deadline = time.monotonic() + self.kernel_info_timeout
        while time.monotonic() < deadline:
            await asyncio.sleep(0.1)
            bridge = self.bridges.get(kernel_id)
            if bridge is None:
                return
            km = cast("AsyncKernelManager", self.manager.get_kernel(kernel_id))
            if await km.is_alive():
                try:
                    await bridge.follow_restart()
                except (TimeoutError, OSError) as exc:
                    log.error("Kernel %s did not come back after its restart: %s", kernel_id, exc)
                finally:
                    bridge.connected.set()
                return
        bridge = self.bridges.get(kernel_id)
        if bridge is not None:
            bridge.connected.set()  # give up holding; the dead/restart status tells clients the rest

    def _on_dead(self, kernel_id: str) -> None:
        bridge = self.bridges.get(kernel_id)
        if bridge is not None:
            log.error("Kernel %s died and could not be restarted", kernel_id)
            self.reasons[kernel_id] = "Kernel died and could not be restarted"
            bridge.broadcast_status("dead")

    async def shutdown(self, kernel_id: str, *, now: bool = False) -> None:
        """Shut a kernel down and close its clients."""
        bridge = self.bridge(kernel_id)
        del self.bridges[kernel_id]
        await bridge.close()
        try:
            await self.manager.shutdown_kernel(kernel_id, now=now)
        except KeyError:
            pass
        self.names.pop(kernel_id, None)
        self.reasons.pop(kernel_id, None)
        if self.stopped_hook is not None:
            self.stopped_hook(kernel_id)

    async def shutdown_all(self) -> None:
        """Shut every kernel down (server exit): politely first, then by force."""
        ids = list(self.bridges)
        results = await asyncio.gather(*(self.shutdown(k) for k in ids), return_exceptions=True)
        for kernel_id, result in zip(ids, results):
            if isinstance(result, Exception):
                log.error("Kernel %s did not shut down cleanly: %s", kernel_id, result)
        await self.manager.shutdown_all(now=True)

    async def interrupt(self, kernel_id: str) -> None:
        self.bridge(kernel_id)
        km = cast("AsyncKernelManager", self.manager.get_kernel(kernel_id))
        await km.interrupt_kernel()

    async def restart(self, kernel_id: str) -> None:
        bridge = self.bridge(kernel_id)
        await self.manager.restart_kernel(kernel_id, now=False)
        bridge.execution_state = "starting"
        if bridge.sockets:
            await bridge.handshake()
        bridge.execution_state = "idle"
