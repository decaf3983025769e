"""Rendering a review: inline comments, the sticky summary, CLI Markdown, check runs and SARIF.

Every piece of text that did not come from this module (model titles and rationales, paths, reasons,
error messages) goes through ``sanitize`` here, so nothing unsanitized can be posted whatever the
caller did before. Prose is sanitized as Markdown; paths and code go into code spans or fences long
enough that they cannot be closed from inside; machine formats get plain text with secrets redacted
and archbot markers removed.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from app.review.markers import MARKER_VERSION, render_marker
from app.review.models import (
    SEVERITY_ORDER,
    Category,
    Finding,
    NotReviewed,
    Placement,
    ReviewResult,
    Severity,
    Side,
    Source,
    SuggestionCheck,
)
from app.review.sanitize import redact_secrets, sanitize_markdown, strip_markers
from app.review.suggestions import replacement_lines
from app.static.rule_catalogue import PROJECT_URL, RuleDoc, lookup, model_rule

SUMMARY_MAX_CHARS = 65_000  # GitHub's comment limit is 65,536; keep a margin
CHECK_SUMMARY_MAX_CHARS = 65_535  # check run output.summary limit
ANNOTATIONS_PER_REQUEST = 50  # check run update limit
ANNOTATION_MAX_BYTES = 64 * 1024  # message and raw_details
ANNOTATION_TITLE_MAX_CHARS = 255
TITLE_MAX_CHARS = 300
RATIONALE_MAX_CHARS = 8_000
SUMMARY_RATIONALE_MAX_CHARS = 2_000
SUMMARY_TEXT_MAX_CHARS = 8_000
SHORT_SHA_LENGTH = 7

RETRY_HINT = "Some parts of this review failed. To retry, comment `/review` on this pull request."
DISMISS_HINT = 'archbot · reply "false positive", "won\'t fix" or "by design" to dismiss'
FINGERPRINT_KEY = "archbot/v1"
SARIF_SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
SARIF_VERSION = "2.1.0"
SARIF_ROOT_ID = "SRCROOT"
SARIF_INFORMATION_URI = PROJECT_URL

SEVERITY_LABEL: dict[Severity, str] = {severity: severity.value.capitalize() for severity in Severity}
ANNOTATION_LEVEL: dict[Severity, str] = {
    Severity.CRITICAL: "failure",
    Severity.HIGH: "failure",
    Severity.MEDIUM: "warning",
    Severity.LOW: "notice",
    Severity.INFO: "notice",
}
SARIF_LEVEL: dict[Severity, str] = {
    Severity.CRITICAL: "error",
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "note",
    Severity.INFO: "note",
}
# GitHub code scanning ranks security alerts by this property (0.0-10.0, as a string).
SECURITY_SEVERITY: dict[Severity, float] = {
    Severity.CRITICAL: 9.5,
    Severity.HIGH: 8.0,
    Severity.MEDIUM: 5.5,
    Severity.LOW: 3.0,
    Severity.INFO: 1.0,
}

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_RULE_ID_UNSAFE = re.compile(r"[^A-Za-z0-9_.:/\-]")
_MODEL_ID_UNSAFE = re.compile(r"[^A-Za-z0-9_.:/@\-]")
_BACKTICK_RUN = re.compile(r"`+")
_PATH_SAFE = "/-._~!$&'()*+,;=:@"


# --------------------------------------------------------------------------------------------------
# Small pieces
# --------------------------------------------------------------------------------------------------


def _plain(text: str) -> str:
    """Text for places that do not render Markdown: secrets redacted, markers and controls removed."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return strip_markers(redact_secrets(_CONTROL.sub("", text)))


def _inline_md(text: str, max_chars: int = TITLE_MAX_CHARS) -> str:
    return sanitize_markdown(text, inline=True, max_chars=max_chars)


def _code_span(text: str) -> str:
    """``text`` as one inline code span that nothing inside it can close."""
    content = " ".join(_plain(text).split())
    if not content:
        return "`(none)`"
    longest = max((len(run) for run in _BACKTICK_RUN.findall(content)), default=0)
    fence = "`" * (longest + 1)
    if content.startswith("`") or content.endswith("`"):
        content = f" {content} "
    return f"{fence}{content}{fence}"


def _code_block(code: str, info: str = "") -> str:
    """A fenced block longer than any backtick run in ``code``; secrets and markers removed."""
    content = _plain(code).rstrip("\n")
    longest = max((len(run) for run in _BACKTICK_RUN.findall(content)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{info}\n{content}\n{fence}" if content else f"{fence}{info}\n{fence}"


def _short_sha(sha: str) -> str:
    return _plain(sha)[:SHORT_SHA_LENGTH]


def _badge(finding: Finding) -> str:
    return f"**{SEVERITY_LABEL[finding.severity]} · {finding.category.value}**"


def _title(finding: Finding) -> str:
    return _inline_md(finding.title) or "(untitled finding)"


def _rule_id(finding: Finding) -> str | None:
    cleaned = _RULE_ID_UNSAFE.sub("", finding.rule_id or "")[:64]
    return cleaned or None


def _source_tag(finding: Finding) -> str:
    if finding.source is not Source.STATIC:
        return ""
    rule = _rule_id(finding)
    tag = f"deterministic ({rule})" if rule else "deterministic"
    tag = tag + ", confirmed by the model" if finding.confirmed_by_model else tag
    return tag + ", test path: not gated" if finding.in_test_path else tag


def _location(finding: Finding) -> str:
    if not finding.path:
        return ""
    if finding.line is None:
        return finding.path
    if finding.start_line is not None and finding.start_line < finding.line:
        return f"{finding.path}:{finding.start_line}-{finding.line}"
    return f"{finding.path}:{finding.line}"


def _blockquote(markdown: str) -> str:
    """Prefix every line with ``> `` so the text is parsed exactly as it would be on its own."""
    return "\n".join(f"> {line}" if line else ">" for line in markdown.split("\n"))


def _diff_block(finding: Finding) -> str:
    """The suggestion as a plain (never committable) diff: the replaced lines, then the new ones."""
    fix = finding.fix
    old = fix.original.split("\n") if fix is not None and fix.original is not None else []
    new = replacement_lines(finding.suggestion or "")
    return _code_block("\n".join([*(f"-{line}" for line in old), *(f"+{line}" for line in new)]), "diff")


def _suggestion(finding: Finding) -> str:
    """A committable ``suggestion`` block only when the suggestion was verified (issue 19), else a diff."""
    if finding.suggestion is None:
        return ""
    fix = finding.fix
    if fix is not None and fix.committable and finding.placement is Placement.INLINE and finding.side is Side.RIGHT:
        block = _code_block(finding.suggestion, "suggestion")
        rule = _rule_id(finding)
        if fix.deterministic:
            return f"_Deterministic fix{f' for {rule}' if rule else ''}, produced by archbot and verified:_\n\n{block}"
        return block
    if fix is None:
        why = "not verified"
    elif fix.committable:  # verified, but the finding is not an inline RIGHT comment
        why = (SuggestionCheck.LEFT_SIDE if finding.side is Side.LEFT else SuggestionCheck.NOT_INLINE).value
    else:
        why = fix.check.value
    return f"Suggested change (not committable: {why}):\n\n" + _diff_block(finding)


def _sorted(findings: Sequence[Finding]) -> list[Finding]:
    return sorted(
        findings,
        key=lambda f: (SEVERITY_ORDER[f.severity], f.path or "\uffff", f.line or 0, f.fingerprint),
    )


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def _severity_table(findings: Sequence[Finding]) -> str:
    if not findings:
        return "No findings."
    counts = Counter(f.severity for f in findings)
    rows = [f"| {SEVERITY_LABEL[s]} | {counts[s]} |" for s in Severity if counts[s]]
    return "\n".join(["| Severity | Findings |", "| --- | ---: |", *rows, f"| **Total** | {len(findings)} |"])


def _inline_count_line(count: int) -> str:
    if not count:
        return ""
    return "1 finding posted as an inline comment." if count == 1 else f"{count} findings posted as inline comments."


def _usage_line(result: ReviewResult) -> str:
    usage = result.usage
    model_id = _MODEL_ID_UNSAFE.sub("", result.model or "")[:100]
    model = f" · model {_code_span(model_id)}" if model_id else ""
    if usage.calls == 0 and usage.total == 0:
        return f"_No model calls{model}._"
    return (
        f"_Tokens: {usage.input_tokens:,} input · {usage.output_tokens:,} output · "
        f"{usage.cache_read_tokens:,} cache read · {usage.cache_write_tokens:,} cache write · "
        f"{_plural(usage.calls, 'call')}{model}._"
    )


def _not_reviewed_item(entry: NotReviewed) -> str:
    reason = _inline_md(entry.reason, 500) or "no reason given"
    hunks = f" ({_plural(entry.hunks, 'hunk')})" if entry.hunks is not None else ""
    return f"- {_code_span(entry.path)}{hunks} — {reason}"


def _error_item(error: str) -> str:
    return f"- {_inline_md(error, 1_000) or 'unknown error'}"


def _finding_entry(finding: Finding) -> str:
    """A finding for the summary: badge, location and title on one line, the rationale quoted below."""
    location = _location(finding)
    head = _badge(finding) + (f" · {_code_span(location)}" if location else " · general")
    tag = _source_tag(finding)
    lines = [head + (f" · _{tag}_" if tag else "") + f" — {_title(finding)}"]
    body = sanitize_markdown(finding.rationale, max_chars=SUMMARY_RATIONALE_MAX_CHARS)
    suggestion = _suggestion(finding)
    quoted = "\n\n".join(part for part in (body, suggestion) if part)
    if quoted:
        lines.append(_blockquote(quoted))
    return "\n\n".join(lines)


def _compact_finding(finding: Finding) -> str:
    location = _location(finding)
    where = f" {_code_span(location)}" if location else ""
    tag = _source_tag(finding)
    return f"- {_badge(finding)}{where}" + (f" _({tag})_" if tag else "") + f" — {_title(finding)}"


# --------------------------------------------------------------------------------------------------
# Length-capped sections
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Section:
    heading: str
    items: list[str]
    separator: str = "\n"


def _more_line(hidden: int) -> str:
    return f"_… and {hidden} more not shown._"


def _render_section(section: _Section, shown: int) -> str:
    parts = [section.heading]
    if shown:
        parts.append(section.separator.join(section.items[:shown]))
    if shown < len(section.items):
        parts.append(_more_line(len(section.items) - shown))
    return "\n\n".join(parts)


def _fit_sections(sections: Sequence[_Section], budget: int) -> list[str]:
    """Render sections within ``budget`` characters, sharing it fairly.

    Small sections are shown whole; the rest share what is left equally, each closing with an
    "N more not shown" line, so a flood of one kind never hides every entry of another.
    """
    sections = [s for s in sections if s.items]
    # Heading and "more" line, the blank line before the items and the one before the next block.
    overhead = [len(_render_section(s, 0)) + 4 for s in sections]
    remaining = budget - sum(overhead)
    if remaining < 0:
        hidden = ", ".join(s.heading.lstrip("# ") for s in sections)
        return [f"_Not shown, too long: {hidden}._"] if sections else []
    shown = [0] * len(sections)
    order = sorted(range(len(sections)), key=lambda i: sum(len(x) for x in sections[i].items))
    for position, index in enumerate(order):
        share = max(0, remaining) // (len(order) - position)
        section = sections[index]
        used = 0
        for item in section.items:
            cost = len(item) + len(section.separator)
            if used + cost > share:
                break
            used += cost
            shown[index] += 1
        if shown[index] == len(section.items):
            used -= len(_more_line(0)) + 2  # no "more" line needed: give its room back
        remaining -= used
    return [_render_section(s, shown[i]) for i, s in enumerate(sections)]


def _result_sections(result: ReviewResult, summary_findings: Sequence[Finding], *, compact: bool) -> list[_Section]:
    heading = "#### Findings not posted inline" if not compact else "#### Findings"
    finding_items = [(_compact_finding if compact else _finding_entry)(f) for f in _sorted(summary_findings)]
    return [
        _Section(f"{heading} ({len(finding_items)})", finding_items, "\n" if compact else "\n\n"),
        _Section(
            f"#### Files not reviewed ({len(result.not_reviewed)})",
            [_not_reviewed_item(entry) for entry in result.not_reviewed],
        ),
        _Section(
            f"#### Not analysed by the static checks ({len(result.not_analysed)})",
            [_not_reviewed_item(entry) for entry in result.not_analysed],
        ),
        _Section(f"#### Errors ({len(result.errors)})", [_error_item(error) for error in result.errors]),
    ]


def _assemble(head: Sequence[str], sections: Sequence[_Section], tail: Sequence[str], max_chars: int) -> str:
    fixed = [block for block in (*head, *tail) if block]
    budget = max_chars - sum(len(block) + 2 for block in fixed)
    if budget < 0:
        raise ValueError(f"the fixed parts of this text exceed {max_chars} characters")
    fitted = _fit_sections(sections, budget)
    if sum(len(block) + 2 for block in fitted) > budget:
        raise ValueError(f"the fixed parts of this text exceed {max_chars} characters")
    blocks = [block for block in head if block] + fitted
    blocks += [block for block in tail if block]
    return "\n\n".join(blocks)


# --------------------------------------------------------------------------------------------------
# Public renderers
# --------------------------------------------------------------------------------------------------


AGENT_PROMPT_SUMMARY = "Prompt for an AI coding agent"
AGENT_PROMPT_MAX_CHARS = 3_000


def _agent_prompt_text(f: Finding) -> str:
    """The finding and its fix in a few plain sentences, for a user to hand to their coding agent."""
    where = _location(f) or "the pull request"
    side = " (a removed line; the number is in the base revision)" if f.side is Side.LEFT else ""
    # Sanitized as Markdown first (mentions, images, links, markers go) although it sits in a fence.
    title = " ".join(_inline_md(f.title).split())
    rationale = " ".join(sanitize_markdown(f.rationale, inline=True, max_chars=AGENT_PROMPT_MAX_CHARS).split())
    sentences = [
        f"In {where}{side}, fix this {f.severity.value} {f.category.value} issue: {title}.",
        rationale,
    ]
    if f.suggestion is not None:
        verified = "verified" if f.fix is not None and f.fix.committable else "unverified"
        sentences.append(f"Suggested replacement ({verified}) for those lines:\n{_plain(f.suggestion).rstrip()}")
    sentences.append("Keep the change minimal, keep the surrounding behaviour, and add or update a test for it.")
    return "\n\n".join(s for s in sentences if s)


def render_agent_prompt(f: Finding) -> str:
    """A collapsed block holding :func:`_agent_prompt_text` in a fence nothing inside can close."""
    block = _code_block(_agent_prompt_text(f), "text")
    return f"<details>\n<summary>{AGENT_PROMPT_SUMMARY}</summary>\n\n{block}\n\n</details>"


def render_inline_comment(f: Finding, *, agent_prompt: bool = True) -> str:
    """One inline review comment: badge and title, rationale, suggestion, the agent prompt, a footer.

    It carries no marker: the poster appends the ``finding`` marker (fingerprint, sha, pass), which
    holds state this function does not know. ``agent_prompt=False`` (``review.agent_prompts``) leaves
    out the collapsed "Prompt for an AI coding agent" block.
    """
    tag = _source_tag(f)
    header = f"{_badge(f)} — {_title(f)}" + (f"\n\n_{tag}_" if tag else "")
    rationale = sanitize_markdown(f.rationale, max_chars=RATIONALE_MAX_CHARS)
    prompt = render_agent_prompt(f) if agent_prompt else ""
    return "\n\n".join(part for part in (header, rationale, _suggestion(f), prompt, f"_{DISMISS_HINT}_") if part)


def render_summary(
    result: ReviewResult,
    *,
    head_sha: str | None,
    base_sha: str | None = None,
    posted_inline: Collection[str] = (),
    incremental_from: str | None = None,
    marker_data: Mapping[str, Any] | None = None,
    max_chars: int = SUMMARY_MAX_CHARS,
) -> str:
    """The sticky summary comment, at most ``max_chars`` long, ending with the hidden summary marker.

    Findings placed inline whose fingerprint is in ``posted_inline`` are only counted; every other
    finding is listed. Every file not reviewed or not analysed is named with its reason, and errors
    come with how to retry. When the text would be too long, each list ends with "N more not shown".
    Without ``marker_data`` the marker records the head and base sha, every fingerprint and the
    inline ones. Raises ``ValueError`` when even the marker and headings cannot fit in ``max_chars``.
    """
    posted = set(posted_inline)
    inline = [f for f in result.findings if f.placement is Placement.INLINE and f.fingerprint in posted]
    listed = [f for f in result.findings if not (f.placement is Placement.INLINE and f.fingerprint in posted)]
    if marker_data is None:
        marker_data = {
            "sha": head_sha,
            "base": base_sha,
            "fps": sorted({f.fingerprint for f in result.findings}),
            "inline": sorted(posted),
            "version": MARKER_VERSION,
        }
    marker = render_marker("summary", marker_data)
    title = "### archbot review" + (f" · {_code_span(_short_sha(head_sha))}" if head_sha else "")
    head = [
        title,
        f"Incremental review: only the changes since {_code_span(_short_sha(incremental_from))}."
        if incremental_from
        else "",
        "",  # the model's summary, sized below
        _severity_table(result.findings),
        _inline_count_line(len(inline)),
    ]
    tail = [RETRY_HINT if result.errors else "", _usage_line(result), marker]
    sections = _result_sections(result, listed, compact=False)
    # The model's summary gets at most a third of what is left after the fixed parts.
    room = max_chars - sum(len(block) + 2 for block in (*head, *tail) if block)
    summary_cap = min(SUMMARY_TEXT_MAX_CHARS, room // 3)
    if result.summary.strip() and summary_cap >= 100:
        head[2] = sanitize_markdown(result.summary, max_chars=summary_cap)
    return _assemble(head, sections, tail, max_chars)


def _static_coverage(result: ReviewResult) -> str:
    """How many changed Python files the static checks analysed, and why the others were not."""
    if not result.python_files:
        return ""
    files = _plural(result.python_files, "changed Python file")
    line = f"**Static checks:** {result.files_analysed} of {files} analysed"
    if result.files_analysed >= result.python_files:
        return line + "."
    reasons = Counter(_inline_md(n.reason, 300) for n in result.not_analysed)
    why = "; ".join(f"{count} — {reason}" for reason, count in reasons.most_common())
    return f"{line}; not analysed: {why}." if why else line + "."


def render_markdown_review(result: ReviewResult) -> str:
    """The whole review as one Markdown document for the CLI: every finding, inline ones included."""
    blocks = ["# archbot review", _static_coverage(result)]
    if result.summary.strip():
        blocks.append(sanitize_markdown(result.summary))
    if not result.findings and not result.files_reviewed:
        blocks.append("Nothing was analysed or reviewed, so there are no findings to report.")
    else:
        blocks.append(_severity_table(result.findings))
    findings = _sorted(result.findings)
    if findings:
        blocks.append(f"## Findings ({len(findings)})")
    for number, finding in enumerate(findings, start=1):
        location = _location(finding)
        where = f"{_code_span(location)} — " if location else ""
        tag = _source_tag(finding)
        blocks.append(f"### {number}. {where}{_title(finding)}")
        blocks.append(_badge(finding) + (f" · _{tag}_" if tag else ""))
        blocks.append(sanitize_markdown(finding.rationale, max_chars=RATIONALE_MAX_CHARS))
        if finding.suggestion is not None:
            blocks.append("Suggested replacement:\n\n" + _code_block(finding.suggestion))
    for section in _result_sections(result, [], compact=True)[1:]:
        if section.items:
            blocks.append(_render_section(section, len(section.items)).replace("#### ", "## ", 1))
    if result.errors:
        blocks.append("Some parts of this review failed; run it again to retry.")
    blocks.append(_usage_line(result))
    return "\n\n".join(block for block in blocks if block) + "\n"


def render_annotations(findings: Sequence[Finding]) -> list[dict[str, Any]]:
    """GitHub check-run annotations, plain text, for findings that point at a line of the head commit.

    Findings without a path or line, findings on files that are not in the diff (``GENERAL``), and
    findings on removed lines (LEFT side: their line number is in the base commit), are skipped; the
    summary lists them.
    """
    annotations: list[dict[str, Any]] = []
    for finding in findings:
        if not finding.path or finding.line is None or finding.side is Side.LEFT:
            continue
        if finding.placement is Placement.GENERAL:
            continue  # a path that is not in the diff: the model may have invented it
        start = finding.start_line
        if start is None or start > finding.line:
            start = finding.line
        rule = _rule_id(finding)
        title = f"{SEVERITY_LABEL[finding.severity]} · {finding.category.value}"
        title += f" ({rule})" if rule else ""
        title = f"{title}: {' '.join(_plain(finding.title).split())}"
        message = _plain(finding.rationale).strip() or _plain(finding.title).strip() or title
        annotation: dict[str, Any] = {
            "path": finding.path,
            "start_line": start,
            "end_line": finding.line,
            "annotation_level": ANNOTATION_LEVEL[finding.severity],
            "title": _cap_chars(title, ANNOTATION_TITLE_MAX_CHARS),
            "message": _cap_bytes(message, ANNOTATION_MAX_BYTES),
        }
        if finding.suggestion is not None:
            details = "Suggested replacement:\n" + _plain(finding.suggestion)
            annotation["raw_details"] = _cap_bytes(details, ANNOTATION_MAX_BYTES)
        annotations.append(annotation)
    return annotations


def batch_annotations(
    anns: Sequence[dict[str, Any]], size: int = ANNOTATIONS_PER_REQUEST
) -> list[list[dict[str, Any]]]:
    """Split annotations into batches of at most ``size`` (GitHub takes 50 per check-run request)."""
    if size < 1:
        raise ValueError("batch size must be at least 1")
    return [list(anns[start : start + size]) for start in range(0, len(anns), size)]


def render_check_output(result: ReviewResult, *, conclusion_reason: str) -> dict[str, str]:
    """``title`` and ``summary`` (Markdown, at most 65,535 characters) for the check run's output."""
    counts = Counter(f.severity for f in result.findings)
    title = _plural(len(result.findings), "finding")
    if result.findings:
        title += ": " + ", ".join(f"{counts[s]} {s.value}" for s in Severity if counts[s])
    if result.errors:
        title += f" · {_plural(len(result.errors), 'error')}"
    if result.not_reviewed:
        title += f" · {_plural(len(result.not_reviewed), 'file')} not reviewed"
    reason = _inline_md(conclusion_reason, 1_000)
    head = [f"**{reason}**" if reason else "", _severity_table(result.findings)]
    tail = [RETRY_HINT if result.errors else "", _usage_line(result)]
    sections = _result_sections(result, result.findings, compact=True)
    return {"title": title, "summary": _assemble(head, sections, tail, CHECK_SUMMARY_MAX_CHARS)}


def render_sarif(
    result: ReviewResult,
    *,
    tool_version: str,
    repo_root_uri: str | None = None,
    run_properties: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """A SARIF 2.1.0 log with one run, ready for GitHub code scanning.

    Rules come only from archbot's catalogue (:mod:`app.static.rule_catalogue`): a finding's rule id
    when the catalogue has it (``ARCH…``, ``ruff:…``), else ``archbot/<category>``; every rule carries
    its descriptions, help (text and Markdown) and ``helpUri``. Model text (titles, rationales) in
    messages goes through the same sanitizer as comments. Each result carries
    ``partialFingerprints["archbot/v1"]``, so alerts stay stable across pushes. Code scanning
    rejects results without a location, so findings without a path, or with a path that is not in
    the diff, are left out (the summary has them); a finding without a line, or on a removed line,
    points at line 1 of its file.
    ``run_properties`` (JSON values) are merged into ``runs[0].properties``.
    """
    rules: list[dict[str, Any]] = []
    rule_index: dict[str, int] = {}
    results: list[dict[str, Any]] = []
    for finding in result.findings:
        if not finding.path or finding.placement is Placement.GENERAL:
            continue  # no path, or one that is not in the diff (the model may have invented it)
        doc = _sarif_rule_doc(finding)
        if doc.id not in rule_index:
            rule_index[doc.id] = len(rules)
            rules.append(_sarif_rule(doc, finding))
        _raise_security_severity(rules[rule_index[doc.id]], finding)
        results.append(_sarif_result(finding, doc.id, rule_index[doc.id], repo_root_uri is not None))
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "archbot",
                "version": tool_version,
                "informationUri": SARIF_INFORMATION_URI,
                "rules": rules,
            }
        },
        "results": results,
        "columnKind": "unicodeCodePoints",
        "invocations": [_sarif_invocation(result)],
    }
    if repo_root_uri is not None:
        root = repo_root_uri if repo_root_uri.endswith("/") else repo_root_uri + "/"
        run["originalUriBaseIds"] = {SARIF_ROOT_ID: {"uri": root}}
    if run_properties:
        run["properties"] = {**run.get("properties", {}), **run_properties}
    return {"$schema": SARIF_SCHEMA_URI, "version": SARIF_VERSION, "runs": [run]}


# --------------------------------------------------------------------------------------------------
# Helpers of the machine formats
# --------------------------------------------------------------------------------------------------


def _cap_chars(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _cap_bytes(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` UTF-8 bytes, on a character boundary, with a note."""
    encoded = text.encode("utf-8")
    if len(encoded) <= limit:
        return text
    note = "\n… (truncated)"
    cut = encoded[: limit - len(note.encode("utf-8"))].decode("utf-8", errors="ignore")
    return cut + note


def _sarif_rule_doc(finding: Finding) -> RuleDoc:
    """The catalogue rule of a finding: its own rule id when archbot has that rule, else its category's."""
    return lookup(finding.rule_id) or model_rule(finding.category)


def _sarif_rule(doc: RuleDoc, finding: Finding) -> dict[str, Any]:
    deterministic = doc.severity is not None
    severity = doc.severity or finding.severity
    return {
        "id": doc.id,
        "name": doc.pascal_name,
        "shortDescription": {"text": doc.short},
        "fullDescription": {"text": doc.full},
        "help": {"text": doc.help_text(), "markdown": doc.help_markdown()},
        "helpUri": doc.help_uri,
        "defaultConfiguration": {"level": SARIF_LEVEL[severity]},
        "properties": {
            "tags": [doc.category.value, "archbot", "deterministic" if deterministic else "review"],
            "precision": "high" if deterministic else "medium",
        },
    }


def _raise_security_severity(rule: dict[str, Any], finding: Finding) -> None:
    """Security rules carry the highest ``security-severity`` among their results (GitHub ranks by it)."""
    if finding.category is not Category.SECURITY:
        return
    properties: dict[str, Any] = rule["properties"]
    if "security" not in properties["tags"]:
        properties["tags"].append("security")
    current = float(properties.get("security-severity", "0"))
    score = max(current, SECURITY_SEVERITY[finding.severity])
    properties["security-severity"] = f"{score:.1f}"


def _sarif_result(finding: Finding, rule_id: str, index: int, relative_to_root: bool) -> dict[str, Any]:
    path = finding.path or ""
    artifact: dict[str, Any] = {"uri": quote(path.lstrip("/"), safe=_PATH_SAFE)}
    if relative_to_root:
        artifact["uriBaseId"] = SARIF_ROOT_ID
    message = _inline_md(finding.title)
    rationale = sanitize_markdown(finding.rationale, max_chars=RATIONALE_MAX_CHARS).strip()
    if rationale:
        message += "\n\n" + rationale
    if finding.line is not None and finding.side is Side.LEFT:
        message += f"\n\n(On a removed line: line {finding.line} of the base revision.)"
    if finding.line is None or finding.side is Side.LEFT:
        region: dict[str, int] = {"startLine": 1}
    else:
        start = finding.start_line if finding.start_line and finding.start_line <= finding.line else finding.line
        region = {"startLine": start, "endLine": finding.line}
    sarif: dict[str, Any] = {
        "ruleId": rule_id,
        "ruleIndex": index,
        "level": "note" if finding.in_test_path else SARIF_LEVEL[finding.severity],
        "message": {"text": message or rule_id},
        "locations": [{"physicalLocation": {"artifactLocation": artifact, "region": region}}],
        "partialFingerprints": {FINGERPRINT_KEY: finding.fingerprint},
        "properties": {
            "archbot/severity": finding.severity.value,
            "archbot/category": finding.category.value,
            "archbot/source": finding.source.value,
            "archbot/inTestPath": finding.in_test_path,
        },
    }
    fix = _sarif_fix(finding, artifact)
    if fix is not None:
        sarif["fixes"] = [fix]
    return sarif


def _sarif_fix(finding: Finding, artifact: dict[str, Any]) -> dict[str, Any] | None:
    """A verified suggestion as a SARIF fix: the whole lines of its range replaced (end of line kept)."""
    fix = finding.fix
    if finding.suggestion is None or fix is None or not fix.committable or finding.side is Side.LEFT:
        return None
    if fix.start_line is None or fix.end_line is None:
        return None
    kind = "Deterministic fix" if fix.deterministic else "Suggested fix"
    return {
        "description": {"text": f"{kind}, verified against the head revision"},
        "artifactChanges": [
            {
                "artifactLocation": dict(artifact),
                "replacements": [
                    {
                        # No columns: from the start of startLine to the end of endLine, newline excluded.
                        "deletedRegion": {"startLine": fix.start_line, "endLine": fix.end_line},
                        "insertedContent": {"text": "\n".join(replacement_lines(_plain(finding.suggestion)))},
                    }
                ],
            }
        ],
    }


def _sarif_invocation(result: ReviewResult) -> dict[str, Any]:
    """Whether the run succeeded, and what it did not look at (never silent)."""
    notes = [f"Not reviewed: {entry.path}: {entry.reason}" for entry in result.not_reviewed] + [
        f"Not analysed: {entry.path}: {entry.reason}" for entry in result.not_analysed
    ]
    notifications = [{"level": "note", "message": {"text": _plain(note)}} for note in notes]
    notifications += [{"level": "error", "message": {"text": _plain(error) or "error"}} for error in result.errors]
    return {"executionSuccessful": not result.errors, "toolExecutionNotifications": notifications}
