"""Contract tests for ``JobQueue`` backends, written against the protocol only.

Every backend is added to ``BACKENDS`` (a factory that opens a queue on a store shared by the test, so a
second ``open()`` is a restart or a second process) and must pass every test here: SQLite on a real file
in ``tmp_path``, and PostgreSQL (procrastinate's schema, ``archbot db migrate``) in a fresh database of the
real server (``tests/pgtest.py``; skipped with a reason without one, a failure under ``.ci/run``). Time is
an injected fake clock, so nothing sleeps.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Callable
from contextlib import ExitStack
from pathlib import Path
from types import MappingProxyType

import pytest

from app.jobs import Job, JobKind
from app.queue import (
    JobQueue,
    JobState,
    SQLiteJobQueue,
    open_queue,
    sqlite_path_from_url,
)
from tests.fakeclock import FakeClock


class Backend:
    """Opens queues of one backend on one store; closes them all at the end of the test."""

    def __init__(self, make: Callable[[], JobQueue]) -> None:
        self._make = make
        self.opened: list[JobQueue] = []

    def open(self) -> JobQueue:
        queue = self._make()
        self.opened.append(queue)
        return queue

    async def close_all(self) -> None:
        for queue in self.opened:
            await queue.close()


async def _sqlite(stack: ExitStack, tmp_path: Path, clock: FakeClock) -> Callable[[], JobQueue]:
    url = f"sqlite:///{tmp_path / 'store' / 'archbot.db'}"  # tmp_path is absolute: sqlite:////abs/...
    return lambda: SQLiteJobQueue(url, clock=clock)


async def _postgresql(stack: ExitStack, tmp_path: Path, clock: FakeClock) -> Callable[[], JobQueue]:
    from app.pg_schema import migrate
    from app.queue.postgres import PostgresJobQueue
    from tests.pgtest import fresh_database

    url = stack.enter_context(fresh_database())
    await migrate(url)
    return lambda: PostgresJobQueue(url, clock=clock, max_size=8)


BACKENDS = MappingProxyType({"sqlite": _sqlite, "postgresql": _postgresql})


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(params=sorted(BACKENDS))
async def backend(request: pytest.FixtureRequest, tmp_path: Path, clock: FakeClock) -> AsyncIterator[Backend]:
    with ExitStack() as stack:
        backend = Backend(await BACKENDS[request.param](stack, tmp_path, clock))
        try:
            yield backend
        finally:
            await backend.close_all()


@pytest.fixture
def queue(backend: Backend) -> JobQueue:
    return backend.open()


def review(number: int = 1, sha: str = "a" * 40, *, repo: str = "octo/repo", full: bool = False) -> Job:
    return Job(kind=JobKind.REVIEW_PR, repo=repo, number=number, head_sha=sha, installation_id=7, full=full)


def command(number: int = 1, comment_id: int = 100, *, repo: str = "octo/repo") -> Job:
    return Job(kind=JobKind.COMMAND, repo=repo, number=number, comment_id=comment_id, data={"command": "plan"})


async def state_of(queue: JobQueue, job: Job) -> JobState:
    record = await queue.find(job.idempotency_key)
    assert record is not None, f"job {job.idempotency_key} not stored"
    return record.state


# -- URLs and files ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "path"),
    [
        ("sqlite:///./archbot.db", "./archbot.db"),
        ("sqlite:///relative/path.db", "relative/path.db"),
        ("sqlite:////abs/path.db", "/abs/path.db"),
        ("sqlite:///:memory:", ":memory:"),
        ("sqlite:///x.db?mode=rw", "x.db"),
    ],
)
def test_sqlite_url_parsing(url: str, path: str) -> None:
    assert sqlite_path_from_url(url) == path


@pytest.mark.parametrize("url", ["postgresql://u:hunter2@h/db", "sqlite://", "sqlite:///", "archbot.db"])
def test_bad_sqlite_urls_are_rejected_without_echoing_them(url: str) -> None:
    with pytest.raises(ValueError, match="sqlite") as info:
        sqlite_path_from_url(url)
    assert "hunter2" not in str(info.value)


def test_open_queue_picks_the_backend_by_scheme(tmp_path: Path) -> None:
    from app.queue.postgres import PostgresJobQueue

    assert isinstance(open_queue(f"sqlite:///{tmp_path}/q.db"), SQLiteJobQueue)
    for url in ("postgresql://localhost/archbot", "postgres://u@h/db", "postgresql+psycopg://h/db"):
        assert isinstance(open_queue(url), PostgresJobQueue), url
    with pytest.raises(ValueError, match="scheme"):
        open_queue("mysql://localhost/archbot")


async def test_sqlite_relative_url_resolves_against_cwd_and_uses_wal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    queue = SQLiteJobQueue("sqlite:///./data/archbot.db")
    try:
        assert await queue.enqueue(review())
    finally:
        await queue.close()
    db = tmp_path / "data" / "archbot.db"
    assert db.exists()
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("SELECT COUNT(*) FROM jobs").fetchone()[0] == 1
    finally:
        conn.close()


async def test_jobs_survive_a_restart(backend: Backend, clock: FakeClock) -> None:
    first = backend.open()
    assert await first.enqueue(review(1))
    assert (await first.accept_delivery("d-1", [command(2)])).accepted
    await first.close()

    second = backend.open()
    assert (await second.counts())["queued"] == 2
    assert not await second.enqueue(review(1)), "idempotency keys survive the restart"
    assert (await second.accept_delivery("d-1", [command(3)])).duplicate, "delivery ids survive the restart"
    leased = await second.lease("w", 60, limit=10)
    assert sorted((lease.job.kind, lease.job.number) for lease in leased) == [
        (JobKind.COMMAND, 2),
        (JobKind.REVIEW_PR, 1),
    ]
    assert [lease.job for lease in leased if lease.job.kind is JobKind.REVIEW_PR] == [review(1)]


async def test_closed_queue_is_not_ready(queue: JobQueue) -> None:
    assert await queue.ping()
    await queue.close()
    assert not await queue.ping()
    with pytest.raises(RuntimeError, match="closed"):
        await queue.enqueue(review())
    await queue.close()  # idempotent


# -- enqueue, idempotency, counts ----------------------------------------------------------------------


async def test_enqueue_is_idempotent_on_the_key(queue: JobQueue) -> None:
    assert await queue.enqueue(review(1))
    assert not await queue.enqueue(review(1))  # an equal job built again
    assert not await queue.enqueue(review(1).model_copy(update={"delivery_id": "other"}))  # same key
    assert await queue.enqueue(command(1))  # a different key
    counts = await queue.counts()
    assert counts == {"queued": 2, "running": 0, "done": 0, "failed": 0, "superseded": 0}


async def test_a_finished_job_is_not_enqueued_again(queue: JobQueue) -> None:
    await queue.enqueue(command(1))
    [lease] = await queue.lease("w", 60)
    assert await queue.complete(lease)
    assert not await queue.enqueue(command(1))
    assert await queue.counts() == {"queued": 0, "running": 0, "done": 1, "failed": 0, "superseded": 0}


async def test_stored_job_round_trips(queue: JobQueue, clock: FakeClock) -> None:
    job = command(5, 42)
    await queue.enqueue(job)
    record = await queue.find(job.idempotency_key)
    assert record is not None
    assert record.job == job
    assert (record.state, record.attempts, record.run_after, record.created_at) == (
        JobState.QUEUED,
        0,
        clock.now,
        clock.now,
    )
    assert await queue.get(record.job_id) == record
    assert await queue.get(record.job_id + 1000) is None
    assert await queue.find("nope") is None


# -- webhook deliveries ------------------------------------------------------------------------------


async def test_redelivery_is_acknowledged_and_enqueues_nothing(queue: JobQueue) -> None:
    first = await queue.accept_delivery("guid-1", [review(1), command(1)])
    assert first.accepted and not first.duplicate
    assert len(first.job_ids) == 2
    again = await queue.accept_delivery("guid-1", [review(1, "b" * 40)])
    assert again.duplicate and again.job_ids == ()
    assert (await queue.counts())["queued"] == 2
    assert await queue.find(review(1, "b" * 40).idempotency_key) is None


async def test_new_delivery_with_known_job_is_accepted_but_skips_the_job(queue: JobQueue) -> None:
    await queue.enqueue(command(1))
    outcome = await queue.accept_delivery("guid-2", [command(1), command(2)])
    assert outcome.accepted
    assert (len(outcome.job_ids), outcome.skipped) == (1, 1)
    empty = await queue.accept_delivery("guid-3", [])  # e.g. an ignored event: still recorded
    assert empty.accepted
    assert (await queue.accept_delivery("guid-3", [])).duplicate


async def test_concurrent_duplicate_deliveries_exactly_one_wins(queue: JobQueue) -> None:
    outcomes = await asyncio.gather(*(queue.accept_delivery("same-guid", [review(9)]) for _ in range(20)))
    assert sum(outcome.accepted for outcome in outcomes) == 1
    assert sum(len(outcome.job_ids) for outcome in outcomes) == 1
    assert (await queue.counts())["queued"] == 1


async def test_concurrent_duplicate_deliveries_across_two_connections(backend: Backend) -> None:
    one, two = backend.open(), backend.open()  # two receivers (processes) on one store
    calls = [q.accept_delivery("guid-x", [command(3, i)]) for i in range(10) for q in (one, two)]
    outcomes = await asyncio.gather(*calls)
    assert sum(outcome.accepted for outcome in outcomes) == 1
    total = await one.counts()
    assert total["queued"] == 1


# -- leasing ------------------------------------------------------------------------------------------


async def test_lease_takes_ready_jobs_oldest_first(queue: JobQueue, clock: FakeClock) -> None:
    for number in (3, 1, 2):
        await queue.enqueue(command(number))
        clock.advance(1)
    leases = await queue.lease("w1", 60, limit=2)
    assert [lease.job.number for lease in leases] == [3, 1]
    lease = leases[0]
    assert (lease.attempts, lease.worker_id, lease.expires_at) == (1, "w1", clock.now + 60)
    record = await queue.get(lease.job_id)
    assert record is not None
    assert (record.state, record.lease_owner, record.attempts) == (JobState.RUNNING, "w1", 1)
    assert [lease.job.number for lease in await queue.lease("w2", 60, limit=5)] == [2]
    assert await queue.lease("w2", 60, limit=5) == []
    assert await queue.lease("w2", 60, limit=0) == []


async def test_expired_lease_is_leased_again(queue: JobQueue, clock: FakeClock) -> None:
    await queue.enqueue(review(1))
    [dead] = await queue.lease("dead-worker", 10)
    clock.advance(9.9)
    assert await queue.lease("w2", 10) == [], "a live lease is not taken"
    clock.advance(0.2)
    [again] = await queue.lease("w2", 10)
    assert again.job_id == dead.job_id
    assert again.attempts == 2, "the lost attempt counts"
    assert again.token != dead.token
    # The dead worker's late writes are refused.
    assert not await queue.heartbeat(dead, 10)
    assert not await queue.complete(dead)
    assert not await queue.fail(dead, error="late")
    assert not await queue.release(dead)
    assert await queue.complete(again)
    assert await state_of(queue, review(1)) is JobState.DONE


async def test_heartbeat_extends_the_lease(queue: JobQueue, clock: FakeClock) -> None:
    await queue.enqueue(command(1))
    [lease] = await queue.lease("w1", 10)
    clock.advance(8)
    assert await queue.heartbeat(lease, 10)
    clock.advance(8)  # 16 s after the lease, 8 after the heartbeat
    assert await queue.lease("w2", 10) == []
    clock.advance(2.5)
    [taken] = await queue.lease("w2", 10)
    assert taken.job_id == lease.job_id


async def test_one_running_job_per_serial_key(queue: JobQueue) -> None:
    await queue.enqueue(command(1, 100))
    await queue.enqueue(command(1, 101))  # same PR: must wait
    await queue.enqueue(command(2, 102))
    await queue.enqueue(command(1, 103, repo="other/repo"))  # same number, other repo
    first = await queue.lease("w", 60, limit=10)
    assert sorted((lease.job.repo, lease.job.comment_id) for lease in first) == [
        ("octo/repo", 100),
        ("octo/repo", 102),
        ("other/repo", 103),
    ]
    assert await queue.lease("w", 60, limit=10) == [], "PR 1 is still running"
    pr1 = next(lease for lease in first if lease.job.comment_id == 100)
    assert await queue.complete(pr1)
    [second] = await queue.lease("w", 60, limit=10)
    assert second.job.comment_id == 101


async def test_expired_lease_keeps_the_serial_order(queue: JobQueue, clock: FakeClock) -> None:
    await queue.enqueue(command(1, 100))
    clock.advance(1)
    await queue.enqueue(command(1, 101))
    [lease] = await queue.lease("dead", 10)
    clock.advance(11)
    leased = await queue.lease("w", 10, limit=10)
    assert [x.job.comment_id for x in leased] == [100], "the recovered job runs again, alone"
    assert (await queue.counts())["running"] == 1
    assert lease.job_id == leased[0].job_id


# -- supersession ---------------------------------------------------------------------------------------


async def test_newer_review_supersedes_the_queued_one(queue: JobQueue) -> None:
    old, new = review(1, "a" * 40), review(1, "b" * 40)
    await queue.enqueue(old)
    await queue.enqueue(review(2, "a" * 40))  # another PR: untouched
    await queue.enqueue(command(1))  # a command on the same PR: not a review, untouched
    outcome = await queue.accept_delivery("guid-push", [new])
    assert outcome.superseded == 1
    assert await state_of(queue, old) is JobState.SUPERSEDED
    record = await queue.find(old.idempotency_key)
    assert record is not None and record.last_error is not None and "superseded" in record.last_error
    assert await state_of(queue, new) is JobState.QUEUED
    assert await state_of(queue, review(2, "a" * 40)) is JobState.QUEUED
    assert await state_of(queue, command(1)) is JobState.QUEUED
    assert (await queue.counts())["superseded"] == 1


async def test_running_review_is_never_superseded(queue: JobQueue) -> None:
    await queue.enqueue(review(1, "a" * 40))
    [running] = await queue.lease("w", 60)
    assert await queue.enqueue(review(1, "b" * 40))
    assert await state_of(queue, review(1, "a" * 40)) is JobState.RUNNING
    assert await queue.lease("w", 60) == [], "the newer one waits for the running one"
    assert await queue.enqueue(review(1, "c" * 40))
    assert await state_of(queue, review(1, "b" * 40)) is JobState.SUPERSEDED
    assert await queue.complete(running)
    [newest] = await queue.lease("w", 60)
    assert newest.job.head_sha == "c" * 40


async def test_a_queued_retry_is_superseded_too(queue: JobQueue) -> None:
    await queue.enqueue(review(1, "a" * 40))
    [lease] = await queue.lease("w", 60)
    assert await queue.retry(lease, delay=30, error="TransientJobError: 502")
    await queue.enqueue(review(1, "b" * 40))
    assert await state_of(queue, review(1, "a" * 40)) is JobState.SUPERSEDED


async def test_job_can_end_as_superseded_with_a_note(queue: JobQueue) -> None:
    await queue.enqueue(review(1))
    [lease] = await queue.lease("w", 60)
    assert await queue.complete(lease, superseded=True, note="head moved to bbbb")
    record = await queue.get(lease.job_id)
    assert record is not None
    assert (record.state, record.last_error, record.lease_owner) == (
        JobState.SUPERSEDED,
        "head moved to bbbb",
        None,
    )


# -- retry, failure, release -----------------------------------------------------------------------------


async def test_retry_waits_for_run_after_and_counts_attempts(queue: JobQueue, clock: FakeClock) -> None:
    await queue.enqueue(command(1))
    [lease] = await queue.lease("w", 60)
    assert await queue.retry(lease, delay=30, error="TransientJobError: 502 Bad Gateway")
    record = await queue.get(lease.job_id)
    assert record is not None
    assert (record.state, record.attempts, record.run_after, record.lease_owner) == (
        JobState.QUEUED,
        1,
        clock.now + 30,
        None,
    )
    assert record.last_error == "TransientJobError: 502 Bad Gateway"
    clock.advance(29)
    assert await queue.lease("w", 60) == []
    clock.advance(1)
    [again] = await queue.lease("w", 60)
    assert again.attempts == 2


async def test_fail_records_the_reason(queue: JobQueue) -> None:
    await queue.enqueue(command(1))
    [lease] = await queue.lease("w", 60)
    assert await queue.fail(lease, error="PermanentJobError: no access to octo/repo")
    record = await queue.get(lease.job_id)
    assert record is not None
    assert (record.state, record.last_error) == (JobState.FAILED, "PermanentJobError: no access to octo/repo")
    assert await queue.lease("w", 60) == []
    assert not await queue.complete(lease), "a finished job cannot be finished again"
    assert (await queue.counts())["failed"] == 1


async def test_release_gives_the_job_back_without_counting_the_attempt(queue: JobQueue) -> None:
    await queue.enqueue(command(1))
    [lease] = await queue.lease("w", 60)
    assert await queue.release(lease)
    record = await queue.get(lease.job_id)
    assert record is not None
    assert (record.state, record.attempts, record.lease_owner, record.lease_expires) == (
        JobState.QUEUED,
        0,
        None,
        None,
    )
    [again] = await queue.lease("w2", 60)
    assert again.attempts == 1


async def test_long_errors_are_bounded(queue: JobQueue) -> None:
    await queue.enqueue(command(1))
    [lease] = await queue.lease("w", 60)
    await queue.fail(lease, error="x" * 100_000)
    record = await queue.get(lease.job_id)
    assert record is not None and record.last_error is not None
    assert 100 < len(record.last_error) <= 4000


# -- wake-ups, housekeeping -------------------------------------------------------------------------------


async def test_subscribers_are_woken_by_new_work_only(queue: JobQueue) -> None:
    calls: list[str] = []
    unsubscribe = queue.subscribe(lambda: calls.append("woken"))
    assert await queue.enqueue(command(1))
    assert len(calls) == 1
    assert not await queue.enqueue(command(1))
    assert (await queue.accept_delivery("g", [command(1)])).accepted
    assert len(calls) == 1, "nothing new, nobody woken"
    await queue.accept_delivery("g2", [command(2)])
    assert len(calls) == 2
    unsubscribe()
    unsubscribe()  # harmless twice
    await queue.enqueue(command(3))
    assert len(calls) == 2


async def test_prune_removes_old_finished_jobs_and_deliveries(queue: JobQueue, clock: FakeClock) -> None:
    await queue.accept_delivery("old", [command(1)])
    [lease] = await queue.lease("w", 60)
    await queue.complete(lease)
    await queue.enqueue(command(2))  # queued: never pruned
    clock.advance(100)
    assert await queue.prune(clock.now - 50) == 2
    assert await queue.counts() == {"queued": 1, "running": 0, "done": 0, "failed": 0, "superseded": 0}
    assert (await queue.accept_delivery("old", [])).accepted
