"""Sessions: a document (path) tied to a kernel, with jupyter_server's semantics (no aiohttp here)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypedDict

from traitlets import Unicode
from traitlets.config import LoggingConfigurable

from ..errors import ApiError, BadRequest, NotFound
from ..kernels.manager import KernelModel
from .store import SessionRow, SessionStore

if TYPE_CHECKING:
    from ..app import CoreServerApp
    from ..kernels.manager import KernelService

__all__ = ["SessionManager", "SessionModel"]


class SessionModel(TypedDict, total=False):
    """The REST model of a session."""

    id: str
    path: str
    name: str
    type: str
    kernel: KernelModel | None
    notebook: dict[str, str]


def _check_fields(fields: dict[str, Any]) -> None:
    """Refuse a ``path``, ``name`` or ``type`` that is not a string or holds a NUL character (400).

    A session's path names a document and becomes its kernel's working directory and
    ``JPY_SESSION_NAME``: no file name holds a NUL, and the OS refuses one in both.
    """
    for key, value in fields.items():
        if not isinstance(value, str):
            raise BadRequest(f"{key} must be a string", "invalid_body")
        if "\x00" in value:
            raise BadRequest(
                f"{key} {value!r} holds a NUL character", "invalid_path" if key == "path" else "invalid_body"
            )


class NoSuchSession(NotFound):
    def __init__(self, session_id: str) -> None:
        super().__init__(f"No session with ID {session_id}", "no_such_session")


class SessionManager(LoggingConfigurable):
    """Creates, finds, changes and deletes sessions; starts and stops their kernels."""

    database_filepath = Unicode(
        ":memory:",
        help="SQLite file that keeps sessions across restarts (':memory:' keeps them in memory only, "
        "unless KernelService.persistence_file is set: then they are kept beside it).",
    ).tag(config=True)

    def __init__(self, server: CoreServerApp, kernels: KernelService) -> None:
        super().__init__(parent=server)
        self.kernels = kernels
        database = self.database_filepath
        if database == ":memory:" and kernels.persistence_file:
            # Kernels outlive the server: so must the sessions that name them.
            database = kernels.persistence_file + ".sessions.sqlite"
        self.store = SessionStore(database)
        self.announce: Callable[[SessionModel, str], None] = lambda model, change: None
        kernels.culled_hooks.append(self._kernel_culled)

    def _kernel_culled(self, kernel_id: str) -> None:
        """Delete the sessions of a kernel culled for idleness."""
        for row in self.store.find(kernel_id=kernel_id):
            model = self.model(row)
            self.store.delete(row["session_id"])
            self.announce(model, "deleted")

    def close(self) -> None:
        self.kernels.culled_hooks.remove(self._kernel_culled)
        self.store.close()

    # -- models ------------------------------------------------------------------------------

    def model(self, row: SessionRow) -> SessionModel:
        kernel_id = row["kernel_id"]
        kernel = self.kernels.model(kernel_id) if kernel_id in self.kernels.bridges else None
        model: SessionModel = {
            "id": row["session_id"],
            "path": row["path"],
            "name": row["name"],
            "type": row["type"],
            "kernel": kernel,
        }
        if row["type"] == "notebook":
            model["notebook"] = {"path": row["path"], "name": row["name"]}
        return model

    def _prune(self) -> list[SessionRow]:
        """Drop sessions whose kernel is gone (culled, died, shut down elsewhere)."""
        rows = self.store.find()
        alive = []
        for row in rows:
            if row["kernel_id"] in self.kernels.bridges:
                alive.append(row)
            else:
                self.store.delete(row["session_id"])
        return alive

    def list(self) -> list[SessionModel]:
        return [self.model(row) for row in self._prune()]

    def get(self, session_id: str) -> SessionModel:
        return self.model(self._row(session_id))

    def _row(self, session_id: str) -> SessionRow:
        rows = self.store.find(session_id=session_id)
        if not rows:
            raise NoSuchSession(session_id)
        return rows[0]

    # -- changes -----------------------------------------------------------------------------

    async def _kernel_for(self, kernel: Any, path: str, name: str, owner: str) -> str:
        """Start or find the kernel a request names (``{"id"}`` wins over ``{"name"}``)."""
        if kernel is None:
            kernel = {}
        if not isinstance(kernel, dict):
            raise BadRequest("kernel must be an object with a name or an id", "invalid_kernel")
        if kernel.get("id"):
            kernel_id = str(kernel["id"])
            if kernel_id not in self.kernels.bridges:
                raise BadRequest(f"No kernel with ID {kernel_id}", "no_such_kernel")
            return kernel_id
        kernel_name = kernel.get("name")
        try:
            return await self.kernels.start(kernel_name, path=path, owner=owner)
        except NotFound as exc:
            if exc.reason == "no_such_kernelspec":
                raise KernelUnavailable(str(kernel_name)) from None
            raise

    async def create(self, path: str, name: str, type_: str, kernel: Any, owner: str = "") -> tuple[SessionModel, bool]:
        """Create a session, or return the one that has ``path`` already; say which."""
        _check_fields({"path": path, "name": name, "type": type_})
        existing = [row for row in self._prune() if row["path"] == path]
        if existing:
            return self.model(existing[0]), False
        kernel_id = await self._kernel_for(kernel, path, name, owner)
        row = {"session_id": str(uuid.uuid4()), "path": path, "name": name, "type": type_, "kernel_id": kernel_id}
        self.store.insert(row)
        model = self.model(row)
        self.announce(model, "created")
        return model, True

    async def update(self, session_id: str, changes: dict[str, Any], owner: str = "") -> SessionModel:
        """Change path, name or type, or swap the kernel (the old one is shut down)."""
        row = self._row(session_id)
        fields: dict[str, Any] = {key: changes[key] for key in ("path", "name", "type") if key in changes}
        _check_fields(fields)
        old_kernel = row["kernel_id"]
        if "kernel" in changes:
            path, name = str(fields.get("path", row["path"])), str(fields.get("name", row["name"]))
            fields["kernel_id"] = await self._kernel_for(changes["kernel"], path, name, owner)
        self.store.update(session_id, **fields)
        new_row = self._row(session_id)
        swapped = new_row["kernel_id"] != old_kernel and old_kernel in self.kernels.bridges
        if swapped and not self.store.find(kernel_id=old_kernel):
            await self.kernels.shutdown(old_kernel)
        model = self.model(new_row)
        self.announce(model, "modified")
        return model

    def rename_path(self, old: str, new: str) -> int:
        """Point the sessions on document ``old`` (or below folder ``old``) at ``new``.

        For plugins that move documents (the contents plugin's rename). A session whose
        name was the document's file name takes the new file name. Returns how many
        sessions moved; each is announced as ``modified``.
        """
        old, new = old.strip("/"), new.strip("/")
        moved = 0
        for row in self.store.find():
            path = str(row["path"]).strip("/")
            if path == old:
                changes = {"path": new}
                if row["name"] == old.rpartition("/")[2]:
                    changes["name"] = new.rpartition("/")[2]
            elif path.startswith(old + "/"):
                changes = {"path": new + path[len(old) :]}
            else:
                continue
            self.store.update(row["session_id"], **changes)
            self.announce(self.model(self._row(row["session_id"])), "modified")
            moved += 1
        return moved

    async def delete(self, session_id: str) -> None:
        """Delete a session and shut its kernel down (410 if the kernel was gone already)."""
        row = self._row(session_id)
        model = self.model(row)
        self.store.delete(session_id)
        self.announce(model, "deleted")
        if row["kernel_id"] not in self.kernels.bridges:
            raise ApiError(f"Kernel {row['kernel_id']} was deleted before the session", "kernel_gone", status=410)
        if not self.store.find(kernel_id=row["kernel_id"]):
            await self.kernels.shutdown(row["kernel_id"])


class KernelUnavailable(ApiError):
    """The session asks for a kernelspec that is not installed (501, as jupyter_server)."""

    status = 501

    def __init__(self, kernel_name: str) -> None:
        self.short_message = f"{kernel_name} not found"
        super().__init__(
            f"The '{kernel_name}' kernel is not available. "
            "Please pick another suitable kernel instead, or install that kernel.",
            "no_such_kernelspec",
            extra={"short_message": self.short_message},
        )
