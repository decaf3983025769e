"""The manifest flow's CSRF ``state``: random, single use, short-lived, held in memory by the one
process that served the form (the browser also carries it in a cookie, so a link crafted elsewhere fails)."""

from __future__ import annotations

import hmac
import secrets
import time
from collections.abc import Callable

STATE_TTL = 15 * 60.0  # seconds from the form to GitHub's redirect (naming the App takes a minute)
MAX_PENDING = 100  # forms served and not yet answered; beyond, the oldest are forgotten


class StateStore:
    """Issues states and takes each back once, before it expires."""

    def __init__(self, *, ttl: float = STATE_TTL, clock: Callable[[], float] = time.monotonic) -> None:
        self._ttl = ttl
        self._clock = clock
        self._pending: dict[str, float] = {}

    @property
    def ttl(self) -> float:
        return self._ttl

    def issue(self) -> str:
        now = self._clock()
        self._forget_expired(now)
        while len(self._pending) >= MAX_PENDING:
            del self._pending[next(iter(self._pending))]
        state = secrets.token_urlsafe(32)
        self._pending[state] = now + self._ttl
        return state

    def consume(self, state: str, *, cookie: str | None) -> bool:
        """True once for a state this store issued, unexpired, that the browser's cookie confirms."""
        if not state or cookie is None or not hmac.compare_digest(state.encode(), cookie.encode()):
            return False
        expires = self._pending.pop(state, None)
        return expires is not None and self._clock() < expires

    def _forget_expired(self, now: float) -> None:
        for state in [s for s, expires in self._pending.items() if expires <= now]:
            del self._pending[state]
