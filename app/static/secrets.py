"""ARCH112, committed credentials: the sanitizer's detectors, made precise for Python source (pure).

The detectors in :mod:`app.review.sanitize` are tuned to redact, where a false hit costs nothing.
Here a hit is a finding people act on, so a match is dropped when the code shows it is not a live
credential:

- documentation and dummy values: AWS's documented example keys and anything that says it is an
  example, dummy, fake, sample, test or placeholder value (``xxxx``, ``your-key-here``, ``changeme``);
- templates: ``{x}``, ``{{x}}``, ``${X}``, ``<x>``, ``%(x)s`` in the value (the real value is filled in
  at run time);
- URLs with credentials on documentation hosts (``example.com``/``.org``/``.net``, ``*.example``,
  ``*.test``, ``*.invalid``) and on the local machine with an obvious dummy password
  (``user:pass@localhost``);
- values that are only compared or asserted (``if token == "..."``, ``assert key != "..."``): code
  that checks a value does not use it as a credential;
- names rather than values (``"ANTHROPIC_API_KEY"``), and a PEM header without a key body.

Several detector hits in one statement are one finding (one code location). The secret itself
never enters the finding: the fingerprint is taken over the statement with the value replaced by
``<kind>``.
"""

from __future__ import annotations

import ast
import base64
import binascii
import bisect
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

from app.review.sanitize import find_secrets

_NEWLINE = re.compile(r"\n")
# An environment variable, header or keyword name rather than a credential: one letter case, no digits.
_NAME_LIKE = re.compile(r"[A-Z][A-Z_\-.]*|[a-z][a-z_\-.]*")
_MIN_PEM_CHARS = 100
_DUMMY_WORDS = re.compile(
    r"(?i)example|dummy|fake|sample|placeholder|test|changeme|change[_-]me|redacted|your[_-]|xxxx|\*\*\*"
)
_TEMPLATE = re.compile(r"\{[^{}\s]*\}|\$\{|\$[A-Z_][A-Z0-9_]*|<[^<>\s]+>|%\([A-Za-z_]+\)[sd]|\{\{")
_DOC_HOST = re.compile(r"(?i)(?:^|\.)(?:example\.(?:com|org|net)|example|test|invalid|localhost)$")
_LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "0.0.0.0", "::1", "[::1]"})  # noqa: S104  (a host name, not a bind)
_DUMMY_PASSWORDS = frozenset(
    {"pass", "password", "passwd", "pwd", "secret", "postgres", "root", "admin", "guest", "user", "dev", "local"}
)
_COMPARING_CALLS = frozenset({"compare_digest", "assertEqual", "assertNotEqual", "assertIn", "assertNotIn"})
_JWT_EXAMPLE_CLAIMS = ("1234567890", "John Doe", "example")


@dataclass(frozen=True)
class SecretHit:
    """One code location holding what looks like a credential."""

    kinds: tuple[str, ...]  # detector kinds, in order of first appearance
    line: int  # first line of the first credential
    span: tuple[int, int]  # the enclosing statement
    code: str  # the statement with every credential replaced by ``<kind>`` (for the fingerprint)


def _is_name_or_pem(source: str, kind: str, start: int, end: int) -> bool:
    """A name-like value, an unquoted name-based hit, or a PEM header without its body."""
    value = source[start:end]
    if kind == "private_key":
        return len(value) < _MIN_PEM_CHARS
    if kind != "secret_assignment":
        return False
    if start == 0 or source[start - 1] not in "\"'":
        return True  # in Python a committed credential is a string literal
    return _NAME_LIKE.fullmatch(value) is not None


def _literal_around(source: str, start: int, end: int) -> str:
    """The rest of the source line around the match (enough to see a URL or a template)."""
    lo = source.rfind("\n", 0, start) + 1
    hi = source.find("\n", end)
    return source[lo : hi if hi >= 0 else len(source)]


def _url_at(line_text: str, value: str) -> str | None:
    """The ``scheme://...`` URL on the line that holds ``value`` as its password."""
    for match in re.finditer(r"[A-Za-z][A-Za-z0-9+.\-]*://[^\s\"'`]+", line_text):
        if f":{value}@" in match.group():
            return match.group()
    return None


def _dummy_url(line_text: str, value: str) -> bool:
    url = _url_at(line_text, value)
    if url is None:
        return False
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        user = parts.username or ""
    except ValueError:
        return False
    if _DOC_HOST.search(host):
        return True
    dummy = value.lower() in _DUMMY_PASSWORDS or value == user or len(value) < 6
    return host in _LOCAL_HOSTS and dummy


def _example_jwt(value: str) -> bool:
    """A JWT whose claims are the well-known documentation sample (or say they are an example)."""
    parts = value.split(".")
    if len(parts) < 2:
        return False
    try:
        payload = base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)).decode("utf-8", "replace")
    except (binascii.Error, ValueError):
        return False
    return any(claim in payload for claim in _JWT_EXAMPLE_CLAIMS)


def is_placeholder(kind: str, value: str, line_text: str = "") -> bool:
    """True when the matched ``value`` (of detector ``kind``) is a documented example, a dummy or a
    template rather than a live credential; ``line_text`` is the source line around it."""
    if kind == "private_key":
        return False  # a key body is base64: any word can turn up in it by chance
    if _DUMMY_WORDS.search(value) or _TEMPLATE.search(value):
        return True
    if kind == "url_credentials" and _dummy_url(line_text, value):
        return True
    return kind == "jwt" and _example_jwt(value)


def _str_constants(tree: ast.Module) -> Iterator[tuple[ast.Constant, list[ast.AST]]]:
    """Every string constant with its chain of ancestors (outermost first)."""
    stack: list[tuple[ast.AST, list[ast.AST]]] = [(tree, [])]
    while stack:
        node, parents = stack.pop()
        if isinstance(node, ast.Constant) and isinstance(node.value, str | bytes):
            yield node, parents
            continue
        chain = [*parents, node]
        stack.extend((child, chain) for child in ast.iter_child_nodes(node))


def _only_compared(parents: list[ast.AST], node: ast.AST) -> bool:
    """The literal is an operand of a comparison (alone or in a tuple/list/set of candidates), an
    argument of a comparing call (``compare_digest``, ``assertEqual``), or sits inside an ``assert``."""
    if any(isinstance(p, ast.Assert) for p in parents):
        return True
    child: ast.AST = node
    for outer in reversed(parents):
        if isinstance(outer, ast.Compare):
            return True
        if isinstance(outer, ast.Call):
            func = outer.func
            name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
            return child in outer.args and name in _COMPARING_CALLS
        if not isinstance(outer, ast.Tuple | ast.List | ast.Set):
            return False
        child = outer
    return False


def _compared_lines(tree: ast.Module | None, changed: frozenset[int]) -> list[tuple[int, int, int, int]]:
    """Source ranges (line, col, end_line, end_col) of string literals that are only compared, on
    statements that touch the changed lines."""
    if tree is None:
        return []
    ranges = []
    for node, parents in _str_constants(tree):
        first, last = node.lineno, node.end_lineno or node.lineno
        if not any(n in changed for n in range(first, last + 1)):
            continue
        if _only_compared(parents, node):
            ranges.append((first, node.col_offset, last, node.end_col_offset or 0))
    return ranges


def _changed_runs(changed: frozenset[int], n_lines: int) -> list[tuple[int, int]]:
    """Runs of consecutive changed lines (first, last), inside the file."""
    runs: list[tuple[int, int]] = []
    for line in sorted(n for n in changed if 1 <= n <= n_lines):
        if runs and line == runs[-1][1] + 1:
            runs[-1] = (runs[-1][0], line)
        else:
            runs.append((line, line))
    return runs


def find_committed_secrets(
    source: str,
    tree: ast.Module | None,
    changed_lines: frozenset[int],
    statement_at: Callable[[int, int], tuple[int, int]],
) -> list[SecretHit]:
    """ARCH112 hits on the changed lines of one Python file, one per statement."""
    starts = [0] + [m.end() for m in _NEWLINE.finditer(source)]
    compared: list[tuple[int, int, int, int]] | None = None  # built on the first candidate only

    def in_compared(offset: int) -> bool:
        nonlocal compared
        if compared is None:
            compared = _compared_lines(tree, changed_lines)
        line = bisect.bisect_right(starts, offset)
        col = len(source[starts[line - 1] : offset].encode("utf-8"))
        return any((line, col) >= (a, b) and (line, col) < (c, d) for a, b, c, d in compared)

    matches: list[tuple[str, int, int]] = []
    for first, last in _changed_runs(changed_lines, len(starts)):
        lo, hi = starts[first - 1], starts[last] if last < len(starts) else len(source)
        for m in find_secrets(source[lo:hi]):
            start, end = lo + m.start, lo + m.end
            value = source[start:end]
            if _is_name_or_pem(source, m.kind, start, end):
                continue
            if is_placeholder(m.kind, value, _literal_around(source, start, end)) or in_compared(start):
                continue
            matches.append((m.kind, start, end))
    by_span: dict[tuple[int, int], list[tuple[str, int, int]]] = {}
    for kind, start, end in matches:
        first = bisect.bisect_right(starts, start)
        last = bisect.bisect_right(starts, max(start, end - 1))
        by_span.setdefault(statement_at(first, last), []).append((kind, start, end))
    hits = []
    for span, group in by_span.items():
        lo, hi = starts[span[0] - 1], starts[span[1]] if span[1] < len(starts) else len(source)
        pieces, cursor = [], lo
        for kind, start, end in sorted(group, key=lambda g: g[1]):
            pieces.append(source[cursor:start] + f"<{kind}>")
            cursor = max(cursor, end)
        code = "".join(pieces) + source[cursor:hi]
        kinds = tuple(dict.fromkeys(kind for kind, _, _ in group))
        hits.append(SecretHit(kinds, bisect.bisect_right(starts, group[0][1]), span, code.rstrip("\n")))
    return hits
