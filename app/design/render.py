"""Markdown for design work: clarifying questions, the implementation plan and the design review.

Pure functions from the validated tool outputs of :mod:`app.design.models` to the text of a
comment. Every section is always there: a section with nothing in it says so in words, so a reader
can tell "nothing found" from "not looked at". Model text goes through
:func:`app.review.sanitize.sanitize_markdown`; code (snippets and the ASCII diagram) only through
:func:`app.review.sanitize.redact_secrets` (and ``strip_markers``, so it can never forge one of
archbot's state markers), inside a fence longer than any backtick run it holds.

Each list section has a character budget; items past it are counted ("… and 3 more not shown"),
never cut in the middle, so the whole comment stays well under GitHub's 65,536-character limit.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from app.design.models import (
    KEY_FACTS,
    ClarifyOutput,
    DesignReviewOutput,
    DocFinding,
    FactStatus,
    MissingNFR,
    NFRKind,
    PlanOutput,
    PlanStep,
    Risk,
    RiskKind,
    Snippet,
    TradeOff,
)
from app.review.models import SEVERITY_ORDER
from app.review.sanitize import redact_secrets, sanitize_markdown, strip_markers

PLAN_TITLE = "archbot · implementation plan"
QUESTIONS_TITLE = "archbot · before the plan: a few questions"
DESIGN_REVIEW_TITLE = "archbot · design review"

DEFAULT_HOW_TO_CONTINUE = (
    "Answer in this thread (one comment is enough; numbering your answers helps), then comment `/plan` "
    "again. Or comment `/plan --now` to get the plan right away, with each missing fact stated as an "
    "assumption you can correct."
)

RISK_LABELS: dict[RiskKind, str] = {
    RiskKind.SECURITY: "🔒 Security",
    RiskKind.CONCURRENCY: "⚡ Concurrency",
    RiskKind.DATA_LEAKAGE: "🕳 Data leakage",
    RiskKind.RELIABILITY: "🧯 Failure modes",
}
_NO_RISK: dict[RiskKind, str] = {
    RiskKind.SECURITY: "_No specific security risk identified; authentication, input validation and secrets "
    "handling still apply as usual._",
    RiskKind.CONCURRENCY: "_No specific concurrency risk identified._",
    RiskKind.DATA_LEAKAGE: "_No specific data-leakage risk identified._",
    RiskKind.RELIABILITY: "_No specific failure mode identified._",
}
NFR_LABELS: dict[NFRKind, str] = {
    NFRKind.SCALE: "Scale",
    NFRKind.LATENCY: "Latency",
    NFRKind.DURABILITY: "Durability",
    NFRKind.OBSERVABILITY: "Observability",
    NFRKind.SECURITY: "Security",
    NFRKind.COST: "Cost",
    NFRKind.OTHER: "Other",
}
DEFAULT_QUESTIONS: dict[str, str] = {
    "volume": "What volume do you expect (requests or events per second at peak, payload sizes, growth)?",
    "latency": "What latency do callers need (for example p95 under 200 ms, or minutes are fine)?",
    "data_sensitivity": "Does the data include personal, secret or regulated information, and who may see "
    "inputs and outputs?",
    "infrastructure": "What does the team already run that this must fit into (framework, broker, database, "
    "cloud, Kubernetes)?",
    "compute": "Is model inference CPU- or GPU-bound, and how large is the model?",
    "execution": "Must the caller get the result in the same request, or can the work be queued and "
    "reported later (callback, polling, webhook)?",
}
"""Questions asked for a missing key fact when the model gave none (by ClarifyOutput field name)."""

# Character budgets per list section (rendered text); together they keep a comment under ~60,000.
_BUDGET_SMALL = 3_000
_BUDGET_STEPS = 12_000
_BUDGET_TRADEOFFS = 6_000
_BUDGET_RISKS = 10_000
_BUDGET_SNIPPETS = 7_000
_BUDGET_FINDINGS = 10_000

_WHITESPACE_RE = re.compile(r"\s+")
_BACKTICK_RUN_RE = re.compile(r"`+")
_OUTER_FENCE_RE = re.compile(r"\A\s*(`{3,}|~{3,})[^\n]*\n(?P<body>.*?)\n?\s*\1\s*\Z", re.DOTALL)
_LEADING_LIST_MARK_RE = re.compile(r"\A(?:[-*+]\s+)?(?:\[[ xX]\]\s+)?(?:\d{1,3}[.)]\s+)?")


# --- text helpers -------------------------------------------------------------------------------


def _inline(text: str) -> str:
    """Model text as one sanitized line (list items, table cells, titles)."""
    line = _WHITESPACE_RE.sub(" ", text).strip()
    return _WHITESPACE_RE.sub(" ", sanitize_markdown(line, inline=True)).strip() if line else ""


def _item_text(text: str) -> str:
    """Model text for a list item of our own: one line, without a list or checkbox mark of its own."""
    return _inline(_LEADING_LIST_MARK_RE.sub("", _WHITESPACE_RE.sub(" ", text).strip(), count=1))


def _block(text: str, *, indent: str = "") -> str:
    """Model Markdown as a sanitized block; continuation lines indented to stay inside a list item."""
    cleaned = sanitize_markdown(text.strip()).strip() if text.strip() else ""
    lines = [line.rstrip() for line in cleaned.split("\n")]
    return "\n".join(lines[:1] + [f"{indent}{line}" if line else "" for line in lines[1:]])


def _strong(text: str) -> str:
    """Model text for inside ``**...**``: one sanitized line whose asterisks cannot end the bold early."""
    return _item_text(text).replace("*", "\\*")


def _cell(text: str) -> str:
    """Model text for a table cell: one sanitized line with pipes escaped."""
    return _inline(text).replace("|", "\\|") or "—"


def _code(text: str) -> str:
    """Code or an ASCII diagram: an outer fence the model added is removed, secrets and markers removed."""
    body = text.strip("\n")
    match = _OUTER_FENCE_RE.match(body)
    if match is not None:
        body = match.group("body")
    return strip_markers(redact_secrets(body.rstrip())).rstrip()


def _fenced(code: str, language: str) -> str:
    """``code`` in a backtick fence longer than any run of backticks inside it (at least three)."""
    longest = max((len(run) for run in _BACKTICK_RUN_RE.findall(code)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{language}\n{code}\n{fence}"


def _none(text: str) -> str:
    """The explicit "nothing here" line of an empty section."""
    return f"_{text}_"


def _capped(items: Sequence[str], budget: int, *, separator: str = "\n") -> str:
    """The items joined while they fit in ``budget`` characters, then a line counting the rest."""
    kept: list[str] = []
    used = 0
    for item in items:
        cost = len(item) + len(separator)
        if kept and used + cost > budget:
            break
        kept.append(item)
        used += cost
    rest = len(items) - len(kept)
    text = separator.join(kept)
    if rest:
        text += f"{separator}{_none(f'… and {rest} more not shown (comment size limit).')}"
    return text


def _section(title: str, body: str) -> str:
    """A ``##`` section."""
    return f"## {title}\n\n{body.strip()}"


def _document(title: str, notes: Sequence[str], sections: Sequence[str]) -> str:
    """The whole comment: bold title, notes as quotes, then the sections."""
    parts = [f"**{title}**"]
    parts.extend(f"> ⚠️ {_inline(note)}" for note in notes if note.strip())
    parts.extend(sections)
    return "\n\n".join(parts) + "\n"


def _bullets(items: Sequence[str], empty: str, budget: int = _BUDGET_SMALL) -> str:
    """A bulleted list of one-line model items, or the explicit empty line."""
    lines = [f"- {text}" for text in (_item_text(item) for item in items) if text]
    return _capped(lines, budget) if lines else _none(empty)


def _numbered(items: Sequence[str], empty: str, budget: int = _BUDGET_SMALL) -> str:
    """A numbered list of one-line model items, or the explicit empty line."""
    texts = [text for text in (_item_text(item) for item in items) if text]
    return _capped([f"{n}. {text}" for n, text in enumerate(texts, 1)], budget) if texts else _none(empty)


# --- shared sections ----------------------------------------------------------------------------


def _risk_item(risk: Risk) -> str:
    mitigation = _block(risk.mitigation, indent="  ") or "—"
    return f"- **{risk.severity.value}** — {_inline(risk.risk)}\n  _Mitigation:_ {mitigation}"


def _risks(risks: Sequence[Risk]) -> str:
    """Risks grouped by kind; every kind (security and concurrency first) always has its own heading."""
    ordered = sorted(risks, key=lambda r: SEVERITY_ORDER[r.severity])
    parts = []
    budget = _BUDGET_RISKS // len(RISK_LABELS)
    for kind, label in RISK_LABELS.items():
        items = [_risk_item(r) for r in ordered if r.kind is kind]
        parts.append(f"### {label}\n\n" + (_capped(items, budget) if items else _NO_RISK[kind]))
    return "\n\n".join(parts)


def _tradeoffs(tradeoffs: Sequence[TradeOff]) -> str:
    """A table comparing the options, or the explicit empty line."""
    if not tradeoffs:
        return _none("No alternatives worth comparing were identified.")
    rows = [f"| {_cell(t.option)} | {_cell(t.pros)} | {_cell(t.cons)} | {_cell(t.verdict or '')} |" for t in tradeoffs]
    header = "| Option | Pros | Cons | Verdict |\n|---|---|---|---|\n"
    return header + _capped(rows, _BUDGET_TRADEOFFS)


# --- questions ----------------------------------------------------------------------------------


def _fact_line(label: str, status: FactStatus, evidence: str) -> str:
    if status is FactStatus.STATED:
        said = _inline(evidence)
        return f"- ✅ **{label}**: stated" + (f" ({said})" if said else "")
    if status is FactStatus.NOT_APPLICABLE:
        return f"- ➖ **{label}**: not applicable"
    return f"- ❓ **{label}**: missing"


def questions_to_ask(out: ClarifyOutput) -> list[str]:
    """The model's questions; when it gave none for missing facts, archbot's default question for each."""
    if out.questions:
        return list(out.questions)
    return [DEFAULT_QUESTIONS[name] for name in KEY_FACTS if getattr(out, name).status is FactStatus.MISSING]


def render_questions(out: ClarifyOutput, *, header_note: str = "", how_to_continue: str | None = None) -> str:
    """The clarifying-questions comment: which key facts are stated, numbered questions, how to go on.

    ``how_to_continue`` is archbot's own text (trusted); the default explains ``/plan`` and
    ``/plan --now`` for an issue thread. The command line passes its own.
    """
    facts = "\n".join(_fact_line(label, check.status, check.evidence) for label, check in out.facts())
    intro = (
        "I can draft the implementation plan once a few facts that decide the design are clear. "
        "Here is what the request states, and what I still need to know."
    )
    sections = [
        _block(intro),
        _section("Key facts", facts),
        _section(
            "Questions",
            _numbered(questions_to_ask(out), "None: every key fact is stated, so the plan can be written now."),
        ),
        _section("How to continue", how_to_continue or DEFAULT_HOW_TO_CONTINUE),
    ]
    return _document(QUESTIONS_TITLE, [header_note], sections)


# --- plan ---------------------------------------------------------------------------------------


def _step_item(number: int, step: PlanStep) -> str:
    title = _strong(step.title) or f"Step {number}"
    detail = _block(step.detail, indent="  ")
    return f"- [ ] **{number}. {title}**" + (f" — {detail}" if detail else "")


def _snippet_item(snippet: Snippet) -> str:
    code = _code(snippet.code)
    note = _inline(snippet.note)
    return (f"{note}\n\n" if note else "") + _fenced(code, snippet.language)


def _architecture(out: PlanOutput) -> str:
    text = _block(out.architecture) or _none("No architecture description was given.")
    diagram = _code(out.diagram)
    return f"{text}\n\n" + (_fenced(diagram, "text") if diagram.strip() else _none("No diagram was given."))


def render_plan(out: PlanOutput, *, truncated_note: str | None = None) -> str:
    """The implementation-plan comment, with every section present."""
    steps = [_step_item(n, step) for n, step in enumerate(out.steps, 1)]
    sections = [
        _section("Summary", _block(out.summary) or _none("No summary was given.")),
        _section(
            "Assumptions",
            _bullets(out.assumptions, "None: the plan relies only on facts the request states."),
        ),
        _section(
            "Implementation steps",
            _capped(steps, _BUDGET_STEPS) if steps else _none("No steps were given."),
        ),
        _section("Architecture", _architecture(out)),
        _section("Trade-offs", _tradeoffs(out.tradeoffs)),
        _section("Risks", _risks(out.risks)),
        _section("Observability", _bullets(out.observability, "No observability items were given.")),
        _section("Rollout", _bullets(out.rollout, "No rollout steps were given.")),
        _section("Tests", _bullets(out.tests, "No tests were given.")),
        _section(
            "Snippets",
            _capped([_snippet_item(s) for s in out.snippets], _BUDGET_SNIPPETS, separator="\n\n")
            if out.snippets
            else _none("No snippet needed."),
        ),
        _section("Open questions", _numbered(out.open_questions, "None.")),
    ]
    return _document(PLAN_TITLE, [truncated_note or ""], sections)


# --- design review ------------------------------------------------------------------------------


def _nfr_item(nfr: MissingNFR) -> str:
    return f"- **{NFR_LABELS[nfr.requirement]}**: {_inline(nfr.gap)}"


def render_doc_finding(finding: DocFinding) -> str:
    """The body of one finding: severity and category, title, rationale (for an inline comment)."""
    head = f"**{finding.severity.value} · {finding.category.value}** — **{_strong(finding.title)}**"
    return f"{head}\n\n{_block(finding.rationale)}"


def _finding_item(finding: DocFinding) -> str:
    where = f" (line {finding.line})" if finding.line is not None else ""
    head = f"- **{finding.severity.value} · {finding.category.value}** — **{_strong(finding.title)}**{where}"
    rationale = _block(finding.rationale, indent="  ")
    return head + (f": {rationale}" if rationale else "")


def render_design_review(
    out: DesignReviewOutput,
    *,
    truncated_note: str | None = None,
    unplaced: Sequence[DocFinding] | None = None,
) -> str:
    """The design-review comment, with every section present.

    ``unplaced``: findings that are not posted as inline comments, listed in a last "Findings"
    section (shown only when there are some). By default, the findings that have no line (an
    issue's review has none with a line); a pull-request caller passes those it could not place.
    """
    leftover = [f for f in out.findings if f.line is None] if unplaced is None else list(unplaced)
    leftover.sort(key=lambda f: SEVERITY_ORDER[f.severity])
    checklist = [f"- [ ] {text}" for text in (_item_text(item) for item in out.checklist) if text]
    sections = [
        _section("Summary", _block(out.summary) or _none("No summary was given.")),
        _section(
            "Clarifying questions",
            _numbered(out.questions, "None: the design states the facts it depends on."),
        ),
        _section("Risks", _risks(out.risks)),
        _section("Trade-offs", _tradeoffs(out.tradeoffs)),
        _section(
            "Missing non-functional requirements",
            _capped([_nfr_item(n) for n in out.missing_nfrs], _BUDGET_SMALL)
            if out.missing_nfrs
            else _none("None found: scale, latency, durability and observability are covered."),
        ),
        _section(
            "Checklist",
            _capped(checklist, _BUDGET_SMALL) if checklist else _none("Nothing to settle before implementation."),
        ),
    ]
    if leftover:
        sections.append(_section("Findings", _capped([_finding_item(f) for f in leftover], _BUDGET_FINDINGS)))
    return _document(DESIGN_REVIEW_TITLE, [truncated_note or ""], sections)
