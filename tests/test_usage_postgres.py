"""The usage ledger on a real PostgreSQL database (``archbot db migrate``'s tables): the same contract as
the SQLite ledger, and ``try_record`` race-free between two worker processes and between two pools."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import subprocess
import sys
import textwrap
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from app.pg_schema import SchemaError, migrate
from app.pg_usage import PostgresUsageLedger
from app.usage import UsageLedger, open_ledger
from tests.fakeclock import FakeClock
from tests.pgtest import fresh_database

ROOT = Path(__file__).resolve().parent.parent
LATE_EVENING = dt.datetime(2026, 3, 10, 23, 0, tzinfo=dt.UTC).timestamp()
HOUR = 3600.0
DAY = 86_400.0


@pytest.fixture
def db_url() -> Iterator[str]:
    with fresh_database() as url:
        asyncio.run(migrate(url))
        yield url


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(LATE_EVENING)


@pytest.fixture
async def ledger(db_url: str, clock: FakeClock) -> AsyncIterator[PostgresUsageLedger]:
    led = PostgresUsageLedger(db_url, clock=clock)
    yield led
    await led.close()


def test_the_url_picks_the_postgres_ledger(db_url: str) -> None:
    led = open_ledger(db_url)
    assert isinstance(led, PostgresUsageLedger)
    assert isinstance(led, UsageLedger)


async def test_an_unmigrated_database_is_refused() -> None:
    with fresh_database() as url:
        led = PostgresUsageLedger(url)
        try:
            with pytest.raises(SchemaError, match="archbot db migrate"):
                await led.open()
        finally:
            await led.close()


async def test_tokens_add_up_per_scope_and_roll_over_at_utc_midnight(
    ledger: PostgresUsageLedger, clock: FakeClock
) -> None:
    assert await ledger.tokens_today("inst:42") == 0
    await asyncio.gather(*(ledger.add_tokens("inst:42", 100) for _ in range(10)))  # concurrent upserts
    await ledger.add_tokens("inst:42", 234)
    await ledger.add_tokens("inst:7", 5)
    await ledger.add_tokens("inst:42", 0)
    assert await ledger.tokens_today("inst:42") == 1234
    assert await ledger.tokens_today("inst:7") == 5
    clock.advance(HOUR)  # a new UTC day
    assert await ledger.tokens_today("inst:42") == 0
    await ledger.add_tokens("inst:42", 6)
    assert await ledger.tokens_since("inst:42", clock.now - DAY) == 1240
    with pytest.raises(ValueError, match="negative"):
        await ledger.add_tokens("inst:42", -1)
    with pytest.raises(ValueError, match="empty"):
        await ledger.tokens_today("")


async def test_todays_tokens_by_scope_for_the_status_page(ledger: PostgresUsageLedger, clock: FakeClock) -> None:
    await ledger.add_tokens("inst:7", 5)
    await ledger.add_tokens("inst:42", 1234)
    await ledger.add_tokens("pr:o/r#1", 99)
    assert await ledger.tokens_today_by_scope("inst:") == {"inst:42": 1234, "inst:7": 5}
    assert list(await ledger.tokens_today_by_scope("inst:", limit=1)) == ["inst:42"]
    clock.advance(HOUR)  # a new UTC day
    assert await ledger.tokens_today_by_scope("inst:") == {}


async def test_events_count_and_limit(ledger: PostgresUsageLedger, clock: FakeClock) -> None:
    await ledger.record("cmd:o/r#1")
    clock.advance(10)
    await ledger.record("cmd:o/r#1")
    assert await ledger.count_since("cmd:o/r#1", clock.now - 5) == 1
    assert await ledger.count_since("cmd:o/r#1", 0) == 2
    assert await ledger.try_record("cmd:o/r#1", since=0, limit=3) is True
    assert await ledger.try_record("cmd:o/r#1", since=0, limit=3) is False
    assert await ledger.try_record("cmd:o/r#1", since=clock.now - 5, limit=3) is True
    assert await ledger.try_record("other", since=0, limit=0) is False
    assert await ledger.count_since("other", 0) == 0


async def test_prune_drops_rows_past_the_window(ledger: PostgresUsageLedger, clock: FakeClock) -> None:
    await ledger.add_tokens("inst:1", 10)
    await ledger.record("cmd:x")
    clock.advance(9 * DAY)
    await ledger.add_tokens("inst:1", 1)
    await ledger.record("cmd:x")
    assert await ledger.prune() == 2
    assert await ledger.count_since("cmd:x", 0) == 1
    assert await ledger.tokens_since("inst:1", 0) == 1
    await ledger.close()
    await ledger.close()  # idempotent
    with pytest.raises(RuntimeError, match="closed"):
        await ledger.tokens_today("inst:1")


async def test_two_pools_racing_for_the_last_unit_one_wins(db_url: str, clock: FakeClock) -> None:
    first, second = PostgresUsageLedger(db_url, clock=clock), PostgresUsageLedger(db_url, clock=clock)
    try:
        await first.record("budget:inst:7")
        await first.record("budget:inst:7")  # 2 of 3 used: one unit left
        answers = await asyncio.gather(
            *(led.try_record("budget:inst:7", since=0, limit=3) for led in (first, second) for _ in range(12))
        )
        assert answers.count(True) == 1
        assert await second.count_since("budget:inst:7", 0) == 3
    finally:
        await first.close()
        await second.close()


RACER = textwrap.dedent(
    """
    import asyncio, sys, time
    from app.pg_usage import PostgresUsageLedger

    async def main(url: str, start: float) -> None:
        led = PostgresUsageLedger(url, max_size=4)
        await led.open()
        await asyncio.sleep(max(0.0, start - time.time()))  # both processes fire together
        answers = await asyncio.gather(*(led.try_record("quota:o/r#9", since=0, limit=5) for _ in range(20)))
        await led.close()
        print(sum(answers))

    asyncio.run(main(sys.argv[1], float(sys.argv[2])))
    """
)


def test_two_worker_processes_racing_for_the_last_units_never_exceed_the_limit(db_url: str) -> None:
    import time

    start = str(time.time() + 3.0)
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", RACER, db_url, start], env=env, cwd=ROOT, stdout=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    wins = []
    for proc in procs:
        out, _ = proc.communicate(timeout=60)
        assert proc.returncode == 0
        wins.append(int(out.strip()))
    assert sum(wins) == 5, wins
    led = PostgresUsageLedger(db_url)

    async def count() -> int:
        try:
            return await led.count_since("quota:o/r#9", 0)
        finally:
            await led.close()

    assert asyncio.run(count()) == 5
