"""Third-party licenses of the applications' bundled JavaScript, as JSON, CSV or Markdown.

Each build ships ``third-party-licenses.json`` (``{"packages": [{name, versionInfo,
licenseId, extractedText}]}``) in its static folder; the report groups them by bundle:
the application's package name, and each prebuilt extension's name.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import re
from pathlib import Path
from typing import Any

__all__ = ["FORMATS", "license_bundles", "render_report"]

log = logging.getLogger("jupyter_core_server.frontend")

LICENSE_FILE = "third-party-licenses.json"
#: report format -> (MIME type, file extension)
FORMATS = {"json": ("application/json", ".json"), "csv": ("text/csv", ".csv"), "markdown": ("text/markdown", ".md")}
_UNKNOWN = "<unknown package>"


def _bundle(static_dir: Path) -> dict[str, Any]:
    path = static_dir / LICENSE_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        packages = data["packages"]
        if not isinstance(packages, list):
            raise TypeError("packages is not a list")
    except FileNotFoundError:
        return {"packages": []}
    except (OSError, ValueError, KeyError, TypeError) as exc:
        log.warning("Ignoring licenses %s: %s", path, exc)
        return {"packages": []}
    return {"packages": [p for p in packages if isinstance(p, dict)]}


def license_bundles(sources: dict[str, Path], pattern: str) -> dict[str, Any]:
    """Return ``{bundle name: {"packages": [...]}}`` for the sources whose name matches ``pattern``.

    :param sources: Bundle name -> static folder holding ``third-party-licenses.json``.
    :param pattern: A regular expression matched at the start of each bundle name.
    :raises re.error: when ``pattern`` is not a regular expression.
    """
    matcher = re.compile(pattern)
    return {name: _bundle(path) for name, path in sources.items() if matcher.match(name)}


def render_report(bundles: dict[str, Any], report_format: str, full_text: bool) -> str:
    """Render the bundles in ``report_format`` (a key of :data:`FORMATS`)."""
    if report_format == "json":
        return json.dumps({"bundles": bundles}, indent=2, sort_keys=True)
    if report_format == "csv":
        out = io.StringIO()
        fields = ["name", "versionInfo", "licenseId", "extractedText"]
        writer = csv.DictWriter(out, fieldnames=["bundle", *fields])
        writer.writeheader()
        for name, bundle in bundles.items():
            for package in bundle["packages"]:
                writer.writerow({"bundle": name, **{f: package.get(f, "") for f in fields}})
        return out.getvalue()
    lines: list[str] = []
    for name, bundle in bundles.items():
        lines += [f"# {name}", ""]
        if not bundle["packages"]:
            lines += ["> No licenses found", ""]
        for package in bundle["packages"]:
            title = f"**{str(package.get('name', _UNKNOWN)).strip()}**"
            lines.append(
                f"## {title}\t`{str(package.get('versionInfo', '')).strip()}`"
                f"\t{str(package.get('licenseId', '')).strip()}"
            )
            if full_text:
                text = package.get("extractedText") or ""
                lines += ["", "<pre>", str(text), "</pre>", ""] if text else ["", "> No license text available", ""]
    return "\n".join(lines)
