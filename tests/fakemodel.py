"""A fake Anthropic Messages API: answers each forced tool call with a scripted tool input (or a refusal).

One fake, two ways in: ``provider()`` injects it into the SDK through an ``httpx2.MockTransport``
(in-process tests), ``serve_model(fake)`` serves it on loopback for subprocesses (``ANTHROPIC_BASE_URL``).
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import anthropic
import httpx2
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from app.metrics import Metrics
from app.pipeline.model_provider import ModelProvider
from app.review.model_api import LLMConfig


@dataclass(frozen=True)
class Refusal:
    """A scripted answer in which the model refuses: ``stop_reason: "refusal"`` and no tool call."""

    text: str = ""  # an optional text block (the API may send one)


REFUSAL = Refusal()


@dataclass(frozen=True)
class ToolCall:
    """A scripted answer that calls another tool (a read tool of ``review.agentic``) with ``input``."""

    name: str
    input: dict[str, Any]


Answer = dict[str, Any] | Refusal | ToolCall
Script = Answer | Callable[[dict[str, Any]], Answer]

PLAN: dict[str, Any] = {
    "summary": "Queue uploads and run inference in worker pods.",
    "steps": [
        {"title": "Async upload endpoint", "detail": "FastAPI, streaming to object storage."},
        {"title": "Kafka topic and worker", "detail": "One consumer group, idempotent handler."},
    ],
    "architecture": "API -> Kafka -> workers -> results store -> webhook.",
    "diagram": "client -> api -> kafka -> worker -> store",
    "tradeoffs": [{"option": "Kafka", "pros": "replay, durability", "cons": "operations"}],
    "risks": [
        {"kind": "security", "risk": "unsigned callbacks", "mitigation": "HMAC-sign callbacks"},
        {"kind": "concurrency", "risk": "duplicate deliveries", "mitigation": "idempotency keys"},
    ],
    "observability": ["queue lag metric"],
    "rollout": ["feature flag"],
    "tests": ["contract tests"],
}
FACTS_MISSING: dict[str, Any] = {
    **{k: {"status": "missing"} for k in ("volume", "latency", "data_sensitivity", "infrastructure", "compute")},
    "execution": {"status": "missing"},
    "questions": ["What volume do you expect (requests per second, upload sizes)?", "Is the model CPU- or GPU-bound?"],
}
FACTS_STATED: dict[str, Any] = {
    **{
        k: {"status": "stated", "evidence": "given"}
        for k in ("volume", "latency", "data_sensitivity", "infrastructure", "compute", "execution")
    },
    "questions": [],
}
DESIGN_REVIEW: dict[str, Any] = {
    "summary": "A queue-based design; retries are unspecified.",
    "questions": ["What is the expected peak volume?"],
    "risks": [{"kind": "concurrency", "risk": "two workers may process one upload", "mitigation": "leases"}],
    "checklist": ["Define retry policy"],
}


@dataclass
class FakeModel:
    """Scripted answers per tool name; every request body is recorded."""

    scripts: dict[str, list[Script]] = field(default_factory=dict)
    requests: list[dict[str, Any]] = field(default_factory=list)
    fail_with: list[tuple[int, dict[str, Any], dict[str, str]]] = field(default_factory=list)
    last: dict[str, Script] = field(default_factory=dict)  # once a queue is empty, its last answer repeats
    latency: float = 0.0  # seconds the served fake waits before answering (``serve_model`` only)
    in_flight: int = 0  # requests the served fake is answering right now

    def script(self, tool: str, *answers: Script) -> None:
        self.scripts.setdefault(tool, []).extend(answers)

    def calls(self, tool: str | None = None) -> list[dict[str, Any]]:
        return [r for r in self.requests if tool is None or r.get("tool_choice", {}).get("name") == tool]

    def answer(self, body: dict[str, Any]) -> tuple[int, dict[str, Any], dict[str, str]]:
        self.requests.append(body)
        if self.fail_with:
            return self.fail_with.pop(0)
        choice = body.get("tool_choice", {})
        # ``tool_choice: any`` (the agentic review) is answered from the submit_review script
        tool = str(choice.get("name", "submit_review" if choice.get("type") == "any" else ""))
        queue = self.scripts.get(tool)
        if queue:
            self.last[tool] = queue.pop(0)
        script = self.last.get(tool, {"summary": "Nothing to add.", "findings": []})
        tool_input = script(body) if callable(script) else script
        content: list[dict[str, Any]]
        if isinstance(tool_input, Refusal):
            content = [{"type": "text", "text": tool_input.text}] if tool_input.text else []
        elif isinstance(tool_input, ToolCall):
            call_id = f"toolu_{len(self.requests)}"
            content = [{"type": "tool_use", "id": call_id, "name": tool_input.name, "input": tool_input.input}]
        else:
            content = [{"type": "tool_use", "id": f"toolu_{len(self.requests)}", "name": tool, "input": tool_input}]
        message = {
            "id": f"msg_{len(self.requests)}",
            "type": "message",
            "role": "assistant",
            "model": body.get("model"),
            "content": content,
            "stop_reason": "refusal" if isinstance(tool_input, Refusal) else "tool_use",
            "stop_sequence": None,
            "usage": {"input_tokens": 1000, "output_tokens": 200, "cache_read_input_tokens": 800},
        }
        return 200, message, {}

    def handler(self, request: httpx2.Request) -> httpx2.Response:
        status, body, headers = self.answer(json.loads(request.content))
        return httpx2.Response(status, json=body, headers=headers)

    def provider(self, metrics: Metrics | None = None, **config: Any) -> ModelProvider:
        client = anthropic.AsyncAnthropic(
            api_key="test-key",
            max_retries=0,
            http_client=httpx2.AsyncClient(transport=httpx2.MockTransport(self.handler)),
        )
        return ModelProvider(client, LLMConfig(max_retries=0, **config), metrics)

    def asgi(self) -> Starlette:
        async def messages(request: Request) -> JSONResponse:
            if not request.headers.get("authorization", "").startswith("Bearer "):
                return JSONResponse({"type": "error", "error": {"type": "authentication_error"}}, status_code=401)
            raw = await request.body()
            self.in_flight += 1
            try:
                if self.latency:
                    await asyncio.sleep(self.latency)
                status, body, headers = self.answer(json.loads(raw))
            finally:
                self.in_flight -= 1
            return JSONResponse(body, status_code=status, headers=headers)

        return Starlette(routes=[Route("/v1/messages", messages, methods=["POST"])])


@contextmanager
def serve_model(fake: FakeModel) -> Iterator[str]:
    """Serve the fake on a free loopback port; yields the base URL for ``ANTHROPIC_BASE_URL``."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(fake.asgi(), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
