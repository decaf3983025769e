"""app.review.findings: placement against the diff, fingerprints, merge, static/model fusion, threshold."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.review.diff import FileDiff, parse_diff
from app.review.findings import (
    exceeds_threshold,
    fuse_static_and_model,
    merge_findings,
    resolve_path,
    validate_findings,
)
from app.review.fingerprint import fingerprint
from app.review.models import (
    Category,
    DismissedStatic,
    Finding,
    ModelFinding,
    Placement,
    Severity,
    Side,
    Source,
    SuggestionCheck,
)

FIXTURES = Path(__file__).parent / "fixtures" / "diffs"
FILES = parse_diff((FIXTURES / "mixed.diff").read_bytes().decode("utf-8"))
AUTH = next(f for f in FILES if f.path == "app/auth.py")
# app/auth.py hunks: RIGHT 2..8 (5 added) and 16..19 (19 added); LEFT 2..8 (5 removed) and 16..19 (19 removed)


def mf(**kw: Any) -> ModelFinding:
    base: dict[str, Any] = {
        "path": "app/auth.py",
        "line": 5,
        "severity": Severity.HIGH,
        "category": Category.SECURITY,
        "title": "Hard-coded admin password",
        "rationale": "Anyone can log in with 'admin'.",
    }
    base.update(kw)
    return ModelFinding(**base)


def one(finding: ModelFinding, files: list[FileDiff] = FILES) -> Finding:
    (out,) = validate_findings([finding], files)
    return out


# ------------------------------------------------------------------------------------------ placement


def test_inline_on_added_and_context_lines_right() -> None:
    f = one(mf(line=5, suggestion="    if user.check(password):"))
    assert (f.placement, f.path, f.line, f.side, f.start_line) == (Placement.INLINE, "app/auth.py", 5, Side.RIGHT, None)
    assert f.suggestion == "    if user.check(password):"
    assert f.source is Source.MODEL
    assert one(mf(line=7)).placement is Placement.INLINE  # context line


def refusal(f: Finding) -> SuggestionCheck | None:
    return f.fix.check if f.fix is not None else None


def test_inline_on_left_removed_line_refuses_suggestion() -> None:
    f = one(mf(line=19, side=Side.LEFT, suggestion="x"))
    assert (f.placement, f.side, f.line, f.suggestion) == (Placement.INLINE, Side.LEFT, 19, "x")
    assert refusal(f) is SuggestionCheck.LEFT_SIDE


def test_not_commentable_line_becomes_file_level_with_line_kept() -> None:
    f = one(mf(line=12, suggestion="x"))
    assert (f.placement, f.path, f.line, refusal(f)) == (Placement.FILE, "app/auth.py", 12, SuggestionCheck.NOT_INLINE)
    gone = one(mf(path="app/gone.py", line=1))  # a deleted file has no RIGHT lines: no line to point at
    assert (gone.placement, gone.line) == (Placement.FILE, None)
    invented = one(mf(line=9999))  # past every line the diff shows: the model cannot prove it exists
    assert (invented.placement, invented.path, invented.line) == (Placement.FILE, "app/auth.py", None)
    assert one(mf(path="app/gone.py", line=1, side=Side.LEFT)).placement is Placement.INLINE
    assert one(mf(line=None)).placement is Placement.FILE
    assert one(mf(line=None)).line is None


def test_unknown_path_is_general_and_kept() -> None:
    f = one(mf(path="app/elsewhere.py", line=3))
    assert (f.placement, f.path, f.line) == (Placement.GENERAL, "app/elsewhere.py", 3)
    blank = one(mf(path="  "))
    assert (blank.placement, blank.path) == (Placement.GENERAL, None)


@pytest.mark.parametrize(
    "given_path", ["a/app/auth.py", "b/app/auth.py", "./app/auth.py", "/app/auth.py", " app/auth.py "]
)
def test_prefixed_paths_resolve(given_path: str) -> None:
    f = one(mf(path=given_path))
    assert (f.path, f.placement) == ("app/auth.py", Placement.INLINE)


def test_old_path_of_a_renamed_file_resolves_to_the_new_path() -> None:
    f = one(mf(path="app/renamed_changed.py", line=3, side=Side.LEFT))
    assert (f.path, f.placement) == ("app/renamed_new.py", Placement.INLINE)
    assert resolve_path("app/moved.py", FILES) is not None
    assert resolve_path(None, FILES) is None


def test_ranges() -> None:
    ok = one(mf(start_line=3, line=5, suggestion="s"))
    assert (ok.placement, ok.start_line, ok.line, ok.suggestion, ok.fix) == (Placement.INLINE, 3, 5, "s", None)
    same = one(mf(start_line=5, line=5, suggestion="s"))
    assert (same.start_line, same.suggestion, same.fix) == (None, "s", None)
    reversed_ = one(mf(start_line=7, line=5, suggestion="s"))
    assert (reversed_.placement, reversed_.start_line, reversed_.line, refusal(reversed_)) == (
        Placement.INLINE,
        None,
        5,
        SuggestionCheck.RANGE_OUTSIDE_HUNK,
    )
    across = one(mf(start_line=5, line=17, suggestion="s"))  # 5 is in the first hunk, 17 in the second
    assert (across.placement, across.start_line, across.line, refusal(across)) == (
        Placement.INLINE,
        None,
        17,
        SuggestionCheck.RANGE_OUTSIDE_HUNK,
    )
    assert across.fix is not None and (across.fix.start_line, across.fix.end_line) == (5, 17)
    outside = one(mf(start_line=1, line=3))  # line 1 is not in the diff
    assert (outside.placement, outside.start_line) == (Placement.INLINE, None)


def test_nothing_is_lost() -> None:
    found = [mf(line=n, side=side) for n in range(0 + 1, 25) for side in Side] + [mf(path="x/y.py")]
    out = validate_findings(found, FILES)
    assert len(out) == len(found)


# ---------------------------------------------------------------------------------------- fingerprint


def test_fingerprint_uses_category_path_and_right_side_code() -> None:
    f = one(mf(start_line=4, line=5))
    code = "def login(user, password):\n    if user.check(password) or password == 'admin':"
    assert f.fingerprint == fingerprint("security", "app/auth.py", code, "Hard-coded admin password")
    (ruled,) = validate_findings([mf(static_rule="ARCH101")], FILES, static=[static(path="app/auth.py", line=2)])
    assert ruled.rule_id == "ARCH101"
    assert ruled.fingerprint == fingerprint("ARCH101", "app/auth.py", AUTH.new_text_of(5, 5), ruled.title)
    left = one(mf(line=5, side=Side.LEFT))  # no RIGHT code: the title stands in
    assert left.fingerprint == fingerprint("security", "app/auth.py", "", "Hard-coded admin password")
    general = one(mf(path="nope.py"))
    assert general.fingerprint == fingerprint("security", "nope.py", "", "Hard-coded admin password")


def test_fingerprint_survives_a_move_and_ignores_whitespace_and_comments() -> None:
    def diff_at(start: int, code: str) -> list[FileDiff]:
        return parse_diff(f"diff --git a/m.py b/m.py\n--- a/m.py\n+++ b/m.py\n@@ -{start},0 +{start},1 @@\n+{code}\n")

    a = one(mf(path="m.py", line=10), diff_at(10, "eval(data)"))
    b = one(mf(path="m.py", line=42), diff_at(42, "eval( data )  # moved"))
    assert a.line != b.line and a.fingerprint == b.fingerprint
    c = one(mf(path="m.py", line=10, category=Category.RELIABILITY), diff_at(10, "eval(data)"))
    assert c.fingerprint != a.fingerprint


# -------------------------------------------------------------------------------------- merge and sort


def finding(**kw: Any) -> Finding:
    base: dict[str, Any] = {
        "path": "app/auth.py",
        "line": 5,
        "severity": Severity.MEDIUM,
        "category": Category.SECURITY,
        "title": "t",
        "rationale": "r",
        "placement": Placement.INLINE,
        "fingerprint": "f1",
    }
    base.update(kw)
    return Finding(**base)


def test_merge_dedupes_keeping_inline_and_worst_severity() -> None:
    file_level = finding(placement=Placement.FILE, severity=Severity.CRITICAL, title="file")
    inline = finding(severity=Severity.LOW, title="inline")
    (kept,) = merge_findings([file_level], [inline])
    assert (kept.title, kept.placement, kept.severity) == ("inline", Placement.INLINE, Severity.CRITICAL)
    first, second = finding(title="first"), finding(title="second")
    assert [f.title for f in merge_findings([first, second])] == ["first"]


def test_merge_sorts_by_severity_path_line() -> None:
    items = [
        finding(fingerprint="1", severity=Severity.LOW, path="a.py", line=1),
        finding(fingerprint="2", severity=Severity.CRITICAL, path="z.py", line=9),
        finding(fingerprint="3", severity=Severity.HIGH, path="b.py", line=20),
        finding(fingerprint="4", severity=Severity.HIGH, path="b.py", line=3),
        finding(fingerprint="5", severity=Severity.HIGH, path="a.py", line=None, placement=Placement.FILE),
        finding(fingerprint="6", severity=Severity.HIGH, path=None, line=None, placement=Placement.GENERAL),
        finding(fingerprint="7", severity=Severity.INFO, path="a.py", line=1),
    ]
    assert [f.fingerprint for f in merge_findings(items)] == ["2", "6", "5", "4", "3", "1", "7"]


# ------------------------------------------------------------------------------------------- fusion


def static(**kw: Any) -> Finding:
    base: dict[str, Any] = {
        "source": Source.STATIC,
        "rule_id": "ARCH101",
        "fingerprint": "s1",
        "rationale": "Static: hard-coded credential.",
        "severity": Severity.HIGH,
    }
    base.update(kw)
    return finding(**base)


def test_model_confirms_static_finding_at_same_place_and_category() -> None:
    model = finding(fingerprint="m1", line=5, start_line=4, rationale="The model agrees.", severity=Severity.CRITICAL)
    (fused,) = fuse_static_and_model([static()], [model], [])
    assert fused.source is Source.STATIC and fused.confirmed_by_model
    assert fused.rationale == "Static: hard-coded credential.\n\nModel review: The model agrees."
    assert fused.severity is Severity.CRITICAL and fused.fingerprint == "s1"


def test_fusion_needs_same_place_and_same_issue() -> None:
    other_category = finding(fingerprint="m1", category=Category.RELIABILITY)
    other_line = finding(fingerprint="m2", line=19)
    other_path = finding(fingerprint="m3", path="app/x.py")
    out = fuse_static_and_model([static()], [other_category, other_line, other_path], [])
    assert sorted(f.fingerprint for f in out) == ["m1", "m2", "m3", "s1"]
    assert not next(f for f in out if f.fingerprint == "s1").confirmed_by_model
    by_rule = finding(fingerprint="m4", category=Category.RELIABILITY, rule_id="ARCH101")
    (fused,) = fuse_static_and_model([static()], [by_rule], [])
    assert fused.confirmed_by_model


def test_dismissed_static_findings_are_dropped_only_on_exact_rule_path_line() -> None:
    s = static(severity=Severity.MEDIUM)
    assert (
        fuse_static_and_model([s], [], [DismissedStatic(rule="ARCH101", path="app/auth.py", line=5, reason="fp")]) == []
    )
    assert (
        fuse_static_and_model([s], [], [DismissedStatic(rule="ARCH101", path="a/app/auth.py", line=5, reason="")]) == []
    )
    for other in (
        DismissedStatic(rule="ARCH102", path="app/auth.py", line=5, reason="fp"),
        DismissedStatic(rule="ARCH101", path="app/x.py", line=5, reason="fp"),
        DismissedStatic(rule="ARCH101", path="app/auth.py", line=6, reason="fp"),
    ):
        assert fuse_static_and_model([s], [], [other]) == [s]
    ranged = static(start_line=3, line=6, severity=Severity.LOW)
    assert (
        fuse_static_and_model([ranged], [], [DismissedStatic(rule="ARCH101", path="app/auth.py", line=4, reason="")])
        == []
    )


@pytest.mark.parametrize("severity", [Severity.HIGH, Severity.CRITICAL])
def test_a_model_cannot_dismiss_a_high_or_critical_static_finding(severity: Severity) -> None:
    """An injected "this is safe, dismiss it" must not take a finding out of the review or the gate."""
    dismissal = DismissedStatic(rule="ARCH101", path="app/auth.py", line=5, reason="the PR says it is safe")
    (kept,) = fuse_static_and_model([static(severity=severity)], [], [dismissal])
    assert kept.severity is severity and kept.rule_id == "ARCH101"
    assert kept.rationale.endswith("Model review (judged a false positive): the PR says it is safe")
    assert exceeds_threshold([kept], Severity.HIGH)


def test_a_confirmed_static_finding_survives_a_dismissal() -> None:
    confirm = finding(fingerprint="m1")
    dismissal = DismissedStatic(rule="ARCH101", path="app/auth.py", line=5, reason="fp")
    (kept,) = fuse_static_and_model([static()], [confirm], [dismissal])
    assert kept.confirmed_by_model


def test_fusion_output_is_sorted_and_deduped() -> None:
    dup_a = finding(fingerprint="d", severity=Severity.LOW, path="z.py", category=Category.DESIGN)
    dup_b = finding(fingerprint="d", severity=Severity.LOW, path="z.py", category=Category.DESIGN)
    out = fuse_static_and_model([static()], [dup_a, dup_b], [])
    assert [f.fingerprint for f in out] == ["s1", "d"]


# --------------------------------------------------------------------------------------------- threshold


def test_exceeds_threshold() -> None:
    items = [finding(severity=Severity.MEDIUM)]
    assert exceeds_threshold(items, None) is False
    assert exceeds_threshold(items, Severity.MEDIUM) is True
    assert exceeds_threshold(items, Severity.LOW) is True
    assert exceeds_threshold(items, Severity.HIGH) is False
    assert exceeds_threshold([], Severity.INFO) is False
    assert exceeds_threshold(iter(items), Severity.INFO) is True


# ---------------------------------------------------------------------------------------- properties

paths = st.sampled_from([f.path for f in FILES] + ["a/app/auth.py", "./nonl.txt", "missing.py", "app/moved.py"])


@settings(max_examples=500, deadline=None)
@given(
    st.lists(
        st.builds(
            mf,
            path=paths,
            line=st.none() | st.integers(1, 25),
            start_line=st.none() | st.integers(1, 25),
            side=st.sampled_from(list(Side)),
            suggestion=st.none() | st.just("fix"),
        ),
        max_size=12,
    )
)
def test_inline_findings_always_sit_on_commentable_lines(found: list[ModelFinding]) -> None:
    out = validate_findings(found, FILES)
    assert len(out) == len(found)
    files = {f.path: f for f in FILES}
    for f in out:
        if f.placement is Placement.INLINE:
            assert f.path in files and f.line is not None
            diff = files[f.path]
            hunk = diff.hunk_for(f.side, f.line)
            assert hunk is not None and f.line in diff.lines_on(f.side)
            if f.start_line is not None:
                assert f.start_line < f.line and f.start_line in hunk.lines_on(f.side)
        elif f.placement is Placement.FILE:
            assert f.path in files
        else:
            assert f.path not in files
        if f.suggestion is not None and (f.fix is None or f.fix.committable):
            assert f.placement is Placement.INLINE and f.side is Side.RIGHT


# ------------------------------------------------------------------------- rule ids from the model


def test_static_rule_is_kept_only_when_that_rule_has_a_finding_on_that_file_in_the_chunk() -> None:
    chunk_static = [static(path="app/auth.py", line=16, rule_id="ARCH112"), static(path="app/x.py", rule_id="ARCH101")]

    def rule_of(static_rule: str, path: str = "app/auth.py") -> str | None:
        (out,) = validate_findings([mf(static_rule=static_rule, path=path)], FILES, static=chunk_static)
        return out.rule_id

    assert rule_of("ARCH112") == "ARCH112"
    assert rule_of(" ARCH112 ") == "ARCH112"
    assert rule_of("a/app/auth.py ARCH112") is None
    assert rule_of("ARCH112", path="b/app/auth.py") == "ARCH112"  # the path as the diff names it
    assert rule_of("ARCH101") is None  # that rule fired on another file
    assert rule_of("ARCH113") is None  # a real rule with no finding in this chunk
    assert rule_of("Static rule about x.py: a new rule") is None  # free text
    assert rule_of("ARCH112", path="nope.py") is None  # a path outside the diff
    (alone,) = validate_findings([mf(static_rule="ARCH112")], FILES)  # no static findings at all
    assert alone.rule_id is None


def test_a_dropped_static_rule_leaves_a_model_finding_keyed_by_its_category() -> None:
    plain = one(mf())
    minted = one(mf(static_rule="Static rule about x.py: made up"))
    assert minted.rule_id is None and minted.source is Source.MODEL
    assert minted.fingerprint == plain.fingerprint
    assert (minted.title, minted.placement, minted.line) == (plain.title, plain.placement, plain.line)
