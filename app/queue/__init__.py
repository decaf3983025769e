"""The durable job queue: the ``JobQueue`` contract and its backends (embedded SQLite; PostgreSQL)."""

from __future__ import annotations

import time
from collections.abc import Callable

from app.pg_url import is_postgres_url
from app.queue.base import (
    DeliveryOutcome,
    JobQueue,
    JobRecord,
    JobState,
    JobSupersededError,
    Lease,
    PermanentJobError,
    TransientJobError,
)
from app.queue.sqlite import DEFAULT_DATABASE_URL, SQLiteJobQueue, sqlite_path_from_url

__all__ = (
    "DEFAULT_DATABASE_URL",
    "DeliveryOutcome",
    "JobQueue",
    "JobRecord",
    "JobState",
    "JobSupersededError",
    "Lease",
    "PermanentJobError",
    "SQLiteJobQueue",
    "TransientJobError",
    "open_queue",
    "sqlite_path_from_url",
)


def open_queue(url: str = DEFAULT_DATABASE_URL, *, clock: Callable[[], float] = time.time) -> JobQueue:
    """The backend for ``ARCHBOT_DATABASE_URL`` (no I/O yet; the store opens on first use)."""
    if url.startswith("sqlite:"):
        return SQLiteJobQueue(url, clock=clock)
    if is_postgres_url(url):
        from app.queue.postgres import PostgresJobQueue  # psycopg is imported only for this backend

        return PostgresJobQueue(url, clock=clock)
    raise ValueError("unsupported ARCHBOT_DATABASE_URL scheme (expected sqlite:///<path> or postgresql://...)")
