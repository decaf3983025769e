"""Suggestions checked before they become committable: applied to the head file, then parsed or loaded.

Pure functions. A suggestion replaces RIGHT-side lines ``start_line..line`` of one hunk (GitHub's rule
for multi-line comments). It is committable only when, against the head revision's text: the range
lies in one hunk on the RIGHT side, applying it changes the file, it does not repeat the line just
outside either end of the range (a replacement that "touches" lines it does not own), Python still
parses and keeps the indentation of the replaced block, and YAML, TOML and JSON still load. Several
committable suggestions whose ranges overlap on one file with different replacements conflict: none
stays committable, so no comment carries two committable blocks and no two comments compete for the
same lines. Every verdict is a :class:`SuggestionCheck` that the pipeline counts.
"""

from __future__ import annotations

import ast
import json
import tomllib
from collections.abc import Mapping, Sequence

from app.review.diff import FileDiff
from app.review.models import Finding, Fix, Placement, Side, SuggestionCheck

__all__ = ["apply_replacement", "check_suggestion", "replacement_lines", "verify_suggestions"]

_PYTHON = (".py", ".pyi")
_YAML = (".yml", ".yaml")


def replacement_lines(suggestion: str) -> list[str]:
    """The lines a suggestion puts in place of the range (an empty suggestion deletes the range)."""
    text = suggestion.replace("\r\n", "\n").replace("\r", "\n")
    if text.endswith("\n"):
        text = text[:-1]
    return text.split("\n") if text else []


def apply_replacement(text: str, start: int, end: int, suggestion: str) -> str:
    """``text`` with lines ``start..end`` (1-based, inclusive) replaced by ``suggestion``."""
    lines = text.split("\n")
    return "\n".join([*lines[: start - 1], *replacement_lines(suggestion), *lines[end:]])


def _range_of(finding: Finding) -> tuple[int, int] | None:
    if finding.line is None:
        return None
    start = finding.start_line if finding.start_line is not None and finding.start_line <= finding.line else None
    return (start or finding.line, finding.line)


def _in_one_hunk(diff: FileDiff, start: int, end: int) -> bool:
    hunk = diff.hunk_for(Side.RIGHT, end)
    return hunk is not None and all(n in hunk.right_lines for n in range(start, end + 1))


def _indent(line: str) -> str:
    return line[: len(line) - len(line.lstrip(" \t"))]


def _first_code_line(lines: Sequence[str]) -> str | None:
    return next((line for line in lines if line.strip()), None)


def _repeats_neighbour(new: Sequence[str], old: Sequence[str], lines: Sequence[str], start: int, end: int) -> bool:
    """Does the replacement begin with the line above the range, or end with the line below it?

    The usual way a model's suggestion goes wrong: it quotes a context line it does not replace, and
    committing it would duplicate that line.
    """
    if not new:
        return False
    above = lines[start - 2].rstrip() if start >= 2 else None
    below = lines[end].rstrip() if end < len(lines) else None
    first, last = new[0].rstrip(), new[-1].rstrip()
    if above and first == above and (not old or old[0].rstrip() != above):
        return True
    return bool(below and last == below and (not old or old[-1].rstrip() != below))


def _loads(lower: str, text: str) -> bool:
    """Does the text still parse (Python) or load (YAML, TOML, JSON)? Other files: nothing to check."""
    try:
        if lower.endswith(_PYTHON):
            ast.parse(text)
        elif lower.endswith(".toml"):
            tomllib.loads(text)
        elif lower.endswith(".json"):
            json.loads(text)
    except (SyntaxError, ValueError, RecursionError):  # TOMLDecodeError and JSONDecodeError are ValueErrors
        return False
    if lower.endswith(_YAML):
        import yaml  # only where a YAML file carries a suggestion

        try:
            for _ in yaml.safe_load_all(text):
                pass
        except (yaml.YAMLError, RecursionError):
            return False
    return True


def _still_loads(path: str, text: str) -> SuggestionCheck | None:
    """None when the changed file still parses (Python) or loads (YAML, TOML, JSON)."""
    lower = path.lower()
    if _loads(lower, text):
        return None
    return SuggestionCheck.SYNTAX if lower.endswith(_PYTHON) else SuggestionCheck.DATA_INVALID


def check_suggestion(finding: Finding, diff: FileDiff | None, text: str | None) -> Fix | None:
    """The verdict on ``finding.suggestion`` against its file's diff and head text (None: no suggestion)."""
    if finding.suggestion is None:
        return None
    earlier = finding.fix
    deterministic = earlier.deterministic if earlier is not None else False
    if earlier is not None and not earlier.committable:
        return earlier  # refused while placing the finding (validate_findings): keep that reason
    span = _range_of(finding)
    start, end = span if span is not None else (None, None)

    def verdict(check: SuggestionCheck, original: str | None = None) -> Fix:
        return Fix(start_line=start, end_line=end, original=original, check=check, deterministic=deterministic)

    if finding.side is Side.LEFT:
        return verdict(SuggestionCheck.LEFT_SIDE)
    if finding.placement is not Placement.INLINE or span is None or diff is None or finding.path is None:
        return verdict(SuggestionCheck.NOT_INLINE)
    first, last = span
    if not _in_one_hunk(diff, first, last):
        return verdict(SuggestionCheck.RANGE_OUTSIDE_HUNK)
    if text is None:
        return verdict(SuggestionCheck.NO_FILE_TEXT)
    lines = text.replace("\r\n", "\n").split("\n")
    if last > len(lines):
        return verdict(SuggestionCheck.RANGE_OUTSIDE_HUNK)
    old = lines[first - 1 : last]
    original = "\n".join(old)
    new = replacement_lines(finding.suggestion)
    if [line.rstrip() for line in new] == [line.rstrip() for line in old]:
        return verdict(SuggestionCheck.NO_OP, original)
    if _repeats_neighbour(new, old, lines, first, last):
        return verdict(SuggestionCheck.OUTSIDE_RANGE, original)
    if finding.path.lower().endswith(_PYTHON):
        old_first, new_first = _first_code_line(old), _first_code_line(new)
        if old_first is not None and new_first is not None and _indent(old_first) != _indent(new_first):
            return verdict(SuggestionCheck.INDENTATION, original)
    problem = _still_loads(finding.path, "\n".join([*lines[: first - 1], *new, *lines[last:]]))
    return verdict(problem or SuggestionCheck.COMMITTABLE, original)


def _overlaps(a: Fix, b: Fix) -> bool:
    if a.start_line is None or a.end_line is None or b.start_line is None or b.end_line is None:
        return False
    return a.start_line <= b.end_line and b.start_line <= a.end_line


def verify_suggestions(
    findings: Sequence[Finding], files: Sequence[FileDiff], contents: Mapping[str, str | None]
) -> list[Finding]:
    """Every finding, in order, with a checked ``fix`` when it carries a suggestion.

    Committable suggestions whose ranges overlap on one file with different replacements conflict:
    none of them stays committable (which one is right is the author's call). The same replacement
    for the same range offered twice (several findings on one line share one comment) is kept once.
    """
    by_path = {f.path: f for f in files}
    fixes = [check_suggestion(f, by_path.get(f.path or ""), contents.get(f.path or "")) for f in findings]
    ready = [(i, fix) for i, fix in enumerate(fixes) if fix is not None and fix.committable]
    out: list[Finding] = []
    for index, (finding, fix) in enumerate(zip(findings, fixes, strict=True)):
        if fix is None:
            out.append(finding)
            continue
        rivals = [
            (j, other)
            for j, other in ready
            if j != index and findings[j].path == finding.path and fix.committable and _overlaps(fix, other)
        ]
        same = [j for j, other in rivals if _same_change(finding, fix, findings[j], other)]
        if any(j < index for j in same):
            out.append(finding.model_copy(update={"suggestion": None, "fix": None}))  # the first one carries it
            continue
        conflict = len(same) < len(rivals)
        verdict = fix.model_copy(update={"check": SuggestionCheck.CONFLICT}) if conflict else fix
        out.append(finding.model_copy(update={"fix": verdict}))
    return out


def _same_change(a: Finding, a_fix: Fix, b: Finding, b_fix: Fix) -> bool:
    same_range = (a_fix.start_line, a_fix.end_line) == (b_fix.start_line, b_fix.end_line)
    return same_range and replacement_lines(a.suggestion or "") == replacement_lines(b.suggestion or "")
