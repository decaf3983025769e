"""Recall and false positives of archbot's static engine vs plain ruff and bandit on a labelled corpus.

Usage: ``python bench/static_corpus.py [corpus_dir] [--show TOOL] [--json OUT] [--baseline FILE]``.

Labels are trailing comments (see bench/corpus/README.md): ``# expect: kind[, kind]`` marks a real
issue, ``# ok: kind[, kind]`` a safe variant of the same sink (a finding of that family there is a
false positive), ``# near: kind`` a line where a tool may report the *next* ``expect`` of that family
in the file (the string building an SQL query above the ``execute`` that runs it): a finding there
counts for that issue, not as a false positive. Kinds map to families (``FAMILY_OF_KIND``).

Every ``*.py`` under the corpus directory is read, subfolders included; a file's path relative to the
corpus is the path the engine is given, so ``tests/test_api.py`` is a test path to the engine. Every
line counts as changed, so the engine sees whole files. A tool's finding counts as a hit when it sits
on a labelled line (or a ``near`` line of it) of the same family, and as a false positive otherwise:
on an ``ok`` line, on an unlabelled line, or in a family no label names (informational checks).

Exit status: 0 when every tool ran and the scores were printed; 2 when the corpus is malformed (an
unknown kind, a label with no kind) or a tool could not run; with ``--baseline FILE`` (scores written
earlier by ``--json``), 1 when archbot finds fewer labelled issues or makes more false positives than
the baseline in some family. Today's engine scoring badly on a family is reported, not a failure.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import io
import json
import re
import subprocess
import sys
import tokenize
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ruff.__main__ import find_ruff_bin  # type: ignore[import-untyped]

CORPUS = Path(__file__).resolve().parent / "corpus"
LABEL = re.compile(r"\b(expect|ok|near):\s*([\w\-]+(?:\s*,\s*[\w\-]+)*)")

FAMILY_OF_KIND = {
    # concurrency and reliability
    "blocking-sleep": "blocking",
    "blocking-io": "blocking",
    "blocking-via-helper": "blocking",  # async def calls a same-module sync function that blocks
    "blocking-lock": "blocking",  # threading lock / semaphore acquired on the event loop
    "gather-siblings": "tasks",
    "dangling-task": "tasks",
    "swallowed-cancel": "tasks",
    "shared-mutable-state": "shared-state",
    "await-in-thread-lock": "shared-state",
    "instance-lock-global": "shared-state",  # a per-instance lock guarding process-wide state
    "mutate-while-iterating": "shared-state",
    "per-call-module-config": "shared-state",  # a per-call value written into an SDK module's settings
    "client-leak": "resources",
    "file-leak": "resources",
    "release-not-in-finally": "resources",  # a lock or semaphore released only on the success path
    "no-timeout": "timeouts",
    "swallowed-error": "errors",
    # untrusted data (taint) families
    "command-injection": "command",
    "sql-injection": "sql",
    "ssrf": "ssrf",
    "unvalidated-url": "ssrf",
    "path-traversal": "path",
    "xxe": "xxe",
    "log-injection": "log-injection",
    "redos": "redos",
    "code-injection": "code-exec",
    "injection": "code-exec",  # the first corpus's generic kind, kept as an alias of code-injection
    "unsafe-deserialization": "deserialization",
    # configuration and secrets
    "insecure-random": "randomness",
    "hardcoded-secret": "secrets",
    "jwt-unverified": "jwt",
    "tls-off": "tls",
    "insecure-temp": "temp",
}
FAMILIES = [
    "blocking", "tasks", "shared-state", "resources", "timeouts", "errors",
    "command", "sql", "ssrf", "path", "xxe", "log-injection", "redos", "code-exec", "deserialization",
    "randomness", "secrets", "jwt", "tls", "temp", "other",
]  # fmt: skip

ARCH_FAMILY = {
    "ARCH101": "tasks", "ARCH102": "tasks", "ARCH103": "shared-state", "ARCH104": "resources",
    "ARCH105": "timeouts", "ARCH106": "shared-state", "ARCH107": "blocking", "ARCH108": "blocking",
    "ARCH109": "blocking", "ARCH110": "jwt", "ARCH111": "deserialization", "ARCH112": "secrets",
    "ARCH113": "tls", "ARCH114": "tasks",
}  # fmt: skip

PLAIN_RUFF_SELECT = "ASYNC,S,BLE,B,PLW,SIM,RUF006"
TEST_PATH = re.compile(r"(^|/)(tests?|fixtures|examples|docs)/|(^|/)(test_[^/]*|[^/]*_test|conftest)\.py$")

_RUFF_FAMILY = {
    "S102": "code-exec", "S307": "code-exec",
    "S105": "secrets", "S106": "secrets", "S107": "secrets",
    "S108": "temp", "S306": "temp",
    "S110": "errors", "S112": "errors", "BLE001": "errors",
    "S113": "timeouts",
    "S202": "path",
    "S301": "deserialization", "S302": "deserialization", "S403": "deserialization", "S506": "deserialization",
    "S614": "deserialization",
    "S310": "ssrf",
    "S311": "randomness",
    "S323": "tls", "S501": "tls", "S502": "tls", "S503": "tls", "S504": "tls", "S507": "tls",
    "S404": "command", "S601": "command", "S602": "command", "S603": "command", "S604": "command",
    "S605": "command", "S606": "command", "S607": "command", "S609": "command",
    "S608": "sql", "S610": "sql", "S611": "sql",
    "RUF006": "tasks", "SIM115": "resources",
    "PLW2101": "shared-state", "PLW0603": "shared-state", "PLW0602": "shared-state", "B006": "shared-state",
    "B039": "shared-state", "B909": "shared-state", "PLW4901": "other",
}  # fmt: skip

_BANDIT_FAMILY = {
    "B102": "code-exec", "B307": "code-exec",
    "B105": "secrets", "B106": "secrets", "B107": "secrets",
    "B108": "temp", "B306": "temp",
    "B110": "errors", "B112": "errors",
    "B113": "timeouts",
    "B202": "path",
    "B301": "deserialization", "B302": "deserialization", "B403": "deserialization", "B506": "deserialization",
    "B614": "deserialization",
    "B310": "ssrf",
    "B311": "randomness",
    "B323": "tls", "B501": "tls", "B502": "tls", "B503": "tls", "B504": "tls", "B507": "tls",
    "B404": "command", "B601": "command", "B602": "command", "B603": "command", "B604": "command",
    "B605": "command", "B606": "command", "B607": "command", "B609": "command",
    "B608": "sql", "B610": "sql", "B611": "sql",
}  # fmt: skip


def ruff_family(code: str) -> str:
    """Family of a ruff code (used for plain ruff and for the ruff part of the engine)."""
    if code in _RUFF_FAMILY:
        return _RUFF_FAMILY[code]
    if code.startswith("ASYNC2"):
        return "blocking"
    if code.startswith("ASYNC1"):
        return "tasks"
    if re.fullmatch(r"S31[3-9]|S320|S40[5-9]|S41[01]", code):
        return "xxe"
    return "other"


def bandit_family(test_id: str) -> str:
    """Family of a bandit test id."""
    if test_id in _BANDIT_FAMILY:
        return _BANDIT_FAMILY[test_id]
    if re.fullmatch(r"B31[3-9]|B320|B40[5-9]|B41[01]", test_id):
        return "xxe"
    return "other"


class CorpusError(Exception):
    """A label the script cannot score (unknown kind, empty label, label in a string)."""


@dataclass(frozen=True)
class Finding:
    """One tool result, reduced to what scoring needs."""

    path: str
    line: int
    family: str
    rule: str


@dataclass
class Labels:
    """The corpus's labels: issues (with the lines that count for them) and ok lines, per family."""

    issues: dict[tuple[str, int, str], set[int]] = field(default_factory=dict)  # (path, line, family) -> lines
    ok: set[tuple[str, int, str]] = field(default_factory=set)
    files: int = 0

    def count(self, family: str | None, what: str) -> int:
        pool = self.issues if what == "expect" else self.ok
        return sum(1 for key in pool if family is None or key[2] == family)


def comments(source: str) -> list[tuple[int, str]]:
    """(line, text) of every comment token, so a ``# expect:`` inside a string is not a label."""
    readline = io.StringIO(source).readline
    return [(tok.start[0], tok.string) for tok in tokenize.generate_tokens(readline) if tok.type == tokenize.COMMENT]


def read_labels(corpus: Path, files: list[Path]) -> Labels:
    found = Labels(files=len(files))
    for path in files:
        rel = path.relative_to(corpus).as_posix()
        pending: dict[str, list[int]] = defaultdict(list)  # family -> near lines waiting for their expect
        for number, text in comments(path.read_text(encoding="utf-8")):
            for what, kinds in LABEL.findall(text):
                for kind in (k.strip() for k in kinds.split(",")):
                    if kind not in FAMILY_OF_KIND:
                        raise CorpusError(f"{rel}:{number}: unknown kind {kind!r} (add it to FAMILY_OF_KIND)")
                    family = FAMILY_OF_KIND[kind]
                    if what == "ok":
                        found.ok.add((rel, number, family))
                    elif what == "near":
                        pending[family].append(number)
                    else:
                        found.issues[(rel, number, family)] = {number, *pending.pop(family, [])}
        if pending:
            lines = sorted(n for near in pending.values() for n in near)
            raise CorpusError(f"{rel}: `near` labels with no later `expect` of their family at lines {lines}")
    return found


def engine_api() -> tuple[Callable[..., Any], type, Callable[[], list[Any]]]:
    """``analyse``, ``ChangedPython`` and ``own_rules`` from wherever the engine lives now."""
    for name in ("app.static", "app.static"):
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue
        if hasattr(module, "analyse") and hasattr(module, "ChangedPython"):
            return module.analyse, module.ChangedPython, getattr(module, "own_rules", list)
    raise ImportError("no static engine found in app.static or app.static")


def run_engine(corpus: Path, files: list[Path], unmapped: set[str]) -> set[Finding]:
    analyse, changed_python, own_rules = engine_api()
    declared = {rule.id: rule.family for rule in own_rules() if getattr(rule, "family", None) in FAMILIES}
    inputs = []
    for path in files:
        source = path.read_text(encoding="utf-8")
        rel = path.relative_to(corpus).as_posix()
        inputs.append(changed_python(rel, source, frozenset(range(1, source.count("\n") + 2))))
    hits: set[Finding] = set()
    for finding in analyse(inputs).findings:
        rule = finding.rule_id or ""
        if rule in declared:
            family = declared[rule]
        elif rule.startswith("ruff:"):
            family = ruff_family(rule.removeprefix("ruff:"))
        else:
            family = ARCH_FAMILY.get(rule, "other")
            if rule not in ARCH_FAMILY:
                unmapped.add(rule)
        hits.add(Finding(finding.path or "", finding.line or 0, family, rule))
    return hits


def run_plain_ruff(corpus: Path, files: list[Path]) -> set[Finding]:
    command = [
        str(find_ruff_bin()), "check", "--isolated", "--no-cache", "--exit-zero", "--quiet",
        "--output-format", "json", "--target-version", "py313", "--select", PLAIN_RUFF_SELECT,
        *map(str, files),
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, check=True, timeout=120)
    return {
        Finding(rel_path(corpus, row["filename"]), row["location"]["row"], ruff_family(code), f"ruff:{code}")
        for row in json.loads(done.stdout)
        for code in [row["code"] or "syntax"]
    }


def run_bandit(corpus: Path, files: list[Path]) -> set[Finding] | None:
    if importlib.util.find_spec("bandit") is None:
        return None
    command = [sys.executable, "-m", "bandit", "-q", "-f", "json", *map(str, files)]
    done = subprocess.run(command, capture_output=True, check=False, timeout=300)
    report = json.loads(done.stdout)
    if report.get("errors"):
        raise CorpusError(f"bandit could not read: {report['errors']}")
    return {
        Finding(rel_path(corpus, row["filename"]), row["line_number"], bandit_family(row["test_id"]), row["test_id"])
        for row in report["results"]
    }


def rel_path(corpus: Path, name: str) -> str:
    return Path(name).resolve().relative_to(corpus.resolve()).as_posix()


@dataclass(frozen=True)
class Score:
    """One tool on one family (or all): labelled issues found, false positives, how many on ok lines."""

    found: int
    false_positives: int
    on_ok_lines: int
    in_test_paths: int


def judge(labels: Labels, hits: set[Finding]) -> tuple[set[tuple[str, int, str]], set[Finding]]:
    """(issues found, findings that are false positives)."""
    credited: dict[tuple[str, int, str], tuple[str, int, str]] = {}
    for key, lines in labels.issues.items():
        for line in lines:
            credited[(key[0], line, key[2])] = key
    found = {credited[(h.path, h.line, h.family)] for h in hits if (h.path, h.line, h.family) in credited}
    false = {h for h in hits if (h.path, h.line, h.family) not in credited}
    return found, false


def score(labels: Labels, hits: set[Finding], family: str | None) -> Score:
    found, false = judge(labels, hits)
    # Several findings of one family on one line are one false positive, as they are one hit.
    fp_lines = {(h.path, h.line, h.family) for h in false if family is None or h.family == family}
    return Score(
        found=sum(1 for key in found if family is None or key[2] == family),
        false_positives=len(fp_lines),
        on_ok_lines=len(fp_lines & labels.ok),
        in_test_paths=sum(1 for key in fp_lines if TEST_PATH.search(key[0])),
    )


def table(labels: Labels, tools: dict[str, set[Finding] | None]) -> dict[str, dict[str, Score]]:
    """Print the per-family table; return the scores (tool -> family or TOTAL -> Score)."""
    width = 24
    columns = "".join(f"{name + ' found/FP (ok)':>{width}}" for name in tools)
    header = f"{'family':<16}{'expect':>7}{'ok':>5}  {columns}"
    print(header)
    print("-" * len(header))
    scores: dict[str, dict[str, Score]] = defaultdict(dict)
    for family in [*FAMILIES, None]:
        name = family or "TOTAL"
        expected, ok = labels.count(family, "expect"), labels.count(family, "ok")
        row = f"{name:<16}{expected:>7}{ok:>5}  "
        for tool, hits in tools.items():
            if hits is None:
                row += f"{'-':>{width}}"
                continue
            result = score(labels, hits, family)
            scores[tool][name] = result
            row += f"{f'{result.found}/{expected} {result.false_positives} ({result.on_ok_lines})':>{width}}"
        if family is None or expected or ok or any(s[name].false_positives for s in scores.values()):
            print(row)
    tests = ", ".join(f"{tool} {s['TOTAL'].in_test_paths}" for tool, s in scores.items())
    print(f"\nfalse positives in test/fixture/example/docs paths: {tests}")
    return scores


def show(labels: Labels, hits: set[Finding], tool: str) -> None:
    found, false = judge(labels, hits)
    print(f"\n{tool}: missed labelled issues")
    for path, line, family in sorted(set(labels.issues) - found):
        print(f"  {path}:{line}  [{family}]")
    print(f"{tool}: false positives")
    for h in sorted(false, key=lambda h: (h.path, h.line, h.rule)):
        where = "ok line" if (h.path, h.line, h.family) in labels.ok else "unlabelled"
        print(f"  {h.path}:{h.line}  {h.rule} [{h.family}] ({where})")


def compare(scores: dict[str, Score], baseline_path: Path) -> int:
    """1 when archbot is worse than the recorded baseline in some family, else 0."""
    baseline = json.loads(baseline_path.read_text(encoding="utf-8"))["archbot"]
    worse = [
        f"{family}: found {scores[family].found} < {old['found']}"
        if scores[family].found < old["found"]
        else f"{family}: false positives {scores[family].false_positives} > {old['false_positives']}"
        for family, old in baseline.items()
        if family in scores
        and (scores[family].found < old["found"] or scores[family].false_positives > old["false_positives"])
    ]
    print(f"\nagainst {baseline_path}: " + ("; ".join(worse) if worse else "no family worse than the baseline"))
    return 1 if worse else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", nargs="?", type=Path, default=CORPUS, help="corpus directory (default: %(default)s)")
    parser.add_argument("--show", action="append", default=[], metavar="TOOL", help="list misses and false positives")
    parser.add_argument("--json", type=Path, metavar="OUT", help="write the scores as JSON")
    parser.add_argument("--baseline", type=Path, metavar="FILE", help="exit 1 if archbot is worse than FILE")
    args = parser.parse_args(argv)
    corpus: Path = args.corpus
    files = sorted(corpus.rglob("*.py"))
    try:
        labels = read_labels(corpus, files)
        unmapped: set[str] = set()
        tools: dict[str, set[Finding] | None] = {
            "archbot": run_engine(corpus, files, unmapped),
            "ruff": run_plain_ruff(corpus, files),
            "bandit": run_bandit(corpus, files),
        }
    except (CorpusError, tokenize.TokenError, SyntaxError, subprocess.SubprocessError) as exc:
        print(f"static_corpus: {exc}", file=sys.stderr)
        return 2
    print(
        f"corpus: {labels.files} files, {len(labels.issues) + len(labels.ok)} labelled lines "
        f"({len(labels.issues)} expect, {len(labels.ok)} ok) in {corpus}"
    )
    print(f"plain ruff: --isolated --select {PLAIN_RUFF_SELECT}; bandit: default profile")
    if tools["bandit"] is None:
        print("bandit not installed: its column is skipped (pip install bandit==1.9.4)")
    if unmapped:
        print(f"engine rules with no family (counted as 'other'): {', '.join(sorted(unmapped))}")
    print("cells: labelled issues found / labelled, false positives (of which on `ok` lines)\n")
    scores = table(labels, tools)
    for tool in args.show:
        hits = tools.get(tool)
        if hits is not None:
            show(labels, hits, tool)
    if args.json:
        data = {tool: {fam: vars(s) for fam, s in by_family.items()} for tool, by_family in scores.items()}
        args.json.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return compare(scores["archbot"], args.baseline) if args.baseline else 0


if __name__ == "__main__":
    raise SystemExit(main())
