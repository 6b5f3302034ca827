"""Where the system's Chromium is (Debian's ``chromium``): playwright drives it, no browser download."""

from __future__ import annotations

import shutil

CHROMIUM = next((p for p in (shutil.which("chromium"), shutil.which("chromium-browser")) if p), None)
