"""The JSON document of ``archbot review --format json``: the review plus the call plan, with a schema.

The document is :class:`ReviewReport`: every field of :class:`~app.review.models.ReviewResult`, the
call plan (what was, or in a dry run would be, sent to the model: chunks, files per chunk, token
estimates, files not reviewed and why) and a version. ``review_json_schema()`` is the published JSON
Schema (``archbot schema review-json`` prints it); the tests validate every JSON output against it.
Pure: no I/O.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from app.review.budget import Chunk, ReviewPlan
from app.review.models import NotReviewed, ReviewResult

FORMAT_VERSION = 1


class PlannedFile(BaseModel):
    """One file's part of one model call."""

    model_config = ConfigDict(frozen=True)

    path: str
    part: int | None = Field(default=None, description="1-based part when the file is split over calls.")
    hunks: int = Field(ge=0, description="Hunks of the file in this call.")


class PlannedContext(BaseModel):
    """One excerpt of repository context for a call: included, or left out by the context budget."""

    model_config = ConfigDict(frozen=True)

    kind: str = Field(description="enclosing, class, callee, caller or setting.")
    path: str
    start_line: int = Field(ge=1)
    end_line: int = Field(ge=1)
    symbol: str
    reason: str
    depth: int = Field(ge=1, description="2 for what a callee of the change calls.")
    risks: list[str]
    tokens: int = Field(ge=0)
    included: bool


class PlannedCall(BaseModel):
    """One model call: its files, its input-token estimate (diff text only, prompts excluded) and the
    repository context it carries (``context_tokens`` of ``context_budget``)."""

    model_config = ConfigDict(frozen=True)

    index: int = Field(ge=1, description="1-based call number, in risk order.")
    tokens: int = Field(ge=0)
    files: list[PlannedFile]
    context_tokens: int = Field(default=0, ge=0, description="Tokens of the repository context included.")
    context_budget: int = Field(default=0, ge=0, description="The call's context budget (review.context_share).")
    context: list[PlannedContext] = Field(default_factory=list, description="Included excerpts, then left out.")


class CallPlan(BaseModel):
    """What was (or, in a dry run, would be) sent to the model, and what was left out."""

    model_config = ConfigDict(frozen=True)

    calls: list[PlannedCall]
    total_tokens: int = Field(ge=0, description="Sum of the calls' token estimates.")
    files_in_calls: int = Field(ge=0)
    not_reviewed: list[NotReviewed] = Field(description="Files the plan leaves out, with the reason.")


class ReviewReport(ReviewResult):
    """The whole JSON output: the review result, the call plan, and what produced them."""

    format_version: int = FORMAT_VERSION
    archbot_version: str
    dry_run: bool = Field(description="True when no model was called on purpose (--dry-run).")
    plan: CallPlan


def _planned_context(chunk: Chunk) -> list[PlannedContext]:
    if chunk.context is None:
        return []
    pairs = [(item, True) for item in chunk.context.included] + [(item, False) for item in chunk.context.left_out]
    return [
        PlannedContext(
            kind=item.kind,
            path=item.path,
            start_line=item.start,
            end_line=item.end,
            symbol=item.symbol,
            reason=item.reason,
            depth=item.depth,
            risks=list(item.risks),
            tokens=item.tokens,
            included=included,
        )
        for item, included in pairs
    ]


def call_plan(plan: ReviewPlan) -> CallPlan:
    """The budget's plan as the document shows it."""
    return CallPlan(
        calls=[
            PlannedCall(
                index=chunk.index + 1,
                tokens=chunk.tokens,
                files=[PlannedFile(path=f.path, part=f.part, hunks=len(f.hunks)) for f in chunk.files],
                context_tokens=chunk.context_tokens,
                context_budget=chunk.context.budget if chunk.context is not None else 0,
                context=_planned_context(chunk),
            )
            for chunk in plan.chunks
        ],
        total_tokens=plan.total_tokens,
        files_in_calls=plan.files_in_chunks,
        not_reviewed=list(plan.not_reviewed),
    )


def build_report(result: ReviewResult, plan: ReviewPlan, *, version: str, dry_run: bool) -> ReviewReport:
    """The document for one review."""
    return ReviewReport(**result.model_dump(), archbot_version=version, dry_run=dry_run, plan=call_plan(plan))


def review_json_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of :class:`ReviewReport`, as published."""
    schema = ReviewReport.model_json_schema(mode="serialization")
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema}
