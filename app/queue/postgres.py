"""The scale-out job queue: procrastinate's job table on PostgreSQL, through a psycopg 3 connection pool.

Jobs are rows of procrastinate's ``procrastinate_jobs`` (inserted by its ``procrastinate_defer_jobs_v1``
procedure, so its triggers record events and ``NOTIFY`` listeners), in the queue ``archbot`` with:

- ``lock`` = the serial key (PR): procrastinate's unique index on ``lock`` among ``doing`` jobs makes "one
  running job per PR" a database guarantee, whatever the number of workers;
- ``queueing_lock`` = ``review:<serial key>`` for reviews: its unique index among ``todo`` jobs makes "one
  queued review per PR" one too; a newer review cancels (supersedes) the queued one in the same transaction.

archbot's side table ``archbot_jobs`` holds what the ``JobQueue`` contract adds: the idempotency key (unique
over all states), attempts, ``run_after``, the lease (owner, token, expiry on the injected clock) and the
last error. Every transition of a leased job is fenced by its lease token, so a worker that lost its lease
(SIGKILL, a stall) cannot finish the job its successor is running. Statements touching one PR take a
transaction advisory lock on its serial key; leasing takes one queue-wide advisory lock (a lease is one
short transaction), so concurrent receivers and workers never race the two unique indexes.

``listen=True`` (workers) also ``LISTEN``s on procrastinate's queue channel, so a job inserted by another
process wakes this one at once; the poll interval is the fallback.

What the database does NOT share between processes: GitHub write pacing (>= 1 s between writes per
installation, ``app.github.pacing``) is per process, so N worker processes may write to one installation
up to N times a second. The lease of a job whose worker died is taken back by the next ``lease`` call
after it expires (``ARCHBOT_WORKER_LEASE_SECONDS``, heartbeats every third of it); nothing detects the
death sooner on PostgreSQL (the process may be on another host).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from typing import Any

import psycopg
from psycopg.types.json import Jsonb
from psycopg_pool import AsyncConnectionPool

from app.jobs import Job, JobKind
from app.pg_schema import QUEUE_NAME, TASK_NAME, SchemaError, open_checked_pool
from app.pg_url import conninfo
from app.queue.base import DeliveryOutcome, JobRecord, JobState, Lease

MAX_ERROR_CHARS = 4000
LEASE_LOCK = 0x61726368_6C656173 & 0x7FFFFFFFFFFFFFFF  # "archleas": the queue-wide lease lock
SERIAL_LOCK_SEED = 0x5E71A1  # hashtextextended seed for per-PR advisory locks
CHANNEL = f"procrastinate_queue_v1#{QUEUE_NAME}"
RETRYABLE = (psycopg.errors.DeadlockDetected, psycopg.errors.SerializationFailure, psycopg.errors.UniqueViolation)
TRANSACTION_ATTEMPTS = 5

_STATE = {
    "todo": JobState.QUEUED,
    "doing": JobState.RUNNING,
    "succeeded": JobState.DONE,
    "failed": JobState.FAILED,
    "aborted": JobState.FAILED,
    "cancelled": JobState.SUPERSEDED,
}

_RECORD_COLUMNS = (
    "a.job_id, p.args, p.status, a.attempts, a.run_after, a.lease_owner, a.lease_expires, a.last_error,"
    " a.created_at, a.updated_at"
)

Conn = psycopg.AsyncConnection[tuple[Any, ...]]


def _bounded(error: str) -> str:
    return error if len(error) <= MAX_ERROR_CHARS else error[: MAX_ERROR_CHARS - 1] + "…"


def _job_of(args: Any) -> Job:
    return Job.model_validate(args["job"])


def _record(row: tuple[Any, ...]) -> JobRecord:
    return JobRecord(
        job_id=int(row[0]),
        job=_job_of(row[1]),
        state=_STATE[str(row[2])],
        attempts=int(row[3]),
        run_after=float(row[4]),
        lease_owner=row[5],
        lease_expires=None if row[6] is None else float(row[6]),
        last_error=row[7],
        created_at=float(row[8]),
        updated_at=float(row[9]),
    )


def queueing_lock(job: Job) -> str | None:
    """procrastinate's queueing lock: one queued review per PR; other kinds have none."""
    return f"review:{job.serial_key}" if job.supersedes else None


async def _serial_lock(conn: Conn, *keys: str) -> None:
    """Transaction advisory locks on these serial keys, in a fixed order (no lock-order deadlocks)."""
    for key in sorted(set(keys)):
        await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, %s))", (key, SERIAL_LOCK_SEED))


class PostgresJobQueue:
    """``JobQueue`` on PostgreSQL with procrastinate's schema (``archbot db migrate`` creates it).

    Construction does no I/O; ``open()`` (or the first call) opens the pool and checks the schema.
    ``clock`` gives store time (seconds) and is injectable for tests."""

    def __init__(
        self,
        url: str,
        *,
        clock: Callable[[], float] = time.time,
        min_size: int = 1,
        max_size: int = 4,
        ping_timeout: float = 2.0,
        listen: bool = False,
    ) -> None:
        self.url = url
        self._conninfo = conninfo(url)
        self._clock = clock
        self._min_size = min_size
        self._max_size = max_size
        self._ping_timeout = ping_timeout
        self._listen = listen
        self._pool: AsyncConnectionPool[Conn] | None = None
        self._open_lock: asyncio.Lock | None = None
        self._closed = False
        self._listeners: list[Callable[[], None]] = []
        self._listeners_lock = threading.Lock()
        self._listener_task: asyncio.Task[None] | None = None
        self._origin = uuid.uuid4().hex  # marks this process's own notifications
        self._own_ids: set[int] = set()  # jobs this queue inserted (their NOTIFY already woke us)

    # -- plumbing -------------------------------------------------------------------------------------

    async def _get_pool(self) -> AsyncConnectionPool[Conn]:
        if self._closed:
            raise RuntimeError("the job queue is closed")
        if self._pool is not None:
            return self._pool
        if self._open_lock is None:
            self._open_lock = asyncio.Lock()
        async with self._open_lock:
            if self._pool is None:
                self._pool = await open_checked_pool(
                    self.url, min_size=self._min_size, max_size=self._max_size, name="archbot-queue"
                )
                if self._listen:
                    self._listener_task = asyncio.create_task(self._listen_forever(), name="archbot-pg-listen")
        return self._pool

    async def _transaction(self, fn: Callable[[Conn], Any]) -> Any:
        """Run ``fn(conn)`` in one transaction, again on a deadlock, serialisation failure or lost race
        on a unique index (another process got there first: re-reading decides)."""
        pool = await self._get_pool()
        for attempt in range(1, TRANSACTION_ATTEMPTS + 1):
            try:
                async with pool.connection() as conn, conn.transaction():
                    return await fn(conn)
            except RETRYABLE:
                if attempt == TRANSACTION_ATTEMPTS:
                    raise
                await asyncio.sleep(0.005 * attempt)
        raise AssertionError("unreachable")  # pragma: no cover

    async def open(self) -> None:
        """Open the pool and check the schema now (fail fast at start-up)."""
        await self._get_pool()

    async def close(self) -> None:
        """Close the pool (and the listener). Idempotent."""
        if self._closed:
            return
        self._closed = True
        if self._listener_task is not None:
            self._listener_task.cancel()
            await asyncio.gather(self._listener_task, return_exceptions=True)
        if self._pool is not None:
            await self._pool.close()

    def subscribe(self, callback: Callable[[], None]) -> Callable[[], None]:
        """Register a wake-up callback; returns the function that removes it."""
        with self._listeners_lock:
            self._listeners.append(callback)

        def unsubscribe() -> None:
            with self._listeners_lock, contextlib.suppress(ValueError):
                self._listeners.remove(callback)

        return unsubscribe

    def notify(self) -> None:
        """Call every subscriber (in this thread)."""
        with self._listeners_lock:
            listeners = tuple(self._listeners)
        for callback in listeners:
            callback()

    async def _notify_freed(self, conn: Conn) -> None:
        """Tell other processes a PR's slot is free again (a finished or released job)."""
        payload = json.dumps({"type": "archbot_freed", "origin": self._origin})
        await conn.execute("SELECT pg_notify(%s, %s)", (CHANNEL, payload))

    async def _listen_forever(self) -> None:
        """Wake subscribers on notifications from other processes; reconnects after a failure."""
        while not self._closed:
            try:
                async with await psycopg.AsyncConnection.connect(self._conninfo, autocommit=True) as conn:
                    await conn.execute(f'LISTEN "{CHANNEL}"')  # constant channel name
                    async for note in conn.notifies():
                        if not self._foreign(note.payload):
                            continue
                        self.notify()
            except asyncio.CancelledError:
                raise
            except (psycopg.Error, OSError):  # the database went away: poll meanwhile, listen again shortly
                await asyncio.sleep(1.0)

    def _foreign(self, payload: str) -> bool:
        try:
            data = json.loads(payload)
        except ValueError:
            return True
        if data.get("origin") == self._origin:
            return False
        job_id = data.get("job_id")
        if isinstance(job_id, int) and job_id in self._own_ids:
            self._own_ids.discard(job_id)
            return False
        return True

    # -- enqueue ----------------------------------------------------------------------------------------

    async def _insert(self, conn: Conn, job: Job, now: float) -> tuple[int | None, int]:
        """Insert ``job`` unless its key exists (caller holds its serial lock); (new id or None, superseded)."""
        cur = await conn.execute("SELECT 1 FROM archbot_jobs WHERE idempotency_key = %s", (job.idempotency_key,))
        if await cur.fetchone() is not None:
            return None, 0
        qlock = queueing_lock(job)
        cancelled: list[int] = []
        if qlock is not None:
            cur = await conn.execute(
                "UPDATE procrastinate_jobs SET status = 'cancelled'"
                " WHERE queueing_lock = %s AND status = 'todo' AND queue_name = %s RETURNING id",
                (qlock, QUEUE_NAME),
            )
            cancelled = [int(row[0]) for row in await cur.fetchall()]
        cur = await conn.execute(
            "SELECT unnest(procrastinate_defer_jobs_v1("
            "ARRAY[ROW(%s, %s, 0, %s, %s, %s, NULL)::procrastinate_job_to_defer_v1]))",
            (QUEUE_NAME, TASK_NAME, job.serial_key, qlock, Jsonb({"job": job.model_dump(mode="json")})),
        )
        row = await cur.fetchone()
        if row is None:  # pragma: no cover - the procedure returns the new id
            raise RuntimeError("procrastinate_defer_jobs_v1 returned no id")
        job_id = int(row[0])
        self._own_ids.add(job_id)
        await conn.execute(
            "INSERT INTO archbot_jobs (job_id, idempotency_key, serial_key, supersedes, kind, repo, number,"
            " attempts, run_after, created_at, updated_at) VALUES (%s, %s, %s, %s, %s, %s, %s, 0, %s, %s, %s)",
            (
                job_id,
                job.idempotency_key,
                job.serial_key,
                job.supersedes,
                str(job.kind),
                job.repo,
                job.number,
                now,
                now,
                now,
            ),
        )
        if cancelled:
            await conn.execute(
                "UPDATE archbot_jobs SET last_error = %s, updated_at = %s WHERE job_id = ANY(%s)",
                (f"superseded by job {job_id}", now, cancelled),
            )
        return job_id, len(cancelled)

    async def enqueue(self, job: Job) -> bool:
        """Store ``job``; False when its idempotency key already exists (then nothing changes)."""
        now = self._clock()

        async def run(conn: Conn) -> bool:
            await _serial_lock(conn, job.serial_key)
            job_id, _ = await self._insert(conn, job, now)
            return job_id is not None

        added = bool(await self._transaction(run))
        if added:
            self.notify()
        return added

    async def accept_delivery(self, delivery_id: str, jobs: Sequence[Job]) -> DeliveryOutcome:
        """Record ``delivery_id`` and enqueue ``jobs`` atomically; a seen id is a duplicate (no change)."""
        if not delivery_id:
            raise ValueError("empty delivery id")
        batch = tuple(jobs)
        now = self._clock()

        async def run(conn: Conn) -> DeliveryOutcome:
            cur = await conn.execute(
                "INSERT INTO archbot_deliveries (delivery_id, received_at, jobs) VALUES (%s, %s, %s)"
                " ON CONFLICT (delivery_id) DO NOTHING RETURNING delivery_id",
                (delivery_id, now, len(batch)),
            )
            if await cur.fetchone() is None:
                return DeliveryOutcome(accepted=False)
            await _serial_lock(conn, *(job.serial_key for job in batch))
            ids: list[int] = []
            skipped = superseded = 0
            for job in batch:
                job_id, gone = await self._insert(conn, job, now)
                if job_id is None:
                    skipped += 1
                else:
                    ids.append(job_id)
                    superseded += gone
            return DeliveryOutcome(accepted=True, job_ids=tuple(ids), skipped=skipped, superseded=superseded)

        outcome: DeliveryOutcome = await self._transaction(run)
        if outcome.job_ids:
            self.notify()
        return outcome

    # -- leasing ----------------------------------------------------------------------------------------

    async def _requeue(
        self, conn: Conn, job_id: int, qlock: str | None, assignments: str, params: tuple[Any, ...]
    ) -> str:
        """Put a running job back to ``todo`` (caller holds its serial lock), or cancel it when a newer
        review of its PR is queued already (the queueing lock allows one); returns the new status."""
        status = "todo"
        if qlock is not None:
            cur = await conn.execute(
                "SELECT 1 FROM procrastinate_jobs WHERE queueing_lock = %s AND status = 'todo' AND id <> %s",
                (qlock, job_id),
            )
            if await cur.fetchone() is not None:
                status = "cancelled"
        await conn.execute(
            f"UPDATE archbot_jobs SET {assignments} WHERE job_id = %s",  # noqa: S608 - assignments are constants
            (*params, job_id),
        )
        if status == "cancelled":
            await conn.execute(
                "UPDATE archbot_jobs SET last_error = 'superseded by a newer queued review' WHERE job_id = %s",
                (job_id,),
            )
        await conn.execute("UPDATE procrastinate_jobs SET status = %s WHERE id = %s", (status, job_id))
        return status

    async def _reclaim(self, conn: Conn, now: float) -> None:
        """Take back leases whose worker died or stalled: the job is ready again, the attempt counted."""
        cur = await conn.execute(
            "SELECT a.job_id, a.serial_key, p.queueing_lock FROM archbot_jobs a JOIN procrastinate_jobs p"
            " ON p.id = a.job_id WHERE p.status = 'doing' AND p.queue_name = %s AND a.lease_expires <= %s"
            " ORDER BY a.serial_key",
            (QUEUE_NAME, now),
        )
        for job_id, serial_key, qlock in await cur.fetchall():
            await _serial_lock(conn, str(serial_key))
            await self._requeue(
                conn,
                int(job_id),
                qlock,
                "last_error = 'lease expired: worker ' || COALESCE(lease_owner, '?') || ' lost',"
                " lease_owner = NULL, lease_token = NULL, lease_expires = NULL, updated_at = %s",
                (now,),
            )

    async def lease(self, worker_id: str, lease_seconds: float, *, limit: int = 1) -> list[Lease]:
        """Lease up to ``limit`` ready jobs, oldest first, never two of one serial key at a time."""
        if limit < 1:
            return []
        if lease_seconds <= 0:
            raise ValueError("lease_seconds must be positive")
        now = self._clock()
        expires = now + lease_seconds

        async def run(conn: Conn) -> list[Lease]:
            await conn.execute("SELECT pg_advisory_xact_lock(%s)", (LEASE_LOCK,))
            await self._reclaim(conn, now)
            cur = await conn.execute(
                "WITH ready AS ("
                "  SELECT DISTINCT ON (p.lock) p.id, a.run_after FROM procrastinate_jobs p"
                "  JOIN archbot_jobs a ON a.job_id = p.id"
                "  WHERE p.status = 'todo' AND p.queue_name = %(queue)s AND a.run_after <= %(now)s"
                "  AND NOT EXISTS (SELECT 1 FROM procrastinate_jobs r WHERE r.lock = p.lock AND r.status = 'doing')"
                "  ORDER BY p.lock, a.run_after, p.id"
                "), picked AS (SELECT id, run_after FROM ready ORDER BY run_after, id LIMIT %(limit)s)"
                " UPDATE procrastinate_jobs p SET status = 'doing' FROM picked"
                " WHERE p.id = picked.id AND p.status = 'todo' RETURNING p.id, p.args, picked.run_after",
                {"queue": QUEUE_NAME, "now": now, "limit": limit},
            )
            picked = sorted(await cur.fetchall(), key=lambda row: (float(row[2]), int(row[0])))
            if not picked:
                return []
            cur = await conn.execute(
                "UPDATE archbot_jobs SET attempts = attempts + 1, lease_owner = %s,"
                " lease_token = replace(gen_random_uuid()::text, '-', ''), lease_expires = %s, updated_at = %s"
                " WHERE job_id = ANY(%s) RETURNING job_id, attempts, lease_token",
                (worker_id, expires, now, [int(row[0]) for row in picked]),
            )
            leased = {int(row[0]): (int(row[1]), str(row[2])) for row in await cur.fetchall()}
            return [
                Lease(
                    job_id=int(row[0]),
                    job=_job_of(row[1]),
                    attempts=leased[int(row[0])][0],
                    token=leased[int(row[0])][1],
                    worker_id=worker_id,
                    expires_at=expires,
                )
                for row in picked
            ]

        leases: list[Lease] = await self._transaction(run)
        return leases

    async def _ours(self, conn: Conn, lease: Lease) -> bool:
        """Lock the job's row; True while ``lease`` is its current lease (running, same token)."""
        cur = await conn.execute(
            "SELECT 1 FROM archbot_jobs a JOIN procrastinate_jobs p ON p.id = a.job_id"
            " WHERE a.job_id = %s AND a.lease_token = %s AND p.status = 'doing' FOR UPDATE OF a, p",
            (lease.job_id, lease.token),
        )
        return await cur.fetchone() is not None

    async def _finish(self, lease: Lease, status: str, error: str | None) -> bool:
        now = self._clock()

        async def run(conn: Conn) -> bool:
            await _serial_lock(conn, lease.job.serial_key)
            if not await self._ours(conn, lease):
                return False
            await conn.execute(
                "UPDATE archbot_jobs SET last_error = COALESCE(%s, last_error), lease_owner = NULL,"
                " lease_token = NULL, lease_expires = NULL, updated_at = %s WHERE job_id = %s",
                (error, now, lease.job_id),
            )
            # procrastinate has no "done but stale" status: a superseded job ends as cancelled
            await conn.execute("UPDATE procrastinate_jobs SET status = %s WHERE id = %s", (status, lease.job_id))
            await self._notify_freed(conn)
            return True

        ok = bool(await self._transaction(run))
        if ok:
            self.notify()  # the serial key is free again
        return ok

    async def _give_back(self, lease: Lease, assignments: str, params: tuple[Any, ...]) -> bool:
        async def run(conn: Conn) -> bool:
            await _serial_lock(conn, lease.job.serial_key)
            if not await self._ours(conn, lease):
                return False
            await self._requeue(conn, lease.job_id, queueing_lock(lease.job), assignments, params)
            await self._notify_freed(conn)
            return True

        ok = bool(await self._transaction(run))
        if ok:
            self.notify()
        return ok

    async def heartbeat(self, lease: Lease, lease_seconds: float) -> bool:
        """Extend the lease; False when it is no longer ours (taken back and leased again, or finished)."""
        now = self._clock()

        async def run(conn: Conn) -> bool:
            cur = await conn.execute(
                "UPDATE archbot_jobs a SET lease_expires = %s, updated_at = %s FROM procrastinate_jobs p"
                " WHERE a.job_id = %s AND a.lease_token = %s AND p.id = a.job_id AND p.status = 'doing'"
                " RETURNING a.job_id",
                (now + lease_seconds, now, lease.job_id, lease.token),
            )
            return await cur.fetchone() is not None

        return bool(await self._transaction(run))

    async def complete(self, lease: Lease, *, superseded: bool = False, note: str | None = None) -> bool:
        """Finish the job as ``done`` (or ``superseded``, recording ``note`` as the reason)."""
        if superseded:
            return await self._finish(lease, "cancelled", _bounded(note or "superseded"))
        return await self._finish(lease, "succeeded", None)

    async def retry(self, lease: Lease, *, delay: float, error: str) -> bool:
        """Queue the job again ``delay`` seconds from now with ``error`` recorded; the attempt counts."""
        now = self._clock()
        return await self._give_back(
            lease,
            "run_after = %s, last_error = %s, lease_owner = NULL, lease_token = NULL, lease_expires = NULL,"
            " updated_at = %s",
            (now + max(delay, 0.0), _bounded(error), now),
        )

    async def fail(self, lease: Lease, *, error: str) -> bool:
        """Fail the job for good with ``error`` as the reason."""
        return await self._finish(lease, "failed", _bounded(error))

    async def release(self, lease: Lease) -> bool:
        """Give the job back, ready now, without counting this attempt."""
        now = self._clock()
        return await self._give_back(
            lease,
            "attempts = GREATEST(attempts - 1, 0), lease_owner = NULL, lease_token = NULL, lease_expires = NULL,"
            " updated_at = %s",
            (now,),
        )

    # -- inspection -------------------------------------------------------------------------------------

    async def _get(self, where: str, value: object) -> JobRecord | None:
        pool = await self._get_pool()
        async with pool.connection() as conn:
            cur = await conn.execute(
                f"SELECT {_RECORD_COLUMNS} FROM archbot_jobs a JOIN procrastinate_jobs p ON p.id = a.job_id"  # noqa: S608
                f" WHERE {where} = %s",
                (value,),
            )
            row = await cur.fetchone()
        return None if row is None else _record(row)

    async def get(self, job_id: int) -> JobRecord | None:
        """The job with this id, if any."""
        return await self._get("a.job_id", job_id)

    async def find(self, idempotency_key: str) -> JobRecord | None:
        """The job with this idempotency key, if any."""
        return await self._get("a.idempotency_key", idempotency_key)

    async def recent(
        self, states: Sequence[JobState], *, kind: JobKind | None = None, limit: int = 20
    ) -> list[JobRecord]:
        """Read-only: up to ``limit`` jobs in ``states`` (of ``kind`` if given), last updated first."""
        wanted = {JobState(s) for s in states}
        statuses = [status for status, state in _STATE.items() if state in wanted]
        if not statuses or limit <= 0:
            return []
        where = "p.queue_name = %s AND p.status::text = ANY(%s)" + (" AND p.args->'job'->>'kind' = %s" if kind else "")
        params: tuple[object, ...] = (QUEUE_NAME, statuses, *((kind.value,) if kind else ()), limit)
        pool = await self._get_pool()
        async with pool.connection() as conn:
            cur = await conn.execute(
                f"SELECT {_RECORD_COLUMNS} FROM archbot_jobs a JOIN procrastinate_jobs p ON p.id = a.job_id"  # noqa: S608
                f" WHERE {where} ORDER BY a.updated_at DESC, a.job_id DESC LIMIT %s",
                params,
            )
            rows = await cur.fetchall()
        return [_record(row) for row in rows]

    async def counts(self) -> dict[str, int]:
        """Jobs by state (every state present, zero when none): the queue depth per state."""
        pool = await self._get_pool()
        counts = {state.value: 0 for state in JobState}
        async with pool.connection() as conn:
            cur = await conn.execute(
                "SELECT status::text, COUNT(*) FROM procrastinate_jobs WHERE queue_name = %s GROUP BY status",
                (QUEUE_NAME,),
            )
            for status, n in await cur.fetchall():
                state = _STATE.get(str(status))
                if state is not None:
                    counts[state.value] += int(n)
        return counts

    async def ping(self) -> bool:
        """True when the database answers within ``ping_timeout`` seconds."""
        if self._closed:
            return False
        try:
            async with asyncio.timeout(self._ping_timeout):
                pool = await self._get_pool()
                async with pool.connection() as conn:
                    cur = await conn.execute("SELECT 1")
                    row = await cur.fetchone()
            return row is not None and row[0] == 1
        except (psycopg.Error, OSError, RuntimeError, TimeoutError, SchemaError):
            return False

    async def prune(self, before: float) -> int:
        """Delete finished jobs and delivery records older than ``before`` (store time)."""

        async def run(conn: Conn) -> int:
            cur = await conn.execute(
                "DELETE FROM procrastinate_jobs p USING archbot_jobs a WHERE a.job_id = p.id"
                " AND p.status IN ('succeeded', 'failed', 'cancelled', 'aborted') AND a.updated_at < %s",
                (before,),
            )
            jobs = cur.rowcount
            cur = await conn.execute("DELETE FROM archbot_deliveries WHERE received_at < %s", (before,))
            return int(jobs) + int(cur.rowcount)

        return int(await self._transaction(run))
