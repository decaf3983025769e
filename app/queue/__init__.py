"""The durable job queue: the ``JobQueue`` contract and its backends (today the embedded SQLite one)."""

from __future__ import annotations

import time
from collections.abc import Callable

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
    if url.startswith(("postgresql:", "postgres:")):
        raise NotImplementedError("the PostgreSQL queue backend is not implemented yet; use sqlite:///<path>")
    raise ValueError("unsupported ARCHBOT_DATABASE_URL scheme (expected sqlite:///<path>)")
