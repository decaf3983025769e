"""The usage ledger: durable counters for cost control (model tokens per scope per UTC day, and events).

It lives in the same SQLite file as the job queue (``ARCHBOT_DATABASE_URL``) in tables of its own, and,
like the queue, runs every statement on one dedicated thread that owns one connection, so the event loop
never blocks on SQLite. Two kinds of rows:

- ``usage_tokens``: tokens spent per ``scope`` (``"inst:42"``, ``"pr:octo/app#7"``) per UTC day
  (``YYYY-MM-DD`` of the injected clock), added with an upsert;
- ``usage_events``: one row per ``record(key)`` with its time, counted over a window with ``count_since``
  (e.g. "commands per issue per hour", "one denial reply per user per issue per day"). ``try_record`` checks
  and records in one transaction, so two concurrent jobs cannot both pass a limit of one.

Rows older than ``RETENTION_DAYS`` (8) are deleted by ``prune()``; ``archbot serve`` calls it every hour.
Every method is async and safe to call from the event loop; ``close()`` is idempotent.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import time
from collections.abc import Callable
from typing import ParamSpec, Protocol, TypeVar, runtime_checkable

from app.queue.sqlite import DEFAULT_DATABASE_URL, sqlite_path_from_url
from app.sqlite_store import SQLiteThread, write_transaction

RETENTION_DAYS = 8
DAY_SECONDS = 86_400.0
MAX_KEY_CHARS = 512

_SCHEMA = (
    """
    CREATE TABLE IF NOT EXISTS usage_tokens (
        scope TEXT NOT NULL,
        day TEXT NOT NULL,
        tokens INTEGER NOT NULL,
        updated_at REAL NOT NULL,
        PRIMARY KEY (scope, day)
    )
    """,
    "CREATE INDEX IF NOT EXISTS usage_tokens_day ON usage_tokens (day)",
    """
    CREATE TABLE IF NOT EXISTS usage_events (
        id INTEGER PRIMARY KEY,
        key TEXT NOT NULL,
        at REAL NOT NULL
    )
    """,
    "CREATE INDEX IF NOT EXISTS usage_events_key_at ON usage_events (key, at)",
    "CREATE INDEX IF NOT EXISTS usage_events_at ON usage_events (at)",
)

_P = ParamSpec("_P")
_T = TypeVar("_T")


def utc_day(timestamp: float) -> str:
    """The UTC calendar day (``YYYY-MM-DD``) of a Unix timestamp."""
    return dt.datetime.fromtimestamp(timestamp, tz=dt.UTC).date().isoformat()


def checked_key(what: str, value: str) -> str:
    if not value:
        raise ValueError(f"empty {what}")
    if len(value) > MAX_KEY_CHARS:
        raise ValueError(f"{what} longer than {MAX_KEY_CHARS} characters")
    return value


@runtime_checkable
class UsageLedger(Protocol):
    """Durable usage counters for budgets and rate limits. Safe to call from the event loop."""

    async def add_tokens(self, scope: str, tokens: int) -> None:
        """Add ``tokens`` (>= 0) to ``scope``'s total for today (UTC, store clock)."""
        ...

    async def tokens_today(self, scope: str) -> int:
        """Tokens spent by ``scope`` today (UTC, store clock); 0 when none."""
        ...

    async def tokens_since(self, scope: str, since: float) -> int:
        """Tokens spent by ``scope`` on the UTC days from ``since``'s day to today (bounded by retention)."""
        ...

    async def record(self, key: str) -> None:
        """Record one event under ``key`` now (store clock)."""
        ...

    async def count_since(self, key: str, since: float) -> int:
        """Events recorded under ``key`` at or after ``since`` (Unix seconds)."""
        ...

    async def try_record(self, key: str, *, since: float, limit: int) -> bool:
        """Atomically: record an event under ``key`` if fewer than ``limit`` were recorded since ``since``.
        True when recorded (the caller may go ahead), False when the limit was reached."""
        ...

    async def tokens_today_by_scope(self, prefix: str, *, limit: int = 50) -> dict[str, int]:
        """Today's tokens of every scope starting with ``prefix``, most first, at most ``limit`` (read-only)."""
        ...

    async def prune(self) -> int:
        """Delete rows older than the retention window; returns the number of rows deleted."""
        ...

    async def close(self) -> None:
        """Release the store's resources; the ledger is unusable afterwards."""
        ...


class SQLiteUsageLedger:
    """``UsageLedger`` in a SQLite file (usually the queue's). Construction does no I/O; the file is opened
    (and the tables created) by ``open()`` or the first call. ``clock`` is injectable for tests."""

    def __init__(
        self,
        url: str = DEFAULT_DATABASE_URL,
        *,
        clock: Callable[[], float] = time.time,
        busy_timeout: float = 5.0,
        retention_days: int = RETENTION_DAYS,
    ) -> None:
        if retention_days < 1:
            raise ValueError("retention_days must be at least 1")
        self.url = url
        self._clock = clock
        self._retention_days = retention_days
        self._store = SQLiteThread(
            sqlite_path_from_url(url),
            what="usage ledger",
            thread_name="archbot-usage",
            schema=_SCHEMA,
            busy_timeout=busy_timeout,
        )

    # -- plumbing -------------------------------------------------------------------------------------

    async def _call(self, fn: Callable[_P, _T], /, *args: _P.args, **kwargs: _P.kwargs) -> _T:
        """Run ``fn`` on the ledger's thread without blocking the loop."""
        return await self._store.call(fn, *args, **kwargs)

    def _db(self) -> sqlite3.Connection:
        return self._store.connection()

    async def open(self) -> None:
        """Open the file and create the tables now (fail fast at start-up)."""
        await self._store.open()

    async def close(self) -> None:
        """Close the connection and stop the ledger thread. Idempotent."""
        await self._store.close()

    # -- tokens ---------------------------------------------------------------------------------------

    def _add_tokens_sync(self, scope: str, tokens: int, now: float) -> None:
        conn = self._db()
        with write_transaction(conn):
            conn.execute(
                "INSERT INTO usage_tokens (scope, day, tokens, updated_at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (scope, day) DO UPDATE SET tokens = tokens + excluded.tokens,"
                " updated_at = excluded.updated_at",
                (scope, utc_day(now), tokens, now),
            )

    async def add_tokens(self, scope: str, tokens: int) -> None:
        """Add ``tokens`` to ``scope``'s total for today (UTC); 0 is a no-op, a negative count an error."""
        checked_key("scope", scope)
        if tokens < 0:
            raise ValueError("tokens must not be negative")
        if tokens == 0:
            return
        await self._call(self._add_tokens_sync, scope, int(tokens), self._clock())

    def _tokens_sync(self, scope: str, first_day: str, last_day: str) -> int:
        row = (
            self._db()
            .execute(
                "SELECT COALESCE(SUM(tokens), 0) FROM usage_tokens WHERE scope = ? AND day >= ? AND day <= ?",
                (scope, first_day, last_day),
            )
            .fetchone()
        )
        return int(row[0])

    async def tokens_today(self, scope: str) -> int:
        """Tokens spent by ``scope`` today (UTC, store clock)."""
        checked_key("scope", scope)
        today = utc_day(self._clock())
        return await self._call(self._tokens_sync, scope, today, today)

    async def tokens_since(self, scope: str, since: float) -> int:
        """Tokens spent by ``scope`` from ``since``'s UTC day through today (older days may be pruned)."""
        checked_key("scope", scope)
        return await self._call(self._tokens_sync, scope, utc_day(since), utc_day(self._clock()))

    def _today_by_scope_sync(self, prefix: str, day: str, limit: int) -> dict[str, int]:
        rows = self._db().execute(
            "SELECT scope, tokens FROM usage_tokens WHERE day = ? AND substr(scope, 1, ?) = ?"
            " ORDER BY tokens DESC, scope LIMIT ?",
            (day, len(prefix), prefix, limit),
        )
        return {str(scope): int(tokens) for scope, tokens in rows}

    async def tokens_today_by_scope(self, prefix: str, *, limit: int = 50) -> dict[str, int]:
        """Read-only (the status page): today's tokens of every scope starting with ``prefix``, most first."""
        return await self._call(self._today_by_scope_sync, prefix, utc_day(self._clock()), limit)

    # -- events ---------------------------------------------------------------------------------------

    def _record_sync(self, key: str, now: float) -> None:
        conn = self._db()
        with write_transaction(conn):
            conn.execute("INSERT INTO usage_events (key, at) VALUES (?, ?)", (key, now))

    async def record(self, key: str) -> None:
        """Record one event under ``key`` now."""
        checked_key("key", key)
        await self._call(self._record_sync, key, self._clock())

    @staticmethod
    def _count(conn: sqlite3.Connection, key: str, since: float) -> int:
        row = conn.execute("SELECT COUNT(*) FROM usage_events WHERE key = ? AND at >= ?", (key, since)).fetchone()
        return int(row[0])

    def _count_sync(self, key: str, since: float) -> int:
        return self._count(self._db(), key, since)

    async def count_since(self, key: str, since: float) -> int:
        """Events recorded under ``key`` at or after ``since``."""
        checked_key("key", key)
        return await self._call(self._count_sync, key, since)

    def _try_record_sync(self, key: str, since: float, limit: int, now: float) -> bool:
        conn = self._db()
        with write_transaction(conn):
            if self._count(conn, key, since) >= limit:
                return False
            conn.execute("INSERT INTO usage_events (key, at) VALUES (?, ?)", (key, now))
        return True

    async def try_record(self, key: str, *, since: float, limit: int) -> bool:
        """Record an event under ``key`` unless ``limit`` events were recorded since ``since`` (atomic)."""
        checked_key("key", key)
        if limit <= 0:
            return False
        return await self._call(self._try_record_sync, key, since, limit, self._clock())

    # -- retention ------------------------------------------------------------------------------------

    def _prune_sync(self, now: float) -> int:
        cutoff = now - self._retention_days * DAY_SECONDS
        conn = self._db()
        with write_transaction(conn):
            tokens = conn.execute("DELETE FROM usage_tokens WHERE day < ?", (utc_day(cutoff),)).rowcount
            events = conn.execute("DELETE FROM usage_events WHERE at < ?", (cutoff,)).rowcount
        return int(tokens) + int(events)

    async def prune(self) -> int:
        """Delete token rows of days before the retention window and events older than it."""
        return await self._call(self._prune_sync, self._clock())


def open_ledger(url: str = DEFAULT_DATABASE_URL, *, clock: Callable[[], float] = time.time) -> UsageLedger:
    """The ledger for ``ARCHBOT_DATABASE_URL``: the queue's SQLite file, or the same PostgreSQL database
    (``app.pg_usage``; psycopg is imported only then). No I/O yet."""
    from app.pg_url import is_postgres_url

    if is_postgres_url(url):
        from app.pg_usage import PostgresUsageLedger

        return PostgresUsageLedger(url, clock=clock)
    return SQLiteUsageLedger(url, clock=clock)
