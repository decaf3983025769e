"""Design docs in pull requests: chosen by glob, reviewed with the design prompt, placed on their lines."""

from __future__ import annotations

import json
from typing import Any

import anthropic
import httpx2
import pytest

from app.design.docs import (
    REASON_DESIGN_DOC,
    REASON_NEEDS_MODEL,
    SHORTENED_NOTE,
    design_doc_files,
    document_text,
    render_section,
    review_design_docs,
)
from app.design.engine import DESIGN_REVIEW_TOOL_NAME
from app.design.models import DesignReviewOutput
from app.repo_config import DesignDocsConfig, RepoConfig, ReviewConfig
from app.review.diff import FileDiff, parse_diff
from app.review.engine import ReviewRequest, chunk_prompts, prepare, review
from app.review.llm import AnthropicReviewModel
from app.review.model_api import REVIEW_TOOL_NAME, LLMConfig, ReviewModel
from app.review.models import Placement, Source

DEFAULT_GLOBS = DesignDocsConfig().paths

NEW_DOC = "# Upload service\n\nClients POST files; we store them in S3.\n\nNo auth yet.\n"
ADR_TEXT = "# ADR 1: queue\n\n## Context\nWe need a queue.\n\n## Decision\nUse Redis lists.\n\n## Consequences\nNone.\n"

PR_DIFF = """\
diff --git a/app/api.py b/app/api.py
index 1111111..2222222 100644
--- a/app/api.py
+++ b/app/api.py
@@ -1,3 +1,4 @@
 import os
+import requests
\x20
 def handler():
diff --git a/docs/design/upload.md b/docs/design/upload.md
new file mode 100644
index 0000000..3333333
--- /dev/null
+++ b/docs/design/upload.md
@@ -0,0 +1,5 @@
+# Upload service
+
+Clients POST files; we store them in S3.
+
+No auth yet.
diff --git a/docs/adr/0001-queue.md b/docs/adr/0001-queue.md
index 4444444..5555555 100644
--- a/docs/adr/0001-queue.md
+++ b/docs/adr/0001-queue.md
@@ -6,3 +6,3 @@
 ## Decision
-Use RabbitMQ.
+Use Redis lists.
\x20
diff --git a/docs/notes.md b/docs/notes.md
index 6666666..7777777 100644
--- a/docs/notes.md
+++ b/docs/notes.md
@@ -1,2 +1,2 @@
 # Notes
-old note
+new note
diff --git a/docs/design/old.md b/docs/design/old.md
deleted file mode 100644
index 8888888..0000000
--- a/docs/design/old.md
+++ /dev/null
@@ -1,2 +0,0 @@
-# Old
-gone
"""

UPLOAD = "docs/design/upload.md"
ADR = "docs/adr/0001-queue.md"
CODE_REVIEW: dict[str, Any] = {"summary": "The code change adds an import.", "findings": []}


def _review(summary: str, findings: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "summary": summary,
        "questions": ["What peak upload rate do you expect?"],
        "risks": [{"kind": "security", "severity": "high", "risk": "No auth", "mitigation": "Add OAuth2"}],
        "checklist": ["Decide the auth scheme"],
        "findings": findings,
    }


def _finding(line: int | None, title: str) -> dict[str, Any]:
    return {"line": line, "severity": "high", "category": "security", "title": title, "rationale": "Because."}


UPLOAD_REVIEW = _review(
    "An upload service; the biggest risk is missing auth.",
    [_finding(5, "Uploads are unauthenticated"), _finding(42, "Line past the end"), _finding(None, "No SLO")],
)
ADR_REVIEW = _review(
    "Switching to Redis lists.",
    [_finding(7, "Redis lists lose messages on failover"), _finding(4, "Context does not state volume")],
)


def _message(name: str, tool_input: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": "msg_01",
        "type": "message",
        "role": "assistant",
        "model": "claude-sonnet-4-6",
        "content": [{"type": "tool_use", "id": "toolu_01", "name": name, "input": tool_input}],
        "stop_reason": "tool_use",
        "stop_sequence": None,
        "usage": {"input_tokens": 1000, "output_tokens": 200},
    }


class FakeAPI:
    """A fake Messages API: code chunks get CODE_REVIEW, each design doc the review its text asks for."""

    def __init__(
        self,
        *,
        fail_on: str | None = None,
        fail_status: int = 400,
        fail_kind: str = "invalid_request_error",
        refuse_on: str | None = None,
    ):
        self.bodies: list[dict[str, Any]] = []
        self.refuse_on = refuse_on
        self.fail_on = fail_on
        self.fail_status = fail_status
        self.fail_kind = fail_kind

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        body = json.loads(request.content)
        self.bodies.append(body)
        name = body["tool_choice"]["name"]
        user = self.user_text(body)
        if self.fail_on is not None and self.fail_on in user:
            error = {"type": "error", "error": {"type": self.fail_kind, "message": "no"}}
            if self.fail_status == 429:
                error["error"]["details"] = {"error_code": "enforced_spend_limit_reached"}
            return httpx2.Response(self.fail_status, json=error, headers={"x-should-retry": "false"})
        if self.refuse_on is not None and self.refuse_on in user:
            return httpx2.Response(200, json={**_message(name, {}), "content": [], "stop_reason": "refusal"})
        if name == REVIEW_TOOL_NAME:
            return httpx2.Response(200, json=_message(name, CODE_REVIEW))
        assert name == DESIGN_REVIEW_TOOL_NAME
        answer = UPLOAD_REVIEW if "Upload service" in user else ADR_REVIEW
        return httpx2.Response(200, json=_message(name, answer))

    @staticmethod
    def user_text(body: dict[str, Any]) -> str:
        return "\n".join(block["text"] for block in body["messages"][0]["content"])

    def by_tool(self, name: str) -> list[str]:
        return [self.user_text(b) for b in self.bodies if b["tool_choice"]["name"] == name]

    def model(self) -> ReviewModel:
        client = anthropic.AsyncAnthropic(
            api_key="k",
            base_url="https://api.anthropic.com",
            http_client=httpx2.AsyncClient(transport=httpx2.MockTransport(self)),
        )
        return AnthropicReviewModel(client, LLMConfig(max_retries=0))


@pytest.fixture(autouse=True)
def _no_anthropic_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "ANTHROPIC_BASE_URL", "ANTHROPIC_CUSTOM_HEADERS"):
        monkeypatch.delenv(name, raising=False)


def _files() -> list[FileDiff]:
    return parse_diff(PR_DIFF)


def _request(files: list[FileDiff], *, contents: dict[str, str | None] | None = None, **config: Any) -> ReviewRequest:
    return ReviewRequest(
        anchor_files=files,
        review_files=files,
        contents={ADR: ADR_TEXT} if contents is None else contents,
        config=RepoConfig(**config),
        run_static=False,
    )


def _by_title(findings: Any) -> dict[str, Any]:
    return {f.title: f for f in findings}


# --- choosing the documents -----------------------------------------------------------------------


def test_default_globs_pick_changed_markdown_under_design_paths_only() -> None:
    files = _files()
    assert [f.path for f in design_doc_files(files, DEFAULT_GLOBS)] == [UPLOAD, ADR]  # not notes.md, not deleted


def test_globs_are_honoured_with_negation_and_any_depth_suffix() -> None:
    extra = parse_diff(
        "--- /dev/null\n+++ b/svc/api/auth.design.md\n@@ -0,0 +1 @@\n+# Auth\n"
        "--- /dev/null\n+++ b/rfcs/0002.markdown\n@@ -0,0 +1 @@\n+# RFC\n"
        "--- /dev/null\n+++ b/rfcs/diagram.txt\n@@ -0,0 +1 @@\n+box\n"
    )
    files = [*_files(), *extra]
    chosen = [f.path for f in design_doc_files(files, DEFAULT_GLOBS)]
    assert chosen == [UPLOAD, ADR, "svc/api/auth.design.md", "rfcs/0002.markdown"]
    assert [f.path for f in design_doc_files(files, ["docs/**", "!docs/adr/**"])] == [UPLOAD, "docs/notes.md"]
    assert design_doc_files(files, []) == []
    assert [f.path for f in design_doc_files(files, ["rfcs/[z-a]*", "rfcs/**"])] == ["rfcs/0002.markdown"]


def test_document_text_prefers_matching_contents_and_rebuilds_added_files() -> None:
    upload, adr = design_doc_files(_files(), DEFAULT_GLOBS)
    assert document_text(upload, None) == (NEW_DOC, None)
    assert document_text(adr, ADR_TEXT) == (ADR_TEXT, None)
    assert document_text(adr, None) == (None, "design doc not reviewed: full document not available")
    stale = ADR_TEXT.replace("Use Redis lists.", "Use Kafka.")
    assert document_text(adr, stale)[0] is None and "does not match" in (document_text(adr, stale)[1] or "")
    assert document_text(upload, "something else\n") == (NEW_DOC, None)  # the diff is the truth for an added file


# --- the engine -----------------------------------------------------------------------------------


def test_prepare_keeps_design_docs_out_of_the_code_chunks_and_names_them() -> None:
    request = _request(_files())
    prepared = prepare(request)
    chunked = {f.path for chunk in prepared.plan.chunks for f in chunk.files}
    assert chunked == {"app/api.py", "docs/notes.md"}
    assert [f.path for f in prepared.design_docs] == [UPLOAD, ADR]
    reasons = {n.path: n.reason for n in prepared.plan.not_reviewed}
    assert reasons[UPLOAD] == REASON_DESIGN_DOC and reasons[ADR] == REASON_DESIGN_DOC
    assert reasons["docs/design/old.md"] == "deleted"
    assert all("Upload service" not in prompt for prompt in chunk_prompts(request, prepared))


def test_custom_globs_and_ignore_decide_what_is_a_design_doc() -> None:
    files = _files()
    prepared = prepare(_request(files, design_docs=DesignDocsConfig(paths=("docs/notes.md",))))
    assert [f.path for f in prepared.design_docs] == ["docs/notes.md"]
    assert UPLOAD in {f.path for chunk in prepared.plan.chunks for f in chunk.files}
    ignored = prepare(_request(files, review=ReviewConfig(ignore=("docs/adr/**",))))
    assert [f.path for f in ignored.design_docs] == [UPLOAD]
    assert {n.path: n.reason for n in ignored.plan.not_reviewed}[ADR].startswith("ignored by config")


async def test_review_places_design_findings_inline_or_on_the_file() -> None:
    api = FakeAPI()
    result = await review(_request(_files()), model=api.model())
    assert len(api.by_tool(REVIEW_TOOL_NAME)) == 1 and len(api.by_tool(DESIGN_REVIEW_TOOL_NAME)) == 2
    upload_prompt = next(u for u in api.by_tool(DESIGN_REVIEW_TOOL_NAME) if "Upload service" in u)
    assert "5 | No auth yet." in upload_prompt  # numbered: findings come back with the document's lines
    assert all("Upload service" not in u for u in api.by_tool(REVIEW_TOOL_NAME))

    found = _by_title(result.findings)
    inline = found["Uploads are unauthenticated"]
    assert (inline.path, inline.line, inline.placement, inline.source) == (UPLOAD, 5, Placement.INLINE, Source.MODEL)
    # a line the document does not have is the model's invention: kept on the file, never cited as a line
    assert (found["Line past the end"].placement, found["Line past the end"].line) == (Placement.FILE, None)
    assert (found["No SLO"].placement, found["No SLO"].path) == (Placement.FILE, UPLOAD)
    on_hunk = found["Redis lists lose messages on failover"]
    assert (on_hunk.path, on_hunk.line, on_hunk.placement) == (ADR, 7, Placement.INLINE)
    outside = found["Context does not state volume"]
    assert (outside.line, outside.placement) == (4, Placement.FILE)  # a line the diff does not show

    assert result.summary.startswith("The code change adds an import.")
    assert f"### Design doc: `{UPLOAD}`" in result.summary and f"### Design doc: `{ADR}`" in result.summary
    assert "An upload service; the biggest risk is missing auth." in result.summary
    assert "#### Summary" in result.summary and "archbot · design review" not in result.summary
    assert "Uploads are unauthenticated" not in result.summary  # findings are listed by the summary renderer
    assert result.usage.calls == 3 and result.usage.input_tokens == 3000
    assert result.files_reviewed == 4 and result.errors == []
    assert {n.path for n in result.not_reviewed} == {"docs/design/old.md"}


async def test_modified_doc_without_its_text_is_named_not_guessed() -> None:
    api = FakeAPI()
    result = await review(_request(_files(), contents={}), model=api.model())
    assert len(api.by_tool(DESIGN_REVIEW_TOOL_NAME)) == 1
    reasons = {n.path: n.reason for n in result.not_reviewed}
    assert reasons[ADR] == "design doc not reviewed: full document not available"
    assert f"### Design doc: `{ADR}`" not in result.summary


async def test_without_a_model_design_docs_are_named_as_not_reviewed() -> None:
    result = await review(_request(_files()), model=None)
    reasons = {n.path: n.reason for n in result.not_reviewed}
    assert reasons[UPLOAD] == REASON_NEEDS_MODEL and reasons[ADR] == REASON_NEEDS_MODEL
    assert REASON_DESIGN_DOC not in reasons.values()
    assert result.summary == "" and result.findings == [] and result.files_reviewed == 0


async def test_a_failed_doc_is_an_error_and_the_others_go_on() -> None:
    api = FakeAPI(fail_on="Redis lists")
    result = await review(_request(_files()), model=api.model())
    assert [e for e in result.errors if ADR in e] == [
        f"design doc {ADR}: model call failed (LLMError) via {DESIGN_REVIEW_TOOL_NAME}"
    ]
    assert {n.path: n.reason for n in result.not_reviewed}[ADR].startswith("design doc not reviewed: model call")
    assert "Uploads are unauthenticated" in _by_title(result.findings)
    assert f"### Design doc: `{UPLOAD}`" in result.summary and result.files_reviewed == 3


async def test_a_declined_doc_is_named_and_the_others_go_on() -> None:
    api = FakeAPI(refuse_on="Redis lists")
    result = await review(_request(_files()), model=api.model())
    assert {n.path: n.reason for n in result.not_reviewed}[ADR] == "design doc not reviewed: the model declined"
    declined = f"design doc {ADR}: the model declined via {DESIGN_REVIEW_TOOL_NAME}"
    assert [e for e in result.errors if ADR in e] == [declined]
    assert "Uploads are unauthenticated" in _by_title(result.findings)
    assert len(api.by_tool(DESIGN_REVIEW_TOOL_NAME)) == 2  # one call per document: a refusal is not retried


# --- review_design_docs directly ------------------------------------------------------------------


async def test_spend_limit_stops_the_documents_not_yet_started() -> None:
    files = design_doc_files(_files(), DEFAULT_GLOBS)
    api = FakeAPI(fail_on="Upload service", fail_status=429, fail_kind="rate_limit_error")
    out = await review_design_docs(
        api.model(), files, {ADR: ADR_TEXT}, instructions="", anchor_files=_files(), concurrency=1
    )
    assert len(api.bodies) == 1  # the ADR was never sent
    assert [n.reason for n in out.not_reviewed] == ["design doc not reviewed: skipped: model spend limit reached"] * 2
    assert len(out.errors) == 2 and out.sections == [] and out.findings == []


async def test_docs_past_max_docs_are_named_and_long_docs_are_cut_and_say_so() -> None:
    files = design_doc_files(_files(), DEFAULT_GLOBS)
    long_adr = ADR_TEXT + "".join(f"Padding line {n}.\n" for n in range(400))
    api = FakeAPI()
    out = await review_design_docs(
        api.model(),
        files[::-1],
        {ADR: long_adr},
        instructions="Be brief.",
        anchor_files=_files(),
        max_docs=1,
        max_doc_chars=2_000,
    )
    assert [n.path for n in out.not_reviewed] == [UPLOAD]
    assert "limit of 1 design docs" in out.not_reviewed[0].reason
    sent = api.by_tool(DESIGN_REVIEW_TOOL_NAME)
    assert len(sent) == 1 and "Padding line 399." not in sent[0] and "Be brief." in sent[0]
    assert [path for path, _ in out.sections] == [ADR]
    assert "too long for one pass" in out.sections[0][1]
    assert out.usage.calls == 1


def test_section_is_demoted_and_shortened_outside_code() -> None:
    review_out = DesignReviewOutput.model_validate(
        _review("S" * 50, [])
        | {"risks": [{"kind": "security", "risk": "x", "mitigation": "```python\n## not a heading\n```"}]}
    )
    text = render_section(review_out)
    assert text.startswith("#### Summary") and "\n##### 🔒 Security" in text
    assert "\n  ## not a heading" in text  # text inside a list item is left alone
    assert "\n#### Checklist" in text and "\n## " not in text.replace("  ## not", "")
    short = render_section(review_out, max_chars=400)
    assert len(short) <= 400 and short.endswith(SHORTENED_NOTE)
    assert short.count("```") % 2 == 0  # never cut inside a fence


def test_section_never_cuts_inside_a_code_block_and_leaves_code_headings_alone() -> None:
    code = "\n".join(f"## code line {n}" for n in range(40))
    review_out = DesignReviewOutput.model_validate(_review(f"Intro.\n\n```text\n{code}\n```\n\nAfter.", []))
    text = render_section(review_out)
    assert "\n## code line 0\n" in text and text.startswith("#### Summary")
    short = render_section(review_out, max_chars=300)
    assert short == f"#### Summary\n\nIntro.\n\n{SHORTENED_NOTE}"
