"""Real-code evaluation: archbot's deterministic findings on diffs of public projects, against hand labels.

Usage: ``python bench/realcode.py [--mirrors DIR] [--only ID[,ID]] [--no-baselines] [--show-unlabelled]``

For each commit range of ``bench/realcode/ranges.toml`` this script rebuilds the diff
(``git diff <base> <head> -- '*.py'``) and a copy of the tree at ``<head>`` (``git archive``) under
``bench/.work/realcode/<id>/`` (git-ignored), runs the real console script
``archbot review --diff <d> --repo-dir <tree> --format json`` offline (every ``ANTHROPIC_*`` variable
removed) and compares its deterministic findings with ``bench/realcode/labels.jsonl``:

- a finding matches a label of the same range, path, rule and line (or, failing that, the only label of
  that range, path and rule within two lines, so a finding that moves by a line keeps its label);
- verdicts: ``true`` (a maintainer would thank us), ``debatable``, ``false``; a finding with no label is
  ``unlabelled`` (what a later engine change added); a label no finding matches is ``gone``;
- strict precision = true / all findings (debatable and unlabelled count against it), also outside
  test, fixture, example and docs paths; per rule and per family;
- rows with verdict ``missed`` are real problems on changed lines the engine does not report; one counts
  as caught when a finding of its family sits within two lines of it.

For comparison, plain ``ruff check --isolated --select S,ASYNC`` and ``bandit`` (default profile, if
installed: ``pip install bandit`` in the venv) run over the same changed files at ``<head>``; only
their results on added lines count.

Mirrors are bare git repositories at ``<mirrors>/<mirror>/repo`` (default ``/work/.mirror``, or
``ARCHBOT_REALCODE_MIRRORS``); a missing one is named with the command that brings it, and its
ranges are skipped. Results are also written to ``bench/.work/realcode/results.json``; unlabelled
findings to ``bench/.work/realcode/unlabelled.jsonl`` in the labels' format (verdict to fill in).
Exit status 0 when the table was printed, 2 on bad arguments or input files.
"""

from __future__ import annotations

import argparse
import importlib.util
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tomllib
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from ruff.__main__ import find_ruff_bin  # type: ignore[import-untyped]

ROOT = Path(__file__).resolve().parent.parent
HERE = ROOT / "bench" / "realcode"
WORK = ROOT / "bench" / ".work" / "realcode"
DEFAULT_MIRRORS = Path("/work/.mirror")
VERDICTS = ("true", "debatable", "false")
NEAR = 2  # lines: how far a finding may sit from its label (or a missed row) and still match it
GIT_TIMEOUT_S = 600
TOOL_TIMEOUT_S = 900
HUNK = re.compile(r"^@@ -\d+(?:,\d+)? \+(\d+)(?:,(\d+))? @@")

# Family of each rule id archbot emits (ARCH1xx and ruff:<code>); the names match the `missed` rows.
ARCH_FAMILY = {
    "ARCH101": "task-handling", "ARCH102": "task-handling", "ARCH114": "task-handling",
    "ARCH103": "shared-state", "ARCH106": "lock-scope", "ARCH104": "resource-leak",
    "ARCH105": "timeout", "ARCH107": "blocking-in-async", "ARCH108": "blocking-in-async",
    "ARCH109": "blocking-in-async", "ARCH110": "jwt-unverified", "ARCH111": "deserialization",
    "ARCH112": "hardcoded-secret", "ARCH113": "tls-verification",
}  # fmt: skip
RUFF_FAMILY = {
    "S102": "code-injection", "S307": "code-injection", "S602": "command-injection",
    "S603": "command-injection", "S604": "command-injection", "S605": "command-injection",
    "S606": "command-injection", "S607": "command-injection", "S609": "command-injection",
    "S601": "command-injection", "S608": "sql-injection", "S610": "sql-injection",
    "S611": "sql-injection", "S301": "deserialization", "S302": "deserialization",
    "S506": "deserialization", "S310": "ssrf", "S113": "timeout", "S108": "insecure-temp",
    "S110": "swallowed-error", "S112": "swallowed-error", "BLE001": "swallowed-error",
    "S105": "hardcoded-secret", "S106": "hardcoded-secret", "S107": "hardcoded-secret",
    "S104": "bind-all-interfaces", "S103": "permissions", "S201": "debug-mode", "S202": "path-traversal",
    "S701": "template-injection", "S702": "template-injection", "S704": "template-injection",
    "S308": "template-injection", "S612": "config-injection", "RUF006": "task-handling",
    "SIM115": "resource-leak", "PLW2101": "lock-scope", "B006": "mutable-default",
    "B039": "mutable-default", "B019": "memory-leak", "PLW1509": "subprocess-misuse",
    "PLW1508": "subprocess-misuse", "PLW1510": "subprocess-misuse", "PLW0711": "error-handling",
    "B012": "error-handling", "B014": "error-handling", "B025": "error-handling",
    "B029": "error-handling", "B030": "error-handling", "B023": "closure-binding", "B020": "other",
    "S101": "assert", "S311": "insecure-randomness",
}  # fmt: skip
BANDIT_FAMILY = {
    "B101": "assert", "B102": "code-injection", "B103": "permissions", "B104": "bind-all-interfaces",
    "B105": "hardcoded-secret", "B106": "hardcoded-secret", "B107": "hardcoded-secret",
    "B108": "insecure-temp", "B110": "swallowed-error", "B112": "swallowed-error", "B113": "timeout",
    "B301": "deserialization", "B403": "deserialization", "B506": "deserialization",
    "B310": "ssrf", "B311": "insecure-randomness", "B404": "command-injection",
    "B603": "command-injection", "B602": "command-injection", "B607": "command-injection",
    "B608": "sql-injection", "B501": "tls-verification", "B701": "template-injection",
}  # fmt: skip
TEST_DIRS = frozenset({"tests", "test", "testing", "fixtures", "examples", "example", "docs", "doc"})


# The engine's own rule families (app/static/rules.py ``family``) under this file's family names.
CORPUS_FAMILY_ALIAS = {
    "blocking": "blocking-in-async", "shared-state": "shared-state", "command": "command-injection",
    "sql": "sql-injection", "ssrf": "ssrf", "path": "path-traversal", "xxe": "xxe",
    "log-injection": "log-injection", "redos": "redos", "code-exec": "code-injection",
    "randomness": "insecure-randomness", "secrets": "hardcoded-secret", "jwt": "jwt-unverified",
    "errors": "error-handling", "resources": "resource-leak", "tasks": "task-handling", "timeouts": "timeout",
}  # fmt: skip


def _engine_family(rule: str) -> str | None:
    """The family the engine's rule catalogue gives an own rule, if it names one."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    try:
        from app.static.rules import RULES_BY_ID
    except ImportError:
        return None
    known = RULES_BY_ID.get(rule)
    family = getattr(known, "family", "") if known is not None else ""
    return CORPUS_FAMILY_ALIAS.get(family, family) or None


def family_of(rule: str) -> str:
    """The family of a rule id of archbot (``ARCH…``, ``ruff:…``) or of plain ruff (``S…``)."""
    if rule in ARCH_FAMILY:
        return ARCH_FAMILY[rule]
    if rule.startswith("ARCH") and (family := _engine_family(rule)):
        return family
    code = rule.removeprefix("ruff:")
    if code in RUFF_FAMILY:
        return RUFF_FAMILY[code]
    if code.startswith("ASYNC2"):
        return "blocking-in-async"
    if code.startswith("ASYNC1"):
        return "task-handling"
    if code.startswith(("S3", "S5")):
        return "weak-crypto-or-protocol"
    return "other"


def is_test_path(path: str) -> bool:
    """Test, fixture, example or docs code (archbot's default ``review.test_paths``, any depth)."""
    pure = PurePosixPath(path)
    name = pure.name
    if name == "conftest.py" or name.startswith("test_") or name.endswith("_test.py"):
        return True
    return any(part in TEST_DIRS for part in pure.parts[:-1])


@dataclass(frozen=True)
class Range:
    """One commit range of one project."""

    id: str
    repo: str
    mirror: str
    base: str
    head: str
    why: str


@dataclass(frozen=True)
class Label:
    """One hand label: a verdict on a finding, or a real problem the engine misses (``missed``)."""

    range: str
    path: str
    line: int
    rule: str
    verdict: str
    why: str


@dataclass(frozen=True)
class Finding:
    """One deterministic finding of archbot, as its JSON output gives it."""

    path: str
    line: int
    rule: str
    severity: str
    title: str


@dataclass
class RangeResult:
    """What one range produced: archbot's findings with their verdicts, and the baselines' counts."""

    range: Range
    files: int
    test_files: int
    added_lines: int
    findings: list[tuple[Finding, str, Label | None]] = field(default_factory=list)
    gone: list[Label] = field(default_factory=list)
    missed: list[tuple[Label, bool]] = field(default_factory=list)
    not_analysed: int = 0
    ruff: list[tuple[str, int, str]] | None = None
    bandit: list[tuple[str, int, str]] | None = None
    error: str | None = None


def load_ranges(path: Path) -> list[Range]:
    with path.open("rb") as handle:
        data = tomllib.load(handle)
    ranges = [Range(**row) for row in data["range"]]
    ids = [r.id for r in ranges]
    if len(set(ids)) != len(ids):
        raise SystemExit(f"{path}: duplicate range ids")
    return ranges


def load_labels(path: Path, range_ids: set[str]) -> list[Label]:
    labels: list[Label] = []
    if not path.exists():
        return labels
    for number, text in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not text.strip():
            continue
        row = json.loads(text)
        label = Label(row["range"], row["path"], int(row["line"]), row["rule"], row["verdict"], row["why"])
        if label.range not in range_ids or label.verdict not in (*VERDICTS, "missed"):
            raise SystemExit(f"{path}:{number}: unknown range or verdict in {text[:120]}")
        labels.append(label)
    return labels


def git(mirror: Path, *args: str) -> bytes:
    done = subprocess.run(["git", "-C", str(mirror), *args], capture_output=True, timeout=GIT_TIMEOUT_S, check=False)
    if done.returncode:
        raise RuntimeError(f"git {' '.join(args[:2])} failed: {done.stderr.decode(errors='replace').strip()[:300]}")
    return done.stdout


def prepare(item: Range, mirror: Path, work: Path) -> tuple[Path, Path]:
    """The range's diff file and a tree of its head commit, built once and then reused."""
    work.mkdir(parents=True, exist_ok=True)
    diff_path, tree = work / "py.diff", work / "head"
    stamp = f"{item.base}..{item.head}"
    marker = work / "built"
    if marker.exists() and marker.read_text(encoding="utf-8") == stamp and diff_path.exists() and tree.is_dir():
        return diff_path, tree
    diff = git(mirror, "diff", "--no-color", "--no-ext-diff", "-M", item.base, item.head, "--", "*.py")
    diff_path.write_bytes(diff)
    if tree.exists():
        shutil.rmtree(tree)
    tree.mkdir()
    extract(mirror, item.head, tree)
    marker.write_text(stamp, encoding="utf-8")
    return diff_path, tree


def extract(mirror: Path, commit: str, tree: Path) -> None:
    """Write every regular file of ``commit`` that the mirror holds into ``tree``.

    A snapshot may lack large blobs (binary assets), so ``git archive`` can fail; this reads the tree
    listing, asks ``git cat-file`` which blobs exist and writes those through a tar stream built here
    (extracted with the ``data`` filter, so no path leaves ``tree``)."""
    listing = git(mirror, "ls-tree", "-r", "-z", "--full-tree", commit).split(b"\0")
    blobs: list[tuple[str, str, bool]] = []
    for entry in filter(None, listing):
        meta, _, name = entry.partition(b"\t")
        mode, kind, sha = meta.split()
        if kind == b"blob" and mode in (b"100644", b"100755"):
            blobs.append((sha.decode(), name.decode("utf-8", "surrogateescape"), mode == b"100755"))
    wanted = "".join(f"{sha}\n" for sha, _, _ in blobs).encode()
    done = subprocess.run(
        ["git", "-C", str(mirror), "cat-file", "--batch"], input=wanted, capture_output=True,
        timeout=GIT_TIMEOUT_S, check=True,
    )  # fmt: skip
    out, pos = io.BytesIO(), 0
    data = done.stdout
    with tarfile.open(fileobj=out, mode="w") as tar:
        for _, name, executable in blobs:
            end = data.index(b"\n", pos)
            header = data[pos:end].split()
            pos = end + 1
            if len(header) < 3 or header[1] != b"blob":  # "<sha> missing"
                continue
            size = int(header[2])
            info = tarfile.TarInfo(name)
            info.size, info.mode = size, 0o755 if executable else 0o644
            tar.addfile(info, io.BytesIO(data[pos : pos + size]))
            pos += size + 1
    out.seek(0)
    with tarfile.open(fileobj=out) as tar:
        tar.extractall(tree, filter="data")


def added_lines(diff: str) -> dict[str, set[int]]:
    """RIGHT-side line numbers of the added lines, per new path (deleted files are left out)."""
    added: dict[str, set[int]] = {}
    current: set[int] | None = None
    line = 0
    for text in diff.splitlines():
        if text.startswith("diff --git "):
            current = None
        elif text.startswith("+++ "):
            target = text[4:].strip()
            current = None if target == "/dev/null" else added.setdefault(target.removeprefix("b/"), set())
        elif (hunk := HUNK.match(text)) is not None:
            line = int(hunk.group(1))
        elif current is not None and text.startswith("+"):
            current.add(line)
            line += 1
        elif current is not None and text.startswith(" "):
            line += 1
    return added


def archbot_bin() -> list[str]:
    """The console script of the interpreter running this file (the venv's), else the one on PATH."""
    beside = Path(sys.executable).with_name("archbot")
    if beside.exists():
        return [str(beside)]
    found = shutil.which("archbot")
    if found is None:
        raise SystemExit("archbot console script not found: pip install -e . in this venv")
    return [found]


def offline_env() -> dict[str, str]:
    return {key: value for key, value in os.environ.items() if not key.startswith("ANTHROPIC_")}


def run_archbot(diff: Path, tree: Path) -> tuple[list[Finding], int]:
    command = [*archbot_bin(), "review", "--diff", str(diff), "--repo-dir", str(tree), "--format", "json"]
    done = subprocess.run(command, capture_output=True, env=offline_env(), timeout=TOOL_TIMEOUT_S, check=False)
    try:
        document = json.loads(done.stdout)
    except json.JSONDecodeError as exc:
        tail = done.stderr.decode(errors="replace").strip()[-300:]
        raise RuntimeError(f"archbot review exit {done.returncode}, no JSON on stdout ({exc}): {tail}") from exc
    findings = [
        Finding(str(row["path"]), int(row["line"] or 0), str(row["rule_id"] or ""), row["severity"], row["title"])
        for row in document["findings"]
        if row.get("source") == "static"
    ]
    return findings, len(document.get("not_analysed") or [])


def run_plain_ruff(tree: Path, paths: Sequence[str], added: dict[str, set[int]]) -> list[tuple[str, int, str]]:
    if not paths:
        return []
    command = [
        str(find_ruff_bin()), "check", "--isolated", "--no-cache", "--exit-zero", "--quiet",
        "--output-format", "json", "--target-version", "py313", "--select", "S,ASYNC", *paths,
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, cwd=tree, timeout=TOOL_TIMEOUT_S, check=True)
    hits = []
    for row in json.loads(done.stdout):
        path = Path(row["filename"]).resolve().relative_to(tree.resolve()).as_posix()
        line = int(row["location"]["row"])
        end = int((row.get("end_location") or {}).get("row") or line)
        if added.get(path, set()) & set(range(line, end + 1)):
            hits.append((path, line, str(row["code"] or "invalid-syntax")))
    return hits


def run_bandit(tree: Path, paths: Sequence[str], added: dict[str, set[int]]) -> list[tuple[str, int, str]] | None:
    if importlib.util.find_spec("bandit") is None:
        return None
    if not paths:
        return []
    command = [sys.executable, "-m", "bandit", "-q", "-f", "json", *paths]
    done = subprocess.run(command, capture_output=True, cwd=tree, timeout=TOOL_TIMEOUT_S, check=False)
    hits = []
    for row in json.loads(done.stdout)["results"]:
        path = PurePosixPath(row["filename"]).as_posix().removeprefix("./")
        lines = set(row.get("line_range") or [row["line_number"]])
        if added.get(path, set()) & lines:
            hits.append((path, int(row["line_number"]), str(row["test_id"])))
    return hits


def match(findings: list[Finding], labels: list[Label]) -> tuple[list[tuple[Finding, str, Label | None]], list[Label]]:
    """Each finding with its verdict and label (exact line first, then the one label near it)."""
    pool = [label for label in labels if label.verdict != "missed"]
    exact = {(lb.path, lb.line, lb.rule): lb for lb in pool}
    used: set[Label] = set()
    out: list[tuple[Finding, str, Label | None]] = []
    pending = []
    for finding in findings:
        label = exact.get((finding.path, finding.line, finding.rule))
        if label is not None and label not in used:
            used.add(label)
            out.append((finding, label.verdict, label))
        else:
            pending.append(finding)
    for finding in pending:
        near = [
            lb for lb in pool
            if lb not in used and lb.path == finding.path and lb.rule == finding.rule
            and abs(lb.line - finding.line) <= NEAR
        ]  # fmt: skip
        if len(near) == 1:
            used.add(near[0])
            out.append((finding, near[0].verdict, near[0]))
        else:
            out.append((finding, "unlabelled", None))
    return out, [lb for lb in pool if lb not in used]


def caught(missed: Label, findings: Iterable[Finding]) -> bool:
    return any(
        f.path == missed.path and abs(f.line - missed.line) <= NEAR and family_of(f.rule) == missed.rule
        for f in findings
    )


def evaluate(item: Range, mirrors: Path, labels: list[Label], baselines: bool) -> RangeResult:
    mirror = mirrors / item.mirror / "repo"
    diff_path, tree = prepare(item, mirror, WORK / item.id)
    added = added_lines(diff_path.read_text(encoding="utf-8", errors="replace"))
    present = sorted(path for path in added if (tree / path).is_file())
    result = RangeResult(item, len(added), sum(map(is_test_path, added)), sum(len(lines) for lines in added.values()))
    findings, result.not_analysed = run_archbot(diff_path, tree)
    mine = [label for label in labels if label.range == item.id]
    result.findings, result.gone = match(findings, mine)
    result.missed = [(lb, caught(lb, findings)) for lb in mine if lb.verdict == "missed"]
    if baselines:
        result.ruff = run_plain_ruff(tree, present, added)
        result.bandit = run_bandit(tree, present, added)
    return result


def pct(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "-"


def verdict_counts(rows: Iterable[tuple[Finding, str, Label | None]]) -> Counter[str]:
    return Counter(verdict for _, verdict, _ in rows)


def print_table(title: str, groups: dict[str, list[tuple[Finding, str, Label | None]]]) -> None:
    print(f"\n{title}")
    header = f"{'':<30}{'all':>5}{'true':>6}{'deb':>5}{'false':>6}{'unlab':>6}{'strict P':>10}  {'in tests':>8}"
    print(header)
    print("-" * len(header))
    for name, rows in groups.items():
        counts = verdict_counts(rows)
        tests = sum(is_test_path(f.path) for f, _, _ in rows)
        print(
            f"{name:<30}{len(rows):>5}{counts['true']:>6}{counts['debatable']:>5}{counts['false']:>6}"
            f"{counts['unlabelled']:>6}{pct(counts['true'], len(rows)):>10}  {tests:>8}"
        )


def report(results: list[RangeResult], skipped: list[tuple[Range, str]]) -> dict[str, object]:
    done = [r for r in results if r.error is None]
    every = [row for r in done for row in r.findings]
    print("archbot real-code evaluation (deterministic findings, offline)")
    print(f"{'range':<28}{'py files':>9}{'tests':>6}{'+lines':>8}{'finds':>6}{'true':>5}{'deb':>4}"
          f"{'false':>6}{'unlab':>6}{'gone':>5}{'missed':>7}{'caught':>7}{'ruff':>6}{'bandit':>7}")  # fmt: skip
    for r in results:
        if r.error is not None:
            print(f"{r.range.id:<28} ERROR: {r.error}")
            continue
        c = verdict_counts(r.findings)
        bandit = "-" if r.bandit is None else str(len(r.bandit))
        ruff = "-" if r.ruff is None else str(len(r.ruff))
        print(
            f"{r.range.id:<28}{r.files:>9}{r.test_files:>6}{r.added_lines:>8}{len(r.findings):>6}{c['true']:>5}"
            f"{c['debatable']:>4}{c['false']:>6}{c['unlabelled']:>6}{len(r.gone):>5}{len(r.missed):>7}"
            f"{sum(hit for _, hit in r.missed):>7}{ruff:>6}{bandit:>7}"
        )
    for item, why in skipped:
        print(f"{item.id:<28} SKIPPED: {why}")

    counts = verdict_counts(every)
    outside = [row for row in every if not is_test_path(row[0].path)]
    out_counts = verdict_counts(outside)
    print(
        f"\nfindings {len(every)}: true {counts['true']}, debatable {counts['debatable']}, false {counts['false']}, "
        f"unlabelled {counts['unlabelled']}; gone (labelled, no longer reported) {sum(len(r.gone) for r in done)}"
    )
    print(f"strict precision (true / all): {counts['true']}/{len(every)} = {pct(counts['true'], len(every))}")
    print(
        f"outside test/fixture/example/docs paths: {out_counts['true']}/{len(outside)} = "
        f"{pct(out_counts['true'], len(outside))}"
    )
    by_rule: dict[str, list[tuple[Finding, str, Label | None]]] = defaultdict(list)
    by_family: dict[str, list[tuple[Finding, str, Label | None]]] = defaultdict(list)
    for row in every:
        by_rule[row[0].rule].append(row)
        by_family[family_of(row[0].rule)].append(row)
    print_table("per rule", dict(sorted(by_rule.items(), key=lambda kv: (-len(kv[1]), kv[0]))))
    print_table("per family", dict(sorted(by_family.items(), key=lambda kv: (-len(kv[1]), kv[0]))))

    missed = [(r.range.id, lb, hit) for r in done for lb, hit in r.missed]
    by_missed: dict[str, list[bool]] = defaultdict(list)
    for _, lb, hit in missed:
        by_missed[lb.rule].append(hit)
    print(f"\nreal problems on changed lines (verdict 'missed'): {len(missed)}, "
          f"now caught {sum(hit for *_, hit in missed)}")  # fmt: skip
    for fam, hits in sorted(by_missed.items()):
        print(f"  {fam:<28}{sum(hits)}/{len(hits)} caught")

    gone = [(r.range.id, lb) for r in done for lb in r.gone]
    if gone:
        print("\nlabelled findings no longer reported (gone):", dict(Counter(lb.verdict for _, lb in gone)))
    unlabelled = [(r.range, f) for r in done for f, verdict, _ in r.findings if verdict == "unlabelled"]
    baseline = baseline_summary(done, missed)
    return {
        "ranges": [
            {
                "id": r.range.id, "repo": r.range.repo, "files": r.files, "added_lines": r.added_lines,
                "error": r.error, "not_analysed": r.not_analysed,
                "findings": [
                    {"path": f.path, "line": f.line, "rule": f.rule, "severity": f.severity, "verdict": v}
                    for f, v, _ in r.findings
                ],
                "gone": [lb.__dict__ for lb in r.gone],
                "missed": [{**lb.__dict__, "caught": hit} for lb, hit in r.missed],
                "ruff": r.ruff, "bandit": r.bandit,
            }
            for r in results
        ],
        "skipped": [{"id": item.id, "why": why} for item, why in skipped],
        "totals": {"findings": len(every), **counts, "outside_tests": len(outside), "outside_true": out_counts["true"]},
        "baselines": baseline,
        "unlabelled": [
            {"repo": item.repo, "range": item.id, "path": f.path, "line": f.line, "rule": f.rule,
             "verdict": "", "why": "", "title": f.title}
            for item, f in unlabelled
        ],
    }  # fmt: skip


def baseline_summary(done: list[RangeResult], missed: list[tuple[str, Label, bool]]) -> dict[str, object]:
    """Plain ruff's and bandit's counts on the added lines, and which labelled real problems they hit."""
    real = [(r.range.id, lb) for r in done for _, v, lb in r.findings if v == "true" and lb is not None]
    real += [(rid, lb) for rid, lb, _ in missed]
    summary: dict[str, object] = {}
    print("\nplain tools on the same added lines (ruff --isolated --select S,ASYNC; bandit default profile)")
    for name in ("ruff", "bandit"):
        per_range = {r.range.id: getattr(r, name) for r in done}
        if any(hits is None for hits in per_range.values()):
            print(f"  {name}: not run (bandit: pip install bandit in this venv; or --no-baselines was given)")
            continue
        hits = [(rid, *hit) for rid, rows in per_range.items() for hit in rows or []]
        outside = [h for h in hits if not is_test_path(h[1])]
        on_real = sum(
            any(h[0] == rid and h[1] == lb.path and abs(h[2] - lb.line) <= NEAR for h in hits) for rid, lb in real
        )
        no_assert = [h for h in hits if h[3] not in ("S101", "B101")]
        codes = Counter(h[3] for h in hits)
        top = ", ".join(f"{code} {n}" for code, n in codes.most_common(8))
        print(
            f"  {name}: {len(hits)} results ({len(outside)} outside tests, {len(no_assert)} other than asserts); "
            f"near a labelled real problem "
            f"(true or missed, {len(real)}): {on_real}; top codes: {top}"
        )
        summary[name] = {
            "results": len(hits),
            "outside_tests": len(outside),
            "not_assert": len(no_assert),
            "near_real": on_real,
            "codes": codes,
        }
    return summary


def print_unlabelled(rows: list[dict[str, object]]) -> None:
    if not rows:
        return
    print(f"\nunlabelled findings ({len(rows)}):")
    for row in rows:
        print(f"  {row['range']}: {row['path']}:{row['line']} {row['rule']}  {row['title']}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    mirrors = Path(os.environ.get("ARCHBOT_REALCODE_MIRRORS", DEFAULT_MIRRORS))
    parser.add_argument("--mirrors", type=Path, default=mirrors, help=f"mirrors root (default {mirrors})")
    parser.add_argument("--ranges", type=Path, default=HERE / "ranges.toml")
    parser.add_argument("--labels", type=Path, default=HERE / "labels.jsonl")
    parser.add_argument("--only", default="", help="comma-separated range ids")
    parser.add_argument("--no-baselines", action="store_true", help="skip plain ruff and bandit")
    parser.add_argument("--show-unlabelled", action="store_true", help="list every unlabelled finding")
    args = parser.parse_args(argv)

    ranges = load_ranges(args.ranges)
    labels = load_labels(args.labels, {r.id for r in ranges})
    wanted = {part for part in args.only.split(",") if part}
    if wanted - {r.id for r in ranges}:
        parser.error(f"unknown range ids: {', '.join(sorted(wanted - {r.id for r in ranges}))}")
    results: list[RangeResult] = []
    skipped: list[tuple[Range, str]] = []
    for item in ranges:
        if wanted and item.id not in wanted:
            continue
        mirror = args.mirrors / item.mirror / "repo"
        if not (mirror / "HEAD").exists():
            how = f"fetch tool (github:{item.repo}) or `git clone --mirror https://github.com/{item.repo} {mirror}`"
            skipped.append((item, f"no mirror at {mirror}: bring it with the session's {how}"))
            continue
        try:
            results.append(evaluate(item, args.mirrors, labels, not args.no_baselines))
        except (RuntimeError, subprocess.SubprocessError, OSError) as exc:
            results.append(RangeResult(item, 0, 0, 0, error=str(exc)))
    document = report(results, skipped)
    WORK.mkdir(parents=True, exist_ok=True)
    (WORK / "results.json").write_text(json.dumps(document, indent=1, default=dict) + "\n", encoding="utf-8")
    unlabelled = document["unlabelled"]
    assert isinstance(unlabelled, list)
    with (WORK / "unlabelled.jsonl").open("w", encoding="utf-8") as handle:
        for row in unlabelled:
            handle.write(json.dumps(row) + "\n")
    if args.show_unlabelled:
        print_unlabelled(unlabelled)
    print(f"\nwritten: {WORK / 'results.json'}, {WORK / 'unlabelled.jsonl'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
