"""The static engine: ruff (our rule selection) + archbot's own AST rules + secrets, on changed lines only.

``analyse`` takes the new text of each changed Python file and the RIGHT-side line numbers the diff
added, and returns deterministic findings whose statement touches one of those lines.

Parsing: archbot's own rules use the running interpreter's ``ast`` (3.11 here). A file that needs a
newer grammar (PEP 695 type parameters, 3.12 f-string nesting) is listed as "not analysed" for the
own rules, while ruff, which parses every version up to 3.13, still checks it. A file that neither
can parse is listed as not analysed with the syntax error; nothing here raises on bad input.

Rule ids: ``ARCH1xx`` for the own rules (catalogue: ``own_rules()``), ``ruff:<code>`` for ruff's. ruff
runs once for all files, isolated from the repository's configuration (a PR could change it), with
archbot's selection (``static_ruff.RUFF_RULES``); ``# noqa`` comments on the changed lines are
honoured, since they are part of the change a human reviews. Where ruff and an own rule flag the same
line in the same category, only the own rule's finding is kept.
"""

from __future__ import annotations

import ast
import contextlib
import gc
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from app.review.fingerprint import fingerprint
from app.review.models import SEVERITY_ORDER, Category, Finding, NotReviewed, Placement, Severity, Source
from app.static import ruff_adapter as static_ruff
from app.static.blocking import check_blocking
from app.static.checks import RawFinding, check_module
from app.static.context import DEFAULT_TEST_PATHS, is_test_path, keep_in_test_path
from app.static.crypto_checks import check_crypto
from app.static.facts import statement_span
from app.static.module_view import ModuleView
from app.static.process_config import check_process_config
from app.static.redos import check_redos
from app.static.release_checks import check_release
from app.static.ruff_adapter import OWN_RULES_COVER, RUFF_RULES, SELECTED, SYNTAX_ERROR, RuffDiagnostic
from app.static.rules import RULES, RULES_BY_ID, StaticRule
from app.static.rules_taint import check_taint
from app.static.scopes import ScopeIndex
from app.static.secrets import find_committed_secrets
from app.static.state_checks import check_state
from app.static.swallowed import check_swallowed_errors

__all__ = ["ChangedPython", "StaticReport", "StaticRule", "analyse", "own_rules"]

MAX_SOURCE_CHARS = 1_000_000
NESTED_TOO_DEEP = "code nested too deeply for the AST walker"
TEST_PATH_NOTE = (
    "\n\n(In a test, fixture, example or docs path: reported at low severity and not counted by the "
    "severity threshold or `--fail-on`.)"
)
CREDENTIAL_RULE = "ARCH112"
WEAK_SECRET_RULE = "ARCH141"  # noqa: S105 - a rule id; never reported on a line ARCH112 already reports


@dataclass(frozen=True)
class ChangedPython:
    """One changed Python file: its new text and the RIGHT-side line numbers the diff added."""

    path: str
    source: str
    changed_lines: frozenset[int]


@dataclass(frozen=True)
class StaticReport:
    """What the engine found, which files it could not analyse, and how many rules it ran."""

    findings: list[Finding]
    not_analysed: list[NotReviewed]
    rules_run: int


def own_rules() -> list[StaticRule]:
    """archbot's own rule catalogue (for docs and SARIF rule metadata)."""
    return list(RULES)


@dataclass
class _File:
    """Per-file working state: the input, its parse tree (if any) and its line table."""

    item: ChangedPython
    tree: ast.Module | None
    parse_error: str | None
    _lines: list[str] | None = None
    _stmts: list[ast.stmt] | None = None
    _scopes: ScopeIndex | None = None

    @property
    def scopes(self) -> ScopeIndex:
        """Line -> enclosing scope, built on first use (for findings' identity)."""
        if self._scopes is None:
            self._scopes = ScopeIndex(self.tree, self.lines)
        return self._scopes

    @property
    def lines(self) -> list[str]:
        if self._lines is None:
            self._lines = self.item.source.split("\n")  # the tokenizer's lines, not str.splitlines()'s
        return self._lines

    def code(self, span: tuple[int, int]) -> str:
        return "\n".join(self.lines[span[0] - 1 : span[1]])

    def statement_at(self, line: int, end_line: int) -> tuple[int, int]:
        """The span of the innermost statement holding ``line`` (the raw range without a tree)."""
        if self.tree is None:
            return line, end_line
        if self._stmts is None:
            self._stmts = [node for node in ast.walk(self.tree) if isinstance(node, ast.stmt)]
        best: ast.stmt | None = None
        for stmt in self._stmts:
            last = stmt.end_lineno or stmt.lineno
            if stmt.lineno <= line <= last and (
                best is None or last - stmt.lineno < (best.end_lineno or best.lineno) - best.lineno
            ):
                best = stmt
        return statement_span(best, line, end_line) if best is not None else (line, end_line)


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while ASTs are built and walked.

    A large module's AST is hundreds of thousands of objects with no reference cycles; letting the
    collector rescan them while they are allocated made parsing about four times slower (measured with
    bench/static_speed.py). The pause lasts until every tree is garbage (freed by reference counting
    then): re-enabled while the trees were still alive, the collector's first pass scanned them all
    once more (about 0.2 s for 200 files). The previous state is restored, also on error.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _parse(source: str) -> tuple[ast.Module | None, str | None]:
    """Parse with this interpreter's grammar; warnings (invalid escapes) are not errors here."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return ast.parse(source), None
    except SyntaxError as exc:
        return None, f"{exc.msg} (line {exc.lineno})"
    except (ValueError, RecursionError, MemoryError) as exc:
        return None, type(exc).__name__ + ": " + str(exc)[:200]


def _anchor(node_line: int, span: tuple[int, int], extra: frozenset[int], changed: frozenset[int]) -> int | None:
    """The line to comment on, or None when nothing the finding depends on was changed."""
    relevant = set(range(span[0], span[1] + 1)) | extra
    touched = relevant & changed
    if not touched:
        return None
    return node_line if node_line in changed else min(touched)


def _make(
    file: _File,
    rule_id: str,
    category: Category,
    severity: Severity,
    *,
    title: str,
    rationale: str,
    line: int,
    span: tuple[int, int],
    code: str | None = None,
) -> Finding:
    path = file.item.path
    text = file.code(span) if code is None else code
    scope, occurrence = file.scopes.place(span)
    return Finding(
        path=path,
        line=line,
        severity=severity,
        category=category,
        title=title,
        rationale=rationale,
        placement=Placement.INLINE,
        source=Source.STATIC,
        rule_id=rule_id,
        fingerprint=fingerprint(rule_id, path, text, scope=scope, occurrence=occurrence),
        legacy_fingerprint=fingerprint(rule_id, path, text),
    )


def _own_finding(file: _File, raw: RawFinding) -> Finding | None:
    line = _anchor(raw.line, raw.span, raw.extra_lines, file.item.changed_lines)
    if line is None:
        return None
    rule = RULES_BY_ID[raw.rule_id]
    rationale = f"{raw.detail} {rule.message}".strip() + f"\n\n**Fix:** {rule.fix}"
    severity = raw.severity or rule.severity
    return _make(
        file, rule.id, rule.category, severity, title=rule.title, rationale=rationale, line=line, span=raw.span
    )


def _secret_findings(file: _File) -> list[Finding]:
    """ARCH112 (``app.static.secrets``), one finding per statement on the changed lines; the secret
    itself never enters the finding (not its text, not its fingerprint)."""
    rule = RULES_BY_ID[CREDENTIAL_RULE]
    found = []
    hits = find_committed_secrets(file.item.source, file.tree, file.item.changed_lines, file.statement_at)
    for hit in hits:
        line = _anchor(hit.line, hit.span, frozenset(), file.item.changed_lines)
        if line is None:
            continue
        kinds = ", ".join(hit.kinds)
        rationale = (
            f"This line holds what looks like a {kinds} (not repeated here). {rule.message}\n\n**Fix:** {rule.fix}"
        )
        found.append(
            _make(
                file,
                rule.id,
                rule.category,
                rule.severity,
                title=f"{rule.title} ({kinds})",
                rationale=rationale,
                line=line,
                span=hit.span,
                code=hit.code,
            )
        )
    return found


def _ruff_finding(file: _File, diag: RuffDiagnostic) -> Finding | None:
    known = RUFF_RULES.get(diag.code)
    if known is None:
        return None
    span = file.statement_at(diag.line, diag.end_line)
    line = _anchor(diag.line, span, frozenset(), file.item.changed_lines)
    if line is None:
        return None
    rule_id = f"ruff:{diag.code}"
    rationale = f"{known.why}\n\n(ruff {diag.code}: {diag.message})"
    return _make(
        file, rule_id, known.category, known.severity, title=diag.message, rationale=rationale, line=line, span=span
    )


def _core_checks(view: ModuleView) -> list[RawFinding]:
    return check_module(view.tree)


MODULE_CHECKS: tuple[Callable[[ModuleView], list[RawFinding]], ...] = (
    _core_checks,
    check_blocking,
    check_state,
    check_crypto,
    check_redos,
    check_swallowed_errors,
    check_process_config,
    check_release,
    check_taint,
)
"""Every own AST check, run on each parsed file (one line per check module)."""


def _analyse_file(file: _File) -> list[Finding]:
    found = _secret_findings(file)
    if file.tree is not None:
        seen: set[tuple[str, int, tuple[int, int]]] = set()
        credential_lines = {finding.line for finding in found}
        view = ModuleView(file.tree, file.item.path, file.lines, file.item.changed_lines)
        try:
            raws = [raw for check in MODULE_CHECKS for raw in check(view)]
        except RecursionError:  # e.g. a generated 1,000-term expression: report, never crash
            file.tree, file.parse_error = None, NESTED_TOO_DEEP
            return found
        for raw in raws:
            key = (raw.rule_id, raw.line, raw.span)
            if key in seen:
                continue
            seen.add(key)
            finding = _own_finding(file, raw)
            if finding is not None and not (finding.rule_id == WEAK_SECRET_RULE and finding.line in credential_lines):
                found.append(finding)
    return found


def _merge_ruff(file: _File, own: list[Finding], diags: list[RuffDiagnostic]) -> list[Finding]:
    """ruff findings not already covered by an own rule at the same statement and category. ruff's
    blocking-call codes only stand in for the own blocking checks where those could not run."""
    taken = {(f.line, f.category) for f in own}
    merged = []
    for diag in diags:
        if file.tree is not None and diag.code in OWN_RULES_COVER:
            continue
        finding = _ruff_finding(file, diag)
        if finding is None or (finding.line, finding.category) in taken:
            continue
        taken.add((finding.line, finding.category))
        merged.append(finding)
    return merged


def _not_analysed(file: _File, ruff_ok: bool, ruff_syntax: bool) -> NotReviewed | None:
    if file.tree is not None:
        return None
    path = file.item.path
    if file.parse_error == NESTED_TOO_DEEP:
        suffix = "; ruff rules still ran" if ruff_ok else ""
        return NotReviewed(path=path, reason=f"own rules not run: {NESTED_TOO_DEEP}{suffix}")
    if ruff_ok and not ruff_syntax:
        return NotReviewed(
            path=path,
            reason="own rules not run: syntax newer than this interpreter's Python; ruff rules still ran",
        )
    return NotReviewed(path=path, reason=f"not analysed: does not parse: {file.parse_error}")


def _test_path_policy(file: _File, findings: list[Finding]) -> list[Finding]:
    """In a test, fixture, example or docs path: only high-confidence security findings, severity
    capped at low, marked so that no gate counts them (``app.static.context``)."""
    kept = []
    for finding in findings:
        if not keep_in_test_path(finding.rule_id or "", finding.title, file.tree, finding.line or 0):
            continue
        severity = (
            finding.severity if SEVERITY_ORDER[finding.severity] >= SEVERITY_ORDER[Severity.LOW] else Severity.LOW
        )
        rationale = finding.rationale + TEST_PATH_NOTE
        kept.append(finding.model_copy(update={"severity": severity, "in_test_path": True, "rationale": rationale}))
    return kept


def _run(
    wanted: list[ChangedPython], run_ruff: bool, ruff_bin: str | None, test_paths: Sequence[str]
) -> tuple[list[Finding], list[NotReviewed], str | None]:
    """Parse, run the own rules and ruff, merge: the findings, the files not (fully) analysed and why
    ruff did not run (None when it did). Every parse tree is garbage once this returns."""
    with static_ruff.ruff_job([item.source for item in wanted] if run_ruff else [], ruff_bin) as ruff_result:
        # ruff runs in its own process meanwhile; the own rules run here.
        work = [_File(item, *_parse(item.source)) for item in wanted]
        own = [_analyse_file(file) for file in work]
        ruff = ruff_result()
    diags: dict[int, list[RuffDiagnostic]] = {}
    for diag in ruff.diagnostics:
        diags.setdefault(diag.index, []).append(diag)
    ruff_error = ruff.error if run_ruff else "not requested"
    findings: list[Finding] = []
    not_analysed: list[NotReviewed] = []
    for index, file in enumerate(work):
        file_diags = diags.get(index, [])
        kept = [*own[index], *_merge_ruff(file, own[index], file_diags)]
        findings.extend(_test_path_policy(file, kept) if is_test_path(file.item.path, test_paths) else kept)
        skipped = _not_analysed(file, ruff_error is None, any(d.code == SYNTAX_ERROR for d in file_diags))
        if skipped is not None:
            not_analysed.append(skipped)
        elif ruff_error is not None and run_ruff:
            not_analysed.append(NotReviewed(path=file.item.path, reason=f"ruff rules not run: {ruff_error}"))
    return findings, not_analysed, ruff_error


def analyse(
    files: Sequence[ChangedPython],
    *,
    run_ruff: bool = True,
    ruff_bin: str | None = None,
    test_paths: Sequence[str] = DEFAULT_TEST_PATHS,
) -> StaticReport:
    """Run ruff and the own rules on changed Python files; keep findings on changed lines only.

    Files under ``test_paths`` (``review.test_paths``) keep only high-confidence security findings,
    at low severity and marked ``in_test_path`` so that the severity gate and ``--fail-on`` skip them.
    """
    wanted = [item for item in files if item.changed_lines]
    not_analysed = [
        NotReviewed(path=item.path, reason="not analysed: too large for the static engine")
        for item in wanted
        if len(item.source) > MAX_SOURCE_CHARS
    ]
    wanted = [item for item in wanted if len(item.source) <= MAX_SOURCE_CHARS]
    with _gc_paused():  # until the trees are dropped: see _gc_paused
        findings, more_not_analysed, ruff_error = _run(wanted, run_ruff, ruff_bin, test_paths)
    not_analysed.extend(more_not_analysed)
    findings.sort(key=lambda f: (f.path or "", f.line or 0, f.rule_id or ""))
    rules_run = len(RULES) + (len(SELECTED) if ruff_error is None and wanted else 0)
    return StaticReport(findings=findings, not_analysed=not_analysed, rules_run=rules_run)
