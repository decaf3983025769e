"""The usage ledger on a real SQLite file (shared with the job queue) with an injected clock."""

from __future__ import annotations

import asyncio
import datetime as dt
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from app.jobs import Job, JobKind
from app.queue.sqlite import SQLiteJobQueue
from app.usage import SQLiteUsageLedger, UsageLedger, utc_day
from tests.fakeclock import FakeClock

# 2026-03-10 23:00:00 UTC: one hour before a UTC day rolls over.
LATE_EVENING = dt.datetime(2026, 3, 10, 23, 0, tzinfo=dt.UTC).timestamp()
HOUR = 3600.0
DAY = 86_400.0


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(LATE_EVENING)


@pytest.fixture
def url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'store' / 'archbot.db'}"


@pytest.fixture
async def ledger(url: str, clock: FakeClock) -> AsyncIterator[SQLiteUsageLedger]:
    led = SQLiteUsageLedger(url, clock=clock)
    yield led
    await led.close()


def test_is_a_usage_ledger(url: str) -> None:
    assert isinstance(SQLiteUsageLedger(url), UsageLedger)


def test_utc_day() -> None:
    assert utc_day(LATE_EVENING) == "2026-03-10"
    assert utc_day(LATE_EVENING + HOUR) == "2026-03-11"


async def test_tokens_add_up_per_scope_and_roll_over_at_utc_midnight(
    ledger: SQLiteUsageLedger, clock: FakeClock
) -> None:
    assert await ledger.tokens_today("inst:42") == 0
    await ledger.add_tokens("inst:42", 1000)
    await ledger.add_tokens("inst:42", 234)
    await ledger.add_tokens("inst:7", 5)
    await ledger.add_tokens("inst:42", 0)
    assert await ledger.tokens_today("inst:42") == 1234
    assert await ledger.tokens_today("inst:7") == 5

    clock.advance(59 * 60)  # 23:59 the same day
    assert await ledger.tokens_today("inst:42") == 1234
    clock.advance(60)  # 00:00 UTC: a new day
    assert await ledger.tokens_today("inst:42") == 0
    await ledger.add_tokens("inst:42", 10)
    assert await ledger.tokens_today("inst:42") == 10
    assert await ledger.tokens_since("inst:42", clock.now - DAY) == 1244
    assert await ledger.tokens_since("inst:42", clock.now) == 10


async def test_bad_arguments_are_refused(ledger: SQLiteUsageLedger) -> None:
    with pytest.raises(ValueError, match="negative"):
        await ledger.add_tokens("inst:1", -1)
    with pytest.raises(ValueError, match="empty"):
        await ledger.add_tokens("", 1)
    with pytest.raises(ValueError, match="empty"):
        await ledger.record("")
    with pytest.raises(ValueError, match="longer"):
        await ledger.count_since("k" * 600, 0)


async def test_counts_since_a_time(ledger: SQLiteUsageLedger, clock: FakeClock) -> None:
    key = "cmd:octo/app#7"
    start = clock.now
    for _ in range(3):
        await ledger.record(key)
        clock.advance(20 * 60)
    await ledger.record("cmd:octo/app#8")
    assert await ledger.count_since(key, start) == 3
    assert await ledger.count_since(key, clock.now - HOUR) == 3  # at 0, 20 and 40 minutes
    assert await ledger.count_since(key, start + 1) == 2  # the first one is older
    assert await ledger.count_since(key, clock.now) == 0
    assert await ledger.count_since("cmd:octo/app#8", start) == 1


async def test_try_record_enforces_a_limit(ledger: SQLiteUsageLedger, clock: FakeClock) -> None:
    key = "deny:alice:octo/app#7"
    assert await ledger.try_record(key, since=clock.now - DAY, limit=1)
    clock.advance(HOUR)
    assert not await ledger.try_record(key, since=clock.now - DAY, limit=1)
    assert await ledger.count_since(key, 0) == 1  # the refused attempt left no row
    clock.advance(DAY)
    assert await ledger.try_record(key, since=clock.now - DAY, limit=1)
    assert not await ledger.try_record(key, since=0, limit=0)


async def test_try_record_is_atomic_under_concurrency(url: str, clock: FakeClock) -> None:
    first, second = SQLiteUsageLedger(url, clock=clock), SQLiteUsageLedger(url, clock=clock)
    try:
        answers = await asyncio.gather(
            *(led.try_record("deny:bob:o/r#1", since=0, limit=1) for led in (first, second) for _ in range(10))
        )
        assert answers.count(True) == 1
    finally:
        await first.close()
        await second.close()


async def test_survives_reopen(url: str, clock: FakeClock) -> None:
    first = SQLiteUsageLedger(url, clock=clock)
    await first.add_tokens("inst:42", 500)
    await first.record("cmd:o/r#1")
    await first.close()
    await first.close()  # idempotent
    with pytest.raises(RuntimeError, match="closed"):
        await first.tokens_today("inst:42")

    second = SQLiteUsageLedger(url, clock=clock)
    try:
        assert await second.tokens_today("inst:42") == 500
        assert await second.count_since("cmd:o/r#1", 0) == 1
    finally:
        await second.close()


async def test_prune_drops_rows_older_than_eight_days(ledger: SQLiteUsageLedger, clock: FakeClock) -> None:
    start = clock.now
    await ledger.add_tokens("inst:1", 100)
    await ledger.record("cmd:o/r#1")
    clock.advance(DAY)
    await ledger.add_tokens("inst:1", 10)
    await ledger.record("cmd:o/r#1")

    clock.now = start + 8 * DAY - 1  # the oldest rows are still inside the window
    assert await ledger.prune() == 0
    assert await ledger.tokens_since("inst:1", start) == 110

    clock.now = start + 8 * DAY + HOUR  # 8 days and an hour after the first rows
    assert await ledger.prune() == 2  # the first day's token row and the first event
    assert await ledger.tokens_since("inst:1", start) == 10
    assert await ledger.count_since("cmd:o/r#1", 0) == 1


async def test_shares_the_queue_file(url: str, clock: FakeClock, tmp_path: Path) -> None:
    queue = SQLiteJobQueue(url, clock=clock)
    ledger = SQLiteUsageLedger(url, clock=clock)
    try:
        await asyncio.gather(queue.open(), ledger.open())  # both create their schema at once
        job = Job(kind=JobKind.REVIEW_PR, repo="octo/app", number=7, installation_id=42, head_sha="a" * 40)
        assert await queue.enqueue(job)
        await ledger.add_tokens("inst:42", 7)
        assert (await queue.counts())["queued"] == 1
        assert await ledger.tokens_today("inst:42") == 7
        assert await queue.prune(clock.now + 1) == 0  # the queue's pruning leaves the ledger alone
        assert await ledger.tokens_today("inst:42") == 7
    finally:
        await queue.close()
        await ledger.close()
    with sqlite3.connect(tmp_path / "store" / "archbot.db") as conn:
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        assert {"jobs", "deliveries", "usage_tokens", "usage_events"} <= tables
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()


async def test_bad_url_is_refused_at_construction() -> None:
    with pytest.raises(ValueError, match="sqlite"):
        SQLiteUsageLedger("postgresql://localhost/archbot")
