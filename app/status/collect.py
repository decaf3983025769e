"""Read what the status page shows from the store, the usage ledger and the metrics (read-only I/O)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import structlog

from app.jobs import JobKind
from app.metrics import Metrics
from app.queue.base import JobRecord, JobState
from app.status.data import (
    INSTALLATION_PREFIX,
    RECENT_REVIEWS,
    PrivateStatus,
    RateRow,
    StatusView,
    job_row,
    ordered_counts,
    spend_rows,
    web_url,
)

STORE_TIMEOUT = 2.0  # seconds; a slow store makes the page say "unhealthy", it does not hang it
LIST_LIMIT = 50
GITHUB_ERRORS = ("server_error", "rate_limited", "transport_error")
GITHUB_OUTCOMES = ("ok", "client_error", *GITHUB_ERRORS)


class StatusQueue(Protocol):
    """The read-only part of the job queue the page needs (both store backends have it)."""

    async def ping(self) -> bool: ...

    async def counts(self) -> dict[str, int]: ...

    async def recent(
        self, states: Sequence[JobState], *, kind: JobKind | None = None, limit: int = 20
    ) -> list[JobRecord]: ...


class SpendLedger(Protocol):
    """The read-only part of the usage ledger the page needs."""

    async def tokens_today_by_scope(self, prefix: str, *, limit: int = 50) -> dict[str, int]: ...


@dataclass(frozen=True)
class StatusSources:
    """Where the page's figures come from; built once by ``archbot serve``."""

    version: str
    queue: StatusQueue
    metrics: Metrics
    api_url: str
    daily_budget: int
    ledger: SpendLedger | None = None
    secrets: tuple[str, ...] = field(default=(), repr=False)
    clock: Callable[[], float] = time.time


def _sample(metrics: Metrics, name: str, labels: dict[str, str]) -> int:
    value = metrics.registry.get_sample_value(name, labels)
    return int(value or 0)


def rates(metrics: Metrics) -> tuple[RateRow, ...]:
    """Model and GitHub error rates since the process started."""
    model_ok = _sample(metrics, "archbot_model_calls_total", {"outcome": "ok"})
    model_errors = _sample(metrics, "archbot_model_calls_total", {"outcome": "error"})
    github = {o: _sample(metrics, "archbot_github_requests_total", {"outcome": o}) for o in GITHUB_OUTCOMES}
    total = sum(github.values())
    return (
        RateRow("Model calls failed", model_ok + model_errors, model_errors),
        RateRow("GitHub requests failed (5xx, 429, network)", total, sum(github[o] for o in GITHUB_ERRORS)),
        RateRow("GitHub requests refused (4xx)", total, github["client_error"]),
    )


async def _store_ok(queue: StatusQueue) -> bool:
    try:
        async with asyncio.timeout(STORE_TIMEOUT):
            return await queue.ping()
    except Exception:  # unreachable, locked, closed: the page says unhealthy (and it is logged)
        log = structlog.get_logger("archbot.status")
        log.warning("status_store_unreachable", exc_info=True)
        return False


async def public_view(src: StatusSources) -> StatusView:
    """What anyone may see: version and health."""
    store_ok = await _store_ok(src.queue)
    worker_ok = _sample(src.metrics, "archbot_worker_running", {}) == 1
    return StatusView(version=src.version, healthy=store_ok and worker_ok, store_ok=store_ok, worker_ok=worker_ok)


async def private_view(src: StatusSources) -> StatusView:
    """The whole page: health plus queue, jobs, reviews, spend and error rates."""
    view = await public_view(src)
    if not view.store_ok:
        return view
    now = src.clock()
    web = web_url(src.api_url)
    secrets = src.secrets
    async with asyncio.timeout(STORE_TIMEOUT):
        counts = await src.queue.counts()
        running = await src.queue.recent([JobState.RUNNING], limit=LIST_LIMIT)
        queued = await src.queue.recent([JobState.QUEUED], limit=LIST_LIMIT)
        failed = await src.queue.recent([JobState.FAILED], limit=LIST_LIMIT)
        reviews = await src.queue.recent([JobState.DONE], kind=JobKind.REVIEW_PR, limit=RECENT_REVIEWS)
        spent = await src.ledger.tokens_today_by_scope(INSTALLATION_PREFIX) if src.ledger is not None else {}
    retrying = [r for r in queued if r.last_error or r.run_after > now]
    private = PrivateStatus(
        counts=ordered_counts(counts),
        running=tuple(job_row(r, web=web, now=now, secrets=secrets) for r in running),
        retrying=tuple(job_row(r, web=web, now=now, secrets=secrets) for r in retrying),
        failed=tuple(job_row(r, web=web, now=now, secrets=secrets) for r in failed),
        reviews=tuple(job_row(r, web=web, now=now, secrets=secrets) for r in reviews),
        spend=spend_rows(spent, src.daily_budget),
        rates=rates(src.metrics),
    )
    return StatusView(
        version=view.version, healthy=view.healthy, store_ok=view.store_ok, worker_ok=view.worker_ok, private=private
    )
