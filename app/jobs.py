"""Job models: the unit of work a webhook (or the Action) hands to the worker, with its idempotency keys."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class JobKind(StrEnum):
    """What a job does; each kind has one runner in the pipeline."""

    REVIEW_PR = "review_pr"  # review a pull request at a head sha
    REVIEW_ISSUE = "review_issue"  # design review of an issue
    COMMAND = "command"  # a /plan, /review, /help ... comment command
    THREAD_REPLY = "thread_reply"  # a question in one of archbot's review threads: answer it


class Job(BaseModel):
    """A unit of work. ``idempotency_key`` makes a second enqueue a no-op; ``serial_key`` serialises
    jobs of one PR/issue; a queued job with the same ``serial_key`` and ``supersedes=True`` is replaced
    by a newer one."""

    model_config = ConfigDict(frozen=True)

    kind: JobKind
    repo: str  # "owner/name"
    number: int  # PR or issue number
    installation_id: int | None = None
    head_sha: str | None = None  # for PR reviews
    delivery_id: str | None = None
    full: bool = False  # a /review command: review everything, not only the new commits
    comment_id: int | None = None  # for commands and thread replies: the comment that asked
    data: dict[str, Any] = Field(default_factory=dict)  # small, kind-specific, already-validated fields
    trace: dict[str, str] = Field(default_factory=dict)  # W3C trace context of the delivery (app.tracing)

    @property
    def serial_key(self) -> str:
        """Jobs with one serial key never run at the same time (one PR or issue at a time)."""
        return f"{self.repo}#{self.number}"

    @property
    def idempotency_key(self) -> str:
        """Two jobs with one key are the same work: the second enqueue does nothing."""
        if self.kind is JobKind.REVIEW_PR:
            mode = "full" if self.full else "incr"
            return f"{self.kind}:{self.repo}#{self.number}@{self.head_sha}:{mode}"
        if self.kind in (JobKind.COMMAND, JobKind.THREAD_REPLY):
            return f"{self.kind}:{self.repo}#{self.number}:comment:{self.comment_id}"
        return f"{self.kind}:{self.repo}#{self.number}:delivery:{self.delivery_id}"

    @property
    def supersedes(self) -> bool:
        """A newer PR review makes a queued older one for the same PR pointless."""
        return self.kind is JobKind.REVIEW_PR
