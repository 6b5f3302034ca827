"""What the server remembers about logins: the live login sessions and the failed-attempt throttle.

Both live in memory, per server process, and both are bounded: entries expire, and past
a capacity the oldest are dropped, so no client can make either grow without limit.
"""

from __future__ import annotations

import secrets
import time
from collections import OrderedDict, deque

__all__ = ["LoginSessions", "LoginThrottle"]


class LoginSessions:
    """The session ids of the login cookies that are still valid.

    A login creates one; logging out revokes it. Ids are kept in order of last use, so
    that at capacity the session nobody has used for longest ends: a browser in use
    keeps its login while one-off ``?token=`` requests fill the store. Expired ids are
    dropped when looked up and from the least recently used end.
    """

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._expires: OrderedDict[str, float] = OrderedDict()

    def __len__(self) -> int:
        return len(self._expires)

    def create(self, lifetime: float, now: float | None = None) -> str:
        """Start a session valid for ``lifetime`` seconds and return its id.

        At capacity the least recently used session ends: only someone who could log
        in can create sessions, and the newest login is the one a person is waiting for.
        """
        now = time.time() if now is None else now
        self._drop_expired(now)
        while self._expires and len(self._expires) >= max(self.capacity, 1):
            self._expires.popitem(last=False)
        session_id = secrets.token_hex(16)
        self._expires[session_id] = now + lifetime
        return session_id

    def alive(self, session_id: str, now: float | None = None) -> bool:
        """Return whether ``session_id`` was created here, not revoked and not expired."""
        expires = self._expires.get(session_id)
        if expires is None:
            return False
        if expires <= (time.time() if now is None else now):
            del self._expires[session_id]
            return False
        self._expires.move_to_end(session_id)
        return True

    def revoke(self, session_id: str) -> None:
        """End a session (nothing happens if it does not exist)."""
        self._expires.pop(session_id, None)

    def _drop_expired(self, now: float) -> None:
        while self._expires:
            session_id, expires = next(iter(self._expires.items()))
            if expires > now:
                break
            del self._expires[session_id]


class LoginThrottle:
    """Failed login attempts per client address, in a sliding window.

    An address may make ``max_failures`` attempts in any ``window`` seconds; an attempt
    counts as failed from the moment it is admitted until :meth:`reset` is called after
    a success, so concurrent attempts cannot slip past the limit while their passwords
    are being checked. ``max_failures`` of 0 turns the throttle off.
    """

    def __init__(self, max_failures: int, window: float, capacity: int) -> None:
        self.max_failures = max_failures
        self.window = window
        self.capacity = capacity
        # address -> times of its recent attempts, least recently active address first
        self._attempts: OrderedDict[str, deque[float]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._attempts)

    def admit(self, address: str, now: float | None = None) -> float:
        """Count an attempt from ``address`` and return 0, or refuse it and return the seconds to wait.

        A refused attempt is not counted, so waiting the returned time always works.
        """
        if self.max_failures <= 0:
            return 0.0
        now = time.monotonic() if now is None else now
        self._drop_expired(now)
        attempts = self._attempts.get(address)
        if attempts is not None and len(attempts) >= self.max_failures:
            wait = attempts[0] + self.window - now
            if wait > 0:
                return wait
        if attempts is None:
            while self._attempts and len(self._attempts) >= max(self.capacity, 1):
                self._attempts.popitem(last=False)
            attempts = self._attempts[address] = deque(maxlen=self.max_failures)
        attempts.append(now)
        self._attempts.move_to_end(address)
        return 0.0

    def reset(self, address: str) -> None:
        """Forget the attempts of ``address`` (after it logged in)."""
        self._attempts.pop(address, None)

    def _drop_expired(self, now: float) -> None:
        while self._attempts:
            address, attempts = next(iter(self._attempts.items()))
            if attempts[-1] + self.window > now:
                break
            del self._attempts[address]
