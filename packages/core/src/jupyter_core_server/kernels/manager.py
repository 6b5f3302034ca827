"""Kernel lifecycle on top of jupyter_client's async multi-kernel manager (no aiohttp here).

Every kernel provisioner installed through jupyter_client's entry points works
unchanged, because kernels are started by ``AsyncMultiKernelManager``. The service keeps
one :class:`~.records.KernelRecord` per listed kernel; the warm pool and the persistence
file reach it only through its launch API (:meth:`KernelService.launch`,
:meth:`~KernelService.seed`, :meth:`~KernelService.persist`,
:meth:`~KernelService.stop_process`) and :meth:`~KernelService.adopt`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import subprocess
import time
import uuid
from collections import Counter
from collections.abc import Callable, Coroutine, Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, BinaryIO, cast

from jupyter_client.multikernelmanager import AsyncMultiKernelManager
from jupyter_core.paths import jupyter_runtime_dir
from traitlets import Bool, Dict, Float, Integer, List, Unicode
from traitlets.config import LoggingConfigurable

from ..errors import ApiError, BadRequest
from ..kernelspecs.cache import NoSuchKernelSpec
from . import jclient, persistence
from .channels import KernelBridge
from .errors import NoSuchKernel, TooManyKernels
from .events import KernelEvents, NoEvents
from .pool import KernelPool
from .ratelimit import RateLimiter
from .records import BridgeView, KernelModel, KernelRecord, Launch

if TYPE_CHECKING:
    from jupyter_client.kernelspec import KernelSpec, KernelSpecManager
    from jupyter_client.manager import AsyncKernelManager

    from ..app import CoreServerApp

__all__ = ["KernelEvents", "KernelModel", "KernelRecord", "KernelService", "Launch", "NoSuchKernel", "TooManyKernels"]

log = logging.getLogger("jupyter_core_server")

_KERNEL_ENV = re.compile(r"KERNEL_[A-Za-z0-9_]+")
_BAD_ENV_VALUE = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")  # control characters but tab
_ENV_VALUE_MAX = 4096


class KernelService(LoggingConfigurable):
    """Starts, tracks and stops kernels, and owns their websocket bridges."""

    kernel_info_timeout = Float(
        60.0, help="Seconds to wait for a kernel to answer kernel_info when a client connects."
    ).tag(config=True)
    buffer_offline_messages = Bool(
        True,
        help="Keep messages for a disconnected client and replay them when it reconnects with the same session_id.",
    ).tag(config=True)
    buffer_max_bytes = Integer(
        64 * 1024 * 1024,
        help=(
            "Largest replay buffer per disconnected client, in bytes; "
            "older messages are dropped (and the client told) past it."
        ),
    ).tag(config=True)
    buffer_max_age = Float(600.0, help="Seconds a disconnected client's messages are kept for replay.").tag(config=True)
    websocket_ping_interval = Float(
        30.0, help="Seconds between websocket pings that keep idle connections alive; 0 disables them."
    ).tag(config=True)
    websocket_max_message_size = Integer(
        1024 * 1024 * 1024, help="Largest websocket message accepted from a client, in bytes."
    ).tag(config=True)
    allowed_env = List(
        Unicode(),
        help=(
            "Environment variable names (besides KERNEL_*) a client may set in POST /api/kernels; "
            "any other name is refused (400)."
        ),
    ).tag(config=True)
    default_kernel_name = Unicode(
        "", help="Kernel started when a request names none (default: the kernelspec manager's default)."
    ).tag(config=True)
    force_kernel_name = Unicode(
        "", help="Start this kernel whatever a request names (Kernel Gateway's force_kernel_name)."
    ).tag(config=True)
    list_kernels = Bool(
        True,
        help=(
            "Let clients list every kernel and session (GET /api/kernels, /api/sessions); "
            "off answers 403, as Kernel Gateway."
        ),
    ).tag(config=True)
    max_kernels = Integer(
        0,
        help=(
            "Most kernels running or starting at once (pooled kernels not counted); 0 means no limit. "
            "Past it, starting a kernel answers 429."
        ),
    ).tag(config=True)
    max_kernels_per_user = Integer(
        0, help="Most kernels one user (as the auth layer identifies them) may run or start at once; 0 means no limit."
    ).tag(config=True)
    limit_retry_after = Integer(5, help="Seconds sent in Retry-After when a kernel limit refuses a start.").tag(
        config=True
    )
    cull_idle_timeout = Integer(0, help="Shut down kernels idle for this many seconds; 0 disables culling.").tag(
        config=True
    )
    cull_interval = Integer(300, help="Seconds between checks for idle kernels.").tag(config=True)
    cull_connected = Bool(False, help="Also cull idle kernels that have clients connected.").tag(config=True)
    cull_busy = Bool(False, help="Also cull kernels that are busy (running code) past the idle timeout.").tag(
        config=True
    )
    pool = Dict(
        key_trait=Unicode(),
        value_trait=Integer(),
        help=(
            "Kernels to keep pre-started, per kernelspec name (e.g. {'python3': 2}); "
            "requests take them and the pool refills."
        ),
    ).tag(config=True)
    pool_adapt = Bool(
        True,
        help=(
            "Fit a pooled Python kernel to a request's working directory, env and document path "
            "by running a short silent statement; "
            "off: only requests that need none of these take pooled kernels."
        ),
    ).tag(config=True)
    pool_ready = Bool(True, help="Report not ready on /api/ready until every pool has been filled once.").tag(
        config=True
    )
    seed_notebook = Unicode(
        "",
        help=(
            "Notebook whose code cells run in every new kernel of the notebook's language (Kernel Gateway's seed_uri)."
        ),
    ).tag(config=True)
    seed_code = Unicode("", help="Code run in every new kernel whose language is seed_language.").tag(config=True)
    seed_language = Unicode("python", help="Language of seed_code.").tag(config=True)
    persistence_file = Unicode(
        "",
        help=(
            "JSON file that records running kernels, so that a restarted server takes them back "
            "(with --keep-kernels, or after a crash). Kernels then outlive the server process."
        ),
    ).tag(config=True)
    keep_kernels = Bool(
        False, help="At shutdown, leave kernels running for the next server to take back (needs persistence_file)."
    ).tag(config=True)
    limit_rate = Bool(
        False, help="Drop IOPub output beyond the rate limits below (jupyter_server's limiter; off by default)."
    ).tag(config=True)
    iopub_msg_rate_limit = Float(
        1000.0, help="With limit_rate: most output messages per second, averaged over rate_limit_window."
    ).tag(config=True)
    iopub_data_rate_limit = Float(
        1_000_000.0, help="With limit_rate: most output bytes per second, averaged over rate_limit_window."
    ).tag(config=True)
    rate_limit_window = Float(3.0, help="With limit_rate: seconds over which rates are averaged.").tag(config=True)

    def __init__(
        self, server: CoreServerApp, kernel_spec_manager: KernelSpecManager, events: KernelEvents | None = None
    ) -> None:
        super().__init__(parent=server)
        self.server = server
        self.events: KernelEvents = events if events is not None else NoEvents()
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
        self._records: dict[str, KernelRecord] = {}
        #: The records of the listed kernels, by id (read-only: they change through start, adopt and shutdown).
        self.records: Mapping[str, KernelRecord] = MappingProxyType(self._records)
        #: The listed kernels' bridges, by id (read-only).
        self.bridges: Mapping[str, KernelBridge] = BridgeView(self._records)
        #: The persistence file's content (only with persistence_file).
        self.ledger = persistence.Ledger(self.persistence_file) if self.persistence_file else None
        self._starting: Counter[str] = Counter()
        self._last_activity = time.time()
        #: Called with the id of every kernel culled for idleness (after it stopped).
        self.culled_hooks: list[Callable[[str], None]] = []
        self._background: set[asyncio.Future[None]] = set()
        self._kernel_log: BinaryIO | None = None
        self.warm_pool = KernelPool(
            self, self.pool, root_dir=server.root_dir, adapt=self.pool_adapt, fit_timeout=self.kernel_info_timeout
        )

    # -- queries ---------------------------------------------------------------------------

    def __contains__(self, kernel_id: object) -> bool:
        return kernel_id in self._records

    def count(self) -> int:
        return len(self._records)

    def connection_count(self) -> int:
        return sum(r.bridge.connection_count for r in self._records.values())

    def last_activity(self) -> float:
        return self._last_activity

    def get(self, kernel_id: str) -> KernelRecord:
        """The record of a listed kernel, or :class:`NoSuchKernel`."""
        try:
            return self._records[kernel_id]
        except KeyError:
            raise NoSuchKernel(kernel_id) from None

    def bridge(self, kernel_id: str) -> KernelBridge:
        return self.get(kernel_id).bridge

    def model(self, kernel_id: str) -> KernelModel:
        return self.get(kernel_id).model()

    def models(self) -> list[KernelModel]:
        return [r.model() for r in list(self._records.values())]

    # -- starting ----------------------------------------------------------------------------

    def _env(self, requested: Any) -> dict[str, str]:
        """Validate the env a request asks for: KERNEL_* and allowed names, short printable values."""
        if requested is None:
            return {}
        if not isinstance(requested, dict):
            raise BadRequest("env must be an object of string values", "invalid_env")
        env: dict[str, str] = {}
        for key, value in requested.items():
            if not isinstance(value, str):
                raise BadRequest(f"env value of {key!r} must be a string", "invalid_env")
            if not (_KERNEL_ENV.fullmatch(key) or key in self.allowed_env):
                raise BadRequest(
                    f"env name {key!r} is not allowed: "
                    "only KERNEL_* names and those in KernelService.allowed_env may be set",
                    "invalid_env",
                )
            if len(value) > _ENV_VALUE_MAX or _BAD_ENV_VALUE.search(value):
                raise BadRequest(
                    f"env value of {key} is longer than {_ENV_VALUE_MAX} characters or has control characters",
                    "invalid_env",
                )
            env[key] = value
        return env

    def cwd_for(self, path: str | None) -> str:
        """Where a kernel for ``path`` starts: a plugin's answer, else the path's folder under root_dir."""
        root = self.server.root_dir
        if not path:
            return root
        answer = self.events.cwd(path)
        if answer is not None:
            return answer
        folder = os.path.realpath(os.path.join(root, os.path.dirname(path.strip("/"))))
        inside = folder == root or folder.startswith(root + os.sep)
        return folder if inside and os.path.isdir(folder) else root

    def kernel_name(self, requested: str | None) -> str:
        """The kernelspec a request gets: the forced one, the one it names, or the default."""
        return self.force_kernel_name or requested or self.default_kernel_name or self.manager.default_kernel_name

    def language(self, name: str) -> str:
        """The language of kernelspec ``name``, or :class:`NoSuchKernelSpec`."""
        return self._spec(name).language

    def _spec(self, name: str) -> KernelSpec:
        try:
            return self.kernel_specs.get_kernel_spec(name)
        except Exception:  # noqa: BLE001 - jupyter_client raises NoSuchKernel (a KeyError)
            raise NoSuchKernelSpec(name) from None

    def _admit(self, owner: str) -> None:
        """Reserve a place for one more kernel of ``owner``, or raise :class:`TooManyKernels`.

        Runs with no ``await`` between the count and the reservation, so concurrent starts
        cannot pass the limits together; kernels still starting count.
        """
        total = len(self._records) + sum(self._starting.values())
        if self.max_kernels and total >= self.max_kernels:
            raise TooManyKernels(
                f"The server runs its maximum of {self.max_kernels} kernels; shut one down or try again later.",
                self.limit_retry_after,
            )
        if self.max_kernels_per_user:
            mine = sum(1 for r in self._records.values() if r.owner == owner) + self._starting[owner]
            if mine >= self.max_kernels_per_user:
                raise TooManyKernels(
                    f"You run your maximum of {self.max_kernels_per_user} kernels; shut one down or try again later.",
                    self.limit_retry_after,
                )
        self._starting[owner] += 1

    async def start(
        self,
        name: str | None,
        *,
        path: str | None = None,
        kernel_id: str | None = None,
        env: Any = None,
        owner: str = "",
    ) -> str:
        """Start a kernel (or take a pooled one) for ``owner``, list it and return its id."""
        if path is not None and "\x00" in path:  # no file has such a name; the OS would raise ValueError
            raise BadRequest(f"path {path!r} holds a NUL character", "invalid_path")
        name = self.kernel_name(name)
        if kernel_id is not None:
            try:
                kernel_id = str(uuid.UUID(str(kernel_id)))
            except ValueError:
                raise BadRequest(f"kernel_id {kernel_id!r} is not a UUID", "invalid_kernel_id") from None
            if kernel_id in self._records:
                raise ApiError(f"A kernel with ID {kernel_id} already exists", "kernel_exists", status=409)
        launch = Launch(cwd=self.cwd_for(path), env=self._env(env))
        if path:
            launch.env["JPY_SESSION_NAME"] = path
        language = self.language(name)
        self._admit(owner)
        try:
            record = None if kernel_id else await self.warm_pool.take(name, language, launch)
            if record is None:
                record = await self.launch(name, launch, kernel_id=kernel_id)
                await self._seed_or_stop(record, language)
        finally:
            self._starting[owner] -= 1
        record.launch, record.owner = launch, owner
        self._records[record.kernel_id] = record
        record.bridge.last_activity = time.time()
        self._touch()
        await self.persist(record)
        self.events.started(record.model())
        return record.kernel_id

    async def launch(self, name: str, launch: Launch, *, kernel_id: str | None = None) -> KernelRecord:
        """Start a kernel process of kernelspec ``name`` and make its record, unlisted.

        Nothing is connected yet (the bridge opens on first use). The caller either
        lists the kernel (:meth:`start` does, with a pooled one too) or stops it with
        :meth:`stop_process`.

        :param launch: The working directory and the environment added to the server's.
        :param kernel_id: The id to give the kernel; a new one by default.
        """
        kwargs: dict[str, Any] = {"env": {**os.environ, **launch.env}, "cwd": launch.cwd}
        if self.ledger is not None:
            kwargs.update(self.independent_launch())
        if kernel_id:
            kwargs["kernel_id"] = kernel_id
        kernel_id = await self.manager.start_kernel(kernel_name=name, **kwargs)
        return self._record(kernel_id, name, launch, cast("AsyncKernelManager", self.manager.get_kernel(kernel_id)))

    def adopt(self, km: AsyncKernelManager, *, name: str, launch: Launch, owner: str = "") -> KernelRecord:
        """List a running kernel that this server did not start, as if it had started it.

        For a kernel taken back from the persistence file: ``km`` is attached to its
        process and has the kernel's id. The kernel gets a bridge and the automatic
        restarter; a restart launches it again with ``launch``. No ``started`` event is
        sent: the server that started it announced it.

        :param name: The kernelspec the kernel runs.
        :param owner: The user who started it.
        """
        launch_args = {"env": {**os.environ, **launch.env}, "cwd": launch.cwd}
        if self.ledger is not None:
            launch_args.update(self.independent_launch())
        jclient.adopt(self.manager, km, launch_args)
        km.start_restarter()  # before the record registers its restart callbacks: they need the restarter
        record = self._record(km.kernel_id, name, launch, km, owner)
        self._records[record.kernel_id] = record
        return record

    async def restore(self) -> list[str]:
        """Adopt the kernels of the persistence file that still run; return their ids.

        The file then names only those (pooled kernels of the previous server are stopped).
        """
        if self.ledger is None:
            return []
        survivors = await persistence.take_back(self.ledger.path, self.manager, self.server.root_dir)
        for kernel in survivors:
            self.adopt(kernel.manager, name=kernel.name, launch=kernel.launch, owner=kernel.owner)
        self.ledger.replace({kernel.kernel_id: kernel.entry for kernel in survivors})
        return [kernel.kernel_id for kernel in survivors]

    async def persist(self, record: KernelRecord, *, pooled: bool = False) -> None:
        """Name a kernel in the persistence file (nothing without ``persistence_file``).

        :param pooled: The kernel waits in the warm pool: a server that takes the file
            over stops it instead of listing it.
        """
        if self.ledger is not None:
            self.ledger.put(record.kernel_id, await persistence.entry_of(record, pooled=pooled))

    def independent_launch(self) -> dict[str, Any]:
        """Launch options of a kernel that may outlive this server process.

        No ``JPY_PARENT_PID`` (ipykernel would exit with its parent), and output to a log
        beside the persistence file instead of the server's own stdout/stderr, which a
        supervisor may wait on until every writer is gone.
        """
        if self._kernel_log is None:
            self._kernel_log = open(self.persistence_file + ".kernels.log", "ab")  # noqa: SIM115 - open for the server's life
        return {
            "independent": True,
            "stdin": subprocess.DEVNULL,
            "stdout": self._kernel_log,
            "stderr": self._kernel_log,
        }

    def _record(
        self, kernel_id: str, name: str, launch: Launch, km: AsyncKernelManager, owner: str = ""
    ) -> KernelRecord:
        """The record of a kernel process: its bridge, and the restarter's callbacks."""
        bridge = KernelBridge(
            kernel_id,
            km,
            buffer_max_bytes=self.buffer_max_bytes if self.buffer_offline_messages else 0,
            buffer_max_age=self.buffer_max_age,
            kernel_info_timeout=self.kernel_info_timeout,
            on_activity=self._touch,
            rate_limiter=RateLimiter(self.iopub_msg_rate_limit, self.iopub_data_rate_limit, self.rate_limit_window)
            if self.limit_rate
            else None,
        )
        bridge.execution_state = "idle"
        km.add_restart_callback(lambda: self._on_restart(kernel_id), "restart")
        km.add_restart_callback(lambda: self._on_dead(kernel_id), "dead")
        return KernelRecord(kernel_id, name, launch, km, bridge, owner)

    def seed_source(self, language: str) -> str:
        """The seed code for kernels of ``language`` (from seed_notebook or seed_code), or ``""``."""
        if self.seed_notebook:
            with open(self.seed_notebook, encoding="utf-8") as f:
                notebook = json.load(f)
            metadata = notebook.get("metadata", {})
            seed_language = metadata.get("kernelspec", {}).get("language") or metadata.get("language_info", {}).get(
                "name", ""
            )
            if seed_language and seed_language != language:
                return ""
            cells = [c for c in notebook.get("cells", []) if c.get("cell_type") == "code"]
            return "\n".join("".join(c["source"]) if isinstance(c["source"], list) else c["source"] for c in cells)
        return self.seed_code if self.seed_code and self.seed_language == language else ""

    async def seed(self, record: KernelRecord, language: str) -> None:
        """Run the seed code for ``language`` in a new kernel (a failing cell is logged, not raised).

        :raises TimeoutError: The kernel did not answer within ``kernel_info_timeout``.
        """
        code = self.seed_source(language)
        if not code:
            return
        reply = await record.bridge.run_silently(code, self.kernel_info_timeout)
        if reply.get("status") != "ok":
            log.warning(
                "Seed code failed in kernel %s: %s: %s", record.kernel_id, reply.get("ename"), reply.get("evalue")
            )

    async def _seed_or_stop(self, record: KernelRecord, language: str) -> None:
        """Run the seed code in a new kernel; stop the kernel if it never answers."""
        try:
            await self.seed(record, language)
        except Exception as exc:  # noqa: BLE001 - an unreadable seed notebook as much as a silent kernel: never leak it
            await self.stop_process(record, now=True)
            raise ApiError(f"The new kernel did not run its seed code: {exc}", "kernel_start_failed") from None

    # -- running -----------------------------------------------------------------------------

    def _touch(self) -> None:
        self._last_activity = time.time()

    def _on_restart(self, kernel_id: str) -> None:
        if self.warm_pool.discard(kernel_id):
            return
        record = self._records.get(kernel_id)
        if record is not None:
            log.warning("Kernel %s died and is being restarted", kernel_id)
            record.bridge.broadcast_status("restarting")
            # The restarter calls back before it restarts, possibly on new ports: hold client
            # messages until the bridge has followed the kernel.
            record.bridge.connected.clear()
            self.background(self._follow_restart(kernel_id))

    def background(self, work: Coroutine[Any, Any, None]) -> None:
        """Run ``work`` as a task the service keeps a reference to until it ends."""
        task = asyncio.ensure_future(work)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _follow_restart(self, kernel_id: str) -> None:
        """Reconnect a kernel's bridge once the automatic restart is done."""
        deadline = time.monotonic() + self.kernel_info_timeout
        while time.monotonic() < deadline:
            await asyncio.sleep(0.1)
            record = self._records.get(kernel_id)
            if record is None:
                return
            if await record.manager.is_alive():
                try:
                    await record.bridge.follow_restart()
                except (TimeoutError, OSError) as exc:
                    log.error("Kernel %s did not come back after its restart: %s", kernel_id, exc)
                finally:
                    record.bridge.connected.set()
                return
        record = self._records.get(kernel_id)
        if record is not None:
            record.bridge.connected.set()  # give up holding; the dead/restart status tells clients the rest

    def _on_dead(self, kernel_id: str) -> None:
        if self.warm_pool.discard(kernel_id):
            return
        record = self._records.get(kernel_id)
        if record is not None:
            log.error("Kernel %s died and could not be restarted", kernel_id)
            record.reason = "Kernel died and could not be restarted"
            record.bridge.broadcast_status("dead")

    def sweep(self, now: float) -> None:
        """Forget the replay buffers of clients that have been away longer than ``buffer_max_age``."""
        for record in list(self._records.values()):
            record.bridge.sweep(now)

    async def interrupt(self, kernel_id: str) -> None:
        await self.get(kernel_id).manager.interrupt_kernel()

    async def restart(self, kernel_id: str) -> None:
        bridge = self.get(kernel_id).bridge
        await self.manager.restart_kernel(kernel_id, now=False)
        bridge.execution_state = "starting"
        await bridge.follow_restart()  # the kernel may be on new ports (a taken-back kernel is)
        bridge.execution_state = "idle"

    # -- stopping ----------------------------------------------------------------------------

    async def shutdown(self, kernel_id: str, *, now: bool = False) -> None:
        """Shut a listed kernel down, close its clients and announce it."""
        record = self.get(kernel_id)
        del self._records[kernel_id]
        await self.stop_process(record, now=now)
        self.events.stopped(kernel_id)

    async def stop_process(self, record: KernelRecord, *, now: bool = False) -> None:
        """Close a kernel's bridge, stop its process and drop it from the persistence file.

        Sends no event: for kernels that are not listed (pooled, or failed to start) and
        for :meth:`shutdown`, which announces the kernels it stops.
        """
        await record.bridge.close()
        try:
            await self.manager.shutdown_kernel(record.kernel_id, now=now)
        except KeyError:
            pass
        if self.ledger is not None:
            self.ledger.drop(record.kernel_id)

    async def shutdown_all(self) -> None:
        """Shut every kernel down (server exit): politely first, then by force."""
        ids = list(self._records)
        results = await asyncio.gather(*(self.shutdown(k) for k in ids), return_exceptions=True)
        for kernel_id, result in zip(ids, results):
            if isinstance(result, Exception):
                log.error("Kernel %s did not shut down cleanly: %s", kernel_id, result)
        await self.manager.shutdown_all(now=True)
        self.close_log()

    def close_log(self) -> None:
        if self._kernel_log is not None:
            self._kernel_log.close()
            self._kernel_log = None

    async def release_all(self) -> None:
        """Let go of every kernel without stopping it (``keep_kernels``): close sockets and clients."""
        for record in list(self._records.values()):
            await record.bridge.close("Server restarting; reconnect when it is back")
        for record in self._records.values():
            jclient.release(record.manager)
        self._records.clear()
        self.close_log()

    # -- culling -----------------------------------------------------------------------------

    async def cull_idle(self, now: float) -> list[str]:
        """Shut down kernels idle longer than ``cull_idle_timeout``; return their ids."""
        culled = []
        for kernel_id, record in list(self._records.items()):
            bridge = record.bridge
            idle = now - bridge.last_activity
            if idle <= self.cull_idle_timeout:
                continue
            if bridge.connection_count and not self.cull_connected:
                continue
            if bridge.execution_state == "busy" and not self.cull_busy:
                continue
            log.warning(
                "Culling kernel %s (%s): idle %d s, %s, %d connection(s)",
                kernel_id,
                record.name,
                int(idle),
                bridge.execution_state,
                bridge.connection_count,
            )
            try:
                await self.shutdown(kernel_id)
            except NoSuchKernel:
                continue
            culled.append(kernel_id)
            for hook in self.culled_hooks:
                hook(kernel_id)
        return culled
