"""Runs ruff once, with archbot's own rule selection, over the new contents of changed Python files.

The repository's ruff configuration is never read (``--isolated``): a pull request can change it.
Files are written to a private temporary directory under generated names, so a path from a diff can
never escape it. ruff parses every Python version up to 3.13 (``--target-version py313``), so its
rules still run on files the running interpreter's ``ast`` cannot parse.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from ruff.__main__ import find_ruff_bin  # type: ignore[import-untyped]

from app.review.models import Category, Severity

RUFF_TIMEOUT_S = 60.0
TARGET_VERSION = "py313"
SYNTAX_ERROR = "invalid-syntax"

_C, _S = Category, Severity


@dataclass(frozen=True)
class RuffRule:
    """How archbot reads one ruff code: its category, severity and a line of why, in our voice."""

    category: Category
    severity: Severity
    why: str


def _rules(codes: str, category: Category, severity: Severity, why: str) -> dict[str, RuffRule]:
    return {code: RuffRule(category, severity, why) for code in codes.split()}


_BLOCKING = "it blocks the event loop, so every concurrent request on this worker waits."

RUFF_RULES: dict[str, RuffRule] = {
    **_rules(
        "ASYNC210 ASYNC212 ASYNC220 ASYNC221 ASYNC222 ASYNC230 ASYNC250 ASYNC251",
        _C.CONCURRENCY,
        _S.MEDIUM,
        "Blocking call inside async def: " + _BLOCKING,
    ),
    **_rules("ASYNC240", _C.CONCURRENCY, _S.LOW, "Blocking filesystem call inside async def: " + _BLOCKING),
    **_rules(
        "ASYNC100 ASYNC105 ASYNC110 ASYNC115 ASYNC116",
        _C.CONCURRENCY,
        _S.LOW,
        "Async anti-pattern: timeouts and waits belong to the caller's scope.",
    ),
    **_rules("RUF006", _C.CONCURRENCY, _S.MEDIUM, "A task nobody keeps can be garbage-collected mid-flight."),
    **_rules(
        "S102 S307 S602 S604 S605 S608 S611 S610",
        _C.SECURITY,
        _S.HIGH,
        "Code or query built from data: an injection path if any part is user input.",
    ),
    **_rules("S301 S302 S506", _C.SECURITY, _S.HIGH, "Unsafe deserialization: the data can run code in this process."),
    **_rules(
        "S323 S501 S502 S503 S504 S507",
        _C.SECURITY,
        _S.HIGH,
        "TLS/SSH verification weakened: the peer can be impersonated.",
    ),
    **_rules(
        "S201 S202 S701 S702 S704 S308 S612 S601 S609",
        _C.SECURITY,
        _S.MEDIUM,
        "Dangerous default or unsafe API: see the rule and keep the safe path.",
    ),
    **_rules(
        "S103 S108 S303 S304 S305 S306 S310 S312 S321 S324 S505 S508 S509",
        _C.SECURITY,
        _S.MEDIUM,
        "Weak crypto, permissions or protocol: not acceptable on an internet-facing service.",
    ),
    **_rules(
        "S313 S314 S315 S316 S317 S318 S319",
        _C.SECURITY,
        _S.LOW,
        "XML parsing of untrusted input: use defusedxml.",
    ),
    **_rules("S113", _C.RELIABILITY, _S.MEDIUM, "No timeout: one slow upstream can hold this worker forever."),
    **_rules("B006 B039", _C.RELIABILITY, _S.MEDIUM, "A mutable default is shared by every call (and every request)."),
    **_rules(
        "B012 B014 B025 B029 B030 B023 B020",
        _C.RELIABILITY,
        _S.LOW,
        "A control-flow or exception-handling bug pattern.",
    ),
    **_rules("B019", _C.PERFORMANCE, _S.MEDIUM, "lru_cache on a method keeps every instance alive: a memory leak."),
    **_rules("PLW2101", _C.CONCURRENCY, _S.HIGH, "A lock created inside `with` protects nothing."),
    **_rules("PLW1509", _C.CONCURRENCY, _S.MEDIUM, "preexec_fn is not safe in a threaded process."),
    **_rules("PLW1510 PLW0711", _C.RELIABILITY, _S.LOW, "A failure here passes unnoticed."),
}

SELECTED: tuple[str, ...] = tuple(sorted(RUFF_RULES))

# ruff codes the own blocking checks (``app.static.blocking``) supersede on every file they can parse:
# they cover the same calls with the module's types and imports, and stay silent where these flag path
# arithmetic (``os.path.normpath``, ``Path.resolve``) or ``time.sleep(0)``. On a file only ruff can parse
# (newer syntax, nesting too deep for the AST walk), these are still reported.
# Likewise ARCH111 supersedes S301/S506: the same loaders, plus round trips and operator-named files.
# The taint rules (``app.static.rules_taint``) supersede ruff's shape-only injection checks: ARCH120 the
# shell ones (S602/S605: a shell string that is not a literal, whoever wrote it), ARCH121 S608 (SQL-looking
# strings), ARCH122 S310 (urlopen of a non-literal), ARCH124 S202 (any tar extraction), ARCH125
# S313-S319 (any stdlib XML parse): each reports the same calls only when untrusted data reaches them.
OWN_RULES_COVER: frozenset[str] = frozenset(
    {"ASYNC210", "ASYNC212", "ASYNC220", "ASYNC221", "ASYNC222", "ASYNC230", "ASYNC240", "ASYNC250", "ASYNC251"}
    | {"S301", "S506"}
    | {"S602", "S605", "S608", "S310", "S202", "S313", "S314", "S315", "S316", "S317", "S318", "S319"}
)


@dataclass(frozen=True)
class RuffDiagnostic:
    """One ruff result mapped back to the input file it came from."""

    index: int
    code: str
    message: str
    line: int
    end_line: int


@dataclass(frozen=True)
class RuffRun:
    """All diagnostics of one ruff process, or why it could not run."""

    diagnostics: list[RuffDiagnostic]
    error: str | None = None


def default_ruff_bin() -> str | None:
    """The ruff binary shipped with the ``ruff`` package, or None when it is missing."""
    try:
        return str(find_ruff_bin())
    except FileNotFoundError:
        return None


def _command(binary: str, root: Path) -> list[str]:
    return [
        binary,
        "check",
        "--isolated",
        "--no-cache",
        "--exit-zero",
        "--quiet",
        "--output-format",
        "json",
        "--target-version",
        TARGET_VERSION,
        "--select",
        ",".join(SELECTED),
        str(root),
    ]


@contextlib.contextmanager
def ruff_job(sources: Sequence[str], ruff_bin: str | None = None) -> Iterator[Callable[[], RuffRun]]:
    """Start one ruff process over ``sources`` (index = position) now; call the yielded function for
    its result. The process runs while the caller does its own work, and is killed on exit."""
    binary = ruff_bin or default_ruff_bin()
    if binary is None or not sources:
        early = RuffRun([], None if binary else "ruff binary not found")
        yield lambda: early
        return
    with tempfile.TemporaryDirectory(prefix="archbot-ruff-") as tmp:
        root = Path(tmp)
        for index, source in enumerate(sources):
            (root / f"f{index}.py").write_text(source, encoding="utf-8", errors="surrogatepass")
        try:
            proc = subprocess.Popen(  # noqa: S603  (fixed argument list, no shell)
                _command(binary, root), stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=tmp
            )
        except OSError as exc:
            failed = RuffRun([], f"ruff could not start: {exc.strerror or exc}")
            yield lambda: failed
            return
        with proc:
            yield lambda: _collect(proc)
            if proc.poll() is None:
                proc.kill()


def _collect(proc: subprocess.Popen[bytes]) -> RuffRun:
    try:
        stdout, stderr = proc.communicate(timeout=RUFF_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        return RuffRun([], f"ruff timed out after {RUFF_TIMEOUT_S:.0f} s")
    return _parse_output(stdout, proc.returncode, stderr)


def run_ruff(sources: Sequence[str], ruff_bin: str | None = None) -> RuffRun:
    """Check ``sources`` with one ruff process and wait for it."""
    with ruff_job(sources, ruff_bin) as result:
        return result()


def _parse_output(stdout: bytes, returncode: int, stderr: bytes) -> RuffRun:
    try:
        rows = json.loads(stdout or b"[]")
    except json.JSONDecodeError:
        rows = None
    if returncode not in (0, 1) or not isinstance(rows, list):
        tail = stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or ["no output"]
        return RuffRun([], f"ruff failed (exit {returncode}): {tail[0][:200]}")
    diagnostics = []
    for row in rows:
        name = Path(str(row.get("filename", ""))).name
        if not (name.startswith("f") and name.endswith(".py") and name[1:-3].isdigit()):
            continue
        location, end = row.get("location") or {}, row.get("end_location") or {}
        line = int(location.get("row") or 1)
        diagnostics.append(
            RuffDiagnostic(
                index=int(name[1:-3]),
                code=str(row.get("code") or SYNTAX_ERROR),
                message=str(row.get("message", "")),
                line=line,
                end_line=max(line, int(end.get("row") or line)),
            )
        )
    return RuffRun(diagnostics)
