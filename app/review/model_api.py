"""What the review core asks of a model, and how a model call fails: no model SDK is imported here.

The engine, the design work and the pipelines call a :class:`ReviewModel` (one forced tool call per
prompt, or a batch of review chunks) configured by :class:`LLMConfig`, and catch :class:`LLMError`
and its subclasses. :mod:`app.review.llm` implements the protocol with the anthropic SDK; building
one (``app.pipeline.model_provider``) is the only place that imports it, so a dry run, ``--help``
or the offline review never loads the SDK.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, TypeVar

from pydantic import BaseModel

from app.review.models import ModelReview, TokenUsage

if TYPE_CHECKING:
    from app.review.read_tools import ReadAccess

REVIEW_TOOL_NAME = "submit_review"
REVIEW_TOOL_DESCRIPTION = (
    "Submit the review of this part of the pull request: a short summary, the findings, each placed on "
    "a line shown in the diff, and the deterministic findings you dismiss with their reasons. "
    "Call this tool exactly once; it is the only way to answer."
)

DECLINED_REASON = "not reviewed: the model declined"
"""How a file of a chunk the model declined to review is named (``NotReviewed.reason``)."""

T = TypeVar("T", bound=BaseModel)


@dataclass(frozen=True)
class LLMConfig:
    """How archbot calls the model; ``max_retries`` and ``request_timeout`` apply to every request."""

    model: str = "claude-sonnet-4-6"
    max_tokens: int = 4096
    max_retries: int = 2  # the SDK's retries after the first attempt (429, 5xx, connection errors)
    request_timeout: float = 120  # seconds, per HTTP attempt
    deadline: float = 600  # seconds, overall: one call_tool, or one whole review_chunks batch
    concurrency: int = 4  # chunks in flight at once in review_chunks

    def __post_init__(self) -> None:
        if self.max_tokens < 1 or self.max_retries < 0 or self.concurrency < 1:
            raise ValueError("LLMConfig: max_tokens and concurrency must be >= 1, max_retries >= 0")
        if self.request_timeout <= 0 or self.deadline <= 0:
            raise ValueError("LLMConfig: request_timeout and deadline must be > 0")


class LLMError(Exception):
    """A model call that produced no usable answer; ``usage`` holds the tokens it spent anyway."""

    def __init__(self, message: str, *, usage: TokenUsage | None = None, request_id: str | None = None) -> None:
        super().__init__(message)
        self.usage: TokenUsage = usage if usage is not None else TokenUsage()
        self.request_id: str | None = request_id


class SpendLimitError(LLMError):
    """The organisation's spend limit is reached: stop calling the model ("skipped: spend limit")."""


class LLMUnavailable(LLMError):
    """The API could not answer after the SDK's retries: rate limit, overload, 5xx, network, timeout."""


class InvalidToolOutput(LLMError):
    """The model twice failed to call the tool with input matching its schema."""


class DeadlineExceeded(LLMError):
    """The overall deadline ran out before an answer arrived."""


class ModelDeclined(LLMError):
    """The model answered without the forced tool call: a refusal (``stop_reason: "refusal"``) or prose.

    Not retried after a refusal; the chunk (or document) it was asked about is named as not reviewed
    with :data:`DECLINED_REASON`, and the rest of the review goes on.
    """


class ReviewModel(Protocol):
    """A model the core can ask: one validated forced tool call, or every review chunk of a diff."""

    @property
    def config(self) -> LLMConfig:
        """The configuration calls are made with (``config.model`` is the model id)."""
        ...

    async def call_tool(
        self, *, system: str, user: str, tool_name: str, tool_description: str, schema: type[T]
    ) -> tuple[T, TokenUsage]:
        """The validated input of one forced call to ``tool_name`` and the tokens spent.

        Raises an :class:`LLMError` subclass on failure; its ``usage`` counts what was spent.
        """
        ...

    async def review_chunks(
        self,
        *,
        system: str,
        users: Sequence[str],
        on_progress: Callable[[int, int], None] | None = None,
        reads: ReadAccess | None = None,
    ) -> tuple[list[ModelReview | LLMError], TokenUsage]:
        """One slot per user prompt, in order: the chunk's review, or the :class:`LLMError` it ended with.

        With ``reads`` (``review.agentic``) the model may call the read tools before it answers, each
        chunk within its own budget of calls and tokens.
        """
        ...


class ModelSource(Protocol):
    """Where the pipelines get a model: one per model id (a repository may pick its model)."""

    def model(self, model_id: str | None = None) -> ReviewModel:
        """The model for ``model_id`` (None: the configured default)."""
        ...

    async def aclose(self) -> None:
        """Release the connections of one-shot runs (the Action, the CLI)."""
        ...
