"""Context coverage: do the lines a reviewer needs reach the model, in the call that shows the change?

Usage: ``python bench/context_coverage.py [--mirrors DIR] [--only ID[,ID]] [--show]``

For each case of ``bench/context_cases/cases.toml`` (real commits of public Python projects, hand
labelled: the changed line a problem sits on and the evidence lines at head a reviewer needs to see
it) this script rebuilds the diff (``git diff <base> <head> -- '*.py'``) and the tree at ``<head>``
from the bare mirror under ``bench/.work/context/<id>/`` (git-ignored), then runs the real console
script ``archbot review --diff <d> --repo-dir <tree> --format json`` twice against the fake model
(``tests/fakemodel.py`` served on loopback): once with the repository context on (the default
``review.context_share``) and once as "today" (``review.context_share: 0``). Every model request
body is recorded; from the user message it reads which ``(path, line)`` each call shows, in the
diff (``R  12 + code``) or in the repository context (``  12 | code``), and reports:

- coverage: the share of evidence lines present in the same model call as the case's changed line
  (the best such call when several show it; 0 when no call shows it);
- prompt tokens (``app.review.budget.estimate_tokens`` over system prompt and user message, summed over
  the review's calls) with context against today, and their ratio.

Goals (issue 16): coverage >= 80 % at <= 1.6x today's prompt tokens. Mirrors are bare git
repositories at ``<mirrors>/<mirror>/repo`` (default ``/work/.mirror``); a missing one is named (bring
it with the ``fetch`` tool, ``github:<owner>/<name>``) and its cases are skipped. Results also go to
``bench/.work/context/results.json``. Exit status 0 when the table was printed, 2 on bad input.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from realcode import archbot_bin, extract  # noqa: E402

from app.review.budget import estimate_tokens  # noqa: E402
from tests.fakemodel import FakeModel, serve_model  # noqa: E402

CASES = ROOT / "bench" / "context_cases" / "cases.toml"
WORK = ROOT / "bench" / ".work" / "context"
DEFAULT_MIRRORS = Path("/work/.mirror")
TIMEOUT_S = 900
GOAL_COVERAGE, GOAL_RATIO = 0.80, 1.6
_FILE = re.compile(r"^### File: (\S+)")
_CONTEXT = re.compile(r"^### Context: (\S+) lines \d+-\d+")
_DIFF_LINE = re.compile(r"^R\s+(\d+) [+ ] ")
_CONTEXT_LINE = re.compile(r"^\s*(\d+) \| ")


@dataclass(frozen=True)
class Case:
    id: str
    mirror: str
    head: str
    base: str
    problem: str
    anchor: tuple[str, int]
    evidence: tuple[tuple[str, int], ...]


@dataclass
class Call:
    """What one model request showed: diff lines and context lines, per path; its prompt tokens."""

    diff: set[tuple[str, int]] = field(default_factory=set)
    context: set[tuple[str, int]] = field(default_factory=set)
    tokens: int = 0


def _span(text: str) -> tuple[str, list[int]]:
    path, _, lines = text.rpartition(":")
    first, _, last = lines.partition("-")
    return path, list(range(int(first), int(last or first) + 1))


def load_cases(path: Path) -> list[Case]:
    rows = tomllib.loads(path.read_text(encoding="utf-8"))["case"]
    out = []
    for row in rows:
        anchor_path, anchor_lines = _span(row["anchor"])
        evidence = tuple((p, n) for spec in row["evidence"] for p, ns in [_span(spec)] for n in ns)
        out.append(
            Case(
                id=row["id"], mirror=row["mirror"], head=row["head"], base=row.get("base", f"{row['head']}^"),
                problem=row["problem"], anchor=(anchor_path, anchor_lines[0]), evidence=evidence,
            )
        )  # fmt: skip
    return out


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    return "\n".join(str(block.get("text", "")) for block in content if isinstance(block, dict))


def parse_call(body: dict[str, Any]) -> Call:
    """The lines one model request body shows (its first user message: the review task)."""
    call = Call()
    user = next((_text(m["content"]) for m in body.get("messages", []) if m.get("role") == "user"), "")
    call.tokens = estimate_tokens(_text(body.get("system", ""))) + estimate_tokens(user)
    where: tuple[str, str] | None = None
    for line in user.splitlines():
        if (m := _FILE.match(line)) is not None:
            where = ("diff", m.group(1))
        elif (m := _CONTEXT.match(line)) is not None:
            where = ("context", m.group(1))
        elif line.startswith("#"):
            where = None if line.startswith("## ") else where
        elif where is not None and where[0] == "diff" and (m := _DIFF_LINE.match(line)) is not None:
            call.diff.add((where[1], int(m.group(1))))
        elif where is not None and where[0] == "context" and (m := _CONTEXT_LINE.match(line)) is not None:
            call.context.add((where[1], int(m.group(1))))
    return call


def git(mirror: Path, *args: str) -> bytes:
    return subprocess.run(["git", "-C", str(mirror), *args], capture_output=True, check=True, timeout=TIMEOUT_S).stdout


def prepare(case: Case, mirror: Path) -> tuple[Path, Path]:
    """The case's diff file and head tree under WORK (rebuilt when the commit changes)."""
    work = WORK / case.id
    diff_path, tree, stamp = work / "change.diff", work / "tree", work / "stamp"
    if stamp.exists() and stamp.read_text(encoding="utf-8") == f"{case.base} {case.head}" and tree.exists():
        return diff_path, tree
    subprocess.run(["rm", "-rf", str(work)], check=True)
    tree.mkdir(parents=True)
    diff_path.write_bytes(git(mirror, "diff", case.base, case.head, "--", "*.py"))
    extract(mirror, case.head, tree)
    stamp.write_text(f"{case.base} {case.head}", encoding="utf-8")
    return diff_path, tree


def run_review(diff: Path, tree: Path, config: Path, model: FakeModel, url: str) -> list[Call]:
    """One review through the console script; the model calls it made (their user messages are
    written beside the diff, ``<config stem>-<n>.txt``, to read what the model saw)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANTHROPIC_", "ARCHBOT_", "GITHUB_"))}
    env.update(ANTHROPIC_BASE_URL=url, ANTHROPIC_API_KEY="bench-key")
    start = len(model.requests)
    command = [*archbot_bin(), "review", "--diff", str(diff), "--repo-dir", str(tree), "--config", str(config)]
    done = subprocess.run([*command, "--format", "json"], capture_output=True, env=env, timeout=TIMEOUT_S, check=False)
    if done.returncode not in (0, 1):
        tail = done.stderr.decode(errors="replace").strip()[-400:]
        raise RuntimeError(f"archbot review exit {done.returncode}: {tail}")
    bodies = model.requests[start:]
    for n, body in enumerate(bodies, 1):
        user = next((_text(m["content"]) for m in body.get("messages", []) if m.get("role") == "user"), "")
        (diff.parent / f"{config.stem}-{n}.txt").write_text(user, encoding="utf-8")
    return [parse_call(body) for body in bodies]


def coverage(case: Case, calls: Sequence[Call]) -> tuple[int, bool]:
    """Evidence lines present in the best call that shows the anchor in its diff; whether one does."""
    best, reached = 0, False
    for call in calls:
        if case.anchor not in call.diff:
            continue
        reached = True
        shown = call.diff | call.context
        best = max(best, sum(1 for line in case.evidence if line in shown))
    return best, reached


def check_labels(case: Case, tree: Path) -> list[str]:
    """Evidence or anchor lines that are blank or beyond their file at head (a labelling slip)."""
    problems = []
    for path, number in (case.anchor, *case.evidence):
        file = tree / path
        lines = file.read_text(encoding="utf-8", errors="replace").splitlines() if file.is_file() else []
        if not 0 < number <= len(lines) or not lines[number - 1].strip():
            problems.append(f"{path}:{number}")
    return problems


def main(argv: Iterable[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    mirrors = Path(os.environ.get("ARCHBOT_CONTEXT_MIRRORS", DEFAULT_MIRRORS))
    parser.add_argument("--mirrors", type=Path, default=mirrors)
    parser.add_argument("--only", default="", help="comma-separated case ids")
    parser.add_argument("--show", action="store_true", help="name the evidence lines each case misses")
    args = parser.parse_args(list(argv) if argv is not None else None)
    try:
        cases = load_cases(CASES)
    except (OSError, KeyError, ValueError) as exc:
        print(f"{CASES}: {exc}", file=sys.stderr)
        return 2
    only = {x for x in args.only.split(",") if x}
    cases = [c for c in cases if not only or c.id in only]
    WORK.mkdir(parents=True, exist_ok=True)
    on, off = WORK / "context-on.yml", WORK / "context-off.yml"
    on.write_text("review: {}\n", encoding="utf-8")
    off.write_text("review:\n  context_share: 0\n", encoding="utf-8")
    model = FakeModel()
    rows: list[dict[str, Any]] = []
    with serve_model(model) as url:
        for listed in cases:
            mirror = args.mirrors / listed.mirror / "repo"
            if not mirror.is_dir():
                print(f"skip {listed.id}: no mirror {mirror} (fetch github:{listed.mirror.replace('+', '/')})")
                continue
            diff, tree = prepare(listed, mirror)
            slips = check_labels(listed, tree)
            case = replace(listed, evidence=tuple(e for e in listed.evidence if f"{e[0]}:{e[1]}" not in slips))
            with_calls = run_review(diff, tree, on, model, url)
            today_calls = run_review(diff, tree, off, model, url)
            found, reached = coverage(case, with_calls)
            base_found, _ = coverage(case, today_calls)
            calls = [c for c in with_calls if case.anchor in c.diff]
            shown = set().union(*(c.diff | c.context for c in calls)) if calls else set()
            rows.append(
                {
                    "id": case.id, "evidence": len(case.evidence), "found": found, "today": base_found,
                    "reached": reached, "tokens": sum(c.tokens for c in with_calls),
                    "today_tokens": sum(c.tokens for c in today_calls), "calls": len(with_calls),
                    "missing": [f"{p}:{n}" for p, n in case.evidence if (p, n) not in shown], "label_slips": slips,
                }
            )  # fmt: skip
    _report(rows, show=args.show)
    (WORK / "results.json").write_text(json.dumps(rows, indent=2) + "\n", encoding="utf-8")
    return 0


def _report(rows: Sequence[dict[str, Any]], *, show: bool) -> None:
    print(f"{'case':44} {'evidence':>8} {'today':>6} {'context':>8} {'tokens':>8} {'today':>7} {'ratio':>6}")
    for r in rows:
        ratio = r["tokens"] / r["today_tokens"] if r["today_tokens"] else 0.0
        flag = "" if r["reached"] else "  (changed line in no call)"
        print(
            f"{r['id']:44} {r['evidence']:>8} {r['today']:>6} {r['found']:>8} {r['tokens']:>8} "
            f"{r['today_tokens']:>7} {ratio:>6.2f}{flag}"
        )
        if show and r["missing"]:
            print(f"    missing: {', '.join(r['missing'])}")
        if r["label_slips"]:
            print(f"    not counted (blank or absent at head): {', '.join(r['label_slips'])}")
    total = sum(r["evidence"] for r in rows)
    found, today = sum(r["found"] for r in rows), sum(r["today"] for r in rows)
    tokens, today_tokens = sum(r["tokens"] for r in rows), sum(r["today_tokens"] for r in rows)
    if not total or not today_tokens:
        print("no cases run")
        return
    share, ratio = found / total, tokens / today_tokens
    print(
        f"\n{len(rows)} cases: evidence in the changed line's call {found}/{total} = {share:.0%} "
        f"(today {today}/{total} = {today / total:.0%}); prompt tokens {tokens:,} vs {today_tokens:,} "
        f"today = {ratio:.2f}x (goals >= {GOAL_COVERAGE:.0%} at <= {GOAL_RATIO}x: "
        f"{'met' if share >= GOAL_COVERAGE and ratio <= GOAL_RATIO else 'not met'})"
    )


if __name__ == "__main__":
    sys.exit(main())
