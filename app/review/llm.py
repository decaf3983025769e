"""The anthropic-backed :class:`~app.review.model_api.ReviewModel`: the only code that imports the SDK.

Forced tool use, prompt caching, retries, deadline, tokens:

- Every call forces one tool whose ``input_schema`` is a pydantic model's JSON schema, and the tool's
  input is validated with that model. Invalid output is retried once with a short corrective note,
  then reported as :class:`~app.review.model_api.InvalidToolOutput`. An answer without the tool call
  is a :class:`~app.review.model_api.ModelDeclined`: at once for ``stop_reason: "refusal"``, after the
  one corrective retry otherwise (an answer cut off at ``max_tokens`` stays an invalid output).
- The system prompt is sent as one text block marked ``cache_control: ephemeral``: every chunk of a
  review shares it (and the tool definition before it), so it is written to the cache once and read
  back by the other chunks.
- Transport retries are the SDK's own (``max_retries``, honouring ``retry-after``), under one overall
  :func:`asyncio.timeout` per call or per batch of chunks, so a long ``retry-after`` cannot hold a
  job past its deadline. A spend-limit error ends the work: it is never retried here.
- Token usage is summed over every response received, including attempts that failed validation;
  an :class:`~app.review.model_api.LLMError` carries the usage spent before it.
- This module is imported only when a model is built (:mod:`app.pipeline.model_provider`): the core
  depends on :mod:`app.review.model_api` alone, so runs without a model never load the SDK.
- Every validated answer passes :class:`~app.review.prompt_echo.PromptEcho`: a text field that repeats
  the system prompt or a task template (a model obeying "print your instructions") is replaced.
- Nothing here logs a prompt, a diff, the model's output or a credential: log lines carry only the
  model id, counts, status codes, error classes and request ids.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, cast

import anthropic
import structlog
from anthropic.types import (
    Message,
    MessageParam,
    TextBlock,
    TextBlockParam,
    ToolChoiceParam,
    ToolChoiceToolParam,
    ToolParam,
    ToolResultBlockParam,
    ToolUseBlock,
    ToolUseBlockParam,
)
from pydantic import ValidationError

from app.review.model_api import (
    REVIEW_TOOL_DESCRIPTION,
    REVIEW_TOOL_NAME,
    DeadlineExceeded,
    InvalidToolOutput,
    LLMConfig,
    LLMError,
    LLMUnavailable,
    ModelDeclined,
    SpendLimitError,
    T,
)
from app.review.models import ModelReview, TokenUsage
from app.review.prompt_echo import PromptEcho
from app.review.prompts import PROMPT_NAMES, load_prompt
from app.review.read_tools import NO_MORE_READS, READ_TOOL_NAMES, ReadAccess, ReadSession, tool_definitions

if TYPE_CHECKING:
    from app.metrics import Metrics
    from app.tracing import Attributes

DEFAULT_BASE_URL = "https://api.anthropic.com"
"""The Messages API's address when no base URL is configured (the SDK is never left to read the env)."""

_MAX_ERRORS_IN_NOTE = 8
_MAX_API_MESSAGE = 200


class Logger(Protocol):
    """The part of a structlog-style logger this module uses (event name plus keyword fields)."""

    def info(self, event: str, /, **fields: Any) -> Any:
        """Log an event at INFO."""

    def warning(self, event: str, /, **fields: Any) -> Any:
        """Log an event at WARNING."""


@dataclass
class _Tally:
    """Tokens spent so far by one call (shared with the caller so a failure still reports them)."""

    usage: TokenUsage = field(default_factory=TokenUsage)

    def add(self, message: Message) -> None:
        """Count one response."""
        u = message.usage
        self.usage = self.usage + TokenUsage(
            input_tokens=u.input_tokens,
            output_tokens=u.output_tokens,
            cache_read_tokens=u.cache_read_input_tokens or 0,
            cache_write_tokens=u.cache_creation_input_tokens or 0,
            calls=1,
        )


class _BadOutput(Exception):
    """The response holds no valid tool input; ``note`` tells the model what was wrong."""

    def __init__(self, reason: str, note: str, *, no_tool_call: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.note = note
        self.no_tool_call = no_tool_call  # prose instead of the tool (not an answer cut at max_tokens)


def _translate(exc: anthropic.AnthropicError, usage: TokenUsage) -> LLMError:
    """Map an SDK error to archbot's errors; spend limits are checked before rate limits (a subclass)."""
    request_id = getattr(exc, "request_id", None)
    if isinstance(
        exc,
        anthropic.EnforcedSpendLimitReachedError
        | anthropic.ContractSpendLimitReachedError
        | anthropic.PaymentRequiredError,
    ):
        return SpendLimitError(
            f"spend limit reached (HTTP {exc.status_code}, {exc.error_code or 'no code'})",
            usage=usage,
            request_id=request_id,
        )
    if isinstance(exc, anthropic.APITimeoutError):
        return LLMUnavailable("the model API timed out", usage=usage)
    if isinstance(exc, anthropic.APIConnectionError):
        return LLMUnavailable("could not connect to the model API", usage=usage)
    if isinstance(
        exc,
        anthropic.RateLimitError
        | anthropic.InternalServerError
        | anthropic.RequestTimeoutError
        | anthropic.ConflictError,
    ):
        return LLMUnavailable(
            f"the model API is unavailable (HTTP {exc.status_code}, {type(exc).__name__})",
            usage=usage,
            request_id=request_id,
        )
    if isinstance(exc, anthropic.APIStatusError):
        detail = exc.error_code or ""
        if isinstance(exc, anthropic.BadRequestError):
            api_message = str(getattr(exc, "api_message", "") or "")[:_MAX_API_MESSAGE]
            detail = f"{detail}: {api_message}" if detail else api_message
        return LLMError(
            f"the model API rejected the request (HTTP {exc.status_code}, {type(exc).__name__})"
            + (f": {detail}" if detail else ""),
            usage=usage,
            request_id=request_id,
        )
    return LLMError(f"model call failed ({type(exc).__name__})", usage=usage)


def _validation_note(error: ValidationError) -> str:
    """A short list of what was wrong with the tool input: locations and messages, never the input."""
    lines = []
    for item in error.errors(include_input=False, include_url=False)[:_MAX_ERRORS_IN_NOTE]:
        location = ".".join(str(part) for part in item["loc"]) or "(input)"
        lines.append(f"- {location}: {item['msg']}")
    more = error.error_count() - len(lines)
    if more > 0:
        lines.append(f"- ... and {more} more")
    return "\n".join(lines)


def _parse(message: Message, tool_name: str, schema: type[T]) -> T:
    """The validated input of the first call to ``tool_name`` in ``message``; _BadOutput otherwise."""
    cut_note = ""
    if message.stop_reason == "max_tokens":
        cut_note = "\nYour answer was cut off at the output limit: be more concise and report fewer items."
    block = next(
        (b for b in message.content if isinstance(b, ToolUseBlock) and b.name == tool_name),
        None,
    )
    if block is None:
        raise _BadOutput(
            f"no call to the tool (stop_reason={message.stop_reason})",
            f"You did not call the tool `{tool_name}`.{cut_note}",
            no_tool_call=message.stop_reason != "max_tokens",
        )
    try:
        return schema.model_validate(block.input)
    except ValidationError as error:
        raise _BadOutput(
            f"tool input failed validation ({error.error_count()} error(s))",
            f"Your input to the tool `{tool_name}` did not match its schema:\n{_validation_note(error)}{cut_note}",
        ) from None


class AnthropicReviewModel:
    """archbot's model client: one forced tool call per prompt, with validation, retries and a deadline."""

    def __init__(
        self,
        client: anthropic.AsyncAnthropic,
        config: LLMConfig,
        logger: Logger | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        self._client = client.with_options(max_retries=config.max_retries, timeout=config.request_timeout)
        self._metrics = metrics
        self._config = config
        self._log: Logger = logger if logger is not None else structlog.get_logger(__name__)
        self._echo_guards: dict[str, PromptEcho] = {}

    @property
    def config(self) -> LLMConfig:
        """The configuration this client was built with."""
        return self._config

    async def call_tool(
        self, *, system: str, user: str, tool_name: str, tool_description: str, schema: type[T]
    ) -> tuple[T, TokenUsage]:
        """Ask the model once through the forced tool ``tool_name``; the validated input and the usage.

        Raises an :class:`LLMError` subclass on failure; its ``usage`` counts what was spent.
        """
        tally = _Tally()
        timeout = asyncio.timeout(self._config.deadline)
        try:
            async with timeout:
                result = await self._call_tool(
                    system=system,
                    user=user,
                    tool_name=tool_name,
                    tool_description=tool_description,
                    schema=schema,
                    tally=tally,
                )
        except TimeoutError as exc:
            if not timeout.expired():
                raise
            raise self._deadline_error(tally) from exc
        return result, tally.usage

    async def review_chunks(
        self,
        *,
        system: str,
        users: Sequence[str],
        on_progress: Callable[[int, int], None] | None = None,
        reads: ReadAccess | None = None,
    ) -> tuple[list[ModelReview | LLMError], TokenUsage]:
        """Review every chunk (one user prompt each) concurrently; one slot per chunk, in order.

        With ``reads`` each chunk may first call the read tools (:meth:`_call_with_reads`), within its
        own session's cap of calls and tokens.

        At most ``config.concurrency`` chunks are in flight, and one deadline covers the whole batch.
        A failed chunk holds its :class:`LLMError`; the others go on. After a :class:`SpendLimitError`
        no further chunk is started: those slots get a SpendLimitError too, while calls already in
        flight finish. ``on_progress(done, total)`` is called after each chunk settles.
        """
        total = len(users)
        results: list[ModelReview | LLMError] = [LLMError("not run")] * total
        semaphore = asyncio.Semaphore(self._config.concurrency)
        deadline_at = asyncio.get_running_loop().time() + self._config.deadline
        state = _BatchState()

        async def run_one(index: int, user: str) -> None:
            tally = _Tally()
            timeout = asyncio.timeout_at(deadline_at)
            outcome: ModelReview | LLMError
            try:
                async with timeout, semaphore:
                    if state.spend_limit_hit:
                        outcome = SpendLimitError("not started: the spend limit was reached")
                    elif reads is not None:
                        outcome = await self._call_with_reads(
                            system=system, user=user, session=reads.session(), tally=tally
                        )
                    else:
                        outcome = await self._call_tool(
                            system=system,
                            user=user,
                            tool_name=REVIEW_TOOL_NAME,
                            tool_description=REVIEW_TOOL_DESCRIPTION,
                            schema=ModelReview,
                            tally=tally,
                        )
            except TimeoutError:
                if not timeout.expired():
                    raise
                outcome = self._deadline_error(tally)
            except LLMError as error:
                outcome = error
            if isinstance(outcome, SpendLimitError):
                state.spend_limit_hit = True
            if isinstance(outcome, LLMError):
                self._log.warning(
                    "llm.chunk_failed",
                    chunk=index + 1,
                    chunks=total,
                    error=type(outcome).__name__,
                    request_id=outcome.request_id,
                )
            results[index] = outcome
            state.usage = state.usage + tally.usage
            state.done += 1
            if on_progress is not None:
                on_progress(state.done, total)

        async with asyncio.TaskGroup() as group:
            for index, user in enumerate(users):
                group.create_task(run_one(index, user))
        self._log.info(
            "llm.review_done",
            model=self._config.model,
            chunks=total,
            failed=sum(isinstance(r, LLMError) for r in results),
            input_tokens=state.usage.input_tokens,
            output_tokens=state.usage.output_tokens,
            cache_read_tokens=state.usage.cache_read_tokens,
            cache_write_tokens=state.usage.cache_write_tokens,
        )
        return results, state.usage

    def _echo(self, system: str) -> PromptEcho:
        """The echo guard for this system prompt and every task template (built once per system prompt)."""
        guard = self._echo_guards.get(system)
        if guard is None:
            guard = PromptEcho([system, *(load_prompt(name) for name in PROMPT_NAMES)])
            self._echo_guards[system] = guard
        return guard

    def _deadline_error(self, tally: _Tally) -> DeadlineExceeded:
        """The error for a call or chunk cut by the overall deadline."""
        return DeadlineExceeded(f"no answer from the model within {self._config.deadline:g} s", usage=tally.usage)

    async def _call_tool(
        self,
        *,
        system: str,
        user: str,
        tool_name: str,
        tool_description: str,
        schema: type[T],
        tally: _Tally,
    ) -> T:
        """Up to two model calls (the second with a corrective note); no deadline of its own."""
        system_blocks: list[TextBlockParam] = [{"type": "text", "text": system, "cache_control": {"type": "ephemeral"}}]
        tool: ToolParam = {
            "name": tool_name,
            "description": tool_description,
            "input_schema": schema.model_json_schema(),
        }
        tool_choice: ToolChoiceToolParam = {"type": "tool", "name": tool_name, "disable_parallel_tool_use": True}
        content: list[TextBlockParam] = [{"type": "text", "text": user}]
        reason = ""
        declined = False
        for attempt in (1, 2):
            messages: list[MessageParam] = [{"role": "user", "content": content}]
            message = await self._create(
                attempt=attempt,
                tally=tally,
                system=system_blocks,
                messages=messages,
                tools=[tool],
                tool_choice=tool_choice,
            )
            try:
                return self._echo(system).scrub(_parse(message, tool_name, schema))
            except _BadOutput as bad:
                reason = bad.reason
                declined = bad.no_tool_call
                self._log.warning(
                    "llm.invalid_tool_output",
                    model=self._config.model,
                    attempt=attempt,
                    reason=bad.reason,
                    message_id=message.id,
                )
                # The retry resends the same prompt plus a note on what was wrong (never the bad output).
                content = [*content[:1], {"type": "text", "text": _corrective_note(bad, tool_name)}]
        if declined:
            raise ModelDeclined(f"the model declined: {reason}, twice", usage=tally.usage)
        raise InvalidToolOutput(f"invalid tool output twice: {reason}", usage=tally.usage)

    async def _create(self, *, attempt: int, tally: _Tally, **request: Any) -> Message:
        """One Messages API call, counted in ``tally``; SDK errors become :class:`LLMError`. Traced as a
        span with the model id and token counts (never the prompt) when tracing is on."""
        if self._metrics is None or not self._metrics.tracer.enabled:
            return await self._send(attempt=attempt, tally=tally, **request)
        before = tally.usage
        attributes: Attributes = {
            "gen_ai.system": "anthropic",
            "gen_ai.request.model": self._config.model,
            "archbot.attempt": attempt,
        }
        with self._metrics.tracer.span("model call", attributes) as span:
            try:
                return await self._send(attempt=attempt, tally=tally, **request)
            except LLMError as error:
                span.error(type(error).__name__)
                raise
            finally:
                spent = tally.usage
                span.set(
                    **{
                        "gen_ai.usage.input_tokens": spent.input_tokens - before.input_tokens,
                        "gen_ai.usage.output_tokens": spent.output_tokens - before.output_tokens,
                        "archbot.cache_read_tokens": spent.cache_read_tokens - before.cache_read_tokens,
                    }
                )

    async def _send(self, *, attempt: int, tally: _Tally, **request: Any) -> Message:
        started = time.perf_counter()
        try:
            message = cast(
                Message,
                await self._client.messages.create(
                    model=self._config.model, max_tokens=self._config.max_tokens, **request
                ),
            )
        except asyncio.CancelledError:  # the review deadline (or a stop) cut the call short
            self._observe(started, "cancelled", error=True)
            raise
        except anthropic.AnthropicError as exc:
            error = _translate(exc, tally.usage)
            self._observe(started, type(error).__name__, error=True)
            self._log.warning(
                "llm.call_failed",
                model=self._config.model,
                attempt=attempt,
                error=type(exc).__name__,
                status=getattr(exc, "status_code", None),
                request_id=error.request_id,
            )
            raise error from exc
        tally.add(message)
        if message.stop_reason == "refusal":
            self._observe(started, "refusal")
            self._log.warning("llm.model_declined", model=self._config.model, attempt=attempt, message_id=message.id)
            raise ModelDeclined("the model declined (stop_reason=refusal)", usage=tally.usage)
        self._observe(started, "ok")
        return message

    def _observe(self, started: float, outcome: str, *, error: bool = False) -> None:
        """One model call in the metrics: latency by outcome, and the error kind or the refusal."""
        if self._metrics is None:
            return
        self._metrics.model_calls.labels(outcome=outcome).observe(time.perf_counter() - started)
        if error:
            self._metrics.model_errors.labels(kind=outcome).inc()
        elif outcome == "refusal":
            self._metrics.model_refusals.inc()

    async def _call_with_reads(self, *, system: str, user: str, session: ReadSession, tally: _Tally) -> ModelReview:
        """The agentic review of one chunk: read calls answered as ``tool_result`` turns, then the review.

        While the session has calls and tokens left the model may call ``read_file``, ``find_symbol``
        or ``submit_review`` (``tool_choice: any``); after that it is told that no more reads will be
        answered and ``submit_review`` is forced. The answer is validated like any review, with one
        corrective retry. Every response's tokens are counted, and read results in the session.
        """
        system_blocks: list[TextBlockParam] = [{"type": "text", "text": system, "cache_control": {"type": "ephemeral"}}]
        review_tool: ToolParam = {
            "name": REVIEW_TOOL_NAME,
            "description": REVIEW_TOOL_DESCRIPTION,
            "input_schema": ModelReview.model_json_schema(),
        }
        tools: list[ToolParam] = [review_tool, *(cast(ToolParam, t) for t in tool_definitions())]
        first: list[TextBlockParam] = [
            {"type": "text", "text": user},
            {"type": "text", "text": session.access.instructions()},
        ]
        messages: list[MessageParam] = [{"role": "user", "content": first}]
        earlier: _BadOutput | None = None
        turn = 0
        try:
            while True:  # bounded: each read turn spends a session call, each bad answer one of two tries
                turn += 1
                forced = session.exhausted
                message = await self._create(
                    attempt=turn,
                    tally=tally,
                    system=system_blocks,
                    messages=messages,
                    tools=tools,
                    tool_choice=_agentic_choice(forced=forced),
                )
                uses = [b for b in message.content if isinstance(b, ToolUseBlock)]
                reads = [b for b in uses if b.name != REVIEW_TOOL_NAME]
                if not forced and reads and len(reads) == len(uses) and message.stop_reason != "max_tokens":
                    messages += [_assistant_turn(message), await self._read_results(reads, session)]
                    continue
                try:
                    return self._echo(system).scrub(_parse(message, REVIEW_TOOL_NAME, ModelReview))
                except _BadOutput as bad:
                    self._log.warning(
                        "llm.invalid_tool_output",
                        model=self._config.model,
                        attempt=turn,
                        reason=bad.reason,
                        message_id=message.id,
                    )
                    if earlier is not None:
                        raise _final_error(bad, tally.usage) from None
                    earlier = bad
                    messages += [_assistant_turn(message), _retry_turn(uses, _corrective_note(bad, REVIEW_TOOL_NAME))]
        finally:
            self._log.info("llm.reads", calls=session.calls, refused=session.refused, tokens=session.tokens)

    async def _read_results(self, reads: Sequence[ToolUseBlock], session: ReadSession) -> MessageParam:
        """The user turn answering read calls; once the session is spent it also says so.

        A read may touch the working tree (CLI, Action): it runs in a thread, never on the event loop
        that carries the other chunks' calls.
        """
        content: list[ToolResultBlockParam | TextBlockParam] = []
        for block in reads:
            name = block.name if block.name in READ_TOOL_NAMES else "unknown"
            result = await asyncio.to_thread(session.run, name, block.input)
            content.append(
                {"type": "tool_result", "tool_use_id": block.id, "content": result.text, "is_error": result.is_error}
            )
        if session.exhausted:
            content.append({"type": "text", "text": NO_MORE_READS})
        return {"role": "user", "content": content}


def _agentic_choice(*, forced: bool) -> ToolChoiceParam:
    """Any tool (read or answer) while reads remain; ``submit_review`` alone once they are spent."""
    if forced:
        return {"type": "tool", "name": REVIEW_TOOL_NAME, "disable_parallel_tool_use": True}
    return {"type": "any", "disable_parallel_tool_use": True}


def _retry_turn(uses: Sequence[ToolUseBlock], note: str) -> MessageParam:
    """The user turn after an unusable answer: a result for every tool call in it, then the note."""
    content: list[ToolResultBlockParam | TextBlockParam] = [
        {"type": "tool_result", "tool_use_id": b.id, "content": "not accepted", "is_error": True} for b in uses
    ]
    content.append({"type": "text", "text": note})
    return {"role": "user", "content": content}


def _final_error(bad: _BadOutput, usage: TokenUsage) -> LLMError:
    """The error after the second unusable answer."""
    if bad.no_tool_call:
        return ModelDeclined(f"the model declined: {bad.reason}, twice", usage=usage)
    return InvalidToolOutput(f"invalid tool output twice: {bad.reason}", usage=usage)


def _assistant_turn(message: Message) -> MessageParam:
    """The model's message echoed back (text and tool calls only) so the next turn can answer it."""
    content: list[TextBlockParam | ToolUseBlockParam] = []
    for block in message.content:
        if isinstance(block, ToolUseBlock):
            content.append({"type": "tool_use", "id": block.id, "name": block.name, "input": block.input})
        elif isinstance(block, TextBlock) and block.text:
            content.append({"type": "text", "text": block.text})
    if not content:
        content.append({"type": "text", "text": "(no content)"})
    return {"role": "assistant", "content": content}


@dataclass
class _BatchState:
    """Shared, single-event-loop state of one review_chunks batch (no lock needed: no await inside updates)."""

    spend_limit_hit: bool = False
    done: int = 0
    usage: TokenUsage = field(default_factory=TokenUsage)


def _corrective_note(problem: _BadOutput, tool_name: str) -> str:
    """The note appended to the user message for the one retry after invalid output."""
    return (
        "Your previous answer could not be used. "
        f"{problem.note.strip()}\n"
        f"Answer again by calling the tool `{tool_name}` exactly once, with input that matches its "
        "input schema exactly."
    )


def build_client(
    *,
    api_key: str | None,
    auth_token: str | None,
    base_url: str | None,
    timeout: float,
    max_retries: int,
) -> anthropic.AsyncAnthropic:
    """An AsyncAnthropic client from explicit settings (this function reads no environment).

    The API key wins when both credentials are given (the SDK refuses both at once). The base URL
    defaults to :data:`DEFAULT_BASE_URL` so that the SDK does not fall back to ``ANTHROPIC_BASE_URL``,
    and OpenTelemetry content capture is pinned off so prompts and diffs never reach a trace.
    """
    if not api_key and not auth_token:
        raise LLMError("no model credentials: set ANTHROPIC_API_KEY or ANTHROPIC_AUTH_TOKEN")
    return anthropic.AsyncAnthropic(
        api_key=api_key or None,
        auth_token=None if api_key else auth_token,
        base_url=base_url or DEFAULT_BASE_URL,
        timeout=timeout,
        max_retries=max_retries,
        open_telemetry={"traces": {"content_mode": "metadata_only"}},
    )
