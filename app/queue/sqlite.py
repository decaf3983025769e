"""The embedded job queue: one SQLite file in WAL mode, driven from one dedicated thread.

Every statement runs on a single executor thread that owns one persistent connection, so the event loop
never blocks on SQLite and all writes in this process are serialised (the thread is the single writer).
Writes are short ``BEGIN IMMEDIATE`` transactions; another process on the same file (a second receiver
or a CLI) is handled by SQLite's own locking with a busy timeout. ``synchronous=NORMAL`` in WAL mode
keeps commits off fsync: a power loss may lose the last transactions, never corrupt the file.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from typing import ParamSpec, TypeVar

from app.jobs import Job, JobKind
from app.queue.base import DeliveryOutcome, JobRecord, JobState, Lease
from app.sqlite_store import SQLiteThread, write_transaction

DEFAULT_DATABASE_URL = "sqlite:///./archbot.db"
SCHEMA_VERSION = 1
MAX_ERROR_CHARS = 4000

_SCHEMA = (
    """
    CREATE TABLE IF NOT EXISTS jobs (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        idempotency_key TEXT NOT NULL UNIQUE,
        serial_key TEXT NOT NULL,
        supersedes INTEGER NOT NULL,
        kind TEXT NOT NULL,
        repo TEXT NOT NULL,
        number INTEGER NOT NULL,
        payload TEXT NOT NULL,
        state TEXT NOT NULL
            CHECK (state IN ('queued', 'running', 'done', 'failed', 'superseded')),
        attempts INTEGER NOT NULL DEFAULT 0,
        run_after REAL NOT NULL,
        lease_owner TEXT,
        lease_token TEXT,
        lease_expires REAL,
        last_error TEXT,
        created_at REAL NOT NULL,
        updated_at REAL NOT NULL
    )
    """,
    "CREATE INDEX IF NOT EXISTS jobs_ready ON jobs (state, run_after, id)",
    "CREATE INDEX IF NOT EXISTS jobs_serial ON jobs (serial_key, state)",
    "CREATE INDEX IF NOT EXISTS jobs_state_updated ON jobs (state, updated_at)",  # recent(): the status page
    """
    CREATE TABLE IF NOT EXISTS deliveries (
        delivery_id TEXT PRIMARY KEY,
        received_at REAL NOT NULL,
        jobs INTEGER NOT NULL
    )
    """,
    "CREATE INDEX IF NOT EXISTS deliveries_received ON deliveries (received_at)",
)

_JOB_COLUMNS = "id, payload, state, attempts, run_after, lease_owner, lease_expires, last_error, created_at, updated_at"

_P = ParamSpec("_P")
_T = TypeVar("_T")


class StoreBusyError(sqlite3.OperationalError):
    """The store could not take a delivery within the intake deadline (nothing was recorded)."""


def sqlite_path_from_url(url: str) -> str:
    """``sqlite:///relative/path`` -> ``relative/path``; ``sqlite:////abs/path`` -> ``/abs/path``;
    ``sqlite:///:memory:`` -> ``:memory:``. Anything else is a ``ValueError``."""
    prefix = "sqlite:///"
    if not url.startswith(prefix):
        scheme = url.split(":", 1)[0] if ":" in url else "?"
        raise ValueError(f"not a sqlite URL (scheme {scheme!r}; expected {prefix}<path>)")
    path = url[len(prefix) :].split("?", 1)[0]
    if not path:
        raise ValueError(f"sqlite URL without a path: {url!r}")
    return path


def _bounded(error: str) -> str:
    """Bound what we store as a reason."""
    return error if len(error) <= MAX_ERROR_CHARS else error[: MAX_ERROR_CHARS - 1] + "…"


def _record(row: sqlite3.Row) -> JobRecord:
    return JobRecord(
        job_id=int(row["id"]),
        job=Job.model_validate_json(row["payload"]),
        state=JobState(row["state"]),
        attempts=int(row["attempts"]),
        run_after=float(row["run_after"]),
        lease_owner=row["lease_owner"],
        lease_expires=None if row["lease_expires"] is None else float(row["lease_expires"]),
        last_error=row["last_error"],
        created_at=float(row["created_at"]),
        updated_at=float(row["updated_at"]),
    )


class SQLiteJobQueue:
    """``JobQueue`` on a SQLite file. Construction does no I/O; the file is opened (and the schema created)
    by ``open()`` or the first call. ``clock`` gives store time (seconds) and is injectable for tests."""

    def __init__(
        self,
        url: str = DEFAULT_DATABASE_URL,
        *,
        clock: Callable[[], float] = time.time,
        busy_timeout: float = 5.0,
        ping_timeout: float = 2.0,
        intake_timeout: float = 0.75,
    ) -> None:
        self.url = url
        self._clock = clock
        self._ping_timeout = ping_timeout
        self._busy_timeout = busy_timeout
        self._intake_timeout = intake_timeout
        self._store = SQLiteThread(
            sqlite_path_from_url(url),
            what="job queue",
            thread_name="archbot-sqlite",
            schema=_SCHEMA,
            busy_timeout=busy_timeout,
            user_version=SCHEMA_VERSION,
            row_factory=sqlite3.Row,
        )
        self._listeners: list[Callable[[], None]] = []
        self._listeners_lock = threading.Lock()

    # -- plumbing -------------------------------------------------------------------------------------

    async def _call(self, fn: Callable[_P, _T], /, *args: _P.args, **kwargs: _P.kwargs) -> _T:
        """Run ``fn`` on the store thread without blocking the loop."""
        return await self._store.call(fn, *args, **kwargs)

    def _db(self) -> sqlite3.Connection:
        return self._store.connection()

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

    async def open(self) -> None:
        """Open the file and create the schema now (fail fast at start-up)."""
        await self._store.open()

    async def close(self) -> None:
        """Close the connection and stop the store thread. Idempotent."""
        await self._store.close()

    # -- enqueue ----------------------------------------------------------------------------------------

    @staticmethod
    def _insert(conn: sqlite3.Connection, job: Job, now: float) -> tuple[int | None, int]:
        """Insert ``job`` unless its key exists; returns (new id or None, number of jobs superseded)."""
        cur = conn.execute(
            "INSERT INTO jobs (idempotency_key, serial_key, supersedes, kind, repo, number, payload, state,"
            " attempts, run_after, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, 'queued', 0, ?, ?, ?)"
            " ON CONFLICT (idempotency_key) DO NOTHING",
            (
                job.idempotency_key,
                job.serial_key,
                int(job.supersedes),
                str(job.kind),
                job.repo,
                job.number,
                job.model_dump_json(),
                now,
                now,
                now,
            ),
        )
        if cur.rowcount != 1 or cur.lastrowid is None:
            return None, 0
        job_id = int(cur.lastrowid)
        superseded = 0
        if job.supersedes:
            cur = conn.execute(
                "UPDATE jobs SET state = 'superseded', last_error = ?, updated_at = ?"
                " WHERE serial_key = ? AND state = 'queued' AND supersedes = 1 AND id <> ?",
                (f"superseded by job {job_id}", now, job.serial_key, job_id),
            )
            superseded = cur.rowcount
        return job_id, superseded

    def _enqueue_sync(self, job: Job, now: float) -> bool:
        conn = self._db()
        with write_transaction(conn):
            job_id, _ = self._insert(conn, job, now)
        return job_id is not None

    async def enqueue(self, job: Job) -> bool:
        """Store ``job``; False when its idempotency key already exists (then nothing changes)."""
        added = await self._call(self._enqueue_sync, job, self._clock())
        if added:
            self.notify()
        return added

    def _accept_sync(self, delivery_id: str, jobs: Sequence[Job], now: float, deadline: float) -> DeliveryOutcome:
        conn = self._db()
        # The receiver must answer fast (503 when the store is stuck, so GitHub can redeliver): wait for the
        # write lock only until the intake deadline, and start nothing once it has passed (the call may have
        # queued behind a slow statement on this thread). Either the whole delivery is recorded or nothing.
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise StoreBusyError("the store thread was busy past the intake deadline")
        conn.execute(f"PRAGMA busy_timeout = {max(1, int(remaining * 1000)):d}")
        try:
            with write_transaction(conn):
                return self._accept_in(conn, delivery_id, jobs, now)
        finally:
            conn.execute(f"PRAGMA busy_timeout = {int(self._busy_timeout * 1000):d}")

    def _accept_in(
        self, conn: sqlite3.Connection, delivery_id: str, jobs: Sequence[Job], now: float
    ) -> DeliveryOutcome:
        cur = conn.execute(
            "INSERT INTO deliveries (delivery_id, received_at, jobs) VALUES (?, ?, ?)"
            " ON CONFLICT (delivery_id) DO NOTHING",
            (delivery_id, now, len(jobs)),
        )
        if cur.rowcount != 1:
            return DeliveryOutcome(accepted=False)
        ids: list[int] = []
        skipped = superseded = 0
        for job in jobs:
            job_id, gone = self._insert(conn, job, now)
            if job_id is None:
                skipped += 1
            else:
                ids.append(job_id)
                superseded += gone
        return DeliveryOutcome(accepted=True, job_ids=tuple(ids), skipped=skipped, superseded=superseded)

    async def accept_delivery(self, delivery_id: str, jobs: Sequence[Job]) -> DeliveryOutcome:
        """Record ``delivery_id`` and enqueue ``jobs`` atomically; a seen id is a duplicate (no change)."""
        if not delivery_id:
            raise ValueError("empty delivery id")
        deadline = time.monotonic() + self._intake_timeout
        outcome = await self._call(self._accept_sync, delivery_id, tuple(jobs), self._clock(), deadline)
        if outcome.job_ids:
            self.notify()
        return outcome

    # -- leasing ----------------------------------------------------------------------------------------

    def _lease_sync(self, worker_id: str, lease_seconds: float, limit: int, now: float) -> list[Lease]:
        conn = self._db()
        with write_transaction(conn):
            # Take back leases whose worker died (or stalled): the job is ready again, the attempt counted.
            conn.execute(
                "UPDATE jobs SET state = 'queued', lease_owner = NULL, lease_token = NULL,"
                " lease_expires = NULL, last_error = 'lease expired: worker ' || COALESCE(lease_owner, '?') || ' lost',"
                " updated_at = ?"
                " WHERE state = 'running' AND lease_expires <= ?",
                (now, now),
            )
            cur = conn.execute(
                "SELECT id, serial_key, payload, attempts FROM jobs AS j"
                " WHERE state = 'queued' AND run_after <= ?"
                " AND NOT EXISTS (SELECT 1 FROM jobs AS r"
                "                 WHERE r.serial_key = j.serial_key AND r.state = 'running')"
                " ORDER BY run_after, id",
                (now,),
            )
            picked: list[sqlite3.Row] = []
            keys: set[str] = set()
            for row in cur:
                if row["serial_key"] in keys:
                    continue
                keys.add(row["serial_key"])
                picked.append(row)
                if len(picked) >= limit:
                    break
            cur.close()
            expires = now + lease_seconds
            leases: list[Lease] = []
            for row in picked:
                token = uuid.uuid4().hex
                conn.execute(
                    "UPDATE jobs SET state = 'running', attempts = attempts + 1, lease_owner = ?,"
                    " lease_token = ?, lease_expires = ?, updated_at = ? WHERE id = ?",
                    (worker_id, token, expires, now, row["id"]),
                )
                leases.append(
                    Lease(
                        job_id=int(row["id"]),
                        job=Job.model_validate_json(row["payload"]),
                        attempts=int(row["attempts"]) + 1,
                        token=token,
                        worker_id=worker_id,
                        expires_at=expires,
                    )
                )
        return leases

    async def lease(self, worker_id: str, lease_seconds: float, *, limit: int = 1) -> list[Lease]:
        """Lease up to ``limit`` ready jobs, oldest first, never two of one serial key at a time."""
        if limit < 1:
            return []
        if lease_seconds <= 0:
            raise ValueError("lease_seconds must be positive")
        return await self._call(self._lease_sync, worker_id, lease_seconds, limit, self._clock())

    def _transition_sync(self, lease: Lease, assignments: str, params: tuple[object, ...]) -> bool:
        conn = self._db()
        with write_transaction(conn):
            cur = conn.execute(
                f"UPDATE jobs SET {assignments} WHERE id = ? AND state = 'running' AND lease_token = ?",  # noqa: S608 - assignments are constants of this module
                (*params, lease.job_id, lease.token),
            )
        return cur.rowcount == 1

    async def heartbeat(self, lease: Lease, lease_seconds: float) -> bool:
        """Extend the lease; False when it is no longer ours (taken back and leased again, or finished)."""
        now = self._clock()
        return await self._call(
            self._transition_sync,
            lease,
            "lease_expires = ?, updated_at = ?",
            (now + lease_seconds, now),
        )

    _FINISH = "lease_owner = NULL, lease_token = NULL, lease_expires = NULL, updated_at = ?"

    async def complete(self, lease: Lease, *, superseded: bool = False, note: str | None = None) -> bool:
        """Finish the job as ``done`` (or ``superseded``, recording ``note`` as the reason)."""
        now = self._clock()
        if superseded:
            reason = _bounded(note or "superseded")
            ok = await self._call(
                self._transition_sync, lease, f"state = 'superseded', last_error = ?, {self._FINISH}", (reason, now)
            )
        else:
            ok = await self._call(self._transition_sync, lease, f"state = 'done', {self._FINISH}", (now,))
        if ok:
            self.notify()  # the serial key is free again
        return ok

    async def retry(self, lease: Lease, *, delay: float, error: str) -> bool:
        """Queue the job again ``delay`` seconds from now with ``error`` recorded; the attempt counts."""
        now = self._clock()
        ok = await self._call(
            self._transition_sync,
            lease,
            f"state = 'queued', run_after = ?, last_error = ?, {self._FINISH}",
            (now + max(delay, 0.0), _bounded(error), now),
        )
        if ok:
            self.notify()
        return ok

    async def fail(self, lease: Lease, *, error: str) -> bool:
        """Fail the job for good with ``error`` as the reason."""
        now = self._clock()
        ok = await self._call(
            self._transition_sync, lease, f"state = 'failed', last_error = ?, {self._FINISH}", (_bounded(error), now)
        )
        if ok:
            self.notify()
        return ok

    async def release(self, lease: Lease) -> bool:
        """Give the job back, ready now, without counting this attempt."""
        now = self._clock()
        ok = await self._call(
            self._transition_sync,
            lease,
            f"state = 'queued', attempts = MAX(attempts - 1, 0), {self._FINISH}",
            (now,),
        )
        if ok:
            self.notify()
        return ok

    def _reclaim_sync(self, is_dead: Callable[[str], bool], now: float) -> list[tuple[int, str]]:
        conn = self._db()
        with write_transaction(conn):
            rows = conn.execute(
                "SELECT id, lease_owner FROM jobs WHERE state = 'running' AND lease_owner IS NOT NULL"
            ).fetchall()
            gone = [(int(row["id"]), str(row["lease_owner"])) for row in rows if is_dead(str(row["lease_owner"]))]
            for job_id, owner in gone:
                conn.execute(
                    "UPDATE jobs SET state = 'queued', run_after = ?, lease_owner = NULL, lease_token = NULL,"
                    " lease_expires = NULL, last_error = ?, updated_at = ? WHERE id = ? AND state = 'running'",
                    (now, _bounded(f"lease holder {owner} is gone (process ended); taken back"), now, job_id),
                )
        return gone

    async def reclaim_dead_leases(self, is_dead: Callable[[str], bool]) -> list[tuple[int, str]]:
        """Queue again, ready now, the running jobs whose lease holder ``is_dead`` says has died (the attempt
        stays counted, as when a lease runs out); returns (job id, holder) of each. The embedded store
        calls this at start-up and then periodically, so a crashed process's jobs resume within seconds,
        not after their lease."""
        gone = await self._call(self._reclaim_sync, is_dead, self._clock())
        if gone:
            self.notify()
        return gone

    # -- inspection -------------------------------------------------------------------------------------

    def _get_sync(self, column: str, value: object) -> JobRecord | None:
        row = (
            self._db()
            .execute(f"SELECT {_JOB_COLUMNS} FROM jobs WHERE {column} = ?", (value,))  # noqa: S608 - constant names
            .fetchone()
        )
        return None if row is None else _record(row)

    async def get(self, job_id: int) -> JobRecord | None:
        """The job with this id, if any."""
        return await self._call(self._get_sync, "id", job_id)

    async def find(self, idempotency_key: str) -> JobRecord | None:
        """The job with this idempotency key, if any."""
        return await self._call(self._get_sync, "idempotency_key", idempotency_key)

    def _counts_sync(self) -> dict[str, int]:
        counts = {state.value: 0 for state in JobState}
        for row in self._db().execute("SELECT state, COUNT(*) AS n FROM jobs GROUP BY state"):
            counts[str(row["state"])] = int(row["n"])
        return counts

    async def counts(self) -> dict[str, int]:
        """Jobs by state (every state present, zero when none)."""
        return await self._call(self._counts_sync)

    def _recent_sync(self, states: tuple[str, ...], kind: str | None, limit: int) -> list[JobRecord]:
        marks = ", ".join("?" for _ in states)
        where = f"state IN ({marks})" + (" AND kind = ?" if kind is not None else "")
        params: tuple[object, ...] = (*states, *((kind,) if kind is not None else ()), limit)
        sql = f"SELECT {_JOB_COLUMNS} FROM jobs WHERE {where} ORDER BY updated_at DESC, id DESC LIMIT ?"  # noqa: S608
        return [_record(row) for row in self._db().execute(sql, params)]

    async def recent(
        self, states: Sequence[JobState], *, kind: JobKind | None = None, limit: int = 20
    ) -> list[JobRecord]:
        """Read-only: up to ``limit`` jobs in ``states`` (of ``kind`` if given), last updated first."""
        if not states or limit <= 0:
            return []
        return await self._call(
            self._recent_sync, tuple(JobState(s).value for s in states), None if kind is None else kind.value, limit
        )

    def _ping_sync(self) -> bool:
        return bool(self._db().execute("SELECT 1").fetchone()[0] == 1)

    async def ping(self) -> bool:
        """True when the store answers within ``ping_timeout`` seconds."""
        try:
            async with asyncio.timeout(self._ping_timeout):
                return await self._call(self._ping_sync)
        except (sqlite3.Error, OSError, RuntimeError, TimeoutError):
            return False

    def _prune_sync(self, before: float) -> int:
        conn = self._db()
        with write_transaction(conn):
            jobs = conn.execute(
                "DELETE FROM jobs WHERE state IN ('done', 'failed', 'superseded') AND updated_at < ?", (before,)
            ).rowcount
            deliveries = conn.execute("DELETE FROM deliveries WHERE received_at < ?", (before,)).rowcount
        return int(jobs) + int(deliveries)

    async def prune(self, before: float) -> int:
        """Delete finished jobs and delivery records older than ``before`` (store time). Their idempotency
        keys and delivery ids can then be enqueued again, so keep well beyond GitHub's redelivery window."""
        return await self._call(self._prune_sync, before)
