"""Rate limits and faults: the ONE retry layer for GitHub reads, and the pacing of writes.

githubkit's own ``auto_retry`` is switched off on every client archbot builds (DESIGN Decision 2:
one retry layer per client): it sleeps with a sleep of its own that tests cannot replace, and it
retries POSTs.  :class:`ReadRetry` does the job for reads instead:

* ``retry-after`` is honoured (seconds or an HTTP date);
* ``x-ratelimit-remaining: 0`` waits until ``x-ratelimit-reset``;
* a 403/429 without those headers that says "secondary rate limit" (or any 429) waits at least
  60 s, doubling each time;
* 502/503/504, timeouts and broken connections back off exponentially with jitter;
* every wait is bounded: past ``max_wait`` or the retry count it gives up with
  :class:`~app.github.errors.RateLimited` / :class:`~app.github.errors.ServerError`.

Writes are never retried here.  :class:`WritePacer` spaces them at least one second apart per
installation, as GitHub asks of integrations, and holds them back after a rate-limit answer.
Sleep and clocks are injected so tests run instantly.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import email.utils
import logging
import math
import random
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import TypeVar

import httpx
from githubkit.exception import GitHubException, RateLimitExceeded, RequestError, RequestTimeout

from app.github.errors import response_message, translate, unwrap_failed

Sleep = Callable[[float], Awaitable[None]]
Clock = Callable[[], float]
T = TypeVar("T")

LOG = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Bounds of the read retry layer (seconds)."""

    server_retries: int = 3
    server_statuses: frozenset[int] = frozenset({502, 503, 504})
    backoff_base: float = 1.0
    backoff_cap: float = 30.0
    rate_limit_retries: int = 3
    secondary_min_wait: float = 60.0
    max_wait: float = 600.0


def parse_retry_after(value: str, now: float) -> float | None:
    """Seconds to wait from a ``retry-after`` value: delta-seconds or an HTTP date."""
    value = value.strip()
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(when.timestamp() - now, 0.0)


def rate_limit_wait(exc: BaseException, *, hits: int, now: float, policy: RetryPolicy) -> float | None:
    """Seconds to wait when ``exc`` is a rate-limit answer, else ``None``.

    ``hits`` counts earlier rate-limit answers to the same call (for the secondary back-off);
    ``now`` is wall-clock time (epoch seconds), as ``x-ratelimit-reset`` is.
    """
    failed = unwrap_failed(exc)
    if failed is None:
        return None
    response = failed.response.raw_response
    limited = isinstance(failed, RateLimitExceeded)
    if not limited and response.status_code not in (403, 429):
        return None
    headers = response.headers
    if (retry_after := headers.get("retry-after")) is not None:
        parsed = parse_retry_after(retry_after, now)
        if parsed is not None:
            return parsed
    if headers.get("x-ratelimit-remaining") == "0" and (reset := headers.get("x-ratelimit-reset")):
        try:
            return max(float(reset) - now, 0.0) + 1.0
        except ValueError:
            pass
    message = response_message(response).lower()
    if limited or response.status_code == 429 or "secondary rate limit" in message or "abuse" in message:
        return policy.secondary_min_wait * (2.0**hits)
    return None


def is_transient(exc: BaseException, policy: RetryPolicy) -> bool:
    """A fault worth retrying for a read: 502/503/504, a timeout, a broken connection."""
    if isinstance(exc, RequestTimeout):
        return True
    failed = unwrap_failed(exc)
    if failed is not None:
        return failed.response.status_code in policy.server_statuses
    return isinstance(exc, RequestError) and isinstance(exc.exc, httpx.TransportError)


class ReadRetry:
    """The retry layer for reads (REST GETs and GraphQL queries)."""

    def __init__(
        self,
        policy: RetryPolicy | None = None,
        *,
        sleep: Sleep = asyncio.sleep,
        wall_clock: Clock = time.time,
        rng: Callable[[], float] = random.random,
        on_rate_limit_wait: Callable[[float], None] | None = None,
    ) -> None:
        self.policy = policy or RetryPolicy()
        self._on_rate_limit_wait = on_rate_limit_wait  # metrics: each wait GitHub asked for, in seconds
        self._sleep = sleep
        self._wall_clock = wall_clock
        self._rng = rng

    def backoff(self, failures: int) -> float:
        """Jittered exponential back-off before retry number ``failures + 1`` (half to full delay)."""
        delay = min(self.policy.backoff_cap, self.policy.backoff_base * (2.0**failures))
        return delay * (0.5 + 0.5 * self._rng())

    def rate_limit_wait(self, exc: BaseException, *, hits: int = 0) -> float | None:
        """Seconds GitHub asks to wait when ``exc`` is a rate-limit answer, else ``None``."""
        return rate_limit_wait(exc, hits=hits, now=self._wall_clock(), policy=self.policy)

    def note_wait(self, seconds: float) -> None:
        """Report a wait GitHub's rate limits asked for (reads sleep it here, writes hold their pacer)."""
        if self._on_rate_limit_wait is not None:
            self._on_rate_limit_wait(seconds)

    async def run(self, attempt: Callable[[], Awaitable[T]], *, what: str = "read") -> T:
        """Await ``attempt()`` until it succeeds or the policy gives up; raise a ``GitHubError``."""
        hits = 0
        failures = 0
        while True:
            try:
                return await attempt()
            except GitHubException as exc:
                wait = self.rate_limit_wait(exc, hits=hits)
                if wait is not None:
                    if hits >= self.policy.rate_limit_retries or wait > self.policy.max_wait:
                        raise translate(exc, retry_after=wait) from exc
                    hits += 1
                    LOG.warning("github rate limited on %s; waiting %.1fs (hit %d)", what, wait, hits)
                    self.note_wait(wait)
                    await self._sleep(wait)
                    continue
                if is_transient(exc, self.policy) and failures < self.policy.server_retries:
                    delay = self.backoff(failures)
                    failures += 1
                    LOG.warning("github fault on %s (%s); retry %d in %.1fs", what, _kind(exc), failures, delay)
                    await self._sleep(delay)
                    continue
                raise translate(exc) from exc


WRITE_INTERVAL = 1.05  # GitHub asks integrations for >= 1 s between writes; 50 ms for jitter on the way


class WritePacer:
    """Spaces write requests of one installation ``min_interval`` seconds apart.

    Writers queue on a lock (first come, first served); each waits until ``min_interval`` after the
    previous one actually started (its wake-up, not its planned slot, so a late wake-up never squeezes
    the next gap). Behind a :class:`PacedTransport` the wait happens when the request goes on the wire
    (after githubkit's token exchange, which can take a while), so the spacing holds where GitHub sees it;
    without one, when ``RepoAPI`` starts the write.
    """

    def __init__(
        self, min_interval: float = 1.0, *, clock: Clock = time.monotonic, sleep: Sleep = asyncio.sleep
    ) -> None:
        self.min_interval = min_interval
        self._clock = clock
        self._sleep = sleep
        self._next_slot = -math.inf
        self._lock = asyncio.Lock()

    async def wait(self) -> None:
        """Return when this write may start."""
        async with self._lock:
            now = self._clock()
            if self._next_slot > now:
                await self._sleep(self._next_slot - now)
            self._next_slot = max(self._next_slot, self._clock()) + self.min_interval

    def hold(self, seconds: float) -> None:
        """Let no write start for ``seconds`` from now (after GitHub said to slow down)."""
        self._next_slot = max(self._next_slot, self._clock() + seconds)


def _kind(exc: BaseException) -> str:
    failed = unwrap_failed(exc)
    if failed is not None:
        return f"HTTP {failed.response.status_code}"
    if isinstance(exc, RequestError):
        return type(exc.exc).__name__
    return type(exc).__name__


# The write a task is making right now (set by ``RepoAPI`` around one write, read by ``PacedTransport`` in
# the same task): githubkit builds the request, so the pacer reaches the transport this way.
_WRITING: contextvars.ContextVar[WritePacer | None] = contextvars.ContextVar("archbot_writing", default=None)


@contextlib.contextmanager
def writing(pacer: WritePacer) -> Iterator[None]:
    """Requests sent by this task inside the block are writes paced by ``pacer`` (at the transport)."""
    token = _WRITING.set(pacer)
    try:
        yield
    finally:
        _WRITING.reset(token)


class PacedTransport(httpx.AsyncBaseTransport):
    """Waits for the write pacer of the current write (``writing``) right before sending each of its
    requests, except the installation-token exchange githubkit may slip in first. A retried send (after
    a 401 and a new token) is paced again: GitHub sees two writes."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self._inner = inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        pacer = _WRITING.get()
        if pacer is not None and not request.url.path.endswith("/access_tokens"):
            await pacer.wait()
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self._inner.aclose()
