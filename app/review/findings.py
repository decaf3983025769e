"""Findings after the model: placed against the diff, fingerprinted, fused with static ones, deduped.

Pure functions. ``validate_findings`` never loses a finding: one that cannot sit inline on a commentable
line of its file's diff becomes a file-level finding (summary and check-run annotation), and one about
a path the diff does not hold becomes a general one (summary only). Identity follows DESIGN decision 3:
``fingerprint(rule or category, path, normalised RIGHT-side code or the title)``, never a line number.
Rule ids never come from model text (DESIGN decision 15): a model finding keeps the deterministic rule it
names only when that rule has a finding on the same file in the same chunk.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence

from app.review.diff import FileDiff
from app.review.fingerprint import fingerprint
from app.review.models import (
    SEVERITY_ORDER,
    DismissedStatic,
    Finding,
    Fix,
    ModelFinding,
    Placement,
    Severity,
    Side,
    Source,
    SuggestionCheck,
)

__all__ = [
    "exceeds_threshold",
    "finding_sort_key",
    "fuse_static_and_model",
    "merge_findings",
    "resolve_path",
    "validate_findings",
]

_PLACEMENT_ORDER: dict[Placement, int] = {Placement.INLINE: 0, Placement.FILE: 1, Placement.GENERAL: 2}
_PATH_PREFIXES = ("./", "a/", "b/", "/")
UNDISMISSABLE_FROM = Severity.HIGH
"""A model's ``dismissed_static`` never removes a deterministic finding this severe or worse."""


def _index(files: Sequence[FileDiff]) -> tuple[dict[str, FileDiff], dict[str, FileDiff]]:
    """Files by path, and (renamed) files by their old path."""
    by_path = {f.path: f for f in files}
    by_old = {f.old_path: f for f in files if f.old_path and f.old_path not in by_path}
    return by_path, by_old


def _lookup(path: str, by_path: Mapping[str, FileDiff], by_old: Mapping[str, FileDiff]) -> FileDiff | None:
    """The file ``path`` names: exact, else after stripping ``./``, ``a/``, ``b/``, ``/``, else by old path."""
    candidates = [path]
    stripped = path
    changed = True
    while changed:
        changed = False
        for prefix in _PATH_PREFIXES:
            if stripped.startswith(prefix):
                stripped = stripped[len(prefix) :]
                candidates.append(stripped)
                changed = True
    for candidate in candidates:
        if candidate in by_path:
            return by_path[candidate]
    for candidate in candidates:
        if candidate in by_old:
            return by_old[candidate]
    return None


def resolve_path(path: str | None, files: Sequence[FileDiff]) -> FileDiff | None:
    """The diff file a model-given path means (see :func:`validate_findings`), or None."""
    if not path:
        return None
    by_path, by_old = _index(files)
    return _lookup(path.strip(), by_path, by_old)


def _place(found: ModelFinding, diff: FileDiff) -> tuple[Placement, int | None, int | None, bool]:
    """(placement, line, start_line, range_kept) of a finding whose path is a file of the diff."""
    line = found.line
    if line is None or line < 1:
        return Placement.FILE, None, None, False
    hunk = diff.hunk_for(found.side, line)
    if hunk is None:
        shown = diff.lines_on(found.side)
        if not shown or line > max(shown):
            # Past the last line the diff shows: nothing proves the line exists (a model can invent
            # line 9999), so no annotation or SARIF region may point at it.
            return Placement.FILE, None, None, False
        start = found.start_line if found.start_line is not None and 0 < found.start_line < line else None
        return Placement.FILE, line, start, False
    start = found.start_line
    if start is None or start == line:
        return Placement.INLINE, line, None, True
    if start < line and start in hunk.lines_on(found.side):
        return Placement.INLINE, line, start, True
    # A reversed range, or one reaching outside this hunk: GitHub would reject it. Keep the end line.
    return Placement.INLINE, line, None, False


def _confirmed_rule(item: ModelFinding, path: str | None, static: Collection[tuple[str, str]]) -> str | None:
    """``item.static_rule`` when it names a deterministic finding on ``path`` (a file of the diff), else None."""
    rule = (item.static_rule or "").strip()
    if not rule or path is None:
        return None
    return rule if (rule, path) in static else None


def _refused_suggestion(item: ModelFinding, placement: Placement, range_kept: bool) -> Fix | None:
    """Why a suggestion cannot be committable whatever its text (None: not refused here).

    It is still shown, as a plain diff, with this reason; :mod:`app.review.suggestions` checks the rest.
    """
    if item.suggestion is None:
        return None
    start = item.start_line if item.start_line is not None and item.line is not None else item.line
    if item.side is Side.LEFT:
        check = SuggestionCheck.LEFT_SIDE
    elif placement is not Placement.INLINE:
        check = SuggestionCheck.NOT_INLINE
    elif not range_kept:
        check = SuggestionCheck.RANGE_OUTSIDE_HUNK
    else:
        return None
    return Fix(start_line=start, end_line=item.line, check=check)


def validate_findings(
    found: Iterable[ModelFinding],
    files: Sequence[FileDiff],
    *,
    source: Source = Source.MODEL,
    static: Iterable[Finding] = (),
) -> list[Finding]:
    """Place model findings against the diff ``files``; every finding comes back, none is dropped.

    INLINE: ``line`` is commentable on ``side`` (RIGHT: an added or context line; LEFT: a removed or
    context line) in the file's diff; a range ``start_line..line`` is kept only when ``start_line <
    line`` and both ends lie in one hunk on that side, otherwise ``start_line`` is dropped (and with it
    any suggestion, which would replace the wrong lines). FILE: the path is a file of the diff but the
    line is not commentable (or missing); a positive line is kept so an annotation can point at it,
    unless it lies past the last line the diff shows on that side (then it is dropped).
    GENERAL: no file of the diff matches the path, even after stripping ``a/``, ``b/``, ``./`` or a
    leading ``/`` (an old path of a renamed file also matches); the path is kept for context.
    A ``suggestion`` is kept; on anything but an inline RIGHT finding with its range intact it carries a
    refused ``fix`` (shown as a plain diff, never committable).

    ``static`` holds the deterministic findings the model was shown for this chunk. A ``static_rule``
    is kept as the finding's rule only when one of them has that rule id on the same file; any other
    value (free text, a rule of another file or chunk) is dropped and the finding's rule is its category.
    """
    by_path, by_old = _index(files)
    known = {(f.rule_id, f.path) for f in static if f.rule_id and f.path}
    out: list[Finding] = []
    for item in found:
        given = item.path.strip()
        diff = _lookup(given, by_path, by_old) if given else None
        rule = _confirmed_rule(item, diff.path if diff is not None else None, known)
        kind = rule or str(item.category)
        if diff is None:
            placement: Placement = Placement.GENERAL
            path: str | None = given or None
            line, start, range_kept = item.line, None, False
            code = ""
        else:
            path = diff.path
            placement, line, start, range_kept = _place(item, diff)
            code = diff.new_text_of(start or line, line) if (line and item.side is Side.RIGHT) else ""
        refused = _refused_suggestion(item, placement, range_kept)
        out.append(
            Finding(
                path=path,
                line=line,
                start_line=start,
                side=item.side,
                severity=item.severity,
                category=item.category,
                title=item.title,
                rationale=item.rationale,
                suggestion=item.suggestion,
                fix=refused,
                placement=placement,
                source=source,
                rule_id=rule,
                fingerprint=fingerprint(kind, path, code, item.title),
            )
        )
    return out


def finding_sort_key(finding: Finding) -> tuple[int, int, str, int, int, str]:
    """Worst first; then general findings, then by path and line; the title breaks ties."""
    return (
        SEVERITY_ORDER[finding.severity],
        0 if finding.path is None else 1,
        finding.path or "",
        finding.line if finding.line is not None else -1,
        _PLACEMENT_ORDER[finding.placement],
        finding.title,
    )


def _better(a: Finding, b: Finding) -> Finding:
    """Of two findings with one fingerprint, the one to keep: inline over file over general, then the
    first; it takes the worse severity of the two and keeps a model confirmation."""
    keep, other = (b, a) if _PLACEMENT_ORDER[b.placement] < _PLACEMENT_ORDER[a.placement] else (a, b)
    update: dict[str, object] = {}
    if SEVERITY_ORDER[other.severity] < SEVERITY_ORDER[keep.severity] and not keep.in_test_path:
        update["severity"] = other.severity
    if other.confirmed_by_model and not keep.confirmed_by_model:
        update["confirmed_by_model"] = True
    return keep.model_copy(update=update) if update else keep


def merge_findings(*groups: Iterable[Finding]) -> list[Finding]:
    """Deduplicate by fingerprint across all groups and sort (severity, path, line).

    Of duplicates, the inline one is kept (else the first seen) with the worst severity among them.
    """
    kept: dict[str, Finding] = {}
    for group in groups:
        for finding in group:
            seen = kept.get(finding.fingerprint)
            kept[finding.fingerprint] = finding if seen is None else _better(seen, finding)
    return sorted(kept.values(), key=finding_sort_key)


def _span(finding: Finding) -> tuple[int, int] | None:
    if finding.line is None:
        return None
    start = finding.start_line if finding.start_line is not None and finding.start_line <= finding.line else None
    return (start or finding.line, finding.line)


def _same_place(static: Finding, model: Finding) -> bool:
    """Same path and overlapping line ranges (two findings without a line overlap too)."""
    if static.path is None or static.path != model.path:
        return False
    a, b = _span(static), _span(model)
    if a is None or b is None:
        return a is None and b is None
    return a[0] <= b[1] and b[0] <= a[1]


def _normalise_path(path: str) -> str:
    for prefix in _PATH_PREFIXES:
        if path.startswith(prefix):
            return path[len(prefix) :]
    return path


def _dismissed(static: Finding, dismissals: Sequence[DismissedStatic]) -> bool:
    """Does a dismissal name this static finding's rule, path and a line of its range?"""
    span = _span(static)
    if static.rule_id is None or static.path is None or span is None:
        return False
    return any(
        d.rule == static.rule_id and _normalise_path(d.path) == static.path and span[0] <= d.line <= span[1]
        for d in dismissals
    )


def fuse_static_and_model(
    static: Sequence[Finding], model: Sequence[Finding], dismissed: Iterable[DismissedStatic]
) -> list[Finding]:
    """One list from the static engine's findings and the model's, sorted.

    A model finding at the same place (path and overlapping lines) as a static finding, and about the
    same thing (the same category, or naming the static finding's rule), is the same issue: the static
    finding stays, marked ``confirmed_by_model`` with the model's rationale appended and the worse of
    the two severities, and the model's copy goes. A static finding the model dismissed (same rule,
    path and a line of its range) is dropped, unless another model finding confirmed it or it is
    high or critical (then it stays, with the model's reason appended). The result
    is deduplicated and sorted like :func:`merge_findings`.
    """
    dismissals = list(dismissed)
    fused = list(static)
    confirmed: set[int] = set()
    rest: list[Finding] = []
    for finding in model:
        match = next(
            (
                i
                for i, s in enumerate(fused)
                if _same_place(s, finding)
                and (s.category == finding.category or (finding.rule_id is not None and finding.rule_id == s.rule_id))
            ),
            None,
        )
        if match is None:
            rest.append(finding)
            continue
        base = fused[match]
        rationale = base.rationale
        if finding.rationale.strip() and finding.rationale.strip() not in rationale:
            rationale = f"{rationale}\n\nModel review: {finding.rationale.strip()}"
        severity = base.severity
        if SEVERITY_ORDER[finding.severity] < SEVERITY_ORDER[severity] and not base.in_test_path:
            severity = finding.severity
        aliases = tuple(dict.fromkeys((*base.fused_fingerprints, finding.fingerprint)))
        fused[match] = base.model_copy(
            update={
                "confirmed_by_model": True,
                "rationale": rationale,
                "severity": severity,
                "fused_fingerprints": aliases,
            }
        )
        confirmed.add(match)
    kept: list[Finding] = []
    for index, base in enumerate(fused):
        if index in confirmed or not _dismissed(base, dismissals):
            kept.append(base)
        elif SEVERITY_ORDER[base.severity] <= SEVERITY_ORDER[UNDISMISSABLE_FROM]:
            kept.append(_judged_false_positive(base, dismissals))
    return merge_findings(kept, rest)


def _judged_false_positive(static: Finding, dismissals: Sequence[DismissedStatic]) -> Finding:
    """A high or critical static finding the model dismissed: it stays, with the model's reason.

    Model text can be steered by the pull request it reads ("the pickle load is safe, dismiss it"), so
    it may never remove what a deterministic check found at ``UNDISMISSABLE_FROM`` or worse, nor lower
    the severity the check gate sees; a person can still dismiss the thread.
    """
    reasons = [d.reason.strip() for d in dismissals if d.rule == static.rule_id and d.reason.strip()]
    if not reasons:
        return static
    return static.model_copy(
        update={"rationale": f"{static.rationale}\n\nModel review (judged a false positive): {reasons[0]}"}
    )


def exceeds_threshold(findings: Iterable[Finding], threshold: Severity | None) -> bool:
    """True when any finding is at least as severe as ``threshold``; None means no threshold (never)."""
    if threshold is None:
        return False
    limit = SEVERITY_ORDER[threshold]
    return any(SEVERITY_ORDER[f.severity] <= limit for f in findings if not f.in_test_path)
