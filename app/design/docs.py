"""Design documents changed in a pull request, reviewed with the design prompt instead of as code.

A Markdown file (``.md``/``.markdown``) under one of ``design_docs.paths`` is not packed into the
code chunks: :func:`review_design_docs` sends its whole new text, with numbered lines, to
:func:`app.design.engine.review_design`. Each finding of that review carries a line of the new
revision (the RIGHT side of the diff); it becomes a :class:`~app.review.models.ModelFinding` on the
document's path and goes through :func:`app.review.findings.validate_findings` against the whole
PR diff, so it is posted inline only on a commentable line of the document's diff and otherwise
stays a file-level finding in the summary. The rest of the review (summary, questions, risks,
trade-offs, missing requirements, checklist) is rendered by
:func:`app.design.render.render_design_review`, shortened to fit the PR's summary comment.

Nothing is dropped silently: a document without its full text, past ``max_docs``, or whose model
call failed is named in ``not_reviewed`` with the reason; failures are also listed in ``errors``.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from app.design.engine import DESIGN_REVIEW_TOOL_NAME, MAX_INPUT_CHARS, fit_text, review_design
from app.design.models import DesignReviewOutput, DocFinding
from app.design.render import render_design_review
from app.review.diff import FileDiff, FileStatus, glob_selector
from app.review.findings import validate_findings
from app.review.model_api import LLMError, ModelDeclined, ReviewModel, SpendLimitError
from app.review.models import Finding, ModelFinding, NotReviewed, Side, TokenUsage

__all__ = [
    "DEFAULT_SECTION_CHARS",
    "MARKDOWN_SUFFIXES",
    "REASON_DESIGN_DOC",
    "REASON_NEEDS_MODEL",
    "DesignDocsResult",
    "design_doc_files",
    "document_text",
    "failure_reason",
    "is_design_doc",
    "render_section",
    "review_design_docs",
]

MARKDOWN_SUFFIXES = (".md", ".markdown")
REASON_DESIGN_DOC = "reviewed as a design doc (design-review prompt), not with the code"
"""How :func:`app.review.engine.prepare` names a design doc it keeps out of the code chunks."""
REASON_NEEDS_MODEL = "design doc not reviewed: design review needs a model"
REASON_NO_TEXT = "design doc not reviewed: full document not available"
REASON_STALE_TEXT = "design doc not reviewed: full document does not match the diff"
REASON_EMPTY = "design doc not reviewed: the document is empty"
REASON_SPEND_LIMIT = "skipped: model spend limit reached"
DEFAULT_SECTION_CHARS = 3_500
"""Each document's rendered review in the PR summary is cut (at a line outside code) to this size."""
MIN_DOC_CHARS = 500
"""The smallest ``max_doc_chars``: room for some text and the note saying where it was cut."""
SHORTENED_NOTE = "_… the rest of this design review was shortened to fit the summary._"

_HEADING_RE = re.compile(r"^(#{1,6}) ")
_FENCE_RE = re.compile(r"(`{3,}|~{3,})")
_Fence = tuple[str, int]  # an open code fence: its opening mark and the column it starts at
_TITLE_LINE = "**archbot · design review**"
_FALLBACK_TITLE = "Design finding"
_FALLBACK_RATIONALE = "(no rationale given)"


@dataclass
class DesignDocsResult:
    """What the design review of a PR's documents produced, ready to merge into the code review.

    ``sections``: (path, Markdown) per reviewed document, in input order, for the summary comment.
    """

    findings: list[Finding] = field(default_factory=list)
    sections: list[tuple[str, str]] = field(default_factory=list)
    usage: TokenUsage = field(default_factory=TokenUsage)
    not_reviewed: list[NotReviewed] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def _doc_candidate(file: FileDiff) -> bool:
    """A changed Markdown file with hunks, not deleted, not binary."""
    if file.status in (FileStatus.REMOVED, FileStatus.BINARY, FileStatus.MODE_ONLY) or file.is_binary:
        return False
    return bool(file.hunks) and file.path.lower().endswith(MARKDOWN_SUFFIXES)


def is_design_doc(file: FileDiff, globs: Sequence[str]) -> bool:
    """A changed Markdown file, not deleted, with hunks, under one of the ``globs``."""
    return _doc_candidate(file) and glob_selector(globs)(file.path)


def design_doc_files(files: Sequence[FileDiff], globs: Sequence[str]) -> list[FileDiff]:
    """The files of ``files`` that are design docs (see :func:`is_design_doc`), in their order."""
    selected = glob_selector(globs)
    return [f for f in files if _doc_candidate(f) and selected(f.path)]


def _reconstructed(file: FileDiff) -> str | None:
    """An added file's text from its diff, when the hunks show every line from 1 on; else None."""
    if file.status is not FileStatus.ADDED:
        return None
    lines = [ln for hunk in file.hunks for ln in hunk.lines if ln.kind != "-"]
    if not lines or [ln.new_no for ln in lines] != list(range(1, len(lines) + 1)):
        return None
    return "\n".join(ln.text for ln in lines) + "\n"


def _agrees(text: str, file: FileDiff) -> bool:
    """Does every RIGHT-side line the diff shows have the same text in ``text`` at that number?"""
    lines = text.split("\n")
    for hunk in file.hunks:
        for ln in hunk.lines:
            if ln.kind == "-" or ln.new_no is None:
                continue
            if ln.new_no > len(lines) or lines[ln.new_no - 1].removesuffix("\r") != ln.text.removesuffix("\r"):
                return False
    return True


def document_text(file: FileDiff, content: str | None) -> tuple[str | None, str | None]:
    """(the document's new text, None), or (None, the reason it is not available).

    ``content`` (the full new text) is used when it agrees with the diff's RIGHT side, so that line
    numbers are the diff's; otherwise an added file is rebuilt from its diff.
    """
    if content is not None and _agrees(content, file):
        return content, None
    rebuilt = _reconstructed(file)
    if rebuilt is not None:
        return rebuilt, None
    return None, REASON_NO_TEXT if content is None else REASON_STALE_TEXT


def _model_finding(path: str, found: DocFinding) -> ModelFinding:
    title = found.title.strip()
    rationale = found.rationale.strip()
    return ModelFinding(
        path=path,
        line=found.line,
        side=Side.RIGHT,
        severity=found.severity,
        category=found.category,
        title=title if len(title) >= 3 else _FALLBACK_TITLE,
        rationale=rationale if len(rationale) >= 3 else (title if len(title) >= 3 else _FALLBACK_RATIONALE),
    )


def _fence_after(line: str, fence: _Fence | None) -> _Fence | None:
    """The code fence open after ``line`` (None outside code), given the one open before it.

    A fence inside a list item (indented) also ends where the item does: at a non-blank line
    indented less than the fence, as CommonMark ends a fenced block with its container.
    """
    text = line.lstrip(" ")
    column = len(line) - len(text)
    if fence is not None and text and column < fence[1]:
        fence = None
    opening = _FENCE_RE.match(text)
    if fence is None:
        return (opening.group(1), column) if opening is not None else None
    mark = fence[0]
    closes = opening is not None and text.rstrip() == opening.group(1) and opening.group(1)[0] == mark[0]
    return None if closes and len(text.rstrip()) >= len(mark) else fence


def _shorten(markdown: str, max_chars: int) -> str:
    """``markdown`` cut at a line outside any code fence so that it and the note fit ``max_chars``."""
    if len(markdown) <= max_chars:
        return markdown
    room = max_chars - len(SHORTENED_NOTE) - 2
    kept: list[str] = []
    cut_at = 0  # number of lines of the longest prefix that ends outside a fence and fits
    used = 0
    fence: _Fence | None = None
    for line in markdown.split("\n"):
        used += len(line) + 1
        if used > room:
            break
        kept.append(line)
        fence = _fence_after(line, fence)
        if fence is None:
            cut_at = len(kept)
    body = "\n".join(kept[:cut_at]).rstrip()
    return f"{body}\n\n{SHORTENED_NOTE}" if body else SHORTENED_NOTE


def render_section(out: DesignReviewOutput, *, note: str | None = None, max_chars: int = DEFAULT_SECTION_CHARS) -> str:
    """One document's design review for the PR summary, below a ``### Design doc`` heading.

    :func:`render_design_review` without its title line and with its headings moved two levels
    down (``##`` to ``####``); its findings are left out (they are the review's findings, inline or
    listed in the summary), and the text is shortened to ``max_chars``.
    """
    text = render_design_review(out, truncated_note=note, unplaced=[])
    lines: list[str] = []
    fence: _Fence | None = None
    for line in text.split("\n"):
        fence = _fence_after(line, fence)
        # Only archbot's own headings (column 0, outside code) move down; text inside list items stays.
        heading = _HEADING_RE.match(line) if fence is None else None
        if fence is None and line == _TITLE_LINE:
            continue
        if heading is None:
            lines.append(line)
        else:
            level = len(heading.group(1))
            lines.append("#" * min(6, level + 2) + line[level:])
    return _shorten("\n".join(lines).strip(), max_chars)


def failure_reason(error: LLMError) -> str:
    """The reason a document's model call gave nothing, as the code review words it for chunks."""
    if isinstance(error, SpendLimitError):
        return REASON_SPEND_LIMIT
    if isinstance(error, ModelDeclined):
        return "the model declined"
    return f"model call failed ({error.__class__.__name__})"


async def review_design_docs(
    model: ReviewModel,
    files: Sequence[FileDiff],
    contents: Mapping[str, str | None],
    *,
    instructions: str,
    anchor_files: Sequence[FileDiff],
    max_docs: int = 5,
    max_doc_chars: int = 60_000,
    max_section_chars: int = DEFAULT_SECTION_CHARS,
    concurrency: int = 2,
) -> DesignDocsResult:
    """Review each design doc of ``files`` (already chosen by :func:`design_doc_files`) with the model.

    Each document's text (see :func:`document_text`) is cut to ``max_doc_chars`` (the review says
    so) and reviewed with numbered lines; at most ``concurrency`` calls are in flight. Findings are
    placed against ``anchor_files`` (the whole PR diff). Documents past ``max_docs`` are named, as are
    those without their text. A failed call (:class:`LLMError`) names its document and adds an error;
    the other documents go on, except that after a :class:`SpendLimitError` no further call starts.
    Tokens spent by failed calls are counted too.
    """
    if max_docs < 0 or concurrency < 1 or max_doc_chars < MIN_DOC_CHARS:
        raise ValueError(f"max_docs must be >= 0, concurrency >= 1 and max_doc_chars >= {MIN_DOC_CHARS}")
    result = DesignDocsResult()
    ready: list[tuple[FileDiff, str, str | None]] = []
    for file in files:
        if len(ready) >= max_docs:
            result.not_reviewed.append(
                NotReviewed(path=file.path, reason=f"design doc not reviewed: limit of {max_docs} design docs reached")
            )
            continue
        text, why = document_text(file, contents.get(file.path))
        if text is None:
            result.not_reviewed.append(NotReviewed(path=file.path, reason=why or REASON_NO_TEXT))
            continue
        if not text.strip():
            result.not_reviewed.append(NotReviewed(path=file.path, reason=REASON_EMPTY))
            continue
        fitted, note = fit_text(text, max_chars=min(max_doc_chars, MAX_INPUT_CHARS), what="design document")
        ready.append((file, fitted, note))

    semaphore = asyncio.Semaphore(concurrency)
    stopped = False

    async def review_one(document: str) -> tuple[DesignReviewOutput, TokenUsage] | LLMError:
        nonlocal stopped
        async with semaphore:
            if stopped:
                return SpendLimitError("not started: the spend limit was reached")
            try:
                return await review_design(model, document=document, instructions=instructions, numbered=True)
            except SpendLimitError as error:
                stopped = True
                return error
            except LLMError as error:
                return error

    settled = await asyncio.gather(*(review_one(text) for _, text, _ in ready), return_exceptions=True)
    outcomes: list[tuple[DesignReviewOutput, TokenUsage] | LLMError] = []
    for outcome in settled:
        if isinstance(outcome, BaseException) and not isinstance(outcome, LLMError):
            raise outcome  # not a model failure (a bug): every call has settled, so nothing is left running
        outcomes.append(outcome)
    for (file, _, note), outcome in zip(ready, outcomes, strict=True):
        if isinstance(outcome, LLMError):
            result.usage = result.usage + outcome.usage
            reason = failure_reason(outcome)
            result.not_reviewed.append(NotReviewed(path=file.path, reason=f"design doc not reviewed: {reason}"))
            result.errors.append(f"design doc {file.path}: {reason} via {DESIGN_REVIEW_TOOL_NAME}")
            continue
        out, usage = outcome
        result.usage = result.usage + usage
        result.findings += validate_findings((_model_finding(file.path, found) for found in out.findings), anchor_files)
        result.sections.append((file.path, render_section(out, note=note, max_chars=max_section_chars)))
    return result
