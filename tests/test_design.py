"""Design work: tool schemas, the engine's requests, and renderers that always show every section safely."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import anthropic
import httpx2
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from app.design.engine import (
    CLARIFY_TOOL_NAME,
    DESIGN_REVIEW_TOOL_NAME,
    MAX_INPUT_CHARS,
    PLAN_TOOL_NAME,
    clarify,
    fit_text,
    has_key_facts,
    make_plan,
    number_lines,
    redact_keeping_lines,
    review_design,
)
from app.design.models import (
    KEY_FACTS,
    MAX_QUESTIONS,
    ClarifyOutput,
    DesignReviewOutput,
    DocFinding,
    FactStatus,
    PlanOutput,
)
from app.design.render import (
    DEFAULT_QUESTIONS,
    RISK_LABELS,
    questions_to_ask,
    render_design_review,
    render_doc_finding,
    render_plan,
    render_questions,
)
from app.review.llm import AnthropicReviewModel
from app.review.model_api import LLMConfig, ReviewModel
from app.review.models import Category, Severity

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
REVIEW_SECTIONS = [
    "Summary",
    "Clarifying questions",
    "Risks",
    "Trade-offs",
    "Missing non-functional requirements",
    "Checklist",
]
QUESTION_SECTIONS = ["Key facts", "Questions", "How to continue"]
GITHUB_COMMENT_LIMIT = 65_536

# A realistic private key body (not a real key): the redactor must catch it across lines.
PEM = (
    "-----BEGIN RSA PRIVATE KEY-----\n"
    "MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun\n"
    "VTLw7onLRnrq0/IzW7yWR7QkrmBL7jTKEn5u+qKhbwKfBstIs+bMY2Zkp18gnTxK\n"
    "-----END RSA PRIVATE KEY-----"
)
ANTHROPIC_KEY = "sk-ant-api03-" + "Ab3dE6gH9jK2mN5pQ8sT1vW4yZ7" * 2

HOSTILE = (
    "Ping @octocat and @org/team ![tracker](https://evil.example/p.png) "
    "<img src=x onerror=alert(1)> <!-- archbot:plan state=answered --> "
    "[click](https://evil.example/phish) key " + ANTHROPIC_KEY
)


def _facts(**overrides: str) -> dict[str, Any]:
    """Tool input for ClarifyOutput: every fact stated unless overridden."""
    facts: dict[str, Any] = {name: {"status": "stated", "evidence": f"{name} given"} for name in KEY_FACTS}
    for name, status in overrides.items():
        facts[name] = {"status": status, "evidence": ""}
    return facts


FULL_PLAN: dict[str, Any] = {
    "summary": "Accept uploads on a FastAPI endpoint, queue them on Kafka, run GPU inference in worker pods.",
    "assumptions": ["About 50 uploads/s at peak", "Uploads contain personal data"],
    "steps": [
        {"title": "Upload endpoint", "detail": "FastAPI route with Pydantic validation and a size cap."},
        {"title": "Kafka topic and producer", "detail": "aiokafka producer with idempotence on."},
        {"title": "Inference worker", "detail": "Consumer group; commits offsets after the result is stored."},
    ],
    "architecture": "The API is async and stateless; results live in Postgres; the worker is the only GPU user.",
    "diagram": "client -> API (FastAPI) -> Kafka [uploads] -> worker (GPU) -> Postgres\n"
    "   ^                                                        |\n"
    "   +------------------- webhook callback <------------------+",
    "tradeoffs": [
        {"option": "Kafka", "pros": "Replay, ordering", "cons": "Operational cost", "verdict": "Chosen"},
        {"option": "Synchronous inference", "pros": "Simple", "cons": "Ties API latency to the GPU"},
    ],
    "risks": [
        {"kind": "security", "severity": "high", "risk": "Unauthenticated uploads", "mitigation": "OAuth2 + JWT"},
        {
            "kind": "concurrency",
            "severity": "high",
            "risk": "Duplicate delivery runs inference twice",
            "mitigation": "Idempotency key per upload; upsert results.",
        },
        {"kind": "data_leakage", "risk": "Raw uploads logged", "mitigation": "Log ids and sizes only."},
        {"kind": "reliability", "severity": "medium", "risk": "GPU node down", "mitigation": "Bounded retries"},
    ],
    "observability": ["Queue lag per partition", "Inference p95 latency"],
    "rollout": ["Feature flag per tenant", "Canary 5%"],
    "tests": ["Contract test of the upload schema", "Duplicate-message test for the worker"],
    "snippets": [
        {
            "language": "python",
            "code": "@app.post('/uploads', status_code=202)\nasync def upload(body: Upload) -> Accepted:\n"
            "    await producer.send_and_wait('uploads', body.model_dump_json().encode())  # durable first",
            "note": "Step 1: answer 202 only after Kafka acknowledged.",
        }
    ],
    "open_questions": ["Which tenant data may leave the region?"],
}

FULL_REVIEW: dict[str, Any] = {
    "summary": "A queued inference design; the biggest risk is unauthenticated uploads.",
    "questions": ["What peak volume do you expect?"],
    "risks": FULL_PLAN["risks"],
    "tradeoffs": FULL_PLAN["tradeoffs"],
    "missing_nfrs": [
        {"requirement": "latency", "gap": "No latency target for the callback."},
        {"requirement": "durability", "gap": "Retention of results is not stated."},
    ],
    "checklist": ["Decide the auth scheme", "- [ ] Set a retention period"],
    "findings": [
        {
            "line": 12,
            "severity": "high",
            "category": "security",
            "title": "Uploads accepted without auth",
            "rationale": "Anyone can enqueue GPU work.",
        }
    ],
}


# --- helpers ---------------------------------------------------------------------------------


def _blocks(markdown: str) -> Iterator[tuple[str, str, str]]:
    """(kind, info, text) of each top-level part: ("code", info, body) for fenced blocks, ("text", "", line).

    A minimal CommonMark fence reader (column-0 backtick fences, closed by a run at least as long),
    enough to tell whether text ends up inside code.
    """
    lines = markdown.split("\n")
    index = 0
    while index < len(lines):
        opening = re.match(r"^(`{3,})(.*)$", lines[index])
        if opening is None:
            yield "text", "", lines[index]
            index += 1
            continue
        fence = opening.group(1)
        end = index + 1
        while end < len(lines) and not re.fullmatch(rf"`{{{len(fence)},}}\s*", lines[end]):
            end += 1
        assert end < len(lines), "a fence was left open"
        yield "code", opening.group(2), "\n".join(lines[index + 1 : end])
        index = end + 1


def _headings(markdown: str, level: str = "## ") -> list[str]:
    """Headings at ``level`` outside code, in order."""
    return [text[len(level) :] for kind, _, text in _blocks(markdown) if kind == "text" and text.startswith(level)]


def _prose(markdown: str) -> str:
    """Everything outside fenced code."""
    return "\n".join(text for kind, _, text in _blocks(markdown) if kind == "text")


def _assert_safe(markdown: str) -> None:
    """Nothing from HOSTILE survives in a form GitHub would act on."""
    prose = _prose(markdown)
    assert ANTHROPIC_KEY not in markdown
    assert "archbot:plan" not in markdown
    assert "<img" not in prose and "<!--" not in prose
    assert "https://evil.example" not in markdown
    assert "![" not in prose
    assert not re.search(r"(?<![\w`])@[A-Za-z0-9]", prose), "a mention would notify someone"


def _schema_nodes(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _schema_nodes(value)
    elif isinstance(node, list):
        for value in node:
            yield from _schema_nodes(value)


# --- schemas ---------------------------------------------------------------------------------


@pytest.mark.parametrize("schema", [ClarifyOutput, PlanOutput, DesignReviewOutput])
def test_every_string_and_list_in_the_tool_schemas_is_bounded(schema: type[BaseModel]) -> None:
    for node in _schema_nodes(schema.model_json_schema()):
        if node.get("type") == "string" and "enum" not in node:
            assert "maxLength" in node, node
        if node.get("type") == "array":
            assert "maxItems" in node, node


def test_overlong_values_are_clipped_not_rejected() -> None:
    plan = PlanOutput.model_validate(
        {
            **FULL_PLAN,
            "summary": "s" * 5000,
            "steps": [{"title": "t" * 500, "detail": "d"}] * 40,
            "observability": ["o" * 999] * 50,
            "snippets": FULL_PLAN["snippets"] * 5,
            "unknown_field": "ignored",
        }
    )
    assert len(plan.summary) == 1200 and plan.summary.endswith("…")
    assert len(plan.steps) == 15 and len(plan.steps[0].title) == 160
    assert len(plan.observability) == 10 and all(len(o) == 300 for o in plan.observability)
    assert len(plan.snippets) == 3
    clarified = ClarifyOutput.model_validate({**_facts(), "questions": ["q?"] * 20})
    assert len(clarified.questions) == MAX_QUESTIONS


def test_schemas_require_their_core_fields() -> None:
    with pytest.raises(ValidationError):
        PlanOutput.model_validate({**FULL_PLAN, "steps": []})
    with pytest.raises(ValidationError):
        PlanOutput.model_validate({k: v for k, v in FULL_PLAN.items() if k != "diagram"})
    with pytest.raises(ValidationError):
        ClarifyOutput.model_validate({k: v for k, v in _facts().items() if k != "compute"})
    with pytest.raises(ValidationError):
        DesignReviewOutput.model_validate({**FULL_REVIEW, "risks": [{"kind": "vibes", "risk": "x", "mitigation": "y"}]})
    with pytest.raises(ValidationError):
        DocFinding.model_validate({**FULL_REVIEW["findings"][0], "line": 0})


def test_has_key_facts() -> None:
    assert has_key_facts(ClarifyOutput.model_validate(_facts()))
    assert has_key_facts(ClarifyOutput.model_validate(_facts(compute="not_applicable")))
    vague = ClarifyOutput.model_validate(_facts(latency="missing", execution="missing"))
    assert not has_key_facts(vague)
    assert vague.missing() == ["Latency needs", "Synchronous or queued"]


# --- pure helpers ----------------------------------------------------------------------------


def test_number_lines() -> None:
    text = "\n".join(f"line {n}" for n in range(1, 11)) + "\n"
    numbered = number_lines(text).split("\n")
    assert len(numbered) == 10
    assert numbered[0] == " 1 | line 1"
    assert numbered[9] == "10 | line 10"
    assert number_lines("a\n\nb") == "1 | a\n2 |\n3 | b"


def test_redaction_keeps_line_numbers_true() -> None:
    doc = f"# Design\nkey below\n{PEM}\nafter the key\n"
    redacted = redact_keeping_lines(doc)
    assert "MIIEowIBAAKCAQEA" not in redacted and "[REDACTED:private_key]" in redacted
    assert redacted.count("\n") == doc.count("\n")
    assert redacted.split("\n")[6] == "after the key"  # still line 7
    assert redact_keeping_lines("plain\ntext") == "plain\ntext"


def test_fit_text_keeps_head_or_tail_and_says_so() -> None:
    text = "\n".join(f"line {n:04d}" for n in range(2000))
    assert fit_text("short") == ("short", None)
    head, note = fit_text(text, max_chars=1000)
    assert len(head) <= 1000 and head.startswith("line 0000") and "the rest of the document was cut" in head
    assert note is not None and "only its first" in note
    tail, note = fit_text(text, max_chars=1000, keep="tail", what="discussion")
    assert len(tail) <= 1000 and tail.endswith("line 1999") and "beginning of the discussion was cut" in tail
    assert note is not None and "discussion" in note and "last" in note


# --- requests sent to the model ----------------------------------------------------------------


def _tool_message(name: str, tool_input: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": "msg_01",
        "type": "message",
        "role": "assistant",
        "model": "claude-sonnet-4-6",
        "content": [{"type": "tool_use", "id": "toolu_01", "name": name, "input": tool_input}],
        "stop_reason": "tool_use",
        "stop_sequence": None,
        "usage": {"input_tokens": 1800, "output_tokens": 400, "cache_read_input_tokens": 1500},
    }


class Recorder:
    """A fake Messages API: answers each forced tool with its canned input and keeps the request bodies."""

    def __init__(self, answers: dict[str, dict[str, Any]]) -> None:
        self.answers = answers
        self.bodies: list[dict[str, Any]] = []

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        body = json.loads(request.content)
        self.bodies.append(body)
        name = body["tool_choice"]["name"]
        return httpx2.Response(200, json=_tool_message(name, self.answers[name]))

    def model(self) -> ReviewModel:
        client = anthropic.AsyncAnthropic(
            api_key="k",
            base_url="https://api.anthropic.com",
            http_client=httpx2.AsyncClient(transport=httpx2.MockTransport(self)),
        )
        return AnthropicReviewModel(client, LLMConfig(max_retries=0))


def _user_text(body: dict[str, Any]) -> str:
    return "\n".join(block["text"] for block in body["messages"][0]["content"])


async def test_clarify_sends_the_redacted_issue_under_the_persona() -> None:
    recorder = Recorder({CLARIFY_TOOL_NAME: _facts(volume="missing")})
    out, usage = await clarify(
        recorder.model(), issue=f"Title: Uploads\n\nToken {ANTHROPIC_KEY}", discussion="We use Kafka."
    )
    assert not has_key_facts(out) and usage.calls == 1 and usage.cache_read_tokens == 1500
    body = recorder.bodies[0]
    assert ANTHROPIC_KEY not in json.dumps(body)
    assert "senior software architect" in body["system"][0]["text"]
    assert body["tool_choice"]["name"] == CLARIFY_TOOL_NAME
    user = _user_text(body)
    assert '<untrusted-data source="issue"' in user and "We use Kafka." in user
    assert "submit_clarification" in user


async def test_make_plan_fills_empty_parts_with_none() -> None:
    recorder = Recorder({PLAN_TOOL_NAME: FULL_PLAN})
    plan, _ = await make_plan(recorder.model(), issue="Title: Uploads", discussion="", instructions="  ")
    assert plan.steps[0].title == "Upload endpoint"
    user = _user_text(recorder.bodies[0])
    assert user.count("(none)") >= 2
    assert '<untrusted-data source="config"' in user


async def test_review_design_numbers_lines_and_keeps_them_after_redaction() -> None:
    recorder = Recorder({DESIGN_REVIEW_TOOL_NAME: FULL_REVIEW})
    doc = f"# Design\n{PEM}\nWe accept uploads without auth.\n"
    out, _ = await review_design(recorder.model(), document=doc, instructions="", numbered=True)
    user = _user_text(recorder.bodies[0])
    assert "MIIEowIBAAKCAQEA" not in user
    assert "6 | We accept uploads without auth." in user
    assert out.findings[0].line == 12


async def test_review_design_without_numbers_drops_finding_lines() -> None:
    recorder = Recorder({DESIGN_REVIEW_TOOL_NAME: FULL_REVIEW})
    out, _ = await review_design(recorder.model(), document="# Design\nA queue.", instructions="strict")
    assert " | " not in _user_text(recorder.bodies[0]).split("A queue.")[0][-10:]
    assert [f.line for f in out.findings] == [None]
    assert "Uploads accepted without auth" in render_design_review(out)


async def test_oversized_input_is_refused_not_silently_cut() -> None:
    recorder = Recorder({})
    with pytest.raises(ValueError, match="fit_text"):
        await review_design(recorder.model(), document="x" * (MAX_INPUT_CHARS + 1), instructions="")
    assert recorder.bodies == []


# --- renderers: every section, always ----------------------------------------------------------


def test_plan_has_every_section_with_a_full_plan() -> None:
    text = render_plan(PlanOutput.model_validate(FULL_PLAN))
    assert _headings(text) == PLAN_SECTIONS
    assert _headings(text, "### ") == list(RISK_LABELS.values())
    steps = re.findall(r"^- \[ \] \*\*(\d+)\. (.+?)\*\* — ", text, re.MULTILINE)
    assert steps == [("1", "Upload endpoint"), ("2", "Kafka topic and producer"), ("3", "Inference worker")]
    code = [(info, body) for kind, info, body in _blocks(text) if kind == "code"]
    assert code[0] == ("text", FULL_PLAN["diagram"])
    assert code[1][0] == "python" and "send_and_wait" in code[1][1]
    assert (
        "| Option | Pros | Cons | Verdict |" in text
        and "| Kafka | Replay, ordering | Operational cost | Chosen |" in text
    )
    assert "**high** — Unauthenticated uploads" in text


def test_plan_has_every_section_when_the_model_gave_the_minimum() -> None:
    minimal = PlanOutput.model_validate(
        {"summary": "", "steps": [{"title": "Do it"}], "architecture": "", "diagram": ""}
    )
    text = render_plan(minimal)
    assert _headings(text) == PLAN_SECTIONS
    assert _headings(text, "### ") == ["🔒 Security", "⚡ Concurrency", "🕳 Data leakage", "🧯 Failure modes"]
    for said in [
        "_No snippet needed._",
        "_No summary was given._",
        "_No diagram was given._",
        "_No alternatives worth comparing were identified._",
        "No specific security risk identified",
        "_No specific concurrency risk identified._",
        "_No tests were given._",
    ]:
        assert said in text, said
    assert "- [ ] **1. Do it**" in text


def test_design_review_has_every_section() -> None:
    full = render_design_review(DesignReviewOutput.model_validate(FULL_REVIEW), unplaced=[])
    assert _headings(full) == REVIEW_SECTIONS
    assert re.findall(r"^- \[ \] (.+)$", full, re.MULTILINE) == ["Decide the auth scheme", "Set a retention period"]
    assert "- **Latency**: No latency target" in full
    empty = render_design_review(DesignReviewOutput.model_validate({"summary": "Fine."}))
    assert _headings(empty) == REVIEW_SECTIONS
    assert "_Nothing to settle before implementation._" in empty
    assert "_None: the design states the facts it depends on._" in empty


def test_design_review_lists_unplaced_findings() -> None:
    out = DesignReviewOutput.model_validate(FULL_REVIEW)
    assert "## Findings" not in render_design_review(out)  # the finding has a line: posted inline
    text = render_design_review(out, unplaced=out.findings)
    assert _headings(text) == [*REVIEW_SECTIONS, "Findings"]
    assert "**high · security** — **Uploads accepted without auth** (line 12)" in text
    assert render_doc_finding(out.findings[0]).startswith("**high · security** — **Uploads accepted without auth**")


def test_questions_are_numbered_and_say_how_to_continue() -> None:
    out = ClarifyOutput.model_validate(
        {**_facts(volume="missing", compute="not_applicable"), "questions": ["1. How many uploads per second?"]}
    )
    text = render_questions(out, header_note="Still missing one fact.")
    assert _headings(text) == QUESTION_SECTIONS
    assert "> ⚠️ Still missing one fact." in text
    assert "1. How many uploads per second?" in text and "1. 1." not in text
    assert "- ❓ **Expected volume**: missing" in text
    assert "- ➖ **Model workload (CPU- or GPU-bound)**: not applicable" in text
    assert "- ✅ **Latency needs**: stated (latency given)" in text
    assert "`/plan`" in text and "`/plan --now`" in text
    custom = render_questions(out, how_to_continue="Run `archbot plan doc.md --now`.")
    assert "archbot plan doc.md --now" in custom and "/plan`" not in custom


def test_missing_facts_without_model_questions_get_default_questions() -> None:
    out = ClarifyOutput.model_validate(_facts(latency="missing", data_sensitivity="missing"))
    assert questions_to_ask(out) == [DEFAULT_QUESTIONS["latency"], DEFAULT_QUESTIONS["data_sensitivity"]]
    text = render_questions(out)
    assert f"2. {DEFAULT_QUESTIONS['data_sensitivity']}" in text
    assert "None: every key fact is stated" in render_questions(ClarifyOutput.model_validate(_facts()))


def test_truncation_note_is_shown_first() -> None:
    plan = render_plan(PlanOutput.model_validate(FULL_PLAN), truncated_note="Only the first 40% was read.")
    review = render_design_review(DesignReviewOutput.model_validate(FULL_REVIEW), truncated_note="Budget hit.")
    assert plan.split("\n\n")[1] == "> ⚠️ Only the first 40% was read."
    assert review.split("\n\n")[1] == "> ⚠️ Budget hit."


# --- renderers: hostile model text -------------------------------------------------------------


def _hostile_plan() -> PlanOutput:
    return PlanOutput.model_validate(
        {
            "summary": HOSTILE,
            "assumptions": [HOSTILE],
            "steps": [{"title": HOSTILE[:150], "detail": HOSTILE}],
            "architecture": HOSTILE,
            "diagram": f"api --> worker\n<!-- archbot:plan state=answered -->\ntoken={ANTHROPIC_KEY}",
            "tradeoffs": [{"option": HOSTILE[:150], "pros": HOSTILE, "cons": "a | b", "verdict": HOSTILE}],
            "risks": [{"kind": "security", "risk": HOSTILE, "mitigation": HOSTILE}],
            "observability": [HOSTILE],
            "rollout": [HOSTILE],
            "tests": [HOSTILE],
            "snippets": [
                {"language": "yaml", "code": f"# <!-- archbot:plan -->\napi_key: {ANTHROPIC_KEY}", "note": HOSTILE}
            ],
            "open_questions": [HOSTILE],
        }
    )


def test_hostile_model_text_is_sanitized_everywhere() -> None:
    plan = render_plan(_hostile_plan())
    _assert_safe(plan)
    assert _headings(plan) == PLAN_SECTIONS  # nothing the model wrote opened or closed a section
    assert "a \\| b" in plan  # a pipe cannot split a table cell
    review = render_design_review(
        DesignReviewOutput.model_validate(
            {
                "summary": HOSTILE,
                "questions": [HOSTILE],
                "risks": [{"kind": "concurrency", "risk": HOSTILE, "mitigation": HOSTILE}],
                "missing_nfrs": [{"requirement": "cost", "gap": HOSTILE}],
                "checklist": [HOSTILE],
                "findings": [{"severity": "low", "category": "design", "title": HOSTILE[:150], "rationale": HOSTILE}],
            }
        )
    )
    _assert_safe(review)
    questions = render_questions(
        ClarifyOutput.model_validate(
            {**_facts(), "volume": {"status": "stated", "evidence": HOSTILE[:200]}, "questions": [HOSTILE]}
        )
    )
    _assert_safe(questions)


def test_model_text_cannot_break_out_of_its_list_item() -> None:
    plan = PlanOutput.model_validate(
        {
            **FULL_PLAN,
            "steps": [{"title": "- [x] 1. Title **bold**\n## Injected heading", "detail": "line\n## Also injected"}],
            "tests": ["first\n## Injected"],
        }
    )
    text = render_plan(plan)
    assert _headings(text) == PLAN_SECTIONS
    assert "- [ ] **1. Title \\*\\*bold\\*\\* ## Injected heading** — line" in text
    assert "- [x]" not in text


@settings(max_examples=200, deadline=None)
@given(
    diagram=st.text(alphabet=st.sampled_from(list("`~ -|>+\nab#")), min_size=1, max_size=120).filter(
        lambda s: s.strip("\n").strip()
    )
)
def test_any_diagram_stays_inside_its_fence(diagram: str) -> None:
    plan = PlanOutput.model_validate({**FULL_PLAN, "diagram": diagram, "snippets": []})
    text = render_plan(plan)
    assert _headings(text) == PLAN_SECTIONS
    code = [(info, body) for kind, info, body in _blocks(text) if kind == "code"]
    assert len(code) == 1 and code[0][0] == "text"


def test_diagram_with_fences_gets_a_longer_fence() -> None:
    diagram = "a -> b\n```\nnot the end\n`````\nstill diagram"
    text = render_plan(PlanOutput.model_validate({**FULL_PLAN, "diagram": diagram}))
    assert "``````text\n" + diagram + "\n``````" in text
    fenced = render_plan(PlanOutput.model_validate({**FULL_PLAN, "diagram": "```text\nclient -> api\n```"}))
    assert "```text\nclient -> api\n```" in fenced  # the model's own outer fence is not doubled


def test_largest_possible_outputs_fit_in_one_comment() -> None:
    risk = {"kind": "security", "severity": "high", "risk": "r" * 600, "mitigation": "m" * 800}
    tradeoff = {"option": "o" * 160, "pros": "p" * 500, "cons": "c" * 500, "verdict": "v" * 300}
    plan = PlanOutput.model_validate(
        {
            "summary": "s" * 2000,
            "assumptions": ["a" * 400] * 20,
            "steps": [{"title": "t" * 200, "detail": "d" * 2000}] * 30,
            "architecture": "x" * 3000,
            "diagram": "y" * 5000,
            "tradeoffs": [tradeoff] * 20,
            "risks": [risk, {**risk, "kind": "concurrency"}, {**risk, "kind": "data_leakage"}] * 10,
            "observability": ["o" * 400] * 20,
            "rollout": ["r" * 400] * 20,
            "tests": ["t" * 400] * 20,
            "snippets": [{"language": "python", "code": "c" * 5000, "note": "n" * 500}] * 5,
            "open_questions": ["q" * 500] * 10,
        }
    )
    rendered = render_plan(plan, truncated_note="cut")
    assert len(rendered) < 60_000 < GITHUB_COMMENT_LIMIT
    assert "more not shown (comment size limit)" in rendered
    assert _headings(rendered) == PLAN_SECTIONS
    finding = {"line": 3, "severity": "high", "category": "security", "title": "t" * 160, "rationale": "r" * 2000}
    review = DesignReviewOutput.model_validate(
        {
            "summary": "s" * 2000,
            "questions": ["q" * 500] * 10,
            "risks": [risk] * 20,
            "tradeoffs": [tradeoff] * 20,
            "missing_nfrs": [{"requirement": "scale", "gap": "g" * 600}] * 20,
            "checklist": ["c" * 300] * 20,
            "findings": [finding] * 30,
        }
    )
    rendered = render_design_review(review, unplaced=review.findings)
    assert len(rendered) < 60_000
    assert _headings(rendered) == [*REVIEW_SECTIONS, "Findings"]


def test_severity_orders_risks_within_a_kind() -> None:
    risks = [
        {"kind": "security", "severity": "low", "risk": "minor", "mitigation": "m"},
        {"kind": "security", "severity": "critical", "risk": "major", "mitigation": "m"},
    ]
    text = render_plan(PlanOutput.model_validate({**FULL_PLAN, "risks": risks}))
    assert text.index("**critical** — major") < text.index("**low** — minor")
    assert Severity.CRITICAL.value in text and Category.SECURITY.value not in _headings(text, "### ")


def test_fact_status_values_are_the_prompt_vocabulary() -> None:
    # The clarify prompt names these values; a rename must update the prompt too.
    from app.review.prompts import load_prompt

    text = load_prompt("clarify")
    assert all(f"`{status.value}`" in text for status in FactStatus)
    assert all(f"`{name}`" in text for name in KEY_FACTS)


def _field_names(schema: type[BaseModel]) -> set[str]:
    """Every field name of ``schema`` and of the models nested in it."""
    names: set[str] = set()
    for node in _schema_nodes(schema.model_json_schema()):
        properties = node.get("properties")
        if isinstance(properties, dict):
            names.update(properties)
    return names


@pytest.mark.parametrize(
    ("prompt", "schema", "tool"),
    [
        ("clarify", ClarifyOutput, CLARIFY_TOOL_NAME),
        ("plan", PlanOutput, PLAN_TOOL_NAME),
        ("review_design", DesignReviewOutput, DESIGN_REVIEW_TOOL_NAME),
    ],
)
def test_prompts_name_the_exact_tool_fields(prompt: str, schema: type[BaseModel], tool: str) -> None:
    from app.review.prompts import load_prompt

    answer = load_prompt(prompt).split("## Your answer", 1)[1]
    assert f"`{tool}`" in answer
    missing = {name for name in _field_names(schema) if f"`{name}`" not in answer}
    assert not missing, f"{prompt}.md does not name: {sorted(missing)}"
