"""The status page's content, assembled from plain values (pure: no I/O, no clock of its own).

Only what is safe to show gets here: job ids, kinds, repositories, numbers, states, attempts, times,
and failure reasons cut to their first line, stripped of secrets (patterns and the configured values)
and truncated. Job payloads, diffs, prompts and comment bodies are never read.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from app.jobs import JobKind
from app.queue.base import JobRecord, JobState
from app.review.sanitize import redact_secrets

MAX_REASON_CHARS = 200
RECENT_REVIEWS = 20
INSTALLATION_PREFIX = "inst:"
_REPO = re.compile(r"[A-Za-z0-9_.-]{1,100}/[A-Za-z0-9_.-]{1,100}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")


@dataclass(frozen=True)
class JobRow:
    """One job as the page shows it."""

    job_id: int
    kind: str
    repo: str
    number: int
    link: str | None
    state: str
    attempts: int
    reason: str
    retry_at: str  # "" when not waiting for a retry
    updated: str


@dataclass(frozen=True)
class SpendRow:
    """An installation's model tokens today against its daily budget."""

    installation: str
    tokens: int
    budget: int
    percent: int  # of the budget, rounded down; 100+ means over


@dataclass(frozen=True)
class RateRow:
    """Calls and failures of one dependency (from the process's metrics since it started)."""

    name: str
    total: int
    errors: int

    @property
    def rate(self) -> str:
        """Errors as a percentage of calls ("-" with no calls)."""
        return "-" if self.total == 0 else f"{100 * self.errors / self.total:.1f}%"


@dataclass(frozen=True)
class PrivateStatus:
    """The part behind the status token."""

    counts: tuple[tuple[str, int], ...]
    running: tuple[JobRow, ...]
    retrying: tuple[JobRow, ...]
    failed: tuple[JobRow, ...]
    reviews: tuple[JobRow, ...]
    spend: tuple[SpendRow, ...]
    rates: tuple[RateRow, ...]


@dataclass(frozen=True)
class StatusView:
    """Everything one page shows; ``private`` is None for a visitor without the token."""

    version: str
    healthy: bool
    store_ok: bool
    worker_ok: bool
    private: PrivateStatus | None = None


def web_url(api_url: str) -> str:
    """GitHub's web address for its API address (api.github.com, GHES ``/api/v3``, or a test server)."""
    parts = urlsplit(api_url.rstrip("/"))
    host = parts.netloc
    if host == "api.github.com":
        host = "github.com"
    path = parts.path.removesuffix("/api/v3")
    return f"{parts.scheme}://{host}{path}"


def pr_link(web: str, repo: str, number: int, kind: str) -> str | None:
    """The pull request's page for a PR review, else the issue's (GitHub redirects a PR's ``/issues/N`` to
    ``/pull/N``, so a command on either lands right); None for a name that is not ``owner/name``."""
    if not _REPO.fullmatch(repo) or ".." in repo or number < 1:
        return None
    section = "pull" if kind == JobKind.REVIEW_PR else "issues"
    return f"{web}/{repo}/{section}/{number}"


def clean_reason(reason: str | None, secrets: Iterable[str] = ()) -> str:
    """A failure reason safe to show: its first line, secrets redacted, control characters dropped, short."""
    if not reason:
        return ""
    text = reason.strip().splitlines()[0] if reason.strip() else ""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "[REDACTED]")
    text = redact_secrets(text)
    text = " ".join(_CONTROL.sub(" ", text).split())
    if len(text) > MAX_REASON_CHARS:
        text = text[: MAX_REASON_CHARS - 1] + "…"
    return text


def when(timestamp: float | None) -> str:
    """A Unix time as ``YYYY-MM-DD HH:MM:SSZ`` (UTC); "" for none."""
    if timestamp is None:
        return ""
    return dt.datetime.fromtimestamp(timestamp, tz=dt.UTC).strftime("%Y-%m-%d %H:%M:%SZ")


def job_row(record: JobRecord, *, web: str, now: float, secrets: Sequence[str]) -> JobRow:
    """One stored job for the page (never its payload)."""
    job = record.job
    waiting = record.state is JobState.QUEUED and record.run_after > now
    return JobRow(
        job_id=record.job_id,
        kind=job.kind.value,
        repo=job.repo if _REPO.fullmatch(job.repo) else "(invalid name)",
        number=job.number,
        link=pr_link(web, job.repo, job.number, job.kind),
        state=record.state.value,
        attempts=record.attempts,
        reason=clean_reason(record.last_error, secrets),
        retry_at=when(record.run_after) if waiting else "",
        updated=when(record.updated_at),
    )


def spend_rows(spent: Mapping[str, int], budget: int) -> tuple[SpendRow, ...]:
    """Today's tokens per installation (ledger scopes ``inst:<id>``), most first."""
    rows = []
    for scope, tokens in spent.items():
        if not scope.startswith(INSTALLATION_PREFIX):
            continue
        installation = scope.removeprefix(INSTALLATION_PREFIX)
        percent = 100 * tokens // budget if budget > 0 else 0
        rows.append(SpendRow(installation=installation, tokens=tokens, budget=budget, percent=percent))
    return tuple(sorted(rows, key=lambda r: (-r.tokens, r.installation)))


def ordered_counts(counts: Mapping[str, int]) -> tuple[tuple[str, int], ...]:
    """Queue depth in the order a job lives through its states."""
    return tuple((state.value, int(counts.get(state.value, 0))) for state in JobState)
