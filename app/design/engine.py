"""Design work through the model: clarifying questions, implementation plans and design-doc reviews.

Each function renders one task prompt (``prompts/clarify.md``, ``plan.md``, ``review_design.md``)
under the persona system prompt, redacts secrets from everything it sends, and asks the model
through one forced tool whose input schema is a model of :mod:`app.design.models`. What
comes back is validated but not yet sanitized: :mod:`app.design.render` does that.

Inputs are not clipped here. A caller with a long document or thread first calls
:func:`fit_text`, which cuts it to a budget and returns the note to show with the result ("posts
what it has and says so"); text beyond :data:`MAX_INPUT_CHARS` is refused with ``ValueError``
rather than silently shortened.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import Literal, TypeVar

from pydantic import BaseModel

from app.design.models import ClarifyOutput, DesignReviewOutput, FactStatus, PlanOutput
from app.review.model_api import ReviewModel
from app.review.models import TokenUsage
from app.review.prompts import render_prompt, render_task
from app.review.sanitize import redact_secrets

CLARIFY_TOOL_NAME = "submit_clarification"
CLARIFY_TOOL_DESCRIPTION = (
    "Submit, for each key fact of the request, whether it is stated, and the clarifying questions for "
    "the missing ones. Call this tool exactly once; it is the only way to answer."
)
PLAN_TOOL_NAME = "submit_plan"
PLAN_TOOL_DESCRIPTION = (
    "Submit the implementation plan, one part per field: summary, assumptions, steps, architecture, "
    "ASCII diagram, trade-offs, risks, observability, rollout, tests, snippets and open questions. "
    "Call this tool exactly once; it is the only way to answer."
)
DESIGN_REVIEW_TOOL_NAME = "submit_design_review"
DESIGN_REVIEW_TOOL_DESCRIPTION = (
    "Submit the design review, one part per field: summary, clarifying questions, risks, trade-offs, "
    "missing non-functional requirements, checklist, and findings tied to numbered lines. "
    "Call this tool exactly once; it is the only way to answer."
)

DEFAULT_DOCUMENT_CHARS = 60_000
"""A design document or issue beyond this (about 15k tokens) is cut by :func:`fit_text` by default."""
DEFAULT_DISCUSSION_CHARS = 30_000
"""A discussion beyond this is cut by :func:`fit_text`, keeping its latest part (where answers are)."""
MAX_INPUT_CHARS = 200_000
"""No single input sent to the model may be longer than this; callers fit text first."""

NONE_GIVEN = "(none)"
_LINE_SEPARATOR = " | "

_Out = TypeVar("_Out", bound=BaseModel)


def has_key_facts(out: ClarifyOutput) -> bool:
    """True when no key fact is missing, so planning can start without asking."""
    return all(check.status is not FactStatus.MISSING for _, check in out.facts())


def fit_text(
    text: str,
    *,
    max_chars: int = DEFAULT_DOCUMENT_CHARS,
    keep: Literal["head", "tail"] = "head",
    what: str = "document",
) -> tuple[str, str | None]:
    """``text`` cut at a line boundary to at most ``max_chars``, and a note saying so (None if it fits).

    ``keep="head"`` keeps the beginning (a document); ``keep="tail"`` keeps the end (a discussion,
    whose latest comments hold the answers). The cut text says where it was cut, so the model knows.
    """
    if len(text) <= max_chars:
        return text, None
    if keep == "head":
        mark = f"\n\n[... the rest of the {what} was cut: it exceeded the size budget ...]"
        room = max_chars - len(mark)
        part = text[: max(room, 0)]
        part = part[: part.rfind("\n")] if "\n" in part else part
        kept = part + mark
    else:
        mark = f"[... the beginning of the {what} was cut: it exceeded the size budget ...]\n\n"
        room = max_chars - len(mark)
        part = text[len(text) - max(room, 0) :]
        part = part[part.find("\n") + 1 :] if "\n" in part else part
        kept = mark + part
    if room < 1:
        raise ValueError(f"max_chars={max_chars} leaves no room for any text")
    share = round(100 * len(part) / len(text))
    where = "first" if keep == "head" else "last"
    return kept, f"The {what} was too long for one pass: only its {where} {share}% was read."


def number_lines(markdown: str) -> str:
    """Each line of ``markdown`` prefixed with its 1-based number and `` | `` (numbers right-aligned).

    This is the format ``prompts/review_design.md`` describes: a finding's ``line`` is the number
    before the separator, i.e. the document's line in the new revision (the RIGHT side of a diff).
    """
    lines = markdown.split("\n")
    if lines and lines[-1] == "":  # a final newline ends the last line; it does not start another
        lines.pop()
    width = len(str(len(lines)))
    return "\n".join(f"{number:>{width}}{_LINE_SEPARATOR}{line}".rstrip() for number, line in enumerate(lines, 1))


def redact_keeping_lines(text: str) -> str:
    """:func:`redact_secrets` on ``text``, with its line count preserved so line numbers stay true.

    A redacted multi-line secret (a PEM key, say) may shrink to one line; the lines it took are
    kept as empty lines. Lines the redaction added are joined onto the line before them.
    """
    redacted = redact_secrets(text)
    original_lines = text.split("\n")
    redacted_lines = redacted.split("\n")
    if len(original_lines) == len(redacted_lines):
        return redacted
    matcher = difflib.SequenceMatcher(a=original_lines, b=redacted_lines, autojunk=False)
    out: list[str] = []
    for _, a_start, a_end, b_start, b_end in matcher.get_opcodes():
        wanted = a_end - a_start
        got = redacted_lines[b_start:b_end]
        if wanted == 0:  # pure insertion: attach it to the previous line (or to the next one at the start)
            if out:
                out[-1] = " ".join([out[-1], *got]).strip()
            else:
                out.append(" ".join(got))
            continue
        if len(got) > wanted:
            got = [*got[: wanted - 1], " ".join(got[wanted - 1 :])]
        out.extend(got + [""] * (wanted - len(got)))
    if len(out) > len(original_lines):  # only possible after a leading insertion; fold it in
        out = [" ".join(out[:2]).strip(), *out[2:]]
    return "\n".join(out)


def _safe(text: str, *, what: str) -> str:
    """Redacted ``text`` for the prompt, ``(none)`` when empty; ValueError when it exceeds the hard cap."""
    if len(text) > MAX_INPUT_CHARS:
        raise ValueError(f"the {what} is {len(text)} characters; fit it to {MAX_INPUT_CHARS} first (fit_text)")
    stripped = text.strip()
    return redact_secrets(stripped) if stripped else NONE_GIVEN


def _code(code: str) -> str:
    """Repository excerpts for the prompt: secrets redacted, "(none)" when there are none."""
    return redact_secrets(code) if code.strip() else NONE_GIVEN


def _system() -> str:
    """The persona system prompt (the same text for every call, so the API caches it)."""
    return render_prompt("persona", {})


async def _ask(
    model: ReviewModel,
    task: str,
    data: Mapping[str, tuple[str, str]],
    *,
    tool_name: str,
    tool_description: str,
    schema: type[_Out],
) -> tuple[_Out, TokenUsage]:
    """Render the task prompt ``task`` with ``data`` (fenced as untrusted) under the persona system prompt
    and ask the model once through the forced tool ``tool_name``, whose input ``schema`` validates."""
    user = render_task(task, variables={}, data=data)
    return await model.call_tool(
        system=_system(),
        user=user,
        tool_name=tool_name,
        tool_description=tool_description,
        schema=schema,
    )


async def clarify(model: ReviewModel, *, issue: str, discussion: str) -> tuple[ClarifyOutput, TokenUsage]:
    """Which key facts the issue (with its discussion) states, and questions for the missing ones."""
    return await _ask(
        model,
        "clarify",
        {
            "issue": ("issue", _safe(issue, what="issue")),
            "discussion": ("discussion", _safe(discussion, what="discussion")),
        },
        tool_name=CLARIFY_TOOL_NAME,
        tool_description=CLARIFY_TOOL_DESCRIPTION,
        schema=ClarifyOutput,
    )


async def make_plan(
    model: ReviewModel, *, issue: str, discussion: str, instructions: str, code: str = ""
) -> tuple[PlanOutput, TokenUsage]:
    """The implementation plan for the issue, given its discussion, the repository's instructions and
    ``code``: the rendered excerpts of the files and symbols the issue names (app/review/context/)."""
    return await _ask(
        model,
        "plan",
        {
            "issue": ("issue", _safe(issue, what="issue")),
            "discussion": ("discussion", _safe(discussion, what="discussion")),
            "repo_instructions": ("config", _safe(instructions, what="instructions")),
            "code": ("repository-context", _code(code)),
        },
        tool_name=PLAN_TOOL_NAME,
        tool_description=PLAN_TOOL_DESCRIPTION,
        schema=PlanOutput,
    )


async def review_design(
    model: ReviewModel, *, document: str, instructions: str, numbered: bool = False, code: str = ""
) -> tuple[DesignReviewOutput, TokenUsage]:
    """The design review of ``document``; with ``numbered``, its lines are numbered for line findings.

    Without line numbers the model is told to leave ``findings`` empty; any it returns anyway lose
    their line (it could not mean anything) and are shown in the review's findings section.
    """
    if len(document) > MAX_INPUT_CHARS:
        raise ValueError(f"the document is {len(document)} characters; fit it to {MAX_INPUT_CHARS} first (fit_text)")
    if numbered:
        shown = number_lines(redact_keeping_lines(document)) if document.strip() else NONE_GIVEN
    else:
        shown = _safe(document, what="document")
    out, usage = await _ask(
        model,
        "review_design",
        {
            "document": ("design-doc", shown),
            "repo_instructions": ("config", _safe(instructions, what="instructions")),
            "code": ("repository-context", _code(code)),
        },
        tool_name=DESIGN_REVIEW_TOOL_NAME,
        tool_description=DESIGN_REVIEW_TOOL_DESCRIPTION,
        schema=DesignReviewOutput,
    )
    if not numbered and any(finding.line is not None for finding in out.findings):
        lineless = [finding.model_copy(update={"line": None}) for finding in out.findings]
        out = out.model_copy(update={"findings": lineless})
    return out, usage
