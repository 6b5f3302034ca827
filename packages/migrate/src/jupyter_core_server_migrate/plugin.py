"""Hooks of the ``migrate`` plugin: the ``jupyter-core-server migrate`` subcommand."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from jupyter_core_server import hookimpl

if TYPE_CHECKING:
    from traitlets.config import Application

requires: tuple[str, ...] = ()


@hookimpl
def register_subcommands() -> Mapping[str, tuple[type[Application], str]]:
    from .cli import MigrateApp

    return {"migrate": (MigrateApp, "Translate notebook, jupyter_server and Kernel Gateway configuration.")}
