"""OpenTelemetry tracing (the ``otel`` extra): one trace per delivery → job → GitHub and model calls,
checked with the SDK's in-memory exporter after a signed-webhook review against the fakes; and no
OpenTelemetry import at all when it is off."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from app.metrics import Metrics
from app.settings import SettingsError
from app.tracing import OtelTracer, Tracer, build_tracer, sdk_tracer
from tests.e2e import (
    BASE,
    INSTALLATION,
    RANKING_DIFF_V1,
    RANKING_FILE_V1,
    REPO,
    SHA1,
    TASK_FINDING,
    Harness,
    make_harness,
    pr_payload,
)

ROOT = Path(__file__).resolve().parent.parent
DIFF, FILE, FINDING = RANKING_DIFF_V1, RANKING_FILE_V1, TASK_FINDING


@pytest.fixture
def exporter() -> InMemorySpanExporter:
    return InMemorySpanExporter()


@pytest.fixture
async def h(tmp_path: Path, exporter: InMemorySpanExporter) -> AsyncIterator[Harness]:
    tracer = sdk_tracer(exporter, batch=False)
    harness = await make_harness(tmp_path, metrics=Metrics(tracer))
    harness.fake.add_pr(REPO, 7, diff=DIFF, head_sha=SHA1, base_sha=BASE, head_files={"service/inference.py": FILE})
    exporter.clear()  # start-up's GET /app is a trace of its own
    yield harness
    await harness.close()
    tracer.shutdown()


def parent_id(span: ReadableSpan) -> int | None:
    return span.parent.span_id if span.parent is not None else None


async def test_one_trace_from_delivery_through_the_queue_to_github_and_the_model(
    h: Harness, exporter: InMemorySpanExporter
) -> None:
    h.model.script("submit_review", {"summary": "One concurrency finding.", "findings": [FINDING]})
    requests_before = len(h.fake.requests)
    assert (await h.deliver("pull_request", pr_payload("opened"), delivery="dlv-trace")).status_code == 202
    exporter_spans_at_ack = list(exporter.get_finished_spans())
    assert [s.name for s in exporter_spans_at_ack] == ["webhook delivery"]
    assert await h.drain() == 1  # another task, another context: only the job payload links the two
    spans = list(exporter.get_finished_spans())
    by_name: dict[str, list[ReadableSpan]] = {}
    for span in spans:
        by_name.setdefault(span.name.split(" ")[0], []).append(span)
    [delivery] = by_name["webhook"]
    [job] = by_name["job"]
    github, model = by_name["GitHub"], by_name["model"]
    assert len(model) == len(h.model.requests) >= 1
    assert len(github) == len(h.fake.requests) - requests_before
    # one trace; the job continues the delivery's span; GitHub and model calls are inside the job
    assert {s.context.trace_id for s in spans} == {delivery.context.trace_id}
    assert parent_id(delivery) is None and parent_id(job) == delivery.context.span_id
    job_tree = {job.context.span_id}
    for span in sorted(spans, key=lambda s: s.start_time or 0):
        if parent_id(span) in job_tree:
            job_tree.add(span.context.span_id)
    assert all(s.context.span_id in job_tree for s in github + model)
    # identifiers as attributes
    assert delivery.attributes is not None and job.attributes is not None
    assert delivery.attributes["github.delivery_id"] == "dlv-trace"
    assert delivery.attributes["github.repository"] == REPO and delivery.attributes["github.number"] == 7
    assert delivery.attributes["github.installation_id"] == INSTALLATION
    assert delivery.attributes["archbot.outcome"] == "enqueued"
    assert job.attributes["github.delivery_id"] == "dlv-trace" and job.attributes["github.repository"] == REPO
    assert job.attributes["github.installation_id"] == INSTALLATION and job.attributes["github.number"] == 7
    assert job.attributes["archbot.job_kind"] == "review_pr" and job.attributes["archbot.outcome"] == "done"
    review_post = [s for s in github if s.name == "GitHub POST /repos/{owner}/{repo}/pulls/{id}/reviews"]
    assert len(review_post) == 1 and (review_post[0].attributes or {})["http.response.status_code"] == 200
    assert all((s.attributes or {}).get("gen_ai.usage.input_tokens", 0) > 0 for s in model)
    # never diff, prompt, body or token content: every attribute value is short and none is text we sent
    values = [str(v) for s in spans for v in (s.attributes or {}).values()] + [s.name for s in spans]
    prompt = json.dumps(h.model.requests)
    for value in values:
        assert len(value) <= 80, value
        assert "ghs_" not in value and "Bearer" not in value and "sk-ant" not in value
    for fragment in ("untrusted-data", "You are archbot", "Fire-and-forget", "service/inference.py", "def "):
        assert not any(fragment in v for v in values), fragment
    assert "untrusted-data" in prompt  # the fragments checked are really in what the model got


async def test_a_failed_model_call_is_an_error_span(h: Harness, exporter: InMemorySpanExporter) -> None:
    h.model.fail_with = [(529, {"type": "error", "error": {"type": "overloaded_error", "message": "busy"}}, {})] * 5
    await h.deliver("pull_request", pr_payload("opened"))
    await h.drain()
    model = [s for s in exporter.get_finished_spans() if s.name == "model call"]
    assert model and all((s.attributes or {}).get("error.type") == "LLMUnavailable" for s in model)
    assert all(s.status.status_code.name == "ERROR" and "busy" not in (s.status.description or "") for s in model)


def test_tracing_is_off_without_an_endpoint_and_imports_nothing() -> None:
    """archbot itself loads nothing of OpenTelemetry when tracing is off (fastapi and the anthropic SDK
    load the small ``opentelemetry`` API package on their own when it is installed: never the SDK or
    an exporter)."""
    assert type(build_tracer(None)) is Tracer and type(build_tracer("")) is Tracer
    assert Tracer().carrier() == {}
    code = (
        "import sys\n"
        "import app.serve, app.worker, app.metrics, app.tracing, app.github.client, app.pipeline.runner\n"
        "ours = sorted(n for n in sys.modules if n.startswith('opentelemetry'))\n"
        "import app.web, app.review.llm\n"
        "from app.metrics import Metrics\n"
        "from app.tracing import build_tracer\n"
        "m = Metrics(build_tracer(None))\n"
        "with m.tracer.span('x', {'a': 1}) as s: s.set(b=2)\n"
        "heavy = sorted(n for n in sys.modules if n.startswith(('opentelemetry.sdk', 'opentelemetry.exporter')))\n"
        "print(ours, heavy)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120, check=True
    )
    assert done.stdout.strip() == "[] []"


def test_an_endpoint_turns_on_otlp(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:9")
    tracer = build_tracer("http://127.0.0.1:9")
    assert isinstance(tracer, OtelTracer) and tracer.enabled
    tracer.shutdown()  # no span was made: nothing to send


def test_an_endpoint_without_the_extra_is_a_settings_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "opentelemetry.exporter.otlp.proto.http.trace_exporter", None)
    with pytest.raises(SettingsError, match=r"pip install 'archbot\[otel\]'"):
        build_tracer("http://127.0.0.1:4318")
