"""nbconvert's side: the exporters on offer, and one conversion (run in a worker process).

The server process only lists exporters. Conversions run in a separate Python process
started with ``python -m jupyter_core_server_nbconvert.exporters``: it reads a request
(``{"format", "name", "notebook"}``) as JSON on stdin and writes one JSON header line
(``{"status", "mimetype", "mimetype_from", "filename", "message", "reason"}``) followed by
the output bytes on stdout. ``mimetype_from`` is ``"exporter"`` when the type is the
exporter's own, ``"notebook"`` when the conversion changed it (the ``script`` exporter
takes it from ``metadata.language_info``) or the exporter declares none. Killing that
process stops a conversion, whatever it is doing.
"""

from __future__ import annotations

import io
import json
import logging
import sys
import zipfile
from typing import Any

__all__ = ["Result", "convert", "list_exporters", "main"]

log = logging.getLogger("jupyter_core_server.nbconvert")

# What a missing program is called in errors, and how to get it.
_PANDOC_HELP = "pandoc is not installed; install pandoc (https://pandoc.org/installing.html) to convert to this format."
_TEX_HELP = (
    "a TeX installation (xelatex) is required for this format; install TeX Live or MiKTeX "
    "(https://nbconvert.readthedocs.io/en/latest/install.html#installing-tex)."
)


def list_exporters() -> dict[str, dict[str, str]]:
    """Return ``{name: {"output_mimetype": ...}}`` for every exporter that loads, as jupyter_server."""
    from nbconvert.exporters import base

    found: dict[str, dict[str, str]] = {}
    for name in base.get_export_names():
        try:
            exporter = base.get_exporter(name)
        except Exception as exc:  # noqa: BLE001 - a broken third-party exporter is left out, as jupyter_server does
            log.warning("Exporter %s cannot be loaded: %s", name, exc)
            continue
        found[name] = {"output_mimetype": str(exporter.output_mimetype or "")}
    return found


class Result:
    """The outcome of one conversion: a status, a header for the response and the body."""

    def __init__(self, status: int, body: bytes = b"", **header: str) -> None:
        self.status = status
        self.body = body
        self.header = header

    @classmethod
    def error(cls, status: int, message: str, reason: str) -> Result:
        return cls(status, message=message, reason=reason)


def convert(fmt: str, notebook: Any, name: str) -> Result:
    """Convert a notebook (a JSON document) with the exporter ``fmt``."""
    import nbformat
    from nbconvert.exporters import base
    from nbconvert.utils.pandoc import PandocMissing

    captured: dict[str, Any] = {}
    try:
        # as a file is read: multi-line strings joined, older versions upgraded, then validated
        nb = nbformat.reads(json.dumps(notebook), as_version=4, capture_validation_error=captured)
    except Exception as exc:  # noqa: BLE001 - anything unreadable is the client's notebook, not our error
        return Result.error(400, f"Invalid notebook: {exc}", "invalid_notebook")
    if "ValidationError" in captured:
        return Result.error(400, f"Invalid notebook: {captured['ValidationError'].message}", "invalid_notebook")
    stem = name.removesuffix(".ipynb") or "notebook"
    try:
        exporter = base.get_exporter(fmt)()
        declared = str(exporter.output_mimetype or "")
        output, resources = exporter.from_notebook_node(nb, resources={"metadata": {"name": stem}})
    except PandocMissing:
        return Result.error(500, f"Cannot convert to {fmt!r}: {_PANDOC_HELP}", "missing_dependency")
    except OSError as exc:
        if "not found on PATH" in str(exc):
            return Result.error(500, f"Cannot convert to {fmt!r}: {_TEX_HELP}", "missing_dependency")
        return Result.error(500, f"Conversion to {fmt!r} failed: {exc}", "conversion_failed")
    except Exception as exc:  # noqa: BLE001 - every failure becomes a JSON answer, never a traceback
        reason = "missing_dependency" if "install" in str(exc).lower() else "conversion_failed"
        return Result.error(500, f"Conversion to {fmt!r} failed: {type(exc).__name__}: {exc}", reason)
    filename = stem + str(resources.get("output_extension") or "")
    body = output if isinstance(output, bytes) else output.encode("utf-8")
    mimetype = str(exporter.output_mimetype or "")
    outputs: dict[str, bytes] = resources.get("outputs") or {}
    if outputs:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(filename, body)
            for extra, data in outputs.items():
                archive.writestr(extra, data)
        return Result(
            200,
            buffer.getvalue(),
            mimetype="application/zip",
            mimetype_from="exporter",
            filename=stem + ".zip",
            zipped="1",
        )
    mimetype_from = "exporter" if declared and mimetype == declared else "notebook"
    return Result(200, body, mimetype=mimetype, mimetype_from=mimetype_from, filename=filename)


def main() -> None:
    """Worker entry: one request on stdin, one answer on stdout."""
    request = json.loads(sys.stdin.buffer.read())
    result = convert(str(request["format"]), request["notebook"], str(request.get("name") or ""))
    header = json.dumps({"status": result.status, **result.header}).encode()
    sys.stdout.buffer.write(header + b"\n" + result.body)
    sys.stdout.buffer.flush()


if __name__ == "__main__":
    main()
