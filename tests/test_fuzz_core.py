"""Property-based fuzzing (hypothesis) of the pure core: the diff parser on arbitrary and mutated real diffs,
budget packing, finding validation, the sanitizer, the renderers (Markdown, SARIF, annotations), the repo
config loader and the command parser.

Properties: nothing raises but the documented errors; every inline finding sits on a commentable line of
its side; every rendered text fits GitHub's limits; the sanitizer and the secret redaction are idempotent.
``FUZZ_EXAMPLES`` (default 300) sets the examples per property; the test ids say what each one covers.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.commands import parse_command
from app.repo_config import parse_repo_config
from app.review.budget import estimate_tokens, plan_review
from app.review.diff import DiffParseError, FileDiff, parse_diff
from app.review.findings import validate_findings
from app.review.models import (
    Category,
    Finding,
    ModelFinding,
    NotReviewed,
    Placement,
    ReviewResult,
    Severity,
    Side,
    Source,
    SuggestionCheck,
)
from app.review.render import (
    ANNOTATION_MAX_BYTES,
    ANNOTATION_TITLE_MAX_CHARS,
    CHECK_SUMMARY_MAX_CHARS,
    SUMMARY_MAX_CHARS,
    render_annotations,
    render_check_output,
    render_inline_comment,
    render_markdown_review,
    render_sarif,
    render_summary,
)
from app.review.sanitize import redact_secrets, sanitize_markdown

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "300"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
COMMENT_MAX_CHARS = 65_536  # GitHub's limit for a comment body (review comments too)
FIXTURES = Path(__file__).parent / "fixtures"
REAL_DIFFS = [
    *(p.read_text(encoding="utf-8") for p in sorted((FIXTURES / "prs").glob("*.patch"))),
    *(p.read_text(encoding="utf-8", errors="replace") for p in sorted((FIXTURES / "diffs").glob("*")) if p.is_file()),
]
DIFF_ALPHABET = st.sampled_from([*"+- @\\\n\tabc/.,0123456789:", "diff --git a/x b/x\n", "@@ -1,2 +1,3 @@\n"])


def _safe_parse(text: str) -> list[FileDiff]:
    try:
        return parse_diff(text)
    except DiffParseError:
        return []


REAL_FILES = [f for text in REAL_DIFFS for f in _safe_parse(text)]
PATHS = sorted({f.path for f in REAL_FILES}) or ["app.py"]

text_any = st.text(max_size=3000)
MARKDOWN_PIECES = [
    *"abc xyz\n\t`*_[]()!<>@#/:.-=\"'\\|~",
    "http://evil.example/x",
    "https://github.com/o/r",
    "<img src=x>",
    "<!-- archbot:summary -->",
    "```",
    "@team",
    "[x](",
    "![a](",
    "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8",
]
markdownish = st.lists(st.sampled_from(MARKDOWN_PIECES), max_size=200).map("".join) | st.text(max_size=2000)


# -- diff parser --------------------------------------------------------------------------------------------


@FUZZ
@given(st.text(max_size=4000) | st.lists(DIFF_ALPHABET, max_size=400).map("".join))
def test_parse_diff_on_arbitrary_text_raises_only_diff_parse_error(text: str) -> None:
    try:
        files = parse_diff(text)
    except DiffParseError:
        return
    for f in files:
        for hunk in f.hunks:
            assert hunk.right_lines <= f.right_lines and hunk.left_lines <= f.left_lines


@st.composite
def mutated_diff(draw: st.DrawFn) -> str:
    lines = draw(st.sampled_from(REAL_DIFFS)).split("\n")
    for _ in range(draw(st.integers(1, 6))):
        if not lines:
            break
        index = draw(st.integers(0, len(lines) - 1))
        action = draw(st.sampled_from(["drop", "dup", "edit", "insert", "swap"]))
        if action == "drop":
            del lines[index]
        elif action == "dup":
            lines.insert(index, lines[index])
        elif action == "edit":
            line = lines[index]
            cut = draw(st.integers(0, len(line)))
            lines[index] = line[:cut] + draw(st.text(max_size=8)) + line[cut + 1 :]
        elif action == "insert":
            lines.insert(index, draw(st.sampled_from(["+", "-", " ", "@@ -1 +1 @@", "\\ No newline", "diff --git"])))
        else:
            other = draw(st.integers(0, len(lines) - 1))
            lines[index], lines[other] = lines[other], lines[index]
    return "\n".join(lines)


@FUZZ
@given(mutated_diff())
def test_parse_diff_on_mutated_real_diffs(text: str) -> None:
    try:
        files = parse_diff(text)
    except DiffParseError:
        return
    for f in files:
        assert f.path
        for line in f.added_lines:
            assert line in f.right_lines


# -- budget packing -------------------------------------------------------------------------------------------


@FUZZ
@given(
    st.lists(st.sampled_from(REAL_FILES), max_size=12, unique_by=lambda f: f.path),
    st.integers(200, 20_000),
    st.integers(200, 200_000),
    st.none() | st.integers(0, 10),
)
def test_plan_review_packs_within_budgets_and_names_the_rest(
    files: list[FileDiff], chunk_budget: int, review_budget: int, max_files: int | None
) -> None:
    plan = plan_review(files, chunk_budget=chunk_budget, review_budget=review_budget, max_files=max_files)
    assert plan.total_tokens == sum(c.tokens for c in plan.chunks) <= review_budget
    for chunk in plan.chunks:
        assert chunk.tokens == estimate_tokens(chunk.render()) <= chunk_budget
    in_chunks = {cf.path for c in plan.chunks for cf in c.files}
    named = {n.path for n in plan.not_reviewed}
    for f in files:
        if f.hunks:
            assert f.path in in_chunks or f.path in named, f.path


# -- finding validation ---------------------------------------------------------------------------------------


model_findings = st.builds(
    ModelFinding,
    path=st.sampled_from([*PATHS, "", "a/" + PATHS[0], "./" + PATHS[0], "/" + PATHS[0], "nope.py"])
    | st.text(max_size=30),
    line=st.none() | st.integers(1, 400),
    start_line=st.none() | st.integers(1, 400),
    side=st.sampled_from(Side),
    severity=st.sampled_from(Severity),
    category=st.sampled_from(Category),
    title=st.text(min_size=3, max_size=160),
    rationale=st.text(min_size=3, max_size=600),
    suggestion=st.none() | st.text(max_size=200),
    static_rule=st.none() | st.sampled_from(["ARCH101", "ARCH108", "free text"]),
)


@FUZZ
@given(st.lists(model_findings, max_size=10), st.lists(st.sampled_from(REAL_FILES), min_size=1, max_size=6))
def test_every_inline_finding_is_on_a_commentable_line(found: list[ModelFinding], files: list[FileDiff]) -> None:
    placed = validate_findings(found, files)
    assert len(placed) == len(found)  # none dropped
    by_path = {f.path: f for f in files}
    for finding in placed:
        if finding.placement is Placement.INLINE:
            diff = by_path[finding.path or ""]
            lines = diff.lines_on(finding.side)
            assert finding.line in lines
            if finding.start_line is not None:
                assert finding.start_line < (finding.line or 0) and finding.start_line in lines
        committable_place = finding.placement is Placement.INLINE and finding.side is Side.RIGHT
        if finding.suggestion is not None and not committable_place:
            # kept to be shown as a plain diff, never committable: only a RIGHT line of the diff takes one
            assert finding.fix is not None and finding.fix.check is not SuggestionCheck.COMMITTABLE


# -- sanitizer and redaction ----------------------------------------------------------------------------------


@FUZZ
@given(markdownish, st.booleans(), st.integers(50, 70_000))
def test_sanitizer_is_idempotent_and_bounded(text: str, inline: bool, max_chars: int) -> None:
    once = sanitize_markdown(text, inline=inline, max_chars=max_chars)
    assert sanitize_markdown(once, inline=inline, max_chars=max_chars) == once
    assert len(once) <= max_chars


@FUZZ
@given(text_any | markdownish)
def test_secret_redaction_is_idempotent(text: str) -> None:
    once = redact_secrets(text)
    assert redact_secrets(once) == once


# -- renderers ------------------------------------------------------------------------------------------------


findings = st.builds(
    Finding,
    path=st.none() | st.sampled_from(PATHS) | st.text(max_size=80),
    line=st.none() | st.integers(1, 10_000),
    start_line=st.none() | st.integers(1, 10_000),
    side=st.sampled_from(Side),
    severity=st.sampled_from(Severity),
    category=st.sampled_from(Category),
    title=st.text(max_size=400),
    rationale=markdownish | st.text(max_size=9000),
    suggestion=st.none() | st.text(max_size=3000),
    placement=st.sampled_from(Placement),
    source=st.sampled_from(Source),
    rule_id=st.none() | st.sampled_from(["ARCH101", "ruff:S101", "E501"]) | st.text(max_size=20),
    fingerprint=st.text(alphabet="0123456789abcdef", min_size=16, max_size=16),
)
results = st.builds(
    ReviewResult,
    summary=markdownish,
    findings=st.lists(findings, max_size=40),
    not_reviewed=st.lists(
        st.builds(NotReviewed, path=st.text(max_size=200), reason=st.text(max_size=200)), max_size=30
    ),
    errors=st.lists(st.text(max_size=300), max_size=5),
    model=st.none() | st.text(max_size=40),
)


@FUZZ
@given(results, st.none() | st.text(alphabet="0123456789abcdef", min_size=40, max_size=40))
def test_rendered_texts_fit_githubs_limits(result: ReviewResult, sha: str | None) -> None:
    summary = render_summary(result, head_sha=sha, posted_inline=[f.fingerprint for f in result.findings[:5]])
    assert len(summary) <= SUMMARY_MAX_CHARS
    output = render_check_output(result, conclusion_reason="severity threshold: high")
    assert len(output["summary"]) <= CHECK_SUMMARY_MAX_CHARS
    for finding in result.findings:
        assert len(render_inline_comment(finding)) <= COMMENT_MAX_CHARS
    for annotation in render_annotations(result.findings):
        assert len(annotation["message"].encode()) <= ANNOTATION_MAX_BYTES
        assert len(annotation.get("title", "")) <= ANNOTATION_TITLE_MAX_CHARS
        assert annotation["start_line"] >= 1 and annotation["end_line"] >= annotation["start_line"]
        assert annotation["annotation_level"] in ("failure", "warning", "notice")
    sarif = render_sarif(result, tool_version="0.0.0")
    json.dumps(sarif)
    assert sarif["version"] == "2.1.0" and len(sarif["runs"]) == 1
    assert isinstance(render_markdown_review(result), str)


# -- repo config and commands ---------------------------------------------------------------------------------


_CONFIG_KEYS = st.sampled_from(["review", "enabled", "ignore", "severity_threshold", "plan", "commands", "model", "x"])


def _nested(inner: st.SearchStrategy[object]) -> st.SearchStrategy[object]:
    return inner | st.lists(inner, max_size=4) | st.dictionaries(_CONFIG_KEYS | st.text(max_size=8), inner, max_size=4)


# three levels deep, built by hand (st.recursive's argument check is flaky on this shape)
yamlish = _nested(
    _nested(_nested(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20)))
)


@FUZZ
@given(st.one_of(st.text(max_size=500), yamlish.map(json.dumps), st.none()))
def test_repo_config_loader_never_raises(text: str | None) -> None:
    loaded = parse_repo_config(text)
    assert loaded.config is not None
    if loaded.problem is not None:
        assert isinstance(loaded.problem, str) and len(loaded.problem) < 5000


@FUZZ
@given(st.none() | st.text(max_size=300) | st.from_regex(r"\A/[a-z]{1,10}( --?[a-z]+){0,10}\s*\Z"))
def test_command_parser(body: str | None) -> None:
    command = parse_command(body)
    if command is not None:
        assert command.name and "/" not in command.name and len(command.name) <= 32
        assert len(command.args) <= 8
