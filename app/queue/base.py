"""The ``JobQueue`` contract every store backend implements, its small value types and the job errors.

The contract (see ``tests/test_queue_contract.py``, which every backend must pass):

- ``enqueue`` is idempotent on ``Job.idempotency_key``; ``accept_delivery`` records a webhook delivery id
  and enqueues its jobs in one transaction, so a redelivery enqueues nothing.
- A newer job with ``Job.supersedes`` marks *queued* superseding jobs of the same ``serial_key`` as
  ``superseded``; running jobs are never touched.
- ``lease`` hands out ready jobs (``run_after`` reached), at most one running job per ``serial_key``; a
  lease that expired (its worker died) is taken back and the job can be leased again.
- Every transition of a leased job (``heartbeat``, ``complete``, ``retry``, ``fail``, ``release``) names
  the ``Lease`` it holds and does nothing (returns ``False``) once that lease is no longer current.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol, runtime_checkable

from app.jobs import Job, JobKind


class JobState(StrEnum):
    """Where a job is in its life."""

    QUEUED = "queued"  # waiting (possibly until run_after, after a transient failure)
    RUNNING = "running"  # leased by a worker
    DONE = "done"  # finished
    FAILED = "failed"  # permanent failure or out of attempts; last_error says why
    SUPERSEDED = "superseded"  # replaced by a newer job for the same PR before it ran


class TransientJobError(Exception):
    """A failure worth retrying (rate limit, timeout, 5xx). ``retry_after`` (seconds) overrides the backoff
    when the remote side said how long to wait."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class PermanentJobError(Exception):
    """A failure that no retry can fix (bad input, missing permission): the job fails at once."""


class JobSupersededError(Exception):
    """Raised by a job runner that finds its work stale (e.g. the PR head moved on): the job ends as
    ``superseded`` instead of ``done``."""


@dataclass(frozen=True, slots=True)
class Lease:
    """A job handed to one worker until ``expires_at`` (store clock); ``token`` identifies this lease."""

    job_id: int
    job: Job
    attempts: int  # including this one
    token: str
    worker_id: str
    expires_at: float


@dataclass(frozen=True, slots=True)
class JobRecord:
    """A stored job as the store sees it (inspection, tests, the CLI)."""

    job_id: int
    job: Job
    state: JobState
    attempts: int
    run_after: float
    lease_owner: str | None
    lease_expires: float | None
    last_error: str | None
    created_at: float
    updated_at: float


@dataclass(frozen=True, slots=True)
class DeliveryOutcome:
    """What ``accept_delivery`` did. ``accepted`` is False for a redelivery (then nothing was enqueued)."""

    accepted: bool
    job_ids: tuple[int, ...] = ()  # jobs newly enqueued
    skipped: int = 0  # jobs whose idempotency key already existed
    superseded: int = 0  # queued jobs marked superseded by the new ones

    @property
    def duplicate(self) -> bool:
        """A delivery id seen before: acknowledged, nothing done."""
        return not self.accepted


@runtime_checkable
class JobQueue(Protocol):
    """A durable job queue. All methods are safe to call from the event loop (they never block it)."""

    async def enqueue(self, job: Job) -> bool:
        """Store ``job`` as queued; False (and no change) when its idempotency key already exists."""
        ...

    async def accept_delivery(self, delivery_id: str, jobs: Sequence[Job]) -> DeliveryOutcome:
        """In one transaction: record the delivery id and enqueue ``jobs``; a seen id changes nothing."""
        ...

    async def lease(self, worker_id: str, lease_seconds: float, *, limit: int = 1) -> list[Lease]:
        """Take up to ``limit`` ready jobs (oldest first, one per serial key) for ``lease_seconds``."""
        ...

    async def heartbeat(self, lease: Lease, lease_seconds: float) -> bool:
        """Extend the lease to now + ``lease_seconds``; False when the lease is no longer ours."""
        ...

    async def complete(self, lease: Lease, *, superseded: bool = False, note: str | None = None) -> bool:
        """Finish the job as ``done`` (or ``superseded``); False when the lease is no longer ours."""
        ...

    async def retry(self, lease: Lease, *, delay: float, error: str) -> bool:
        """Queue the job again after ``delay`` seconds, recording ``error``; the attempt counts."""
        ...

    async def fail(self, lease: Lease, *, error: str) -> bool:
        """Fail the job for good with the reason ``error``."""
        ...

    async def release(self, lease: Lease) -> bool:
        """Give the job back (queued, ready now) without counting the attempt (graceful shutdown)."""
        ...

    async def get(self, job_id: int) -> JobRecord | None:
        """The stored job with this id, if any."""
        ...

    async def find(self, idempotency_key: str) -> JobRecord | None:
        """The stored job with this idempotency key, if any."""
        ...

    async def counts(self) -> dict[str, int]:
        """Number of jobs by state; every ``JobState`` value is present."""
        ...

    async def recent(
        self, states: Sequence[JobState], *, kind: JobKind | None = None, limit: int = 20
    ) -> list[JobRecord]:
        """Read-only (the status page): up to ``limit`` jobs in ``states`` (of ``kind`` if given), newest first."""
        ...

    async def ping(self) -> bool:
        """True when the store answers (readiness)."""
        ...

    async def prune(self, before: float) -> int:
        """Delete finished jobs and delivery records last touched before ``before``; returns rows deleted."""
        ...

    def subscribe(self, callback: Callable[[], None]) -> Callable[[], None]:
        """Call ``callback`` (from the notifying thread) whenever work may have become ready in this
        process; returns a function that unsubscribes. Callbacks must be quick and must not raise."""
        ...

    def notify(self) -> None:
        """Wake the subscribers (called by the queue itself after enqueue, release and finish)."""
        ...

    async def close(self) -> None:
        """Release the store's resources; the queue is unusable afterwards."""
        ...
