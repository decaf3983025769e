"""The review of one diff, independent of where it came from (CLI, Action, App).

Order (DESIGN, steps 4-6): filter files, run the static engine on changed Python, pack hunks into
chunks under the token budget, ask the model chunk by chunk with the static findings as facts, then
validate every finding against the diff, fuse static and model findings and dedupe.

Markdown design docs (``design_docs.paths``) are kept out of the code chunks and reviewed with the
design prompt instead (:mod:`app.design.docs`), concurrently with the chunks; their findings
join the others and each document's review is appended to the summary.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace

from app.design.docs import (
    REASON_DESIGN_DOC,
    REASON_NEEDS_MODEL,
    DesignDocsResult,
    design_doc_files,
    review_design_docs,
)
from app.repo_config import RepoConfig
from app.review.autofix import add_deterministic_fixes
from app.review.budget import Chunk, ReviewPlan, plan_review
from app.review.context import RepoIndex, build_chunk_context
from app.review.diff import FileDiff, FileStatus, filter_files
from app.review.findings import fuse_static_and_model, merge_findings, validate_findings
from app.review.model_api import (
    DECLINED_REASON,
    REVIEW_TOOL_NAME,
    LLMError,
    ModelDeclined,
    ReviewModel,
    SpendLimitError,
)
from app.review.models import (
    CallFailure,
    DismissedStatic,
    Finding,
    ModelReview,
    NotReviewed,
    Placement,
    ReviewResult,
    Side,
    TokenUsage,
)
from app.review.prompts import load_prompt, render_task
from app.review.read_tools import ReadAccess
from app.review.repo_files import NO_REPO_FILES, RepoFiles
from app.review.sanitize import redact_secrets
from app.review.suggestions import verify_suggestions
from app.static import ChangedPython, StaticReport, analyse

MAX_FINDINGS_PER_CHUNK = 15


@dataclass(frozen=True)
class Budgets:
    """Token limits of one review: per model call and for the whole review."""

    chunk_tokens: int = 12_000
    review_tokens: int = 120_000


@dataclass(frozen=True)
class ReviewRequest:
    """What to review. ``anchor_files`` is the whole PR diff (inline comments must sit on its lines);
    ``review_files`` is what to look at now (the same, or only the commits since the last review)."""

    anchor_files: Sequence[FileDiff]
    review_files: Sequence[FileDiff]
    contents: Mapping[str, str | None] = field(default_factory=dict)  # path -> new text (None: unknown)
    config: RepoConfig = field(default_factory=RepoConfig)
    title: str = ""
    body: str = ""
    budgets: Budgets = field(default_factory=Budgets)
    run_static: bool = True
    content_problems: Mapping[str, str] = field(default_factory=dict)  # path -> why its text is not usable
    repo_files: RepoFiles = NO_REPO_FILES  # the head revision's other files, for review context


@dataclass
class Prepared:
    """The review before the model: kept files, static report, the chunk plan.

    ``kept`` holds every file that passed the filters, design docs included; ``design_docs`` are the
    ones reviewed with the design prompt instead of in the chunks (``plan.not_reviewed`` names them
    with :data:`~app.design.docs.REASON_DESIGN_DOC`, so a dry run shows where they went).
    """

    kept: list[FileDiff]
    plan: ReviewPlan
    static: StaticReport
    static_findings: list[Finding]
    design_docs: list[FileDiff] = field(default_factory=list)


REASON_NO_FULL_TEXT = "full file not available for static checks"


def is_changed_python(f: FileDiff) -> bool:
    """A Python file with added lines: what the static engine looks at."""
    return f.path.endswith((".py", ".pyi")) and bool(f.added_lines)


def changed_python(
    files: Sequence[FileDiff], contents: Mapping[str, str | None], problems: Mapping[str, str] | None = None
) -> tuple[list[ChangedPython], list[NotReviewed]]:
    """The Python files the static engine can analyse, and those it cannot (no usable full text).

    ``problems`` says why a file's text is missing (a checkout at another revision, say); a new
    file's text is rebuilt from the diff itself, which holds all of it.
    """
    ready: list[ChangedPython] = []
    missing: list[NotReviewed] = []
    for f in files:
        if not is_changed_python(f):
            continue
        text = contents.get(f.path)
        if text is None and f.status is FileStatus.ADDED:
            text = "\n".join(line.text for hunk in f.hunks for line in hunk.lines if line.kind != "-") + "\n"
        if text is None:
            reason = (problems or {}).get(f.path, REASON_NO_FULL_TEXT)
            missing.append(NotReviewed(path=f.path, reason=reason))
            continue
        ready.append(ChangedPython(path=f.path, source=text, changed_lines=frozenset(f.added_lines)))
    return ready, missing


def place_static(findings: Sequence[Finding], files: Sequence[FileDiff]) -> list[Finding]:
    """Static findings point at changed lines of the new file; keep them inline only where the PR diff
    has that line on the RIGHT side, otherwise they stay file-level (summary + annotation)."""
    by_path = {f.path: f for f in files}
    placed: list[Finding] = []
    for finding in findings:
        diff = by_path.get(finding.path or "")
        if diff is None:
            placed.append(finding.model_copy(update={"placement": Placement.GENERAL}))
            continue
        start = finding.start_line or finding.line
        lines = range(start, (finding.line or 0) + 1) if start else range(0)
        inline = (
            bool(lines)
            and finding.line in diff.right_lines
            and (diff.hunk_for(Side.RIGHT, start or 0) is diff.hunk_for(Side.RIGHT, finding.line or 0))
        )
        if inline:
            placed.append(finding.model_copy(update={"placement": Placement.INLINE, "side": Side.RIGHT}))
        else:
            placed.append(finding.model_copy(update={"placement": Placement.FILE, "start_line": None}))
    return placed


def context_budget(request: ReviewRequest) -> int:
    """Tokens of each model call kept for repository context (``review.context_share``)."""
    return int(request.budgets.chunk_tokens * request.config.review.context_share)


def head_texts(files: Sequence[FileDiff], contents: Mapping[str, str | None]) -> dict[str, str]:
    """The new text of every changed file that has one (a new file's is rebuilt from its diff)."""
    texts = {path: text for path, text in contents.items() if text is not None}
    for f in files:
        if f.path not in texts and f.status is FileStatus.ADDED:
            texts[f.path] = "\n".join(line.text for hunk in f.hunks for line in hunk.lines if line.kind != "-") + "\n"
    return texts


def repo_index(request: ReviewRequest) -> RepoIndex:
    """The head revision's Python files as the context builder reads them: the changed files' texts
    first, then :attr:`ReviewRequest.repo_files` (the working tree, or the blobs App mode fetched)."""
    changed = head_texts(request.review_files, request.contents)
    files = request.repo_files

    def read(path: str) -> str | None:
        return changed[path] if path in changed else files.read(path)

    return RepoIndex(read, files.paths(), sorted(changed))


def with_context(plan: ReviewPlan, request: ReviewRequest) -> ReviewPlan:
    """``plan`` with every chunk's repository context built (nothing when the share is 0)."""
    budget = context_budget(request)
    if budget <= 0 or not plan.chunks:
        return plan
    repo = repo_index(request)
    full = request.budgets.chunk_tokens
    chunks = tuple(
        replace(c, context=build_chunk_context(c.files, repo, min(budget, max(0, full - c.tokens))))
        for c in plan.chunks
    )
    return replace(plan, chunks=chunks)


def _hunks_planned(plan: ReviewPlan) -> int:
    return sum(len(f.hunks) for c in plan.chunks for f in c.files)


def plan_with_context_room(
    code: Sequence[FileDiff], skipped: Sequence[NotReviewed], request: ReviewRequest
) -> ReviewPlan:
    """Pack the diff leaving each call its context share; when that would leave out hunks a whole
    chunk holds, pack at the full budget instead (the diff comes first: context then gets what each
    call has left, up to its share)."""
    cfg, budgets = request.config.review, request.budgets

    def plan(chunk_budget: int) -> ReviewPlan:
        return plan_review(
            code, skipped, chunk_budget=chunk_budget, review_budget=budgets.review_tokens, max_files=cfg.max_files
        )

    reserved = context_budget(request)
    roomy = plan(budgets.chunk_tokens - reserved)
    if reserved <= 0:
        return roomy
    full = plan(budgets.chunk_tokens)
    return full if _hunks_planned(full) > _hunks_planned(roomy) else roomy


def prepare(request: ReviewRequest) -> Prepared:
    """Everything before the model: pure but for the static engine's ruff subprocess and the reads of
    ``request.repo_files`` (the working tree in the CLI and the Action)."""
    cfg = request.config.review
    kept, skipped = filter_files(request.review_files, cfg.ignore)
    docs = design_doc_files(kept, request.config.design_docs.paths)
    doc_paths = {f.path for f in docs}
    code = [f for f in kept if f.path not in doc_paths]
    static = StaticReport(findings=[], not_analysed=[], rules_run=0)
    missing: list[NotReviewed] = []
    if request.run_static:
        ready, missing = changed_python(code, request.contents, request.content_problems)
        if ready:
            static = analyse(ready, test_paths=cfg.test_paths)
    plan = plan_with_context_room(
        code, [*skipped, *(NotReviewed(path=f.path, reason=REASON_DESIGN_DOC) for f in docs)], request
    )
    plan = with_context(plan, request)
    static = StaticReport(static.findings, [*static.not_analysed, *missing], static.rules_run)
    return Prepared(
        kept=kept,
        plan=plan,
        static=static,
        static_findings=place_static(static.findings, request.anchor_files),
        design_docs=docs,
    )


def _chunk_static(findings: Sequence[Finding], chunk: Chunk) -> list[Finding]:
    """The static findings on the files of ``chunk``: what its prompt shows the model."""
    paths = {f.path for f in chunk.files}
    return [f for f in findings if f.path in paths]


def _static_facts(findings: Sequence[Finding], chunk: Chunk) -> str:
    facts = [
        {"rule": f.rule_id, "path": f.path, "line": f.line, "category": str(f.category), "title": f.title}
        for f in _chunk_static(findings, chunk)
    ]
    return json.dumps(facts, indent=1) if facts else "(none)"


def _context_text(chunk: Chunk) -> str:
    return chunk.context.render() if chunk.context is not None else "(none)"


def not_on_context(findings: Sequence[Finding], chunk: Chunk) -> list[Finding]:
    """Inline findings anchored on a line the chunk showed only as context (not in its diff) become
    file-level: context is never commentable, even when another chunk's diff has that line."""
    if chunk.context is None or not chunk.context.lines:
        return list(findings)
    diff_lines = {f.path: {n for h in f.hunks for n in h.right_lines} for f in chunk.files}
    out = []
    for finding in findings:
        path, line = finding.path or "", finding.line or 0
        on_context = line in chunk.context.lines.get(path, frozenset()) and line not in diff_lines.get(path, set())
        if finding.placement is Placement.INLINE and finding.side is Side.RIGHT and on_context:
            out.append(finding.model_copy(update={"placement": Placement.FILE, "start_line": None, "suggestion": None}))
        else:
            out.append(finding)
    return out


def chunk_prompts(request: ReviewRequest, prepared: Prepared) -> list[str]:
    """The user prompt of every chunk; untrusted text is fenced and secrets are redacted."""
    pr_text = redact_secrets(f"Title: {request.title}\n\n{request.body}".strip())
    instructions = redact_secrets(request.config.review.instructions) or "(none)"
    count = len(prepared.plan.chunks)
    return [
        render_task(
            "review_pr",
            variables={
                "chunk_index": str(chunk.index + 1),
                "chunk_count": str(count),
                "max_findings": str(MAX_FINDINGS_PER_CHUNK),
            },
            data={
                "pull_request": ("pull-request", pr_text or "(none)"),
                "repo_instructions": ("repository-config", instructions),
                "static_findings": ("static-analysis", redact_secrets(_static_facts(prepared.static_findings, chunk))),
                "chunk": ("diff", redact_secrets(chunk.render())),
                "context": ("repository-context", redact_secrets(_context_text(chunk))),
            },
        )
        for chunk in prepared.plan.chunks
    ]


async def review(
    request: ReviewRequest,
    *,
    model: ReviewModel | None,
    prepared: Prepared | None = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> ReviewResult:
    """Run the whole review; without a model, the static findings alone (the offline review).

    With a model, the code chunks and the design docs are reviewed concurrently; without one, the
    design docs are named as not reviewed.
    """
    prepared = prepared or prepare(request)
    plan = prepared.plan
    usage = TokenUsage()
    summaries: list[str] = []
    errors: list[str] = []
    model_findings: list[Finding] = []
    dismissed: list[DismissedStatic] = []
    doc_paths = {f.path for f in prepared.design_docs}
    not_reviewed = [n for n in plan.not_reviewed if not (n.reason == REASON_DESIGN_DOC and n.path in doc_paths)]
    if model is None:
        not_reviewed += [NotReviewed(path=f.path, reason=REASON_NEEDS_MODEL) for f in prepared.design_docs]
        outcomes: list[ModelReview | LLMError] = []
        docs = DesignDocsResult()
    else:
        (outcomes, usage), docs = await _run_model(request, prepared, model, on_progress)
    model_paths: set[str] = {path for path, _ in docs.sections}
    failed: list[tuple[Chunk, LLMError]] = []
    if outcomes:
        for chunk, outcome in zip(plan.chunks, outcomes, strict=True):
            if isinstance(outcome, ModelReview):
                summaries.append(outcome.summary)
                placed = validate_findings(
                    outcome.findings, request.anchor_files, static=_chunk_static(prepared.static_findings, chunk)
                )
                model_findings += not_on_context(placed, chunk)
                dismissed += outcome.dismissed_static
                model_paths.update(f.path for f in chunk.files)
                continue
            failed.append((chunk, outcome))
            errors.append(_chunk_error(chunk, outcome))
            not_reviewed += [NotReviewed(path=f.path, reason=_reason(outcome), hunks=len(f.hunks)) for f in chunk.files]
    findings = fuse_static_and_model(prepared.static_findings, model_findings, dismissed)
    python_files = [f.path for f in prepared.kept if is_changed_python(f)]
    unanalysed = {n.path for n in prepared.static.not_analysed}
    analysed = {p for p in python_files if p not in unanalysed} if request.run_static else set()
    summaries += [f"### Design doc: {_code_span(path)}\n\n{section}" for path, section in docs.sections]
    return ReviewResult(
        summary="\n\n".join(s.strip() for s in summaries if s.strip()),
        findings=_with_fixes(merge_findings(findings, docs.findings), request),
        not_reviewed=[*not_reviewed, *docs.not_reviewed],
        not_analysed=prepared.static.not_analysed,
        usage=usage + docs.usage,
        model=model.config.model if model is not None else None,
        errors=[*errors, *docs.errors],
        failures=_group_failures(failed),
        files_reviewed=len(model_paths | analysed),
        files_analysed=len(analysed),
        python_files=len(python_files),
        model_calls=len(outcomes),
        model_calls_failed=sum(1 for outcome in outcomes if isinstance(outcome, LLMError)),
    )


def _with_fixes(findings: list[Finding], request: ReviewRequest) -> list[Finding]:
    """Deterministic fixes added, then every suggestion verified against the head text (issue 19)."""
    fixed = add_deterministic_fixes(findings, request.contents)
    return verify_suggestions(fixed, request.anchor_files, request.contents)


async def _run_model(
    request: ReviewRequest,
    prepared: Prepared,
    model: ReviewModel,
    on_progress: Callable[[int, int], None] | None,
) -> tuple[tuple[list[ModelReview | LLMError], TokenUsage], DesignDocsResult]:
    """The code chunks and the design docs, reviewed concurrently; both settle before an error is raised."""

    async def code() -> tuple[list[ModelReview | LLMError], TokenUsage]:
        if not prepared.plan.chunks:
            return [], TokenUsage()
        return await model.review_chunks(
            system=load_prompt("persona"),
            users=chunk_prompts(request, prepared),
            on_progress=on_progress,
            reads=read_access(request),
        )

    async def design() -> DesignDocsResult:
        if not prepared.design_docs:
            return DesignDocsResult()
        return await review_design_docs(
            model,
            prepared.design_docs,
            request.contents,
            instructions=request.config.review.instructions,
            anchor_files=request.anchor_files,
        )

    chunks, docs = await asyncio.gather(code(), design(), return_exceptions=True)
    if isinstance(chunks, BaseException):
        raise chunks
    if isinstance(docs, BaseException):
        raise docs
    return chunks, docs


def read_access(request: ReviewRequest) -> ReadAccess | None:
    """The model's read tools when the repository opted in (``review.agentic``), else None."""
    cfg = request.config.review
    if not cfg.agentic or cfg.agentic_max_calls == 0:
        return None
    return ReadAccess(request.repo_files, max_calls=cfg.agentic_max_calls, max_tokens=cfg.agentic_max_tokens)


def _code_span(text: str) -> str:
    """``text`` as a Markdown code span, on one line, with a fence longer than any backtick run in it."""
    flat = " ".join(text.split())
    longest = max((len(run) for run in re.findall(r"`+", flat)), default=0)
    ticks = "`" * (longest + 1)
    pad = " " if flat.startswith("`") or flat.endswith("`") else ""
    return f"{ticks}{pad}{flat}{pad}{ticks}"


def _reason(error: LLMError) -> str:
    """Why a failed chunk's files were not reviewed (``NotReviewed.reason``)."""
    if isinstance(error, SpendLimitError):
        return "skipped: model spend limit reached"
    if isinstance(error, ModelDeclined):
        return DECLINED_REASON
    return f"model call failed ({error.__class__.__name__})"


def _group_failures(failed: Sequence[tuple[Chunk, LLMError]]) -> list[CallFailure]:
    """Failed calls grouped by error class and message, in the order they first appear."""
    groups: dict[tuple[str, str], CallFailure] = {}
    for chunk, error in failed:
        key = (type(error).__name__, str(error))
        seen = groups.get(key)
        files = len(chunk.files) + (seen.files if seen else 0)
        groups[key] = CallFailure(kind=key[0], message=key[1], chunks=(seen.chunks if seen else 0) + 1, files=files)
    return list(groups.values())


def _chunk_error(chunk: Chunk, error: LLMError) -> str:
    """The line in the review's error list for a failed chunk (the files are named in not-reviewed)."""
    if isinstance(error, ModelDeclined):
        return (
            f"chunk {chunk.index + 1} ({len(chunk.files)} files): the model declined to review it "
            f"(answered without calling {REVIEW_TOOL_NAME}); its files are listed as not reviewed"
        )
    return f"chunk {chunk.index + 1} ({len(chunk.files)} files): {_reason(error)} via {REVIEW_TOOL_NAME}"
