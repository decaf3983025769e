"""``archbot plan FILE|-``: the command-line function end to end, with the Messages API faked over httpx2."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path
from typing import Any

import anthropic
import httpx2
import pytest

from app.design.engine import CLARIFY_TOOL_NAME, PLAN_TOOL_NAME
from app.local_plan import run_plan
from app.review.llm import AnthropicReviewModel
from app.review.model_api import LLMConfig, ReviewModel
from app.settings import Settings

VAGUE_DOC = """\
# Process user uploads with our model

We need to add a feature that processes user uploads with an ML model and shows the result.
"""

DETAILED_DOC = """\
# Upload scoring

- Volume: 40 uploads/s at peak, 2 MB images, doubling yearly.
- Latency: results within 30 s are fine; the upload call itself must answer within 300 ms.
- Data: images of ID documents (personal data, GDPR).
- Infrastructure: FastAPI services on Kubernetes (EKS), Kafka (MSK), Postgres.
- Model: a 300 MB vision model, GPU-bound (T4).
- Execution: queued; the client is notified by webhook.
"""

CLARIFY_VAGUE: dict[str, Any] = {
    "volume": {"status": "missing", "evidence": ""},
    "latency": {"status": "missing", "evidence": ""},
    "data_sensitivity": {"status": "missing", "evidence": ""},
    "infrastructure": {"status": "missing", "evidence": ""},
    "compute": {"status": "missing", "evidence": ""},
    "execution": {"status": "missing", "evidence": ""},
    "questions": [
        "What volume do you expect (uploads per second at peak, typical file size)?",
        "Are uploads large files (images, video) or small JSON documents?",
        "Is the model CPU- or GPU-bound, and how long does one inference take?",
        "Must the user get the result in the same request, or can it be queued and reported later?",
        "Do uploads contain personal or regulated data, and do you need audit logs?",
        "What do you already run (Kubernetes, a message broker, a database)?",
    ],
}
CLARIFY_DETAILED: dict[str, Any] = {
    "volume": {"status": "stated", "evidence": "40 uploads/s at peak, 2 MB images"},
    "latency": {"status": "stated", "evidence": "upload answers in 300 ms; results within 30 s"},
    "data_sensitivity": {"status": "stated", "evidence": "ID documents, GDPR"},
    "infrastructure": {"status": "stated", "evidence": "FastAPI on EKS, MSK, Postgres"},
    "compute": {"status": "stated", "evidence": "GPU-bound (T4)"},
    "execution": {"status": "stated", "evidence": "queued, webhook callback"},
    "questions": [],
}
PLAN: dict[str, Any] = {
    "summary": "An async upload endpoint stores the image and publishes a job to Kafka; GPU workers score it "
    "and a notifier calls the client's webhook.",
    "assumptions": ["Webhook receivers accept HMAC-signed requests."],
    "steps": [
        {"title": "Upload API", "detail": "`POST /uploads` validates type and size, stores to S3, answers 202."},
        {"title": "Job topic", "detail": "Kafka topic `uploads.v1` keyed by upload id; producer idempotence on."},
        {"title": "GPU worker", "detail": "Consumer group on T4 nodes; batch up to 8; commit after the result write."},
        {"title": "Webhook notifier", "detail": "Signed callbacks with bounded retries and a dead-letter topic."},
    ],
    "architecture": "The API is stateless and async; state lives in S3, Kafka and Postgres. Workers are GPU-bound.",
    "diagram": "client --POST--> API --put--> S3\n"
    "                   \\--publish--> Kafka[uploads.v1] --> GPU worker --> Postgres\n"
    "client <--webhook-- notifier <--------------------------------------/",
    "tradeoffs": [
        {
            "option": "Kafka",
            "pros": "Durable, replayable, already run (MSK)",
            "cons": "Partition planning",
            "verdict": "Chosen: durability and replay matter here.",
        },
        {"option": "Synchronous inference in the API", "pros": "Simplest", "cons": "GPU latency hits the API"},
    ],
    "risks": [
        {
            "kind": "security",
            "severity": "high",
            "risk": "Uploads are an internet-facing file parser.",
            "mitigation": "OAuth2/JWT, size and type checks before storage, decode images in the worker sandbox.",
        },
        {
            "kind": "concurrency",
            "severity": "high",
            "risk": "Redelivered messages score an upload twice and send two webhooks.",
            "mitigation": "Idempotency key per upload; upsert the result; dedupe callbacks.",
        },
        {
            "kind": "data_leakage",
            "severity": "high",
            "risk": "ID images or model outputs end up in logs.",
            "mitigation": "Log upload ids only; encrypt S3 objects; short retention.",
        },
        {
            "kind": "reliability",
            "severity": "medium",
            "risk": "A slow webhook receiver blocks the notifier.",
            "mitigation": "Timeouts, bounded retries with jitter, a circuit breaker per receiver.",
        },
    ],
    "observability": ["Consumer lag per partition", "Inference latency histogram", "Webhook failure rate alert"],
    "rollout": ["Dark launch behind a flag", "Canary one tenant", "Rollback: switch the flag off"],
    "tests": ["Contract test of the upload schema", "Worker test with a duplicated message", "Load test at 80/s"],
    "snippets": [
        {
            "language": "python",
            "code": "async def consume(msg: Message) -> None:\n"
            "    if await results.exists(msg.key):  # redelivery: already scored\n"
            "        return\n"
            "    score = await asyncio.to_thread(model.predict, await load(msg.key))  # keep the loop free\n"
            "    await results.upsert(msg.key, score)",
            "note": "Step 3: idempotent consumer; the blocking model call runs off the event loop.",
        }
    ],
    "open_questions": ["How long may ID images be kept?"],
}
PLAN_SECTIONS = [
    "Summary",
    "Assumptions",
    "Implementation steps",
    "Architecture",
    "Trade-offs",
    "Risks",
    "Observability",
    "Rollout",
    "Tests",
    "Snippets",
    "Open questions",
]


@pytest.fixture(autouse=True)
def _no_anthropic_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Neither Settings nor the SDK may pick credentials up from the machine running the tests."""
    for name in ("ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "ANTHROPIC_BASE_URL", "ARCHBOT_MODEL"):
        monkeypatch.delenv(name, raising=False)


def _message(name: str, tool_input: dict[str, Any]) -> dict[str, Any]:
    """A Messages API response body with one tool_use block, as the API sends it."""
    return {
        "id": "msg_01XFDUDYJgAACzvnptvVoYEL",
        "type": "message",
        "role": "assistant",
        "model": "claude-sonnet-4-6",
        "content": [{"type": "tool_use", "id": "toolu_01A09q90qw90lq917835lq9", "name": name, "input": tool_input}],
        "stop_reason": "tool_use",
        "stop_sequence": None,
        "usage": {
            "input_tokens": 2100,
            "output_tokens": 650,
            "cache_creation_input_tokens": 1600,
            "cache_read_input_tokens": 0,
        },
    }


class FakeAPI:
    """Answers each forced tool with its canned input; records the tools asked for and the bodies."""

    def __init__(self, clarify_answer: dict[str, Any], *, status: int = 200) -> None:
        self.answers = {CLARIFY_TOOL_NAME: clarify_answer, PLAN_TOOL_NAME: PLAN}
        self.status = status
        self.tools: list[str] = []
        self.bodies: list[str] = []

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        self.bodies.append(request.content.decode())
        if self.status != 200:
            body = {"type": "error", "error": {"type": "invalid_request_error", "message": "prompt is too long"}}
            return httpx2.Response(self.status, json=body, headers={"request-id": "req_1"})
        name = json.loads(request.content)["tool_choice"]["name"]
        self.tools.append(name)
        return httpx2.Response(200, json=_message(name, self.answers[name]))

    def model(self) -> ReviewModel:
        client = anthropic.AsyncAnthropic(
            api_key="k",
            base_url="https://api.anthropic.com",
            http_client=httpx2.AsyncClient(transport=httpx2.MockTransport(self)),
        )
        return AnthropicReviewModel(client, LLMConfig(max_retries=0, max_tokens=8192))


def _settings(**values: Any) -> Settings:
    return Settings(**values)


async def _run(
    api: FakeAPI | None, source: str, *, now: bool = False, stdin: str = "", settings: Settings | None = None
) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = await run_plan(
        settings or _settings(),
        source=source,
        now=now,
        out=out,
        err=err,
        model=api.model() if api is not None else None,
        stdin=io.StringIO(stdin),
    )
    return code, out.getvalue(), err.getvalue()


def _headings(markdown: str) -> list[str]:
    in_code = False
    found = []
    for line in markdown.split("\n"):
        if line.startswith("```"):
            in_code = not in_code
        elif not in_code and line.startswith("## "):
            found.append(line[3:])
    return found


async def test_vague_doc_gets_questions_and_no_plan(tmp_path: Path) -> None:
    doc = tmp_path / "uploads.md"
    doc.write_text(VAGUE_DOC, encoding="utf-8")
    api = FakeAPI(CLARIFY_VAGUE)
    code, out, err = await _run(api, str(doc))
    assert code == 0
    assert api.tools == [CLARIFY_TOOL_NAME]
    assert _headings(out) == ["Key facts", "Questions", "How to continue"]
    assert re.findall(r"^(\d)\. ", out, re.MULTILINE) == ["1", "2", "3", "4", "5", "6"]
    assert "Is the model CPU- or GPU-bound" in out
    assert f"`archbot plan {doc} --now`" in out
    assert "checking the document" in err and "1 model call(s)" in err
    assert "processes user uploads with an ML model" in api.bodies[0]


async def test_now_plans_at_once_with_every_section(tmp_path: Path) -> None:
    doc = tmp_path / "uploads.md"
    doc.write_text(VAGUE_DOC, encoding="utf-8")
    api = FakeAPI(CLARIFY_VAGUE)
    code, out, err = await _run(api, str(doc), now=True)
    assert code == 0
    assert api.tools == [PLAN_TOOL_NAME]
    assert _headings(out) == PLAN_SECTIONS
    assert len(re.findall(r"^- \[ \] \*\*\d\. ", out, re.MULTILINE)) == 4
    assert "```text\nclient --POST--> API" in out
    assert "```python\nasync def consume" in out
    for label in ("### 🔒 Security", "### ⚡ Concurrency", "### 🕳 Data leakage", "### 🧯 Failure modes"):
        assert label in out
    assert "| Kafka | Durable, replayable, already run (MSK) |" in out
    assert "writing the implementation plan" in err


async def test_doc_with_every_key_fact_goes_straight_to_the_plan() -> None:
    api = FakeAPI(CLARIFY_DETAILED)
    code, out, err = await _run(api, "-", stdin=DETAILED_DOC)
    assert code == 0
    assert api.tools == [CLARIFY_TOOL_NAME, PLAN_TOOL_NAME]
    assert _headings(out) == PLAN_SECTIONS
    assert "states the key facts" in err and "2 model call(s)" in err
    assert "Design document: standard input" in api.bodies[0]


async def test_no_credentials_exits_2_with_how_to_set_them(tmp_path: Path) -> None:
    doc = tmp_path / "d.md"
    doc.write_text(VAGUE_DOC, encoding="utf-8")
    code, out, err = await _run(None, str(doc))
    assert code == 2 and out == ""
    assert "ANTHROPIC_API_KEY" in err and "ANTHROPIC_AUTH_TOKEN" in err and "ANTHROPIC_BASE_URL" in err


@pytest.mark.parametrize(("source", "stdin", "reason"), [("missing.md", "", "No such file"), ("-", "  \n", "empty")])
async def test_unreadable_document_exits_2(tmp_path: Path, source: str, stdin: str, reason: str) -> None:
    path = source if source == "-" else str(tmp_path / source)
    code, out, err = await _run(FakeAPI(CLARIFY_VAGUE), path, stdin=stdin)
    assert code == 2 and out == ""
    assert reason in err


async def test_model_failure_exits_1_and_prints_no_markdown(tmp_path: Path) -> None:
    doc = tmp_path / "d.md"
    doc.write_text(VAGUE_DOC, encoding="utf-8")
    code, out, err = await _run(FakeAPI(CLARIFY_VAGUE, status=400), str(doc), now=True)
    assert code == 1 and out == ""
    assert "the model call failed" in err and "HTTP 400" in err


async def test_secrets_in_the_document_never_reach_the_model(tmp_path: Path) -> None:
    key = "sk-ant-api03-" + "Zq8Xw7Vu6Ts5Rq4Po3Nm2Lk1Jh0Gf9" * 2
    doc = tmp_path / "d.md"
    doc.write_text(VAGUE_DOC + f"\nOur key for testing: {key}\n", encoding="utf-8")
    api = FakeAPI(CLARIFY_VAGUE)
    code, _, _ = await _run(api, str(doc))
    assert code == 0
    assert key not in api.bodies[0] and "[REDACTED:anthropic_api_key]" in api.bodies[0]


async def test_long_document_is_cut_and_the_plan_says_so(tmp_path: Path) -> None:
    doc = tmp_path / "big.md"
    doc.write_text(DETAILED_DOC + "\n".join(f"- detail {n}" for n in range(20_000)), encoding="utf-8")
    api = FakeAPI(CLARIFY_DETAILED)
    code, out, err = await _run(api, str(doc), now=True)
    assert code == 0
    assert out.split("\n\n")[1].startswith("> ⚠️ The document was too long for one pass: only its first")
    assert "too long for one pass" in err
    assert "the rest of the document was cut" in api.bodies[0]


async def test_model_is_built_from_settings_when_not_injected(httpx2_mock: Any, tmp_path: Path) -> None:
    """Without an injected model: key, base URL and model id come from Settings, and nothing else."""
    route = httpx2_mock.post("https://llm-gateway.internal/v1/messages").respond(
        200, json=_message(PLAN_TOOL_NAME, PLAN)
    )
    doc = tmp_path / "d.md"
    doc.write_text(DETAILED_DOC, encoding="utf-8")
    settings = _settings(
        anthropic_auth_token="gw-token-123",
        anthropic_base_url="https://llm-gateway.internal",
        archbot_model="claude-opus-4-6",
    )
    out, err = io.StringIO(), io.StringIO()
    code = await run_plan(settings, source=str(doc), now=True, out=out, err=err)
    assert code == 0, err.getvalue()
    assert route.call_count == 1
    request = route.calls[0].request
    assert request.headers["authorization"] == "Bearer gw-token-123"
    assert json.loads(request.content)["model"] == "claude-opus-4-6"
    assert _headings(out.getvalue()) == PLAN_SECTIONS
