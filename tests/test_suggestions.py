"""Suggestions verified before they are committable, and archbot's deterministic fixes (issue 19)."""

from __future__ import annotations

from typing import Any

import pytest

from app.review.autofix import add_deterministic_fixes, fix_line
from app.review.diff import FileDiff, parse_diff
from app.review.models import Category, Finding, Placement, Severity, Side, Source, SuggestionCheck
from app.review.suggestions import apply_replacement, check_suggestion, verify_suggestions

PY = "def f(x):\n    if x:\n        return 1\n    return 2\n"
PY_DIFF = """diff --git a/m.py b/m.py
--- a/m.py
+++ b/m.py
@@ -1,2 +1,4 @@
 def f(x):
+    if x:
+        return 1
     return 2
"""
YAML = "jobs:\n  build:\n    runs-on: ubuntu-latest\n    timeout: 10\n"
TOML = '[tool]\nname = "x"\nlevel = 3\n'
JSON = '{\n  "a": 1,\n  "b": 2\n}\n'


def whole_file_diff(path: str, text: str) -> FileDiff:
    lines = text.rstrip("\n").split("\n")
    body = "".join(f"+{line}\n" for line in lines)
    header = f"diff --git a/{path} b/{path}\nnew file mode 100644\n--- /dev/null\n+++ b/{path}\n"
    return parse_diff(f"{header}@@ -0,0 +1,{len(lines)} @@\n{body}")[0]


def finding(path: str = "m.py", line: int = 3, **overrides: Any) -> Finding:
    values: dict[str, Any] = {
        "path": path,
        "line": line,
        "severity": Severity.MEDIUM,
        "category": Category.RELIABILITY,
        "title": "t",
        "rationale": "r",
        "placement": Placement.INLINE,
        "fingerprint": f"fp{line}",
    }
    return Finding(**(values | overrides))


def check(f: Finding, text: str = PY, diff: FileDiff | None = None) -> SuggestionCheck | None:
    fix = check_suggestion(f, diff or parse_diff(PY_DIFF)[0], text)
    return fix.check if fix is not None else None


def test_a_correct_suggestion_is_committable_and_applies_to_the_expected_text() -> None:
    f = finding(start_line=2, line=3, suggestion="    if x is not None:\n        return 1")
    fix = check_suggestion(f, parse_diff(PY_DIFF)[0], PY)
    assert fix is not None and fix.committable and (fix.start_line, fix.end_line) == (2, 3)
    assert fix.original == "    if x:\n        return 1"
    assert apply_replacement(PY, 2, 3, f.suggestion or "") == PY.replace("if x:", "if x is not None:")


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"line": 3, "suggestion": "        return 1"}, SuggestionCheck.NO_OP),
        ({"line": 3, "suggestion": "        return 1   "}, SuggestionCheck.NO_OP),  # trailing blanks only
        ({"line": 3, "suggestion": "        return (1"}, SuggestionCheck.SYNTAX),
        ({"line": 3, "suggestion": "      return 1"}, SuggestionCheck.INDENTATION),
        ({"line": 3, "suggestion": "    if x:\n        return 3"}, SuggestionCheck.OUTSIDE_RANGE),  # repeats line 2
        ({"line": 3, "suggestion": "        return 3\n    return 2"}, SuggestionCheck.OUTSIDE_RANGE),  # repeats 4
        ({"line": 3, "side": Side.LEFT, "suggestion": "x"}, SuggestionCheck.LEFT_SIDE),
        ({"line": 3, "placement": Placement.FILE, "suggestion": "x"}, SuggestionCheck.NOT_INLINE),
        ({"line": 9, "suggestion": "x"}, SuggestionCheck.RANGE_OUTSIDE_HUNK),
        ({"line": 3, "suggestion": None}, None),
    ],
)
def test_what_is_not_committable(overrides: dict[str, Any], expected: SuggestionCheck | None) -> None:
    assert check(finding(**overrides)) is expected


def test_without_the_head_text_nothing_is_committable() -> None:
    fix = check_suggestion(finding(suggestion="        return 3"), parse_diff(PY_DIFF)[0], None)
    assert fix is not None and fix.check is SuggestionCheck.NO_FILE_TEXT


def test_an_empty_suggestion_deletes_the_range() -> None:
    f = finding(start_line=2, line=3, suggestion="")
    assert check(f) is SuggestionCheck.COMMITTABLE
    assert apply_replacement(PY, 2, 3, "") == "def f(x):\n    return 2\n"


@pytest.mark.parametrize(
    ("path", "text", "line", "good", "bad"),
    [
        ("ci.yml", YAML, 4, "    timeout: 20", "    timeout: [20"),
        ("pyproject.toml", TOML, 3, "level = 4", "level = = 4"),
        ("data.json", JSON, 3, '  "b": 3', '  "b": 3,'),
    ],
)
def test_data_files_must_still_load(path: str, text: str, line: int, good: str, bad: str) -> None:
    diff = whole_file_diff(path, text)
    assert check(finding(path, line, suggestion=good), text, diff) is SuggestionCheck.COMMITTABLE
    assert check(finding(path, line, suggestion=bad), text, diff) is SuggestionCheck.DATA_INVALID


def test_overlapping_different_suggestions_conflict_and_identical_ones_are_kept_once() -> None:
    files = parse_diff(PY_DIFF)
    a = finding(line=3, suggestion="        return 10", fingerprint="a")
    b = finding(line=3, suggestion="        return 11", fingerprint="b")
    other = finding(line=2, suggestion="    if x is not None:", fingerprint="c")
    out = verify_suggestions([a, b, other], files, {"m.py": PY})
    assert [f.fix.check if f.fix else None for f in out] == [
        SuggestionCheck.CONFLICT,
        SuggestionCheck.CONFLICT,
        SuggestionCheck.COMMITTABLE,
    ]
    twice = verify_suggestions([a, a.model_copy(update={"fingerprint": "a2"})], files, {"m.py": PY})
    assert twice[0].fix is not None and twice[0].fix.committable
    assert (twice[1].suggestion, twice[1].fix) == (None, None)


# ------------------------------------------------------------------------------- deterministic fixes

MODULE = """import asyncio
import subprocess
import time

import requests
import torch
import yaml

background_tasks: set[asyncio.Task[None]] = set()


async def handler(path, url):
    time.sleep(0.5)
    out = subprocess.run(["gzip", path], check=True)
    data = yaml.load(open(path), Loader=yaml.Loader)
    model = torch.load(path)
    r = requests.get(url)
    asyncio.create_task(notify(url))
    text = json.dumps(requests.get(url).json())
    requests.post(url, timeout=None)
"""


@pytest.mark.parametrize(
    ("rule", "line", "expected"),
    [
        ("ARCH107", 13, "    await asyncio.sleep(0.5)"),
        ("ARCH108", 14, '    out = await asyncio.to_thread(subprocess.run, ["gzip", path], check=True)'),
        ("ARCH111", 15, "    data = yaml.safe_load(open(path))"),
        ("ARCH111", 16, "    model = torch.load(path, weights_only=True)"),
        ("ARCH105", 17, "    r = requests.get(url, timeout=10)"),
        (
            "ARCH102",
            18,
            "    _task = asyncio.create_task(notify(url))\n    background_tasks.add(_task)\n"
            "    _task.add_done_callback(background_tasks.discard)",
        ),
        ("ARCH108", 19, None),  # several calls on the line: which one blocks is a guess
        ("ARCH105", 20, None),  # an explicit timeout=None: the right value is the author's call
        ("ARCH101", 13, None),  # no fixer for the rule
    ],
)
def test_deterministic_fixes(rule: str, line: int, expected: str | None) -> None:
    assert fix_line(rule, MODULE, line) == expected


def test_asyncio_fixes_need_asyncio_imported_and_an_async_def() -> None:
    text = "import time\n\n\nasync def f():\n    time.sleep(1)\n"
    assert fix_line("ARCH107", text, 5) is None
    nested = "import asyncio\nimport time\n\n\nasync def f():\n    def g():\n        time.sleep(1)\n"
    assert fix_line("ARCH107", nested, 7) is None
    assert fix_line("ARCH107", nested.replace("def g", "async def g"), 7) == "        await asyncio.sleep(1)"


def test_deterministic_fixes_are_verified_and_marked() -> None:
    diff = whole_file_diff("svc.py", MODULE)
    static = [
        finding("svc.py", 13, source=Source.STATIC, rule_id="ARCH107", fingerprint="s13"),
        finding("svc.py", 19, source=Source.STATIC, rule_id="ARCH108", fingerprint="s19"),
    ]
    out = verify_suggestions(add_deterministic_fixes(static, {"svc.py": MODULE}), [diff], {"svc.py": MODULE})
    fixed, unfixed = out
    assert fixed.fix is not None and fixed.fix.committable and fixed.fix.deterministic
    assert fixed.suggestion == "    await asyncio.sleep(0.5)"
    assert (unfixed.suggestion, unfixed.fix) == (None, None)
