"""The contents plugin of jupyter-core-server: ``/api/contents``, ``/files`` and checkpoints.

Installing the distribution enables it (entry point ``contents`` in the
``jupyter_core_server.plugins`` group). Other plugins reach the service through
:data:`CONTENTS` on the application.
"""

from __future__ import annotations

from ._version import __version__
from .checkpoints import Checkpoints, FileCheckpoints
from .config import ContentsManager
from .files import check_same_site
from .keys import CONTENTS
from .manager import ContentsService

__all__ = [
    "CONTENTS",
    "Checkpoints",
    "ContentsManager",
    "ContentsService",
    "FileCheckpoints",
    "__version__",
    "check_same_site",
]
