"""Where a changed file sits, and what that means for the findings on it (pure).

Tests, fixtures, examples and docs are not production code: a blocking call in an async test, a
`/tmp` literal in an example or a missing timeout in a test client costs nobody anything. In such a
*test path* the engine keeps only high-confidence security findings (a committed credential, TLS
verification turned off, unsafe deserialization or shell execution of non-constant data), caps their
severity at low and marks them ``in_test_path`` so that no severity gate counts them.

Patterns are repository-relative globs (``review.test_paths`` in ``.github/archbot.yml``): ``**``
matches any number of directories, ``*`` anything within one path segment, ``?`` one character. A
pattern without a ``/`` is matched against the file name at any depth (``conftest.py``,
``test_*.py``); a pattern ending in ``/**`` matches that directory at any depth (``tests/**`` holds
``tests/a.py`` and ``pkg/tests/a.py``).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Sequence
from dataclasses import dataclass

DEFAULT_TEST_PATHS: tuple[str, ...] = (
    "tests/**",
    "test/**",
    "testing/**",
    "test_*.py",
    "*_test.py",
    "conftest.py",
    "**/fixtures/**",
    "examples/**",
    "docs/**",
)

# Rules whose finding stays in a test path (severity capped at low, never gated): a real credential,
# TLS off, and unsafe deserialization / shell execution of data that is not a constant.
TEST_PATH_RULES: frozenset[str] = frozenset(
    {
        "ARCH112",  # committed credential (after the example/placeholder filters)
        "ARCH113",  # TLS verification disabled
        "ARCH111",  # unsafe deserialization
        "ruff:S301",  # pickle and friends on data
        "ruff:S506",  # yaml.load with an unsafe loader
        "ruff:S501",  # requests/httpx verify=False
        "ruff:S323",  # ssl._create_unverified_context
        "ruff:S602",  # subprocess with shell=True and a non-constant command
        "ruff:S605",  # os.system / os.popen with a non-constant command (a file only ruff could parse)
        "ARCH120",  # request data or a caller's value reaching a command
        "ARCH121",  # untrusted data pasted into SQL
    }
)


_SHELL_RULES = frozenset({"ruff:S602", "ruff:S605"})
_DESERIALIZE_RULES = frozenset({"ARCH111", "ruff:S301", "ruff:S506"})


def _round_trip_or_constant(tree: ast.Module | None, line: int) -> bool:
    """Every call starting on ``line`` loads a constant or what a ``dumps``/``dump`` call just wrote
    (``pickle.loads(pickle.dumps(obj))``): a test checking its own serialisation, no foreign bytes."""
    if tree is None:
        return False
    calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call) and n.lineno == line and n.args]
    if not calls:
        return False
    for call in calls:
        data = call.args[0]
        if isinstance(data, ast.Constant):
            continue
        if isinstance(data, ast.Call):
            func = data.func
            name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
            if name in {"dumps", "dump", "save"}:
                continue
        if isinstance(call.func, ast.Attribute) and call.func.attr in {"dumps", "dump", "save"}:
            continue
        return False
    return True


def keep_in_test_path(rule_id: str, title: str, tree: ast.Module | None, line: int) -> bool:
    """Whether a finding of ``rule_id`` (ruff's message as ``title``) at ``line`` is confident enough
    to report in a test path: a credential, TLS off, a shell command or deserialised data that is not
    a constant (ruff says "seems safe" of a literal shell command)."""
    if rule_id not in TEST_PATH_RULES:
        return False
    if rule_id in _SHELL_RULES:
        return "seems safe" not in title
    if rule_id in _DESERIALIZE_RULES:
        return not _round_trip_or_constant(tree, line)
    return True


@dataclass(frozen=True)
class PathContext:
    """The test-path patterns of one repository."""

    test_paths: tuple[str, ...] = DEFAULT_TEST_PATHS

    def is_test(self, path: str) -> bool:
        """True when ``path`` is a test, fixture, example or docs file."""
        return is_test_path(path, self.test_paths)


def _compile(pattern: str) -> re.Pattern[str]:
    """A glob as a regular expression over a whole '/'-separated path (``re`` caches the compiled form)."""
    pattern = pattern.strip().lstrip("/")
    if pattern.startswith("./"):
        pattern = pattern[2:]
    anywhere = ("/" not in pattern.rstrip("/")) or (pattern.endswith("/**") and "/" not in pattern[:-3])
    if pattern.endswith("/"):
        pattern += "**"
    out: list[str] = []
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    body = "".join(out)
    return re.compile(("(?:.*/)?" if anywhere else "") + body + r"\Z")


def is_test_path(path: str, patterns: Sequence[str] = DEFAULT_TEST_PATHS) -> bool:
    """True when the repository-relative ``path`` matches one of ``patterns`` (see the module doc)."""
    norm = path.replace("\\", "/").lstrip("/")
    while norm.startswith("./"):
        norm = norm[2:]
    return any(p.strip() and _compile(p).match(norm) is not None for p in patterns)
