"""Tool-input schemas for design work: clarifying questions, implementation plans and design reviews.

Each model is the ``input_schema`` of one forced tool (see :mod:`app.design.engine`). Every string
and every list is bounded, and the bound is advertised in the JSON schema the model sees. A value
that is a little too long is clipped on validation instead of failing it (a string is shortened, a
list keeps its first items, which the prompts ask to be the most important): one overlong rationale
is not worth a second model call. Everything the model writes here is untrusted text; the renderers
in :mod:`app.design.render` sanitize it before anything is posted.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from typing import Annotated, Any, Literal

import annotated_types
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from app.review.models import Category, Severity

MAX_QUESTIONS = 7
MAX_STEPS = 15
MAX_SNIPPETS = 3
MAX_SNIPPET_CHARS = 2500
MAX_DIAGRAM_CHARS = 3000
MAX_FINDINGS = 25
_ELLIPSIS = "…"


def _clip(value: Any, limit: int) -> Any:
    """``value`` cut to ``limit`` characters (a string) or items (a list); anything else unchanged."""
    if isinstance(value, str) and len(value) > limit:
        return value[: limit - 1].rstrip() + _ELLIPSIS
    if isinstance(value, list) and len(value) > limit:
        return value[:limit]
    return value


def _clipper(limit: int) -> Callable[[Any], Any]:
    """A before-validator clipping a list item to ``limit`` characters."""
    return lambda value: _clip(value, limit)


Line = Annotated[str, BeforeValidator(_clipper(300)), Field(max_length=300)]
"""One item of a list: one line of plain text."""
Question = Annotated[str, BeforeValidator(_clipper(400)), Field(max_length=400)]
"""One concrete, answerable question, optionally followed by a short reason."""


class _Bounded(BaseModel):
    """Base of every schema: unknown keys are ignored and overlong values clipped to their field's bound."""

    model_config = ConfigDict(extra="ignore")

    @model_validator(mode="before")
    @classmethod
    def _clip_to_bounds(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        clipped = dict(data)
        for name, info in cls.model_fields.items():
            limit = next((m.max_length for m in info.metadata if isinstance(m, annotated_types.MaxLen)), None)
            if limit is not None and name in clipped:
                clipped[name] = _clip(clipped[name], limit)
        return clipped


class FactStatus(StrEnum):
    """Whether the request states one of the key facts a plan depends on."""

    STATED = "stated"  # stated, or clearly implied by the request or the discussion
    MISSING = "missing"
    NOT_APPLICABLE = "not_applicable"  # e.g. the model workload when no model is involved


class FactCheck(_Bounded):
    """The verdict on one key fact, with the request's own words when it is stated."""

    status: FactStatus
    evidence: str = Field(
        default="", max_length=240, description="When stated: the fact as the request gives it, in a few words."
    )


KEY_FACTS: dict[str, str] = {
    "volume": "Expected volume",
    "latency": "Latency needs",
    "data_sensitivity": "Data sensitivity",
    "infrastructure": "Existing infrastructure",
    "compute": "Model workload (CPU- or GPU-bound)",
    "execution": "Synchronous or queued",
}
"""The key facts of a plan, by ClarifyOutput field name, with their display names, in asking order."""


class ClarifyOutput(_Bounded):
    """Input of the clarify tool: which key facts the request states, and questions for the missing ones."""

    volume: FactCheck = Field(description="Requests or events per second, payload sizes, peaks, growth.")
    latency: FactCheck = Field(description="The response time callers need; any hard limit.")
    data_sensitivity: FactCheck = Field(description="Personal, secret or regulated data; who may see it.")
    infrastructure: FactCheck = Field(description="What the team already runs and must fit into.")
    compute: FactCheck = Field(description="Model inference CPU- or GPU-bound; not_applicable without a model.")
    execution: FactCheck = Field(description="Must the caller get the result in the request, or can work be queued?")
    questions: list[Question] = Field(
        default_factory=list,
        max_length=MAX_QUESTIONS,
        description="Questions for the missing facts only, most decisive first; empty when nothing is missing.",
    )

    def facts(self) -> list[tuple[str, FactCheck]]:
        """Every key fact as (display name, verdict), in asking order."""
        return [(label, getattr(self, name)) for name, label in KEY_FACTS.items()]

    def missing(self) -> list[str]:
        """Display names of the key facts the request does not state."""
        return [label for label, check in self.facts() if check.status is FactStatus.MISSING]


class PlanStep(_Bounded):
    """One implementation step, small enough for one pull request."""

    title: str = Field(max_length=160, description="One line: what the step builds.")
    detail: str = Field(default="", max_length=1000, description="What to do and what it delivers, concise Markdown.")


class TradeOff(_Bounded):
    """One viable option for a decision, with what it buys and what it costs."""

    option: str = Field(max_length=160, description="The option, e.g. 'Queued inference (Kafka + worker pods)'.")
    pros: str = Field(max_length=500, description="What this option buys.")
    cons: str = Field(max_length=500, description="What this option costs.")
    verdict: str | None = Field(default=None, max_length=300, description="Chosen or rejected, and why.")


class RiskKind(StrEnum):
    """The families of risk the persona calls out explicitly."""

    SECURITY = "security"
    CONCURRENCY = "concurrency"
    DATA_LEAKAGE = "data_leakage"
    RELIABILITY = "reliability"  # failure modes: slow, failing or garbage-returning dependencies


class Risk(_Bounded):
    """One risk, where in the design it arises, and its mitigation."""

    kind: RiskKind
    severity: Severity = Severity.MEDIUM
    risk: str = Field(max_length=600, description="The risk and where in the design it arises.")
    mitigation: str = Field(max_length=800, description="What to do about it.")


class Snippet(_Bounded):
    """A short annotated code or config example, only where a step cannot be understood without it."""

    language: Literal["python", "yaml", "dockerfile", "text"]
    code: str = Field(max_length=MAX_SNIPPET_CHARS, description="A few annotated lines, without fences.")
    note: str = Field(default="", max_length=400, description="What the snippet shows and which step it serves.")


class PlanOutput(_Bounded):
    """Input of the plan tool: every part of an implementation plan, rendered by pure code."""

    summary: str = Field(max_length=1200, description="Two to four sentences: what is built and the chosen approach.")
    assumptions: list[Line] = Field(
        default_factory=list, max_length=10, description="Facts relied on that the request does not state."
    )
    steps: list[PlanStep] = Field(min_length=1, max_length=MAX_STEPS, description="The implementation, in build order.")
    architecture: str = Field(
        max_length=2000, description="Components and data flow, which parts are sync or async, where state lives."
    )
    diagram: str = Field(max_length=MAX_DIAGRAM_CHARS, description="ASCII data-flow diagram, without fences.")
    tradeoffs: list[TradeOff] = Field(
        default_factory=list, max_length=8, description="The viable options for the decisions that matter."
    )
    risks: list[Risk] = Field(
        default_factory=list, max_length=15, description="Security, concurrency, data-leakage and failure-mode risks."
    )
    observability: list[Line] = Field(default_factory=list, max_length=10, description="Logs, metrics, traces, alerts.")
    rollout: list[Line] = Field(default_factory=list, max_length=10, description="Flags, canary, migrations, rollback.")
    tests: list[Line] = Field(
        default_factory=list, max_length=12, description="Unit, contract, integration, load, failure, concurrency."
    )
    snippets: list[Snippet] = Field(
        default_factory=list, max_length=MAX_SNIPPETS, description="Only where essential; usually none."
    )
    open_questions: list[Question] = Field(
        default_factory=list, max_length=MAX_QUESTIONS, description="What the team still has to decide or confirm."
    )


class NFRKind(StrEnum):
    """Families of non-functional requirements a design should state."""

    SCALE = "scale"
    LATENCY = "latency"
    DURABILITY = "durability"
    OBSERVABILITY = "observability"
    SECURITY = "security"
    COST = "cost"
    OTHER = "other"


class MissingNFR(_Bounded):
    """A non-functional requirement the design does not state, and what it decides."""

    requirement: NFRKind
    gap: str = Field(max_length=600, description="What is missing and what the answer would change.")


class DocFinding(_Bounded):
    """A point about one place in a Markdown design document (an inline comment in a pull request)."""

    line: int | None = Field(
        default=None, ge=1, description="The number shown before ' | ' on the document's line, or null."
    )
    severity: Severity
    category: Category
    title: str = Field(max_length=160, description="One line: what is wrong or missing.")
    rationale: str = Field(max_length=2000, description="Why it matters and what to change, concise Markdown.")


class DesignReviewOutput(_Bounded):
    """Input of the design-review tool: the sections of the review, plus findings tied to lines."""

    summary: str = Field(max_length=1200, description="Two to four sentences: the design and its biggest risk.")
    questions: list[Question] = Field(
        default_factory=list, max_length=MAX_QUESTIONS, description="Facts the design depends on but does not state."
    )
    risks: list[Risk] = Field(default_factory=list, max_length=15, description="Risks, most severe first.")
    tradeoffs: list[TradeOff] = Field(default_factory=list, max_length=8, description="Viable alternatives compared.")
    missing_nfrs: list[MissingNFR] = Field(
        default_factory=list, max_length=10, description="Non-functional requirements the design leaves out."
    )
    checklist: list[Line] = Field(
        default_factory=list, max_length=15, description="Changes or decisions needed first, most important first."
    )
    findings: list[DocFinding] = Field(
        default_factory=list,
        max_length=MAX_FINDINGS,
        description="Points tied to numbered lines of the document; empty when no line numbers are shown.",
    )
