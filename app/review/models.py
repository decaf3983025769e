"""Data shapes shared by the review engine: findings as the model gives them and as archbot posts them."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class Severity(StrEnum):
    """How bad a finding is; ordered from worst to mildest by ``SEVERITY_ORDER``."""

    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    INFO = "info"


SEVERITY_ORDER: dict[Severity, int] = {
    Severity.CRITICAL: 0,
    Severity.HIGH: 1,
    Severity.MEDIUM: 2,
    Severity.LOW: 3,
    Severity.INFO: 4,
}


class Category(StrEnum):
    """What kind of problem a finding is about; security and concurrency come first."""

    SECURITY = "security"
    CONCURRENCY = "concurrency"
    RELIABILITY = "reliability"
    PERFORMANCE = "performance"
    OBSERVABILITY = "observability"
    MAINTAINABILITY = "maintainability"
    DESIGN = "design"


class Side(StrEnum):
    """Which side of the diff a line number refers to (GitHub's review-comment vocabulary)."""

    RIGHT = "RIGHT"
    LEFT = "LEFT"


class Placement(StrEnum):
    """Where a validated finding can be shown."""

    INLINE = "inline"  # on a commentable line of the diff: an inline review comment
    FILE = "file"  # the file is in the diff but the line is not commentable: summary + annotation
    GENERAL = "general"  # no file of the diff: summary only


class Source(StrEnum):
    """Who produced a finding."""

    MODEL = "model"
    STATIC = "static"


class ModelFinding(BaseModel):
    """One finding exactly as the model must submit it through the review tool."""

    model_config = ConfigDict(extra="ignore")

    path: str = Field(description="Path of the file in the new revision, exactly as in the diff header.")
    line: int | None = Field(
        default=None, ge=1, description="Line number (new file for RIGHT, old file for LEFT); null if none."
    )
    start_line: int | None = Field(
        default=None, ge=1, description="First line of a multi-line range ending at `line`, same hunk."
    )
    side: Side = Field(default=Side.RIGHT, description="RIGHT for added/context lines, LEFT for removed.")
    severity: Severity
    category: Category
    title: str = Field(min_length=3, max_length=160, description="One line: what is wrong.")
    rationale: str = Field(
        min_length=3, max_length=4000, description="Why it matters and what to do, concise Markdown."
    )
    suggestion: str | None = Field(
        default=None,
        max_length=8000,
        description="Optional exact replacement for lines start_line..line (RIGHT side only), no fences.",
    )
    static_rule: str | None = Field(
        default=None, description="If this confirms a deterministic finding, its rule id (e.g. ARCH101)."
    )


class DismissedStatic(BaseModel):
    """A deterministic finding the model judged to be a false positive, with its reason."""

    model_config = ConfigDict(extra="ignore")

    rule: str
    path: str
    line: int
    reason: str = Field(max_length=1000)


class ModelReview(BaseModel):
    """The review tool's input schema: everything the model may say about one chunk."""

    model_config = ConfigDict(extra="ignore")

    summary: str = Field(max_length=4000, description="Two to five sentences on the change and its risks.")
    findings: list[ModelFinding] = Field(default_factory=list, max_length=60)
    dismissed_static: list[DismissedStatic] = Field(default_factory=list, max_length=60)


class SuggestionCheck(StrEnum):
    """Whether a suggestion may be posted as a committable block, or why not (counted in the metrics)."""

    COMMITTABLE = "committable"
    LEFT_SIDE = "left side"  # on a removed line: GitHub applies suggestions to the new file only
    NOT_INLINE = "not on a diff line"
    RANGE_OUTSIDE_HUNK = "range outside one hunk"  # reversed, or spanning two hunks, or off the diff
    NO_FILE_TEXT = "head file text not available"
    NO_OP = "no-op"
    SYNTAX = "breaks parsing"
    INDENTATION = "changes the indentation"
    DATA_INVALID = "file no longer loads"  # YAML, TOML, JSON
    OUTSIDE_RANGE = "touches lines outside the range"
    CONFLICT = "conflicts with another suggestion"


class Fix(BaseModel):
    """A suggestion checked against the head revision: the lines it replaces and the verdict.

    ``start_line..end_line`` are RIGHT-side line numbers (None when the range is unknown);
    ``original`` is their current text (None when the file text was not available).
    """

    model_config = ConfigDict(frozen=True)

    start_line: int | None = None
    end_line: int | None = None
    original: str | None = None
    check: SuggestionCheck
    deterministic: bool = False  # produced by archbot's code for a static finding, not by the model

    @property
    def committable(self) -> bool:
        return self.check is SuggestionCheck.COMMITTABLE


class Finding(BaseModel):
    """A finding after validation against the diff: placed, fingerprinted and ready to render."""

    model_config = ConfigDict(frozen=True)

    path: str | None
    line: int | None
    start_line: int | None = None
    side: Side = Side.RIGHT
    severity: Severity
    category: Category
    title: str
    rationale: str
    suggestion: str | None = None
    fix: Fix | None = None  # the suggestion's verification (app.review.suggestions); None: not checked
    placement: Placement
    source: Source = Source.MODEL
    rule_id: str | None = None  # ARCH1xx / ruff code for deterministic findings
    fingerprint: str
    # The identity archbot gave this finding before scopes were part of it (deterministic findings
    # only): markers in comments posted by that version still name it (app.review.fingerprint.recognised).
    legacy_fingerprint: str | None = None
    confirmed_by_model: bool = False  # a static finding the model confirmed
    # Fingerprints of the model findings fused into this static one: its marker names them too, so
    # the model's copy is known as posted when it comes back alone (say on an incremental push).
    fused_fingerprints: tuple[str, ...] = ()
    in_test_path: bool = False  # in a test/fixture/example/docs path: severity capped, never gated


class TokenUsage(BaseModel):
    """Tokens spent on model calls, as the API reports them."""

    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    calls: int = 0

    def __add__(self, other: TokenUsage) -> TokenUsage:
        return TokenUsage(
            input_tokens=self.input_tokens + other.input_tokens,
            output_tokens=self.output_tokens + other.output_tokens,
            cache_read_tokens=self.cache_read_tokens + other.cache_read_tokens,
            cache_write_tokens=self.cache_write_tokens + other.cache_write_tokens,
            calls=self.calls + other.calls,
        )

    @property
    def total(self) -> int:
        return self.input_tokens + self.output_tokens + self.cache_read_tokens + self.cache_write_tokens


class NotReviewed(BaseModel):
    """A file (or part of one) that archbot did not review, named with the reason."""

    model_config = ConfigDict(frozen=True)

    path: str
    reason: str
    hunks: int | None = None  # None: the whole file; N: N hunks of it


class CallFailure(BaseModel):
    """Model calls that failed the same way: what failed and how much of the review it cost."""

    kind: str = Field(description="The error class, e.g. LLMUnavailable, SpendLimitError, ModelDeclined.")
    message: str = Field(description="What failed, in archbot's words (no model or user text).")
    chunks: int = Field(ge=1, description="How many model calls failed this way.")
    files: int = Field(ge=0, description="How many files of those calls are listed as not reviewed.")


class ReviewResult(BaseModel):
    """Everything one review produced: what the renderers and the poster need."""

    summary: str = ""
    findings: list[Finding] = Field(default_factory=list)
    not_reviewed: list[NotReviewed] = Field(default_factory=list)
    not_analysed: list[NotReviewed] = Field(default_factory=list)  # static engine could not parse
    usage: TokenUsage = Field(default_factory=TokenUsage)
    model: str | None = None
    errors: list[str] = Field(default_factory=list)  # chunks that failed, reported not hidden
    failures: list[CallFailure] = Field(default_factory=list)  # ``errors`` grouped by kind, for messages
    files_reviewed: int = 0  # distinct files the model reviewed or the static checks analysed
    files_analysed: int = 0  # changed Python files the static checks analysed
    python_files: int = 0  # changed Python files with added lines (what the static checks could analyse)
    model_calls: int = 0  # chunks sent to the model
    model_calls_failed: int = 0  # of which failed (then their files are listed as not reviewed)
