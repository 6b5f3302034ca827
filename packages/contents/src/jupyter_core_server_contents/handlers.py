"""REST handlers of ``/api/contents``: parse the request, call the service, serialise.

Status codes, query arguments and bodies follow jupyter_server 2.x. Two extensions are
opt-in and leave the usual responses unchanged when unused: pagination of directory
listings (``limit`` and ``cursor``) and conditional saves (``If-Match`` with a hash, or
``If-Unmodified-Since``), refused with 409 when the file changed on disk.
"""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import datetime, timezone
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any
from urllib.parse import quote

from aiohttp import web
from jupyter_core_server import BadRequest, keys, loads_json

from .keys import CONTENTS
from .manager import ContentsService, Model, Precondition

__all__ = ["routes"]

log = logging.getLogger("jupyter_core_server.contents")

_TYPES = frozenset({"directory", "file", "notebook"})
# Bodies larger than this are parsed in a worker thread, off the event loop.
_INLINE_JSON = 256 * 1024


def _service(request: web.Request) -> ContentsService:
    return request.app[CONTENTS]


def _path(request: web.Request) -> str:
    return request.match_info.get("path", "").strip("/")


def _location(request: web.Request, *parts: str) -> str:
    base = request.app[keys.SERVER].base_url
    return base + "api/contents/" + "/".join(quote(part, safe="/") for part in parts if part)


def _flag(request: web.Request, name: str, default: str) -> bool:
    value = request.query.get(name, default)
    if value not in ("0", "1"):
        raise BadRequest(f"{name} argument {value!r} is invalid; it must be '0' or '1'", f"bad_{name}")
    return value == "1"


def _http_date(iso: str) -> str:
    return format_datetime(datetime.fromisoformat(iso.replace("Z", "+00:00")), usegmt=True)


def _encode(model: Any) -> str:
    # models are trees built here or by json.loads: no cycles to look for
    return json.dumps(model, check_circular=False)


CONTENTS_EVENTS = "https://events.jupyter.org/jupyter_server/contents_service/v1"


def _event(request: web.Request, action: str, path: str, source_path: str | None = None) -> None:
    """Report a change of the contents as jupyter_server's ``contents_service`` event."""
    data = {"action": action, "path": path}
    if source_path is not None:
        data["source_path"] = source_path
    request.app[keys.PLUGIN_MANAGER].notify("server_event", schema_id=CONTENTS_EVENTS, data=data)


async def _json_response(model: Any, *, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    content = model.get("content") if isinstance(model, dict) else None
    if content:
        body = await asyncio.to_thread(_encode, model)
    else:
        body = _encode(model)
    return web.Response(status=status, text=body, content_type="application/json", headers=headers)


async def _model_response(
    request: web.Request, model: Model, *, status: int = 200, location: bool = True
) -> web.Response:
    headers = {"Last-Modified": _http_date(model["last_modified"])}
    if location:
        headers["Location"] = _location(request, model["path"])
    if model.get("hash"):
        headers["ETag"] = f'"{model["hash"]}"'
    return await _json_response(model, status=status, headers=headers)


async def _read_model(request: web.Request) -> Any:
    """The decoded JSON body, or ``None`` when there is none (parsed off the loop when large)."""
    raw = await request.read()
    if not raw.strip():
        return None
    if len(raw) > _INLINE_JSON:
        return await asyncio.to_thread(loads_json, raw, "Request body")
    return loads_json(raw, "Request body")


def _precondition(request: web.Request) -> Precondition:
    """Read ``If-Match`` (hashes as entity tags) and ``If-Unmodified-Since`` (HTTP or ISO date)."""
    hashes = None
    if_match = request.headers.get("If-Match")
    if if_match is not None:
        hashes = [tag.strip().removeprefix("W/").strip('"') for tag in if_match.split(",") if tag.strip()]
    since = None
    resolution = 1e-6
    raw = request.headers.get("If-Unmodified-Since")
    if raw is not None:
        try:
            since = datetime.fromisoformat(raw.strip().replace("Z", "+00:00"))
        except ValueError:
            try:
                since = parsedate_to_datetime(raw)
                resolution = 1.0
            except (TypeError, ValueError):
                raise BadRequest(
                    f"If-Unmodified-Since {raw!r} is neither an HTTP date nor an ISO 8601 time", "bad_precondition"
                ) from None
        if since.tzinfo is None:
            since = since.replace(tzinfo=timezone.utc)
    return Precondition(hashes, since, resolution)


# -- /api/contents/{path} -------------------------------------------------------------------------


async def get_contents(request: web.Request) -> web.Response:
    """``GET``: the model of a file, notebook or directory (with content unless ``content=0``)."""
    query = request.query
    kind = query.get("type")
    if kind is not None and kind not in _TYPES:
        kind = "file"  # as jupyter_server: an unknown type reads the path as a file
    fmt = query.get("format")
    if fmt not in (None, "text", "base64"):
        raise BadRequest(f"Format {fmt!r} is invalid", "bad_format")
    content = _flag(request, "content", "1")
    require_hash = _flag(request, "hash", "0")
    limit = None
    if "limit" in query:
        try:
            limit = int(query["limit"])
        except ValueError:
            limit = 0
        if limit < 1:
            raise BadRequest(f"limit {query['limit']!r} must be a positive integer", "bad_limit")
    model = await _service(request).get(
        _path(request),
        type=kind,
        format=fmt,
        content=content,
        require_hash=require_hash,
        limit=limit,
        cursor=query.get("cursor"),
    )
    return await _model_response(request, model, location=False)


async def put_contents(request: web.Request) -> web.Response:
    """``PUT``: save or upload (201 when new); a conditional save answers 409 on a changed file."""
    path = _path(request)
    model = await _read_model(request)
    service = _service(request)
    if not model:  # jupyter_server: no model (or an empty one) makes an untitled file in the path
        created_model = await service.new_untitled(path)
        _event(request, "create", created_model["path"])
        return await _model_response(request, created_model, status=201)
    if not isinstance(model, dict):
        raise BadRequest("The model must be a JSON object", "invalid_body")
    if model.get("copy_from"):
        raise BadRequest("Cannot copy with PUT, only POST", "copy_with_put")
    chunk = model.get("chunk")
    if chunk in (None, 1, -1):
        log.info("Saving %s", path)
    saved, created = await service.save(path, model, _precondition(request))  # FileChanged: 409 with the current hash
    _event(request, "upload" if created else "save", saved["path"])
    return await _model_response(request, saved, status=201 if created else 200)


async def post_contents(request: web.Request) -> web.Response:
    """``POST``: a new untitled file, notebook or directory in ``path``, or a copy (``copy_from``)."""
    path = _path(request)
    service = _service(request)
    if await service.is_file(path):
        raise BadRequest("Cannot POST to files, use PUT instead.", "post_to_file")
    body = await _read_model(request)
    if body is not None and not isinstance(body, dict):
        raise BadRequest("The body must be a JSON object", "invalid_body")
    body = body or {}
    for field in ("copy_from", "type", "ext"):
        if not isinstance(body.get(field) or "", str):
            raise BadRequest(f"{field!r} must be a string", "invalid_body")
    copy_from = body.get("copy_from")
    if copy_from:
        log.info("Copying %r to %r", copy_from, path)
        model = await service.copy(str(copy_from), path)
        _event(request, "copy", model["path"], str(copy_from).strip("/"))
    else:
        kind = body.get("type") or ""
        if kind not in _TYPES:
            kind = "file" if kind else ""
        model = await service.new_untitled(path, kind, str(body.get("ext") or ""))
        _event(request, "create", model["path"])
    return await _model_response(request, model, status=201)


async def patch_contents(request: web.Request) -> web.Response:
    """``PATCH``: rename or move (``{"path": new}``); sessions on the old path follow."""
    path = _path(request)
    body = await _read_model(request)
    if not isinstance(body, dict):
        raise BadRequest("JSON body missing", "missing_body")
    service = _service(request)
    new_path = body.get("path")
    if new_path is not None and not isinstance(new_path, str):
        raise BadRequest(f"The new path must be a string, not {new_path!r}", "invalid_body")
    if not new_path or str(new_path).strip("/") == path:
        model = await service.get(path, content=False)
    else:
        old = service.root.normalize(path)
        model = await service.rename(path, str(new_path))
        sessions = request.app.get(keys.SESSION_MANAGER)
        if sessions is not None:
            sessions.rename_path(old, model["path"])
        _event(request, "rename", model["path"], old)
    return await _model_response(request, model)


async def delete_contents(request: web.Request) -> web.Response:
    """``DELETE``: remove a file or directory (to the trash by default)."""
    path = _path(request)
    log.warning("delete %s", path)
    await _service(request).delete(path)
    _event(request, "delete", path)
    return web.Response(status=204)


# -- checkpoints and trust -------------------------------------------------------------------------


async def list_checkpoints(request: web.Request) -> web.Response:
    """``GET .../checkpoints``: the file's checkpoints."""
    return await _json_response(await _service(request).list_checkpoints(_path(request)))


async def create_checkpoint(request: web.Request) -> web.Response:
    """``POST .../checkpoints``: checkpoint the file now (201)."""
    path = _path(request)
    checkpoint = await _service(request).create_checkpoint(path)
    location = _location(request, path, "checkpoints", checkpoint["id"])
    return await _json_response(checkpoint, status=201, headers={"Location": location})


async def restore_checkpoint(request: web.Request) -> web.Response:
    """``POST .../checkpoints/{id}``: restore the file from the checkpoint (204)."""
    await _service(request).restore_checkpoint(request.match_info["checkpoint_id"], _path(request))
    return web.Response(status=204)


async def delete_checkpoint(request: web.Request) -> web.Response:
    """``DELETE .../checkpoints/{id}``: delete the checkpoint (204)."""
    await _service(request).delete_checkpoint(request.match_info["checkpoint_id"], _path(request))
    return web.Response(status=204)


async def trust_notebook(request: web.Request) -> web.Response:
    """``POST .../trust``: sign the notebook, trusting its output (201)."""
    await _service(request).trust(_path(request))
    return web.Response(status=201)


def routes() -> list[web.RouteDef]:
    """The routes of ``/api/contents``, most specific first (aiohttp tries them in order)."""
    item = "/api/contents/{path:.+}"
    checkpoint = item + r"/checkpoints/{checkpoint_id:[\w-]+}"
    return [
        web.get(item + "/checkpoints", list_checkpoints),
        web.post(item + "/checkpoints", create_checkpoint),
        web.post(checkpoint, restore_checkpoint),
        web.delete(checkpoint, delete_checkpoint),
        web.post(item + "/trust", trust_notebook),
        *(
            method(path, handler)
            for path in ("/api/contents", "/api/contents/{path:.*}")
            for method, handler in (
                (web.get, get_contents),
                (web.put, put_contents),
                (web.post, post_contents),
                (web.patch, patch_contents),
                (web.delete, delete_contents),
            )
        ),
    ]
