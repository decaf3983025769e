"""The usage ledger on PostgreSQL (``ARCHBOT_DATABASE_URL=postgresql://…``): the ``UsageLedger`` contract of
``app.usage`` over ``archbot_usage_tokens`` / ``archbot_usage_events`` (created by ``archbot db migrate``).

Every receiver and worker shares these counters. ``try_record`` takes a transaction advisory lock on its
key before counting and inserting, so two workers (any number of processes and connections) racing for
the last unit of a limit cannot both pass it: one waits for the other's commit and then counts it.
Token totals are added with an upsert (``ON CONFLICT … DO UPDATE``), which PostgreSQL applies atomically.

psycopg is imported only here and in the other PostgreSQL modules (start-up cost).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from psycopg_pool import AsyncConnectionPool

from app.pg_schema import open_checked_pool
from app.pg_url import conninfo
from app.usage import DAY_SECONDS, RETENTION_DAYS, checked_key, utc_day

USAGE_LOCK_SEED = 0x05A6E  # hashtextextended seed for per-key advisory locks (distinct from the queue's)

Conn = Any  # psycopg.AsyncConnection[tuple[Any, ...]]


class PostgresUsageLedger:
    """``UsageLedger`` on PostgreSQL. Construction does no I/O; ``open()`` (or the first call) opens a small
    pool and checks the schema. ``clock`` is injectable for tests."""

    def __init__(
        self,
        url: str,
        *,
        clock: Callable[[], float] = time.time,
        retention_days: int = RETENTION_DAYS,
        min_size: int = 1,
        max_size: int = 4,
    ) -> None:
        if retention_days < 1:
            raise ValueError("retention_days must be at least 1")
        self.url = url
        conninfo(url)  # a malformed URL is refused here, at construction, not at the first query
        self._clock = clock
        self._retention_days = retention_days
        self._min_size = min_size
        self._max_size = max_size
        self._pool: AsyncConnectionPool[Any] | None = None
        self._open_lock: asyncio.Lock | None = None
        self._closed = False

    async def _get_pool(self) -> AsyncConnectionPool[Any]:
        if self._closed:
            raise RuntimeError("the usage ledger is closed")
        if self._pool is not None:
            return self._pool
        if self._open_lock is None:
            self._open_lock = asyncio.Lock()
        async with self._open_lock:
            if self._pool is None:
                self._pool = await open_checked_pool(
                    self.url, min_size=self._min_size, max_size=self._max_size, name="archbot-usage"
                )
        return self._pool

    async def open(self) -> None:
        """Open the pool and check the schema now (fail fast at start-up)."""
        await self._get_pool()

    async def close(self) -> None:
        """Close the pool. Idempotent."""
        if self._closed:
            return
        self._closed = True
        if self._pool is not None:
            await self._pool.close()

    async def _scalar(self, sql: str, params: tuple[Any, ...]) -> int:
        pool = await self._get_pool()
        async with pool.connection() as conn:
            cur = await conn.execute(sql, params)
            row = await cur.fetchone()
        return int(row[0]) if row is not None else 0

    # -- tokens ---------------------------------------------------------------------------------------

    async def add_tokens(self, scope: str, tokens: int) -> None:
        """Add ``tokens`` to ``scope``'s total for today (UTC); 0 is a no-op, a negative count an error."""
        checked_key("scope", scope)
        if tokens < 0:
            raise ValueError("tokens must not be negative")
        if tokens == 0:
            return
        now = self._clock()
        pool = await self._get_pool()
        async with pool.connection() as conn:
            await conn.execute(
                "INSERT INTO archbot_usage_tokens (scope, day, tokens, updated_at) VALUES (%s, %s, %s, %s)"
                " ON CONFLICT (scope, day) DO UPDATE SET tokens = archbot_usage_tokens.tokens + excluded.tokens,"
                " updated_at = excluded.updated_at",
                (scope, utc_day(now), int(tokens), now),
            )

    async def _tokens(self, scope: str, first_day: str, last_day: str) -> int:
        return await self._scalar(
            "SELECT COALESCE(SUM(tokens), 0) FROM archbot_usage_tokens WHERE scope = %s AND day >= %s AND day <= %s",
            (scope, first_day, last_day),
        )

    async def tokens_today(self, scope: str) -> int:
        """Tokens spent by ``scope`` today (UTC, store clock)."""
        checked_key("scope", scope)
        today = utc_day(self._clock())
        return await self._tokens(scope, today, today)

    async def tokens_since(self, scope: str, since: float) -> int:
        """Tokens spent by ``scope`` from ``since``'s UTC day through today (older days may be pruned)."""
        checked_key("scope", scope)
        return await self._tokens(scope, utc_day(since), utc_day(self._clock()))

    async def tokens_today_by_scope(self, prefix: str, *, limit: int = 50) -> dict[str, int]:
        """Read-only (the status page): today's tokens of every scope starting with ``prefix``, most first."""
        pool = await self._get_pool()
        async with pool.connection() as conn:
            cur = await conn.execute(
                "SELECT scope, tokens FROM archbot_usage_tokens WHERE day = %s AND left(scope, %s) = %s"
                " ORDER BY tokens DESC, scope LIMIT %s",
                (utc_day(self._clock()), len(prefix), prefix, limit),
            )
            rows = await cur.fetchall()
        return {str(scope): int(tokens) for scope, tokens in rows}

    # -- events ---------------------------------------------------------------------------------------

    async def record(self, key: str) -> None:
        """Record one event under ``key`` now."""
        checked_key("key", key)
        now = self._clock()
        pool = await self._get_pool()
        async with pool.connection() as conn:
            await conn.execute("INSERT INTO archbot_usage_events (key, at) VALUES (%s, %s)", (key, now))

    async def count_since(self, key: str, since: float) -> int:
        """Events recorded under ``key`` at or after ``since``."""
        checked_key("key", key)
        return await self._scalar("SELECT COUNT(*) FROM archbot_usage_events WHERE key = %s AND at >= %s", (key, since))

    async def try_record(self, key: str, *, since: float, limit: int) -> bool:
        """Record an event under ``key`` unless ``limit`` events were recorded since ``since``: atomic across
        processes (a transaction advisory lock on the key serialises the check and the insert)."""
        checked_key("key", key)
        if limit <= 0:
            return False
        now = self._clock()
        pool = await self._get_pool()
        async with pool.connection() as conn, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, %s))", (key, USAGE_LOCK_SEED))
            cur = await conn.execute(
                "SELECT COUNT(*) FROM archbot_usage_events WHERE key = %s AND at >= %s", (key, since)
            )
            row = await cur.fetchone()
            if row is not None and int(row[0]) >= limit:
                return False
            await conn.execute("INSERT INTO archbot_usage_events (key, at) VALUES (%s, %s)", (key, now))
        return True

    # -- retention ------------------------------------------------------------------------------------

    async def prune(self) -> int:
        """Delete token rows of days before the retention window and events older than it."""
        cutoff = self._clock() - self._retention_days * DAY_SECONDS
        pool = await self._get_pool()
        async with pool.connection() as conn, conn.transaction():
            tokens = (
                await conn.execute("DELETE FROM archbot_usage_tokens WHERE day < %s", (utc_day(cutoff),))
            ).rowcount
            events = (await conn.execute("DELETE FROM archbot_usage_events WHERE at < %s", (cutoff,))).rowcount
        return int(tokens) + int(events)
