"""Worker behaviour against the real SQLite queue on a file: outcomes, retries, leases, per-PR
serialisation, wake-ups and graceful shutdown. Store time is a fake clock; real waits are kept short."""

from __future__ import annotations

import asyncio
import random
import sqlite3
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
import structlog
from structlog.testing import capture_logs

from app.jobs import Job, JobKind
from app.queue import JobRecord, JobState, Lease, SQLiteJobQueue
from app.worker import (
    JobSupersededError,
    PermanentJobError,
    TransientJobError,
    Worker,
    full_jitter_backoff,
)
from tests.fakeclock import FakeClock


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


class SpyQueue(SQLiteJobQueue):
    """The real queue, telling the test when the worker has polled and heartbeaten."""

    def __init__(self, url: str, clock: FakeClock) -> None:
        super().__init__(url, clock=clock)
        self.polled_empty = asyncio.Event()
        self.heartbeaten = asyncio.Event()

    async def lease(self, worker_id: str, lease_seconds: float, *, limit: int = 1) -> list[Lease]:
        leases = await super().lease(worker_id, lease_seconds, limit=limit)
        if not leases:
            self.polled_empty.set()
        return leases

    async def heartbeat(self, lease: Lease, lease_seconds: float) -> bool:
        ours = await super().heartbeat(lease, lease_seconds)
        self.heartbeaten.set()
        return ours


@pytest.fixture
async def queue(tmp_path: Path, clock: FakeClock) -> AsyncIterator[SpyQueue]:
    queue = SpyQueue(f"sqlite:///{tmp_path}/archbot.db", clock)
    yield queue
    await queue.close()


def command(number: int = 1, comment_id: int = 100, **data: Any) -> Job:
    return Job(kind=JobKind.COMMAND, repo="octo/repo", number=number, comment_id=comment_id, data=data)


async def record_of(queue: SQLiteJobQueue, job: Job) -> JobRecord:
    record = await queue.find(job.idempotency_key)
    assert record is not None
    return record


def make_worker(queue: SQLiteJobQueue, run_job: Callable[[Job], Awaitable[None]], **kwargs: Any) -> Worker:
    options: dict[str, Any] = {"worker_id": "test-worker", "rng": random.Random(7), "poll_interval": 0.05}
    options.update(kwargs)
    return Worker(queue, run_job, **options)


# -- outcomes -------------------------------------------------------------------------------------------


async def test_drain_runs_ready_jobs_to_done(queue: SQLiteJobQueue) -> None:
    seen: list[int] = []

    async def run_job(job: Job) -> None:
        seen.append(job.number)

    for number in range(1, 6):
        await queue.enqueue(command(number))
    worker = make_worker(queue, run_job, concurrency=2)
    assert await worker.drain() == 5
    assert sorted(seen) == [1, 2, 3, 4, 5]
    assert (await queue.counts())["done"] == 5
    assert await worker.drain() == 0


async def test_transient_errors_retry_with_backoff_then_fail_with_the_reason(
    queue: SQLiteJobQueue, clock: FakeClock
) -> None:
    calls = 0

    async def run_job(job: Job) -> None:
        nonlocal calls
        calls += 1
        raise TransientJobError(f"GitHub answered 502 (call {calls})")

    await queue.enqueue(command(1))
    worker = make_worker(queue, run_job, max_attempts=3, base_backoff=2.0, max_backoff=300)
    for attempt in (1, 2):
        assert await worker.drain() == 1
        record = await record_of(queue, command(1))
        assert (record.state, record.attempts) == (JobState.QUEUED, attempt)
        assert record.last_error == f"TransientJobError: GitHub answered 502 (call {attempt})"
        delay = record.run_after - clock.now
        assert 0 <= delay <= 2.0 * 2 ** (attempt - 1)
        if delay > 0:
            assert await worker.drain() == 0, "not ready before its backoff"
        clock.advance(delay)
    assert await worker.drain() == 1
    record = await record_of(queue, command(1))
    assert record.state is JobState.FAILED
    assert record.attempts == 3
    assert record.last_error == "TransientJobError: GitHub answered 502 (call 3) (gave up after 3 attempts)"
    assert calls == 3
    clock.advance(10_000)
    assert await worker.drain() == 0


async def test_transient_then_success(queue: SQLiteJobQueue, clock: FakeClock) -> None:
    outcomes: list[BaseException | None] = [TransientJobError("timeout"), None]

    async def run_job(job: Job) -> None:
        outcome = outcomes.pop(0)
        if outcome is not None:
            raise outcome

    await queue.enqueue(command(1))
    worker = make_worker(queue, run_job)
    await worker.drain()
    clock.advance(1000)
    await worker.drain()
    record = await record_of(queue, command(1))
    assert (record.state, record.attempts) == (JobState.DONE, 2)


async def test_retry_after_is_honoured(queue: SQLiteJobQueue, clock: FakeClock) -> None:
    async def run_job(job: Job) -> None:
        raise TransientJobError("rate limited", retry_after=120)

    await queue.enqueue(command(1))
    await make_worker(queue, run_job, base_backoff=1.0).drain()
    record = await record_of(queue, command(1))
    assert 120 <= record.run_after - clock.now <= 121


async def test_unknown_exception_is_retried(queue: SQLiteJobQueue) -> None:
    async def run_job(job: Job) -> None:
        raise KeyError("missing")

    await queue.enqueue(command(1))
    await make_worker(queue, run_job).drain()
    record = await record_of(queue, command(1))
    assert (record.state, record.attempts, record.last_error) == (JobState.QUEUED, 1, "KeyError: 'missing'")


async def test_permanent_error_fails_at_once_with_the_reason(queue: SQLiteJobQueue) -> None:
    async def run_job(job: Job) -> None:
        raise PermanentJobError("installation 7 has no access to octo/repo")

    await queue.enqueue(command(1))
    await make_worker(queue, run_job, max_attempts=5).drain()
    record = await record_of(queue, command(1))
    assert (record.state, record.attempts) == (JobState.FAILED, 1)
    assert record.last_error == "PermanentJobError: installation 7 has no access to octo/repo"


async def test_stale_job_ends_superseded(queue: SQLiteJobQueue) -> None:
    async def run_job(job: Job) -> None:
        raise JobSupersededError("head moved on")

    await queue.enqueue(command(1))
    await make_worker(queue, run_job).drain()
    record = await record_of(queue, command(1))
    assert (record.state, record.last_error) == (JobState.SUPERSEDED, "JobSupersededError: head moved on")


def test_full_jitter_backoff_bounds() -> None:
    class Top(random.Random):
        def uniform(self, a: float, b: float) -> float:
            return b

    assert [full_jitter_backoff(n, base=2, cap=30, rng=Top()) for n in range(1, 7)] == [2, 4, 8, 16, 30, 30]
    assert full_jitter_backoff(10_000, base=2, cap=30, rng=Top()) == 30
    rng = random.Random(1)
    samples = [full_jitter_backoff(3, base=2, cap=300, rng=rng) for _ in range(200)]
    assert all(0 <= s <= 8 for s in samples)
    assert len({round(s, 6) for s in samples}) > 100, "jittered, not constant"


# -- leases ---------------------------------------------------------------------------------------------


async def test_heartbeat_keeps_the_lease_alive(queue: SpyQueue, clock: FakeClock) -> None:
    expiries: list[float | None] = []

    async def run_job(job: Job) -> None:
        first = (await record_of(queue, job)).lease_expires
        expiries.append(first)
        clock.advance(50)
        async with asyncio.timeout(2):  # a heartbeat already under way may still carry the old time
            while (await record_of(queue, job)).lease_expires == first:
                queue.heartbeaten.clear()
                await queue.heartbeaten.wait()
        expiries.append((await record_of(queue, job)).lease_expires)

    await queue.enqueue(command(1))
    await make_worker(queue, run_job, lease_seconds=60, heartbeat_interval=0.01).drain()
    assert (await record_of(queue, command(1))).state is JobState.DONE
    first, last = expiries
    assert first is not None and last is not None
    assert last == pytest.approx(first + 50)


async def test_lost_lease_cancels_the_job_and_leaves_it_to_the_new_owner(
    queue: SQLiteJobQueue, clock: FakeClock
) -> None:
    cancelled = asyncio.Event()

    async def run_job(job: Job) -> None:
        clock.advance(61)  # this worker stalls past its lease ...
        assert await queue.lease("other-worker", 60)  # ... and another one takes the job
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    await queue.enqueue(command(1))
    async with asyncio.timeout(2):
        await make_worker(queue, run_job, lease_seconds=60, heartbeat_interval=0.01).drain()
    assert cancelled.is_set()
    record = await record_of(queue, command(1))
    assert (record.state, record.lease_owner, record.attempts) == (JobState.RUNNING, "other-worker", 2)


async def test_job_abandoned_by_dead_workers_fails_after_max_attempts(queue: SQLiteJobQueue, clock: FakeClock) -> None:
    ran: list[Job] = []

    async def run_job(job: Job) -> None:
        ran.append(job)

    await queue.enqueue(command(1))
    for _ in range(2):  # two workers die holding it
        assert await queue.lease("doomed", 10)
        clock.advance(11)
    await make_worker(queue, run_job, max_attempts=2).drain()
    record = await record_of(queue, command(1))
    assert record.state is JobState.FAILED
    assert record.last_error == "gave up after 2 attempts; the last one lost its lease"
    assert ran == []


# -- the loop -------------------------------------------------------------------------------------------


async def test_one_job_per_pr_at_a_time_but_prs_in_parallel(queue: SQLiteJobQueue) -> None:
    active: Counter[str] = Counter()
    most: Counter[str] = Counter()
    overall = 0
    most_overall = 0
    finished = 0
    all_finished = asyncio.Event()

    async def run_job(job: Job) -> None:
        nonlocal overall, most_overall, finished
        active[job.serial_key] += 1
        overall += 1
        most[job.serial_key] = max(most[job.serial_key], active[job.serial_key])
        most_overall = max(most_overall, overall)
        await asyncio.sleep(0.03)
        active[job.serial_key] -= 1
        overall -= 1
        finished += 1
        if finished == len(jobs):
            all_finished.set()

    jobs = [command(1, 1), command(1, 2), command(1, 3), command(2, 4), command(3, 5)]
    for job in jobs:
        await queue.enqueue(job)
    stop = asyncio.Event()
    worker = make_worker(queue, run_job, concurrency=4, poll_interval=0.01)
    runner = asyncio.create_task(worker.run(stop))

    await asyncio.wait_for(all_finished.wait(), 2)
    stop.set()
    await asyncio.wait_for(runner, 2)
    assert (await queue.counts())["done"] == len(jobs)
    assert max(most.values()) == 1
    assert most_overall >= 2


async def test_enqueue_wakes_the_worker_without_polling(queue: SpyQueue) -> None:
    done = asyncio.Event()

    async def run_job(job: Job) -> None:
        done.set()

    stop = asyncio.Event()
    worker = make_worker(queue, run_job, poll_interval=60)
    runner = asyncio.create_task(worker.run(stop))
    await asyncio.wait_for(queue.polled_empty.wait(), 1)  # found nothing: now it waits (up to 60 s)
    await queue.enqueue(command(1))
    await asyncio.wait_for(done.wait(), 1)
    stop.set()
    await asyncio.wait_for(runner, 2)
    assert (await record_of(queue, command(1))).state is JobState.DONE


async def test_stop_waits_for_a_job_that_finishes_within_the_grace(queue: SQLiteJobQueue) -> None:
    started = asyncio.Event()

    async def run_job(job: Job) -> None:
        started.set()
        await asyncio.sleep(0.1)

    await queue.enqueue(command(1))
    stop = asyncio.Event()
    runner = asyncio.create_task(make_worker(queue, run_job, shutdown_grace=5).run(stop))
    await asyncio.wait_for(started.wait(), 1)
    stop.set()
    await asyncio.wait_for(runner, 2)
    assert (await record_of(queue, command(1))).state is JobState.DONE


async def test_stop_cancels_overdue_jobs_and_releases_their_leases(queue: SQLiteJobQueue) -> None:
    started = asyncio.Event()
    cancelled = asyncio.Event()

    async def run_job(job: Job) -> None:
        started.set()
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    await queue.enqueue(command(1))
    await queue.enqueue(command(2))  # waiting for a slot: must stay queued, untouched
    stop = asyncio.Event()
    worker = make_worker(queue, run_job, concurrency=1, shutdown_grace=0.05)
    runner = asyncio.create_task(worker.run(stop))
    await asyncio.wait_for(started.wait(), 1)
    stop.set()
    await asyncio.wait_for(runner, 2)
    assert cancelled.is_set()
    assert worker.running == 0
    first = await record_of(queue, command(1))
    assert (first.state, first.attempts, first.lease_owner) == (JobState.QUEUED, 0, None)
    second = await record_of(queue, command(2))
    assert (second.state, second.attempts) == (JobState.QUEUED, 0)
    [lease] = await queue.lease("next-process", 60)  # ready again at once
    assert (lease.job, lease.attempts) == (command(1), 1)


async def test_cancelling_run_releases_running_jobs(queue: SQLiteJobQueue) -> None:
    started = asyncio.Event()

    async def run_job(job: Job) -> None:
        started.set()
        await asyncio.sleep(60)

    await queue.enqueue(command(1))
    runner = asyncio.create_task(make_worker(queue, run_job, shutdown_grace=30).run(asyncio.Event()))
    await asyncio.wait_for(started.wait(), 1)
    runner.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(runner, 2)
    record = await record_of(queue, command(1))
    assert (record.state, record.attempts) == (JobState.QUEUED, 0)


async def test_logs_name_the_job_but_never_its_payload(queue: SQLiteJobQueue) -> None:
    async def run_job(job: Job) -> None:
        raise TransientJobError("flaky")

    await queue.enqueue(command(4, secret_body="ghp_payload_text"))
    with capture_logs() as logs:
        worker = make_worker(queue, run_job, logger=structlog.get_logger())
        await worker.drain()
    assert "ghp_payload_text" not in repr(logs)
    retry = next(entry for entry in logs if entry["event"] == "job.retry")
    assert (retry["repo"], retry["number"], retry["kind"], retry["worker_id"]) == (
        "octo/repo",
        4,
        "command",
        "test-worker",
    )
    assert isinstance(retry["job_id"], int)


def test_invalid_settings_are_refused(queue: SQLiteJobQueue) -> None:
    async def run_job(job: Job) -> None:
        return None

    with pytest.raises(ValueError, match="concurrency"):
        Worker(queue, run_job, concurrency=0)
    with pytest.raises(ValueError, match="max_attempts"):
        Worker(queue, run_job, max_attempts=0)


async def test_store_errors_while_leasing_are_survived_without_spinning(queue: SpyQueue) -> None:
    failures = 0
    original = queue.lease

    async def flaky_lease(worker_id: str, lease_seconds: float, *, limit: int = 1) -> list[Lease]:
        nonlocal failures
        if failures < 2:
            failures += 1
            raise sqlite3.OperationalError("disk I/O error")
        return await original(worker_id, lease_seconds, limit=limit)

    done = asyncio.Event()

    async def run_job(job: Job) -> None:
        done.set()

    queue.lease = flaky_lease  # type: ignore[method-assign]
    await queue.enqueue(command(1))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    started = loop.time()
    runner = asyncio.create_task(make_worker(queue, run_job, poll_interval=0.05).run(stop))
    await asyncio.wait_for(done.wait(), 2)
    assert loop.time() - started >= 0.09, "waited a poll interval after each store error"
    stop.set()
    await asyncio.wait_for(runner, 2)
    assert failures == 2
    assert (await record_of(queue, command(1))).state is JobState.DONE
