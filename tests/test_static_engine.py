"""The static engine end to end: changed-lines filter, parse failures, ruff integration, secrets."""

from __future__ import annotations

import textwrap
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from app.review.models import Category, Placement, Severity, Source
from app.static import ChangedPython, StaticReport, analyse, own_rules

CORPUS = Path(__file__).resolve().parent.parent / "bench" / "corpus"
# Built at run time so no secret-looking literal sits in this file.
TOKEN = "ghp_" + "R8bQ2xVt5LmN7pWz3KcY9dHs4JfA6gUe1TqZ"

ASYNC_SERVICE = textwrap.dedent(
    """\
    import asyncio
    import subprocess
    import time


    async def handler(cmd):
        time.sleep(1)
        subprocess.run(["ls", cmd])
        await asyncio.sleep(0)
    """
)


def changed(path: str, source: str, lines: set[int] | None = None) -> ChangedPython:
    every = set(range(1, source.count("\n") + 2))
    return ChangedPython(path, source, frozenset(every if lines is None else lines))


def rules(report: StaticReport) -> set[str]:
    return {f.rule_id or "" for f in report.findings}


def test_findings_are_static_inline_and_fingerprinted() -> None:
    report = analyse([changed("svc/handler.py", ASYNC_SERVICE)], run_ruff=False)
    assert rules(report) == {"ARCH107", "ARCH108"}
    finding = report.findings[0]
    assert finding.rule_id == "ARCH107" and finding.line == 7 and finding.path == "svc/handler.py"
    assert finding.source is Source.STATIC and finding.placement is Placement.INLINE
    assert finding.category is Category.CONCURRENCY and finding.severity is Severity.HIGH
    assert "asyncio.sleep" in finding.rationale and len(finding.fingerprint) == 16


def test_only_changed_lines_are_reported() -> None:
    report = analyse([changed("a.py", ASYNC_SERVICE, {8})], run_ruff=False)
    assert {(f.rule_id, f.line) for f in report.findings} == {("ARCH108", 8)}
    report = analyse([changed("a.py", ASYNC_SERVICE, {1, 2, 3})], run_ruff=False)
    assert report.findings == []


def test_a_changed_line_inside_a_multiline_statement_keeps_the_finding() -> None:
    source = "import pickle\n\ndef f(b):\n    data = pickle.loads(\n        b,\n    )\n    return data\n"
    (finding,) = analyse([changed("a.py", source, {5})], run_ruff=False).findings
    assert finding.rule_id == "ARCH111" and finding.line == 5  # anchored on the changed line
    assert analyse([changed("a.py", source, {7})], run_ruff=False).findings == []


def test_fingerprint_ignores_line_numbers() -> None:
    moved = "\n\n\n" + ASYNC_SERVICE
    first = analyse([changed("a.py", ASYNC_SERVICE)], run_ruff=False).findings[0]
    second = analyse([changed("a.py", moved)], run_ruff=False).findings[0]
    assert first.line != second.line and first.fingerprint == second.fingerprint


def test_await_added_under_an_existing_threading_lock_is_reported() -> None:
    source = "import threading\nL = threading.Lock()\nasync def f(x):\n    with L:\n        y = 1\n        await x(y)\n"
    (finding,) = analyse([changed("a.py", source, {6})], run_ruff=False).findings
    assert finding.rule_id == "ARCH106" and finding.line == 6
    (finding,) = analyse([changed("a.py", source, {4})], run_ruff=False).findings
    assert finding.rule_id == "ARCH106" and finding.line == 4  # the lock line was the change


def test_unparsable_file_is_reported_not_crashed_on() -> None:
    report = analyse([changed("broken.py", "def f(:\n    pass\n"), changed("ok.py", ASYNC_SERVICE)])
    assert [n.path for n in report.not_analysed] == ["broken.py"]
    assert "does not parse" in report.not_analysed[0].reason
    assert "ARCH107" in rules(report)


def test_unparsable_file_without_ruff_is_reported() -> None:
    report = analyse([changed("broken.py", "class :\n")], run_ruff=False)
    assert report.findings == [] and "does not parse" in report.not_analysed[0].reason


def test_null_bytes_and_bad_escapes_do_not_raise() -> None:
    report = analyse(
        [changed("nul.py", "x = 1\x00\n"), changed("esc.py", 'import re\nP = re.compile("\\d+")\n')],
        run_ruff=False,
    )
    assert [n.path for n in report.not_analysed] == ["nul.py"]


def test_deeply_nested_code_is_reported_not_crashed_on() -> None:
    deep = "import time\nasync def f():\n    time.sleep(1)\n    return " + "+".join(["a"] * 1500) + "\n"
    report = analyse([changed("gen.py", deep), changed("ok.py", ASYNC_SERVICE)])
    (skipped,) = report.not_analysed
    assert skipped.path == "gen.py" and "nested too deeply" in skipped.reason
    assert {(f.path, f.rule_id) for f in report.findings} >= {("gen.py", "ruff:ASYNC251"), ("ok.py", "ARCH107")}


SYNTAX_BY_VERSION = {
    "3.8 walrus and positional-only": "def f(a, /, b):\n    if (n := a + b) > 1:\n        return n\n",
    "3.9 decorator expression": "@buttons[0].clicked.connect\ndef f():\n    pass\n",
    "3.10 match": "def f(x):\n    match x:\n        case [1, *rest]:\n            return rest\n",
    "3.11 except*": "def f(g):\n    try:\n        g()\n    except* ValueError:\n        pass\n",
}
NEWER_SYNTAX = {
    "3.12 type parameters": "def f[T](x: T) -> T:\n    return x\n",
    "3.12 type statement": "type Pair[T] = tuple[T, T]\n",
    "3.12 nested f-string quotes": 'x = 1\nprint(f"{"a" + f"{x}"}")\n',
}


def test_python_38_to_311_syntax_is_analysed() -> None:
    inputs = [changed(f"v{i}.py", src) for i, src in enumerate(SYNTAX_BY_VERSION.values())]
    assert analyse(inputs).not_analysed == []


def test_python_312_syntax_is_left_to_ruff_and_said_so() -> None:
    inputs = [changed(f"n{i}.py", src) for i, src in enumerate(NEWER_SYNTAX.values())]
    report = analyse(inputs)
    assert [n.path for n in report.not_analysed] == [f"n{i}.py" for i in range(len(NEWER_SYNTAX))]
    assert all("ruff rules still ran" in n.reason for n in report.not_analysed)


def test_newer_syntax_still_gets_ruff_rules() -> None:
    source = "import time\n\nasync def f[T](x: T) -> T:\n    time.sleep(1)\n    return x\n"
    report = analyse([changed("pep695.py", source)])
    (skipped,) = report.not_analysed
    assert "newer than this interpreter" in skipped.reason and "ruff rules still ran" in skipped.reason
    assert rules(report) == {"ruff:ASYNC251"}


def test_ruff_findings_are_mapped_and_deduplicated_against_own_rules() -> None:
    report = analyse([changed("a.py", ASYNC_SERVICE)])
    found = {(f.rule_id, f.line) for f in report.findings}
    assert ("ARCH107", 7) in found and ("ruff:ASYNC251", 7) not in found  # same line, same category
    unchecked = next(f for f in report.findings if f.rule_id == "ruff:PLW1510")
    assert unchecked.line == 8 and unchecked.category is Category.RELIABILITY and unchecked.severity is Severity.LOW
    assert unchecked.source is Source.STATIC and "PLW1510" in unchecked.rationale
    assert report.rules_run > len(own_rules())


def test_ruff_ignores_the_repository_config_and_odd_paths() -> None:
    noisy = "import os\n\ndef f():\n    assert os.sep\n    print('x')\n"  # S101 / T201 are not ours
    report = analyse([changed("../../etc/evil.py", noisy), changed("pyproject.py", ASYNC_SERVICE)])
    assert {f.path for f in report.findings} == {"pyproject.py"}
    assert report.not_analysed == []


def test_missing_ruff_is_reported_and_own_rules_still_run(tmp_path: Path) -> None:
    report = analyse([changed("a.py", ASYNC_SERVICE)], ruff_bin=str(tmp_path / "no-ruff"))
    assert rules(report) == {"ARCH107", "ARCH108"}
    assert report.not_analysed[0].reason.startswith("ruff rules not run")
    assert report.rules_run == len(own_rules())


def test_files_without_changed_lines_are_skipped() -> None:
    report = analyse([ChangedPython("a.py", ASYNC_SERVICE, frozenset())])
    assert report == StaticReport(findings=[], not_analysed=[], rules_run=len(own_rules()))


def test_secret_on_a_changed_line_is_reported_without_leaking_it() -> None:
    source = f'import os\n\nGITHUB_TOKEN = "{TOKEN}"\nNAME = os.environ["NAME"]\n'
    report = analyse([changed("settings.py", source)])
    (finding,) = [f for f in report.findings if f.rule_id == "ARCH112"]
    assert finding.line == 3 and finding.category is Category.SECURITY
    assert finding.severity is Severity.CRITICAL
    dumped = finding.model_dump_json()
    assert TOKEN not in dumped and TOKEN[4:20] not in dumped
    rotated = analyse([changed("settings.py", source.replace(TOKEN, TOKEN[:4] + TOKEN[4:][::-1]))]).findings
    assert any(f.fingerprint == finding.fingerprint for f in rotated)  # identity is not the secret


def test_secret_assignment_in_python_needs_a_credential_like_literal() -> None:
    password = "Zq8mN2vLx9" + "pR4tYw"
    source = (
        f'DB_PASSWORD = "{password}"\n'
        'ENV_API_KEY = "ANTHROPIC_API_KEY"\n'
        'def f(token):\n    return token == "stale-while-revalidate"\n'
        '_SK_START = b"-----BEGIN OPENSSH PRIVATE' + ' KEY-----"\n'
    )
    report = analyse([changed("c.py", source)], run_ruff=False)
    assert [(f.rule_id, f.line) for f in report.findings] == [("ARCH112", 1)]
    assert password not in report.findings[0].model_dump_json()


def test_secret_on_an_unchanged_line_is_not_reported() -> None:
    source = f'GITHUB_TOKEN = "{TOKEN}"\nx = 1\n'
    assert analyse([changed("s.py", source, {2})], run_ruff=False).findings == []


def test_secret_in_an_unparsable_file_is_still_found() -> None:
    source = f'TOKEN = "{TOKEN}"\ndef broken(:\n'
    report = analyse([changed("s.py", source)], run_ruff=False)
    assert rules(report) == {"ARCH112"} and report.not_analysed[0].path == "s.py"


def test_own_rules_catalogue() -> None:
    catalogue = own_rules()
    ids = [r.id for r in catalogue]
    assert ids[:14] == [f"ARCH{n}" for n in range(101, 115)]
    assert len(set(ids)) == len(ids) and all(i.startswith("ARCH1") for i in ids)
    assert catalogue is not own_rules()  # a copy: callers cannot change the engine's table


def test_corpus_is_found_without_false_positives() -> None:
    files = sorted(CORPUS.glob("*.py"))
    inputs = [changed(p.name, p.read_text(encoding="utf-8")) for p in files]
    report = analyse(inputs)
    labelled = {
        (p.name, n)
        for p in files
        for n, text in enumerate(p.read_text(encoding="utf-8").splitlines(), start=1)
        if "# expect:" in text
    }
    hit = {(f.path, f.line) for f in report.findings}
    assert hit <= labelled, sorted(hit - labelled)
    assert len(hit & labelled) >= 0.9 * len(labelled), sorted(labelled - hit)


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("async def f():\n\tawait x[]{}()=:'\"\\#@.,0\x00é")), max_size=200))
def test_arbitrary_text_never_raises(text: str) -> None:
    report = analyse([changed("fuzz.py", text)], run_ruff=False)
    assert isinstance(report, StaticReport)
