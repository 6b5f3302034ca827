"""Errors of the terminals service; the core renders each as ``{"message", "reason"}``."""

from __future__ import annotations

from jupyter_core_server import ApiError, BadRequest, NotFound

__all__ = [
    "CwdOutsideRoot",
    "InvalidCwd",
    "InvalidTerminalName",
    "NoSuchTerminal",
    "TerminalStartFailed",
    "TerminalsUnavailable",
]


class NoSuchTerminal(NotFound):
    """No terminal has this name (404)."""

    def __init__(self, name: str) -> None:
        super().__init__(f"No terminal named {name!r}", "no_such_terminal")


class InvalidTerminalName(BadRequest):
    """A client asked for a name that cannot appear in a terminal URL (400)."""

    def __init__(self, name: object) -> None:
        super().__init__(
            f"Invalid terminal name {name!r}: use 1 to 100 letters, digits or underscores",
            "invalid_terminal_name",
        )


class CwdOutsideRoot(BadRequest):
    """The requested working directory lies outside the server's root directory (400)."""

    def __init__(self, cwd: str) -> None:
        super().__init__(f"Working directory {cwd!r} is outside the server's root directory", "cwd_outside_root")


class InvalidCwd(BadRequest):
    """The requested working directory cannot be a directory at all (400).

    It holds a NUL byte, names an unknown user's home or runs into a symbolic link loop.
    """

    def __init__(self, cwd: str, why: str = "") -> None:
        super().__init__(f"Invalid working directory {cwd!r}" + (f": {why}" if why else ""), "invalid_cwd")


class TerminalsUnavailable(ApiError):
    """This platform cannot run terminals (503)."""

    status = 503

    def __init__(self, why: str) -> None:
        super().__init__(f"Terminals are not available on this server: {why}", "terminals_unavailable")


class TerminalStartFailed(ApiError):
    """The terminal's command could not be started (500)."""

    status = 500

    def __init__(self, command: list[str], error: OSError) -> None:
        super().__init__(
            f"Cannot start the terminal command {' '.join(command)!r}: {error.strerror or error}",
            "terminal_start_failed",
        )
