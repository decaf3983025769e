"""The model client against real Messages API shapes, through an injected httpx2.MockTransport."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Coroutine
from typing import Any

import anthropic
import httpx2
import pytest

from app.review.llm import AnthropicReviewModel, build_client
from app.review.model_api import (
    REVIEW_TOOL_NAME,
    DeadlineExceeded,
    InvalidToolOutput,
    LLMConfig,
    LLMError,
    LLMUnavailable,
    ModelDeclined,
    SpendLimitError,
)
from app.review.models import ModelReview, Severity, TokenUsage

SYSTEM = "SYSTEM-PROMPT-MARKER persona text"
USER = "USER-PROMPT-MARKER chunk text"

VALID_INPUT: dict[str, Any] = {
    "summary": "Adds a cache; one race.",
    "findings": [
        {
            "path": "app/cache.py",
            "line": 12,
            "side": "RIGHT",
            "severity": "high",
            "category": "concurrency",
            "title": "Unlocked shared dict",
            "rationale": "Two requests can interleave here.",
        }
    ],
}
INVALID_INPUT: dict[str, Any] = {"summary": "x", "findings": [{"path": "a.py", "severity": "SECRET-BAD-VALUE"}]}

Handler = (
    Callable[[httpx2.Request], httpx2.Response] | Callable[[httpx2.Request], Coroutine[None, None, httpx2.Response]]
)


@pytest.fixture(autouse=True)
def _no_anthropic_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """The SDK reads a few variables itself; tests must not depend on the machine's environment."""
    for name in ("ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "ANTHROPIC_BASE_URL", "ANTHROPIC_CUSTOM_HEADERS"):
        monkeypatch.delenv(name, raising=False)


def message(
    tool_input: dict[str, Any] | None = None,
    *,
    input_tokens: int = 100,
    output_tokens: int = 20,
    cache_read: int | None = None,
    cache_write: int | None = None,
    stop_reason: str = "tool_use",
) -> dict[str, Any]:
    """A Messages API response body: one tool_use block (or a text block when tool_input is None)."""
    content: list[dict[str, Any]] = (
        [{"type": "text", "text": "Here is my review in prose."}]
        if tool_input is None
        else [{"type": "tool_use", "id": "toolu_1", "name": REVIEW_TOOL_NAME, "input": tool_input}]
    )
    usage: dict[str, Any] = {"input_tokens": input_tokens, "output_tokens": output_tokens}
    if cache_read is not None:
        usage["cache_read_input_tokens"] = cache_read
    if cache_write is not None:
        usage["cache_creation_input_tokens"] = cache_write
    return {
        "id": "msg_1",
        "type": "message",
        "role": "assistant",
        "model": "claude-sonnet-4-6",
        "content": content,
        "stop_reason": stop_reason,
        "stop_sequence": None,
        "usage": usage,
    }


def error(status: int, kind: str, *, code: str | None = None, headers: dict[str, str] | None = None) -> httpx2.Response:
    """An API error response as the Messages API sends it."""
    body: dict[str, Any] = {"type": "error", "error": {"type": kind, "message": f"{kind} happened"}}
    if code is not None:
        body["error"]["details"] = {"error_code": code}
    return httpx2.Response(status, json=body, headers={"request-id": "req_123", **(headers or {})})


FAST_RETRY = {"retry-after-ms": "1"}


def make_model(handler: Handler, **config: Any) -> AnthropicReviewModel:
    """A AnthropicReviewModel whose client sends every request to ``handler``."""
    client = anthropic.AsyncAnthropic(
        api_key="k",
        base_url="https://api.anthropic.com",
        http_client=httpx2.AsyncClient(transport=httpx2.MockTransport(handler)),
    )
    return AnthropicReviewModel(client, LLMConfig(**config), logger=RecordingLogger())


class RecordingLogger:
    """Collects log events so tests can check that no prompt text is ever logged."""

    def __init__(self) -> None:
        self.events: list[tuple[str, str, dict[str, Any]]] = []

    def info(self, event: str, /, **fields: Any) -> None:
        self.events.append(("info", event, fields))

    def warning(self, event: str, /, **fields: Any) -> None:
        self.events.append(("warning", event, fields))


def logged(model: AnthropicReviewModel) -> str:
    """Everything the model client logged, as one string."""
    logger = model._log
    assert isinstance(logger, RecordingLogger)
    return repr(logger.events)


async def call(model: AnthropicReviewModel) -> tuple[ModelReview, TokenUsage]:
    return await model.call_tool(
        system=SYSTEM, user=USER, tool_name=REVIEW_TOOL_NAME, tool_description="Submit it.", schema=ModelReview
    )


async def test_forced_tool_use_success_and_request_shape() -> None:
    seen: list[httpx2.Request] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        seen.append(request)
        return httpx2.Response(200, json=message(VALID_INPUT, cache_read=900, cache_write=50))

    model = make_model(handler, model="claude-opus-4-6", max_tokens=2048)
    review, usage = await call(model)

    assert review.findings[0].severity is Severity.HIGH and review.summary.startswith("Adds")
    assert usage == TokenUsage(
        input_tokens=100, output_tokens=20, cache_read_tokens=900, cache_write_tokens=50, calls=1
    )
    (request,) = seen
    assert request.url.path == "/v1/messages"
    assert request.headers["authorization"] == "Bearer k"
    body = json.loads(request.content)
    assert body["model"] == "claude-opus-4-6" and body["max_tokens"] == 2048
    assert body["system"] == [{"type": "text", "text": SYSTEM, "cache_control": {"type": "ephemeral"}}]
    assert body["tool_choice"]["type"] == "tool" and body["tool_choice"]["name"] == REVIEW_TOOL_NAME
    assert body["tool_choice"]["disable_parallel_tool_use"] is True
    (tool,) = body["tools"]
    assert tool["name"] == REVIEW_TOOL_NAME and tool["description"] == "Submit it."
    assert tool["input_schema"] == ModelReview.model_json_schema()
    assert body["messages"] == [{"role": "user", "content": [{"type": "text", "text": USER}]}]
    assert "temperature" not in body
    assert "MARKER" not in logged(model)


async def test_absent_cache_fields_count_as_zero() -> None:
    model = make_model(lambda _: httpx2.Response(200, json=message(VALID_INPUT)))
    _, usage = await call(model)
    assert (usage.cache_read_tokens, usage.cache_write_tokens, usage.calls) == (0, 0, 1)


async def test_rate_limited_then_success_is_retried_by_the_sdk() -> None:
    seen: list[httpx2.Request] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        seen.append(request)
        if len(seen) == 1:
            return error(429, "rate_limit_error", headers=FAST_RETRY)
        return httpx2.Response(200, json=message(VALID_INPUT))

    review, usage = await call(make_model(handler, max_retries=2))
    assert review.summary and usage.calls == 1
    assert [r.headers["x-stainless-retry-count"] for r in seen] == ["0", "1"]


async def test_overloaded_until_retries_run_out() -> None:
    seen: list[httpx2.Request] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        seen.append(request)
        return error(529, "overloaded_error", headers=FAST_RETRY)

    with pytest.raises(LLMUnavailable, match="529") as info:
        await call(make_model(handler, max_retries=2))
    assert len(seen) == 3
    assert info.value.request_id == "req_123"
    assert info.value.usage == TokenUsage()


async def test_spend_limit_is_not_retried_and_maps_to_spend_limit_error() -> None:
    seen: list[httpx2.Request] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        seen.append(request)
        return error(429, "rate_limit_error", code="enforced_spend_limit_reached", headers={"x-should-retry": "false"})

    with pytest.raises(SpendLimitError, match="enforced_spend_limit_reached"):
        await call(make_model(handler, max_retries=2))
    assert len(seen) == 1


async def test_spend_limit_retried_by_the_sdk_is_still_a_spend_limit_and_not_retried_by_us() -> None:
    seen: list[httpx2.Request] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        seen.append(request)
        return error(429, "rate_limit_error", code="enforced_spend_limit_reached", headers=FAST_RETRY)

    with pytest.raises(SpendLimitError):
        await call(make_model(handler, max_retries=1))
    assert len(seen) == 2  # the SDK's own attempts only


async def test_bad_request_is_an_llm_error_and_not_retried() -> None:
    seen: list[httpx2.Request] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        seen.append(request)
        return error(400, "invalid_request_error")

    with pytest.raises(LLMError, match="HTTP 400") as info:
        await call(make_model(handler))
    assert type(info.value) is LLMError
    assert len(seen) == 1


async def test_read_timeout_is_unavailable() -> None:
    def handler(request: httpx2.Request) -> httpx2.Response:
        raise httpx2.ReadTimeout("slow", request=request)

    with pytest.raises(LLMUnavailable, match="timed out"):
        await call(make_model(handler, max_retries=0))


async def test_a_hanging_server_hits_the_deadline() -> None:
    async def handler(request: httpx2.Request) -> httpx2.Response:
        await asyncio.sleep(30)
        return httpx2.Response(200, json=message(VALID_INPUT))

    started = time.monotonic()
    with pytest.raises(DeadlineExceeded):
        await call(make_model(handler, deadline=0.1))
    assert time.monotonic() - started < 2


async def test_deadline_cuts_a_long_retry_after() -> None:
    seen: list[httpx2.Request] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        seen.append(request)
        return error(429, "rate_limit_error", headers={"retry-after": "3600"})

    started = time.monotonic()
    with pytest.raises(DeadlineExceeded):
        await call(make_model(handler, max_retries=2, deadline=0.1))
    assert time.monotonic() - started < 2
    assert len(seen) == 1


async def test_malformed_tool_input_once_then_valid() -> None:
    bodies: list[dict[str, Any]] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        bodies.append(json.loads(request.content))
        if len(bodies) == 1:
            return httpx2.Response(200, json=message(INVALID_INPUT, input_tokens=100, output_tokens=30))
        return httpx2.Response(200, json=message(VALID_INPUT, input_tokens=110, output_tokens=40, cache_read=5))

    model = make_model(handler)
    review, usage = await call(model)
    assert review.findings[0].title == "Unlocked shared dict"
    assert usage == TokenUsage(input_tokens=210, output_tokens=70, cache_read_tokens=5, calls=2)
    first, second = (body["messages"][0]["content"] for body in bodies)
    assert first == [{"type": "text", "text": USER}]
    assert second[0] == {"type": "text", "text": USER}
    note = second[1]["text"]
    assert "did not match its schema" in note and "findings.0.severity" in note and REVIEW_TOOL_NAME in note
    assert "SECRET-BAD-VALUE" not in note  # the note names fields, never echoes the bad input
    assert "SECRET-BAD-VALUE" not in logged(model) and "MARKER" not in logged(model)


async def test_no_tool_call_then_valid() -> None:
    bodies: list[dict[str, Any]] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        bodies.append(json.loads(request.content))
        if len(bodies) == 1:
            return httpx2.Response(200, json=message(None, stop_reason="max_tokens"))
        return httpx2.Response(200, json=message(VALID_INPUT))

    _, usage = await call(make_model(handler))
    assert usage.calls == 2
    note = bodies[1]["messages"][0]["content"][1]["text"]
    assert "did not call the tool" in note and "cut off" in note


async def test_malformed_twice_is_invalid_tool_output_with_its_usage() -> None:
    seen: list[httpx2.Request] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        seen.append(request)
        return httpx2.Response(200, json=message(INVALID_INPUT))

    with pytest.raises(InvalidToolOutput) as info:
        await call(make_model(handler))
    assert len(seen) == 2
    assert info.value.usage == TokenUsage(input_tokens=200, output_tokens=40, calls=2)
    # The second attempt carries one corrective note, not an accumulation.
    assert len(json.loads(seen[1].content)["messages"][0]["content"]) == 2


def refusal() -> dict[str, Any]:
    """A refusal as the Messages API sends it: ``stop_reason: "refusal"`` and no tool call."""
    body = message(None, stop_reason="refusal")
    body["content"] = []
    return body


async def test_a_refusal_is_model_declined_at_once_with_its_usage() -> None:
    seen: list[httpx2.Request] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        seen.append(request)
        return httpx2.Response(200, json=refusal())

    model = make_model(handler)
    with pytest.raises(ModelDeclined) as info:
        await call(model)
    assert len(seen) == 1  # the same prompt again would only be refused again
    assert info.value.usage == TokenUsage(input_tokens=100, output_tokens=20, calls=1)
    assert "refusal" in str(info.value)
    assert "llm.model_declined" in logged(model) and "MARKER" not in logged(model)


async def test_a_refusal_with_a_tool_call_is_still_declined() -> None:
    def handler(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(200, json=message(VALID_INPUT, stop_reason="refusal"))

    with pytest.raises(ModelDeclined):
        await call(make_model(handler))


async def test_prose_twice_instead_of_the_tool_is_model_declined() -> None:
    seen: list[httpx2.Request] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        seen.append(request)
        return httpx2.Response(200, json=message(None, stop_reason="end_turn"))

    with pytest.raises(ModelDeclined) as info:
        await call(make_model(handler))
    assert len(seen) == 2  # prose gets the one corrective retry first
    assert info.value.usage.calls == 2


async def test_cut_off_twice_without_the_tool_is_invalid_output_not_declined() -> None:
    def handler(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(200, json=message(None, stop_reason="max_tokens"))

    with pytest.raises(InvalidToolOutput) as info:
        await call(make_model(handler))
    assert not isinstance(info.value, ModelDeclined)


async def test_a_declined_chunk_does_not_fail_the_others() -> None:
    def handler(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(200, json=refusal() if "chunk-2" in _chunk_of(request) else message(VALID_INPUT))

    results, usage = await make_model(handler).review_chunks(system=SYSTEM, users=["chunk-1", "chunk-2", "chunk-3"])
    assert isinstance(results[1], ModelDeclined)
    assert all(isinstance(r, ModelReview) for r in (results[0], results[2]))
    assert usage.calls == 3


def _chunk_of(request: httpx2.Request) -> str:
    return str(json.loads(request.content)["messages"][0]["content"][0]["text"])


async def test_review_chunks_respects_the_concurrency_bound() -> None:
    active = 0
    peak = 0

    async def handler(request: httpx2.Request) -> httpx2.Response:
        nonlocal active, peak
        active += 1
        peak = max(peak, active)
        await asyncio.sleep(0.02)
        active -= 1
        return httpx2.Response(200, json=message({**VALID_INPUT, "summary": _chunk_of(request)}))

    progress: list[tuple[int, int]] = []
    model = make_model(handler, concurrency=2)
    users = [f"chunk {i}" for i in range(7)]
    results, usage = await model.review_chunks(
        system=SYSTEM, users=users, on_progress=lambda done, total: progress.append((done, total))
    )
    assert peak == 2
    assert [r.summary for r in results if isinstance(r, ModelReview)] == users  # slots keep their order
    assert usage.calls == 7 and usage.input_tokens == 700
    assert progress == [(i, 7) for i in range(1, 8)]


async def test_a_failed_chunk_does_not_fail_the_others() -> None:
    def handler(request: httpx2.Request) -> httpx2.Response:
        chunk = _chunk_of(request)
        if chunk == "bad":
            return httpx2.Response(200, json=message(INVALID_INPUT))
        if chunk == "down":
            return error(500, "api_error", headers=FAST_RETRY)
        return httpx2.Response(200, json=message(VALID_INPUT))

    model = make_model(handler, max_retries=1)
    results, usage = await model.review_chunks(system=SYSTEM, users=["ok", "bad", "down", "ok2"])
    assert isinstance(results[0], ModelReview) and isinstance(results[3], ModelReview)
    assert isinstance(results[1], InvalidToolOutput)
    assert isinstance(results[2], LLMUnavailable)
    assert usage.calls == 4  # two good chunks, two invalid answers; the 500s produced no usage
    assert "MARKER" not in logged(model) and "chunk_failed" in logged(model)


async def test_spend_limit_stops_the_chunks_not_yet_started() -> None:
    seen: list[str] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        seen.append(_chunk_of(request))
        if len(seen) == 2:
            return error(
                429, "rate_limit_error", code="enforced_spend_limit_reached", headers={"x-should-retry": "false"}
            )
        return httpx2.Response(200, json=message(VALID_INPUT))

    model = make_model(handler, concurrency=1)
    results, usage = await model.review_chunks(system=SYSTEM, users=["a", "b", "c", "d"])
    assert seen == ["a", "b"]
    assert isinstance(results[0], ModelReview)
    assert all(isinstance(r, SpendLimitError) for r in results[1:])
    assert usage.calls == 1


async def test_one_deadline_for_the_whole_batch() -> None:
    def handler(request: httpx2.Request) -> httpx2.Response:
        if _chunk_of(request) == "fast":
            return httpx2.Response(200, json=message(VALID_INPUT))
        return error(429, "rate_limit_error", headers={"retry-after": "3600"})

    started = time.monotonic()
    model = make_model(handler, concurrency=1, deadline=0.1)
    results, usage = await model.review_chunks(system=SYSTEM, users=["fast", "slow", "never-started"])
    assert time.monotonic() - started < 2
    assert isinstance(results[0], ModelReview)
    assert isinstance(results[1], DeadlineExceeded) and isinstance(results[2], DeadlineExceeded)
    assert usage.calls == 1


async def test_review_chunks_with_no_chunks() -> None:
    results, usage = await make_model(lambda _: httpx2.Response(500)).review_chunks(system=SYSTEM, users=[])
    assert results == [] and usage == TokenUsage()


def test_config_is_validated() -> None:
    bad_configs: list[dict[str, Any]] = [{"concurrency": 0}, {"max_retries": -1}, {"deadline": 0}, {"max_tokens": 0}]
    for bad in bad_configs:
        with pytest.raises(ValueError, match="LLMConfig"):
            LLMConfig(**bad)


def test_build_client_needs_a_credential() -> None:
    with pytest.raises(LLMError, match="credentials"):
        build_client(api_key=None, auth_token="", base_url=None, timeout=5, max_retries=0)


@pytest.mark.parametrize(
    ("api_key", "auth_token", "expected"),
    [("key-1", None, "Bearer key-1"), (None, "tok-1", "Bearer tok-1"), ("key-1", "tok-1", "Bearer key-1")],
)
async def test_build_client_sends_bearer_auth_to_the_base_url(
    httpx2_mock: Any, api_key: str | None, auth_token: str | None, expected: str
) -> None:
    route = httpx2_mock.post("https://llm.example.test/v1/messages").respond(200, json=message(VALID_INPUT))
    client = build_client(
        api_key=api_key, auth_token=auth_token, base_url="https://llm.example.test", timeout=5, max_retries=0
    )
    review, _ = await AnthropicReviewModel(client, LLMConfig(), logger=RecordingLogger()).call_tool(
        system=SYSTEM, user=USER, tool_name=REVIEW_TOOL_NAME, tool_description="d", schema=ModelReview
    )
    assert review.summary
    assert route.calls.last.request.headers["authorization"] == expected


async def test_build_client_defaults_to_the_public_api(httpx2_mock: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_BASE_URL", "https://must-not-be-used.test")
    route = httpx2_mock.post("https://api.anthropic.com/v1/messages").respond(200, json=message(VALID_INPUT))
    client = build_client(api_key="k", auth_token=None, base_url=None, timeout=5, max_retries=0)
    await AnthropicReviewModel(client, LLMConfig(), logger=RecordingLogger()).call_tool(
        system=SYSTEM, user=USER, tool_name=REVIEW_TOOL_NAME, tool_description="d", schema=ModelReview
    )
    assert route.call_count == 1
