"""The worker: leases jobs from the queue and runs them with heartbeats, retries and a graceful stop.

One ``Worker`` runs up to ``concurrency`` jobs at a time (the queue never hands out two jobs of one PR at
once). A job's outcome decides what happens to it:

- returns normally: ``done``;
- raises ``JobSupersededError``: ``superseded`` (its work went stale);
- raises ``PermanentJobError``: ``failed`` at once, with the reason;
- raises ``TransientJobError`` or anything else: retried after an exponential backoff with full jitter
  (or the error's ``retry_after``), until ``max_attempts``; then ``failed`` with the last reason.

A lease is extended while its job runs. If the lease is lost (the worker stalled past it and someone else
took the job), the job is cancelled here and left to its new owner. On stop, the worker leases nothing
new, waits up to ``shutdown_grace`` for running jobs, cancels the rest and releases their leases (queued
again, the attempt not counted). Logs carry job id, kind, repo and number (and, through contextvars,
every line inside a job carries delivery, installation, repo, number and job id); never payloads.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

import structlog
from structlog.typing import FilteringBoundLogger

from app.jobs import Job
from app.queue import owner
from app.queue.base import JobQueue, JobSupersededError, Lease, PermanentJobError, TransientJobError

if TYPE_CHECKING:
    from app.metrics import Metrics
    from app.tracing import Attributes

__all__ = (
    "JobSupersededError",
    "PermanentJobError",
    "TransientJobError",
    "Worker",
    "full_jitter_backoff",
)

MAX_REASON_CHARS = 1000


def full_jitter_backoff(attempt: int, *, base: float, cap: float, rng: random.Random) -> float:
    """Delay before retry number ``attempt`` (1 = after the first failure): uniform in
    ``[0, min(cap, base * 2 ** (attempt - 1))]`` ("full jitter", which spreads retries of many jobs)."""
    exponent = min(max(attempt - 1, 0), 60)
    return rng.uniform(0.0, min(cap, base * float(2**exponent)))


def _reason(exc: BaseException) -> str:
    """A bounded one-line reason for the store and the logs."""
    text = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    text = " ".join(text.split())
    return text if len(text) <= MAX_REASON_CHARS else text[: MAX_REASON_CHARS - 1] + "…"


def _default_worker_id() -> str:
    return owner.worker_id(owner.current())  # names this process so a restart can see it died


class Worker:
    """Runs queued jobs with ``run_job``. Use ``run(stop)`` for the long-running loop, ``drain()`` (or
    ``run_once()``) to run what is ready now and return (tests, the CLI)."""

    def __init__(
        self,
        queue: JobQueue,
        run_job: Callable[[Job], Awaitable[None]],
        *,
        concurrency: int = 2,
        lease_seconds: float = 300,
        poll_interval: float = 0.5,
        max_attempts: int = 5,
        base_backoff: float = 2.0,
        max_backoff: float = 300,
        shutdown_grace: float = 30,
        heartbeat_interval: float | None = None,
        cancel_grace: float = 5.0,
        worker_id: str | None = None,
        logger: FilteringBoundLogger | None = None,
        rng: random.Random | None = None,
        on_give_up: Callable[[Job, str], Awaitable[None]] | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if lease_seconds <= 0 or poll_interval <= 0:
            raise ValueError("lease_seconds and poll_interval must be positive")
        self._queue = queue
        self._run_job = run_job
        self._on_give_up = on_give_up  # tells the user (check run, summary) when a job fails for good
        self._metrics = metrics  # jobs running, attempts by outcome, durations (None: not measured)
        self._concurrency = concurrency
        self._lease_seconds = lease_seconds
        self._poll_interval = poll_interval
        self._max_attempts = max_attempts
        self._base_backoff = base_backoff
        self._max_backoff = max_backoff
        self._shutdown_grace = shutdown_grace
        self._heartbeat_interval = heartbeat_interval if heartbeat_interval is not None else lease_seconds / 3
        self._cancel_grace = cancel_grace
        self.worker_id = worker_id or _default_worker_id()
        self._rng = rng if rng is not None else random.SystemRandom()
        base_logger: FilteringBoundLogger = logger if logger is not None else structlog.get_logger()
        self._log = base_logger.bind(worker_id=self.worker_id)
        self._tasks: dict[asyncio.Task[None], Lease] = {}  # running jobs, kept referenced until done
        self._lost: set[str] = set()  # tokens of leases taken away from us while running
        self._wake: asyncio.Event | None = None

    @property
    def running(self) -> int:
        """Jobs running now."""
        return len(self._tasks)

    # -- the loop -------------------------------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        """Lease and run jobs until ``stop`` is set, then stop gracefully (see the module docstring).
        If this task is cancelled instead, running jobs are cancelled and released at once."""
        loop = asyncio.get_running_loop()
        wake = asyncio.Event()
        self._wake = wake

        def on_work() -> None:  # called by the queue, possibly from another thread
            with contextlib.suppress(RuntimeError):  # the loop is already closed
                loop.call_soon_threadsafe(wake.set)

        unsubscribe = self._queue.subscribe(on_work)
        stop_waiter = asyncio.create_task(stop.wait(), name=f"archbot-worker-stop-{self.worker_id}")
        stop_waiter.add_done_callback(lambda _: wake.set())
        self._log.info("worker.started", concurrency=self._concurrency)
        grace = self._shutdown_grace
        try:
            while not stop.is_set():
                wake.clear()  # before leasing, so a notification during the lease is not lost
                healthy = await self._fill()
                if stop.is_set():
                    break
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self._poll_interval):
                        # After a store error, wait the whole interval (unless stopped), not for wake-ups.
                        await (wake.wait() if healthy else stop.wait())
        except asyncio.CancelledError:
            grace = 0.0
            raise
        finally:
            unsubscribe()
            stop_waiter.cancel()
            await asyncio.gather(stop_waiter, return_exceptions=True)
            await self._shutdown(grace)
            self._wake = None
            self._log.info("worker.stopped")

    async def _fill(self) -> bool:
        """Lease as many jobs as there are free slots and start them; False when the store failed."""
        free = self._concurrency - len(self._tasks)
        if free <= 0:
            return True
        log = self._log
        try:
            leases = await self._queue.lease(self.worker_id, self._lease_seconds, limit=free)
        except Exception:
            log.error("worker.lease_failed", exc_info=True)  # the store is down: try again at the next poll
            return False
        for lease in leases:
            self._start(lease)
        return True

    def _start(self, lease: Lease) -> asyncio.Task[None]:
        task = asyncio.create_task(self._process(lease), name=f"archbot-job-{lease.job_id}")
        self._tasks[task] = lease
        task.add_done_callback(self._on_done)
        return task

    def _on_done(self, task: asyncio.Task[None]) -> None:
        lease = self._tasks.pop(task, None)
        if lease is not None:
            self._lost.discard(lease.token)
        if not task.cancelled() and (exc := task.exception()) is not None:
            self._log.error("job.record_failed", job_id=None if lease is None else lease.job_id, error=_reason(exc))
        if self._wake is not None:
            self._wake.set()  # a slot (and maybe a serial key) is free again

    async def _shutdown(self, grace: float) -> None:
        """Wait up to ``grace`` for running jobs; cancel the rest and release their leases."""
        if not self._tasks:
            return
        tasks = dict(self._tasks)
        log = self._log
        log.info("worker.stopping", running=len(tasks), grace=grace)
        _, pending = await asyncio.wait(tasks, timeout=max(grace, 0.0))
        if not pending:
            return
        for task in pending:
            task.cancel()
        _, stuck = await asyncio.wait(pending, timeout=self._cancel_grace)
        for task in pending:
            lease = tasks[task]
            if lease.token in self._lost:
                continue
            try:
                released = await self._queue.release(lease)
            except Exception:
                log.error("job.release_failed", job_id=lease.job_id, exc_info=True)
                continue
            log.info(
                "job.released",
                job_id=lease.job_id,
                kind=str(lease.job.kind),
                repo=lease.job.repo,
                number=lease.job.number,
                released=released,
            )
        if stuck:
            log.error("worker.jobs_ignored_cancel", job_ids=sorted(tasks[t].job_id for t in stuck))

    # -- helpers for tests and the CLI ------------------------------------------------------------------

    async def run_once(self) -> int:
        """Lease one batch of ready jobs (up to ``concurrency``) and run it to the end; returns its size."""
        leases = await self._queue.lease(self.worker_id, self._lease_seconds, limit=self._concurrency)
        tasks = [self._start(lease) for lease in leases]
        if tasks:
            try:
                await asyncio.wait(tasks)
            except asyncio.CancelledError:
                await self._shutdown(0.0)
                raise
        return len(tasks)

    async def drain(self, *, max_jobs: int | None = None) -> int:
        """Run batches until no job is ready (or ``max_jobs`` were leased); returns the number run."""
        total = 0
        while max_jobs is None or total < max_jobs:
            ran = await self.run_once()
            if ran == 0:
                break
            total += ran
        return total

    # -- one job ----------------------------------------------------------------------------------------

    async def _process(self, lease: Lease) -> None:
        """Run one leased job with its identity bound to every log line it causes (contextvars: this task only)."""
        job = lease.job
        structlog.contextvars.bind_contextvars(
            delivery_id=job.delivery_id,
            installation_id=job.installation_id,
            repo=job.repo,
            number=job.number,
            job_id=lease.job_id,
        )
        kind = str(job.kind)
        metrics = self._metrics
        if metrics is None:
            await self._process_job(lease)
            return
        running = metrics.jobs_running.labels(kind=kind)
        running.inc()
        started = asyncio.get_running_loop().time()
        outcome = "cancelled"
        attributes: Attributes = {
            "archbot.job_id": lease.job_id,
            "archbot.job_kind": kind,
            "archbot.attempt": lease.attempts,
            "github.delivery_id": job.delivery_id,
            "github.installation_id": job.installation_id,
            "github.repository": job.repo,
            "github.number": job.number,
        }
        with metrics.tracer.span(f"job {kind}", attributes, parent=job.trace) as span:
            try:
                outcome = await self._process_job(lease)
            finally:
                running.dec()
                metrics.job_duration.labels(kind=kind).observe(asyncio.get_running_loop().time() - started)
                metrics.job_outcomes.labels(kind=kind, outcome=outcome).inc()
                span.set(**{"archbot.outcome": outcome})

    async def _process_job(self, lease: Lease) -> str:
        """The attempt's outcome: done, superseded, retried, failed or abandoned (cancelled raises)."""
        job = lease.job
        log = self._log.bind(
            job_id=lease.job_id, kind=str(job.kind), repo=job.repo, number=job.number, attempt=lease.attempts
        )
        if lease.attempts > self._max_attempts:
            # Only reachable when earlier attempts lost their lease (the worker died or stalled).
            reason = f"gave up after {lease.attempts - 1} attempts; the last one lost its lease"
            await self._queue.fail(lease, error=reason)
            log.error("job.failed", error=reason)
            await self._give_up(job, reason, log)
            return "failed"
        current = asyncio.current_task()
        if current is None:  # pragma: no cover - always inside a task
            raise RuntimeError("_process must run in a task")
        heartbeat = asyncio.create_task(self._keep_alive(lease, current, log), name=f"archbot-heartbeat-{lease.job_id}")
        log.info("job.started")
        started = asyncio.get_running_loop().time()
        try:
            try:
                await self._run_job(job)
            finally:
                heartbeat.cancel()
                await asyncio.gather(heartbeat, return_exceptions=True)
            if current.cancelling():
                raise asyncio.CancelledError  # the job swallowed our cancellation: still a cancellation
        except asyncio.CancelledError:
            if lease.token in self._lost:
                current.uncancel()  # we cancelled it ourselves: the job belongs to someone else now
                log.warning("job.abandoned", reason="lease lost")
                return "abandoned"
            log.info("job.cancelled")
            raise
        except JobSupersededError as exc:
            await self._queue.complete(lease, superseded=True, note=_reason(exc))
            log.info("job.superseded", reason=_reason(exc))
            return "superseded"
        except PermanentJobError as exc:
            await self._queue.fail(lease, error=_reason(exc))
            log.error("job.failed", error=_reason(exc), permanent=True)
            await self._give_up(job, _reason(exc), log)
            return "failed"
        except TransientJobError as exc:
            return await self._retry_or_fail(lease, exc, log)
        except Exception as exc:
            log.warning("job.crashed", exc_info=True)
            return await self._retry_or_fail(lease, exc, log)
        await self._queue.complete(lease)
        log.info("job.done", seconds=round(asyncio.get_running_loop().time() - started, 3))
        return "done"

    async def _retry_or_fail(self, lease: Lease, exc: Exception, log: FilteringBoundLogger) -> str:
        reason = _reason(exc)
        if lease.attempts >= self._max_attempts:
            final = f"{reason} (gave up after {lease.attempts} attempts)"
            await self._queue.fail(lease, error=final)
            log.error("job.failed", error=reason, attempts=lease.attempts)
            await self._give_up(lease.job, final, log)
            return "failed"
        delay = full_jitter_backoff(lease.attempts, base=self._base_backoff, cap=self._max_backoff, rng=self._rng)
        if isinstance(exc, TransientJobError) and exc.retry_after is not None:
            delay = max(exc.retry_after, 0.0) + self._rng.uniform(0.0, self._base_backoff)
        await self._queue.retry(lease, delay=delay, error=reason)
        log.warning("job.retry", error=reason, delay=round(delay, 3))
        return "retried"

    async def _give_up(self, job: Job, reason: str, log: FilteringBoundLogger) -> None:
        """Best-effort notice of a final failure; its own failure is logged, never raised."""
        if self._on_give_up is None:
            return
        try:
            await self._on_give_up(job, reason)
        except Exception:
            log.warning("job.give_up_notice_failed", exc_info=True)

    async def _keep_alive(self, lease: Lease, job_task: asyncio.Task[None], log: FilteringBoundLogger) -> None:
        """Extend the lease every ``heartbeat_interval``; cancel the job when the lease is gone."""
        while True:
            await asyncio.sleep(self._heartbeat_interval)
            try:
                ours = await self._queue.heartbeat(lease, self._lease_seconds)
            except Exception:
                log.warning("job.heartbeat_failed", exc_info=True)
                continue
            if not ours:
                log.warning("job.lease_lost")
                self._lost.add(lease.token)
                job_task.cancel()
                return
