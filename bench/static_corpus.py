"""Recall and false positives of archbot's static engine vs plain ruff and bandit on a labelled corpus.

Usage: ``python bench/static_corpus.py [corpus_dir]``. Each corpus line with a real issue carries a
trailing ``# expect: kind[, kind]`` label; kinds map to families below. A tool's finding counts as a
hit when it sits on a labelled line of the same family, and as a false positive otherwise (any
finding on a line with no label of its family, including informational checks). Every line of every
file counts as changed, so the engine sees whole files. Exit status 1 when the engine does not find
more labelled issues than each other tool or has more false positives than the better of them.
"""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ruff.__main__ import find_ruff_bin  # type: ignore[import-untyped]

from app.review.static import ChangedPython, analyse

CORPUS = Path(__file__).resolve().parent / "corpus"
LABEL = re.compile(r"#\s*expect:\s*([\w\-, ]+)$")

FAMILY_OF_KIND = {
    "blocking-sleep": "blocking",
    "blocking-io": "blocking",
    "gather-siblings": "tasks",
    "dangling-task": "tasks",
    "swallowed-cancel": "tasks",
    "shared-mutable-state": "shared-state",
    "await-in-thread-lock": "shared-state",
    "client-leak": "resources",
    "file-leak": "resources",
    "no-timeout": "timeouts",
    "jwt-unverified": "security",
    "unsafe-deserialization": "security",
    "hardcoded-secret": "security",
    "tls-off": "security",
    "injection": "security",
    "insecure-temp": "security",
    "unvalidated-url": "security",
    "swallowed-error": "errors",
}
FAMILIES = ["blocking", "tasks", "shared-state", "resources", "timeouts", "security", "errors", "other"]

ARCH_FAMILY = {
    "ARCH101": "tasks", "ARCH102": "tasks", "ARCH103": "shared-state", "ARCH104": "resources",
    "ARCH105": "timeouts", "ARCH106": "shared-state", "ARCH107": "blocking", "ARCH108": "blocking",
    "ARCH109": "blocking", "ARCH110": "security", "ARCH111": "security", "ARCH112": "security",
    "ARCH113": "security", "ARCH114": "tasks",
}  # fmt: skip

PLAIN_RUFF_SELECT = "ASYNC,S,BLE,B,PLW,SIM,RUF006"

Hit = tuple[str, int, str]  # (file name, line, family)


def ruff_family(code: str) -> str:
    """Family of a ruff code (used for plain ruff and for the ruff part of the engine)."""
    special = {
        "S110": "errors", "S112": "errors", "BLE001": "errors", "S113": "timeouts", "RUF006": "tasks",
        "SIM115": "resources", "PLW2101": "shared-state", "PLW0603": "shared-state",
        "PLW0602": "shared-state", "B006": "shared-state", "B039": "shared-state",
    }  # fmt: skip
    if code in special:
        return special[code]
    if code.startswith("ASYNC2"):
        return "blocking"
    if code.startswith("ASYNC1"):
        return "tasks"
    if code.startswith("S") and code != "S101":
        return "security"
    return "other"


def bandit_family(test_id: str) -> str:
    """Family of a bandit test id."""
    special = {"B101": "other", "B110": "errors", "B112": "errors", "B113": "timeouts"}
    return special.get(test_id, "security")


def labels(files: list[Path]) -> set[Hit]:
    found: set[Hit] = set()
    for path in files:
        for number, text in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            match = LABEL.search(text)
            if match:
                for kind in (k.strip() for k in match.group(1).split(",")):
                    found.add((path.name, number, FAMILY_OF_KIND[kind]))
    return found


def run_engine(files: list[Path]) -> set[Hit]:
    inputs = []
    for path in files:
        source = path.read_text(encoding="utf-8")
        inputs.append(ChangedPython(path.name, source, frozenset(range(1, source.count("\n") + 2))))
    report = analyse(inputs)
    hits: set[Hit] = set()
    for finding in report.findings:
        rule = finding.rule_id or ""
        family = ARCH_FAMILY[rule] if rule.startswith("ARCH") else ruff_family(rule.removeprefix("ruff:"))
        hits.add((finding.path or "", finding.line or 0, family))
    return hits


def run_plain_ruff(files: list[Path]) -> set[Hit]:
    command = [
        str(find_ruff_bin()), "check", "--isolated", "--no-cache", "--exit-zero", "--quiet",
        "--output-format", "json", "--target-version", "py313", "--select", PLAIN_RUFF_SELECT,
        *map(str, files),
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, check=True, timeout=120)
    return {
        (Path(row["filename"]).name, row["location"]["row"], ruff_family(row["code"] or ""))
        for row in json.loads(done.stdout)
    }


def run_bandit(files: list[Path]) -> set[Hit] | None:
    if importlib.util.find_spec("bandit") is None:
        return None
    command = [sys.executable, "-m", "bandit", "-q", "-f", "json", *map(str, files)]
    done = subprocess.run(command, capture_output=True, check=False, timeout=300)
    rows = json.loads(done.stdout)["results"]
    return {(Path(row["filename"]).name, row["line_number"], bandit_family(row["test_id"])) for row in rows}


def score(expected: set[Hit], hits: set[Hit], family: str | None) -> tuple[int, int]:
    """(labelled issues found, false positives) for one family, or all of them."""
    exp = {h for h in expected if family is None or h[2] == family}
    got = {h for h in hits if family is None or h[2] == family}
    return len(exp & got), len(got - expected)


def main() -> int:
    corpus = Path(sys.argv[1]) if len(sys.argv) > 1 else CORPUS
    files = sorted(corpus.glob("*.py"))
    expected = labels(files)
    tools: dict[str, set[Hit] | None] = {
        "archbot": run_engine(files),
        "ruff": run_plain_ruff(files),
        "bandit": run_bandit(files),
    }
    counts: dict[str, int] = defaultdict(int)
    for _, _, kind_family in expected:
        counts[kind_family] += 1
    print(f"corpus: {len(files)} files, {len(expected)} labelled issues ({corpus})")
    print(f"plain ruff: --isolated --select {PLAIN_RUFF_SELECT}; bandit: default profile")
    if tools["bandit"] is None:
        print("bandit not installed: its column is skipped (pip install bandit==1.9.4)")
    header = f"{'family':<13}{'issues':>7}  " + "".join(f"{name + ' found/FP':>20}" for name in tools)
    print(header)
    print("-" * len(header))
    totals: dict[str, tuple[int, int]] = {}
    for family in [*FAMILIES, None]:
        label = family or "TOTAL"
        row = f"{label:<13}{counts[family] if family else len(expected):>7}  "
        for tool, hits in tools.items():
            if hits is None:
                row += f"{'-':>20}"
                continue
            found, fps = score(expected, hits, family)
            total = counts[family] if family else len(expected)
            recall = f"{found}/{total} ({100 * found / total:.0f}%)" if total else f"{found}/0"
            row += f"{recall + ' ' + str(fps):>20}"
            if family is None:
                totals[tool] = (found, fps)
        print(row)
    return verdict(totals)


def verdict(totals: dict[str, tuple[int, int]]) -> int:
    ours_found, ours_fp = totals["archbot"]
    others = {name: value for name, value in totals.items() if name != "archbot"}
    more = all(ours_found > found for found, _ in others.values())
    fewer_fp = ours_fp <= min(fp for _, fp in others.values())
    print(
        f"\narchbot finds more labelled issues than {' and '.join(others)} alone: {'yes' if more else 'NO'}; "
        f"false positives {ours_fp} <= min({', '.join(str(fp) for _, fp in others.values())}): "
        f"{'yes' if fewer_fp else 'NO'}"
    )
    return 0 if more and fewer_fp else 1


if __name__ == "__main__":
    raise SystemExit(main())
