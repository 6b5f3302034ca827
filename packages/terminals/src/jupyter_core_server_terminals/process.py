"""A process on a pseudo-terminal: spawn, resize, signal, reap (standard library only).

The child runs in a session of its own with the pty as its controlling terminal, as in
a terminal emulator: job control works, Ctrl-C reaches the foreground job, and a
window-size change sends it ``SIGWINCH``. Every process the shell starts stays in that
session (unless it calls ``setsid`` itself), which is how :meth:`PtyProcess.kill_session`
finds them all.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import os
import signal
import struct
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

__all__ = ["PtyProcess", "pty_unavailable_reason"]

_PROC = Path("/proc")


def pty_unavailable_reason() -> str | None:
    """Say why this platform cannot run terminals, or return ``None`` when it can.

    Opens (and closes) one pseudo-terminal pair: a container without ``/dev/pts``, or an
    exhausted pty limit, fails here with the operating system's own explanation.
    """
    if os.name != "posix":
        return f"terminals need POSIX pseudo-terminals, which {sys.platform} does not provide"
    try:
        import fcntl  # noqa: F401
        import termios  # noqa: F401
    except ImportError as exc:  # pragma: no cover - every POSIX CPython has them
        return f"the {exc.name} module is missing"
    try:
        master, slave = os.openpty()
    except OSError as exc:
        return f"cannot open a pseudo-terminal: {exc.strerror or exc}"
    os.close(master)
    os.close(slave)
    return None


def _winsize(rows: int, cols: int) -> bytes:
    return struct.pack("HHHH", rows, cols, 0, 0)


class PtyProcess:
    """A child process whose standard streams are the slave side of a new pty.

    :attr:`fd` is the master side, non-blocking, owned by this object until
    :meth:`close_fd`. Create one with :meth:`spawn`.
    """

    def __init__(self, popen: subprocess.Popen[bytes], fd: int) -> None:
        self.popen = popen
        self.pid = popen.pid
        self.fd = fd

    @classmethod
    def spawn(
        cls,
        argv: Sequence[str],
        *,
        cwd: str,
        env: Mapping[str, str],
        rows: int = 24,
        cols: int = 80,
    ) -> PtyProcess:
        """Start ``argv`` on a new pty of ``rows`` × ``cols``.

        :raises OSError: when no pty can be opened or the command cannot be executed
            (``FileNotFoundError`` for a missing program).
        """
        import fcntl
        import termios

        master, slave = os.openpty()
        try:
            attrs = termios.tcgetattr(slave)
            # Let the line discipline erase whole UTF-8 characters in canonical mode.
            attrs[0] |= getattr(termios, "IUTF8", 0)
            termios.tcsetattr(slave, termios.TCSANOW, attrs)
            fcntl.ioctl(slave, termios.TIOCSWINSZ, _winsize(rows, cols))
            popen = subprocess.Popen(
                list(argv),
                stdin=slave,
                stdout=slave,
                stderr=slave,
                cwd=cwd,
                env=dict(env),
                close_fds=True,
                start_new_session=True,
                # After setsid() the child has no controlling terminal; make the pty (its
                # stdin) one, so job control and Ctrl-C work. preexec_fn is risky in a
                # threaded program when the function runs Python code that may take a lock
                # another thread held at fork time; this one is a single ioctl call.
                preexec_fn=functools.partial(fcntl.ioctl, 0, termios.TIOCSCTTY, 0),  # noqa: PLW1509
            )
        except BaseException:
            os.close(master)
            raise
        finally:
            os.close(slave)
        os.set_blocking(master, False)
        return cls(popen, master)

    # -- the pty --------------------------------------------------------------------------------

    def read(self, size: int = 65536) -> bytes | None:
        """Read what the process wrote; ``b""`` once the pty is closed, ``None`` if nothing yet."""
        try:
            return os.read(self.fd, size)
        except BlockingIOError:
            return None
        except OSError as exc:
            # Linux reports EIO on the master once no process holds the slave open.
            if exc.errno == errno.EIO:
                return b""
            raise

    def write(self, data: bytes | bytearray) -> int:
        """Write input for the process; return how many bytes the pty accepted now."""
        try:
            return os.write(self.fd, data)
        except BlockingIOError:
            return 0

    def set_size(self, rows: int, cols: int) -> None:
        """Set the window size (``TIOCSWINSZ``); the kernel signals ``SIGWINCH`` to the foreground job."""
        import fcntl
        import termios

        fcntl.ioctl(self.fd, termios.TIOCSWINSZ, _winsize(rows, cols))

    def get_size(self) -> tuple[int, int]:
        """Return the window size as ``(rows, cols)``."""
        import fcntl
        import termios

        rows, cols, _, _ = struct.unpack("HHHH", fcntl.ioctl(self.fd, termios.TIOCGWINSZ, _winsize(0, 0)))
        return rows, cols

    def close_fd(self) -> None:
        """Close the master side (idempotent). Processes still on the slave get a hangup."""
        if self.fd >= 0:
            fd, self.fd = self.fd, -1
            os.close(fd)

    # -- the process and its session ------------------------------------------------------------

    def poll(self) -> int | None:
        """Reap the process if it exited; return its exit status (negative: killed by that signal)."""
        return self.popen.poll()

    def exit_fd(self) -> int | None:
        """Open a pidfd that becomes readable when the process exits (Linux ≥ 5.3), else ``None``."""
        pidfd_open = getattr(os, "pidfd_open", None)
        if pidfd_open is None:
            return None
        try:
            return int(pidfd_open(self.pid))
        except OSError:
            return None

    def signal_group(self, sig: int) -> None:
        """Send ``sig`` to the process group the process leads (its foreground job is told by the shell)."""
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, sig)

    def session_pids(self) -> list[int]:
        """Return the live processes of the process's session (Linux ``/proc``; else its group leader).

        The session id is the process's pid (it called ``setsid``), and it stays the id
        of every process the shell started, in every job's process group, even after
        the shell itself exited.
        """
        sid = self.pid
        if not _PROC.is_dir():
            return [sid] if self.poll() is None else []
        found = []
        for entry in _PROC.iterdir():
            if not entry.name.isdigit():
                continue
            pid = int(entry.name)
            try:
                if os.getsid(pid) == sid and not _is_zombie(pid):
                    found.append(pid)
            except (ProcessLookupError, PermissionError):
                continue
        return found

    def hang_up(self) -> None:
        """Do what closing a terminal window does: ``SIGHUP`` and ``SIGCONT`` to every job of the session."""
        groups = {self.pid}
        for pid in self.session_pids():
            with contextlib.suppress(ProcessLookupError, PermissionError):
                groups.add(os.getpgid(pid))
        for group in groups:
            for sig in (signal.SIGHUP, signal.SIGCONT):
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(group, sig)

    def kill_session(self) -> None:
        """``SIGKILL`` every process left in the session, then reap the child."""
        self.signal_group(signal.SIGKILL)
        for pid in self.session_pids():
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        self.poll()


def _is_zombie(pid: int) -> bool:
    try:
        stat = (_PROC / str(pid) / "stat").read_text()
    except OSError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] == "Z"
