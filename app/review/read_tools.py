"""The model's opt-in read tools (``review.agentic``): ``read_file`` and ``find_symbol`` over a RepoFiles.

Pure: no network, no execution, no file system of its own (the :class:`~app.review.repo_files.RepoFiles`
source confines paths; the working-tree source refuses symlinks out of the checkout). Every result:

- is data, fenced with :func:`~app.review.prompts.untrusted` under a fresh nonce, with line numbers;
- has its secrets redacted (line breaks kept, so the line numbers stay true);
- is capped in lines and in the session's remaining token budget, and counted against it.

A refused path (``..``, absolute, backslashes, NUL, unknown), a bad input or a call past the cap
gives an error result, never an exception. The model's input picks what to read, never an
identifier archbot writes (rule ids, markers, fingerprints, paths of findings are validated elsewhere).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from app.review.budget import estimate_tokens
from app.review.prompts import new_nonce, render_prompt, untrusted
from app.review.repo_files import RepoFiles, is_safe_path
from app.review.sanitize import REDACTION_TEMPLATE, find_secrets, redact_secrets

READ_FILE = "read_file"
FIND_SYMBOL = "find_symbol"
READ_TOOL_NAMES = frozenset({READ_FILE, FIND_SYMBOL})
RESULT_SOURCE = "repository-file"

MAX_LINES_PER_READ = 300
MAX_SYMBOL_MATCHES = 20
MAX_FILES_SCANNED = 3000
MAX_SCANNED_CHARS = 1_000_000  # a file bigger than this is not searched by find_symbol
_MIN_RESULT_TOKENS = 40  # below this, a read is refused as over budget rather than cut to nothing

NO_MORE_READS = (
    "The read budget for this part of the review is spent: no more read_file or find_symbol calls "
    "will be answered. Answer now by calling submit_review."
)


class ReadFileInput(BaseModel):
    """``read_file``: lines ``start_line`` to ``end_line`` (inclusive, 1-based) of one file."""

    model_config = ConfigDict(extra="forbid")

    path: str = Field(min_length=1, max_length=300, description="Repository-relative path, '/'-separated.")
    start_line: int = Field(default=1, ge=1, le=1_000_000, description="First line to show (1-based).")
    end_line: int | None = Field(default=None, ge=1, le=1_000_000, description="Last line to show (inclusive).")


class FindSymbolInput(BaseModel):
    """``find_symbol``: where a function, class or module-level name is defined."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(
        min_length=1,
        max_length=100,
        pattern=r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$",
        description="A Python identifier, optionally dotted (Class.method): the last part is searched.",
    )


def tool_definitions() -> list[dict[str, Any]]:
    """The read tools as the Messages API takes them (name, description, JSON schema of the input)."""
    return [
        {
            "name": READ_FILE,
            "description": (
                "Read lines of a file of the repository at the reviewed revision (not only the diff). "
                f"At most {MAX_LINES_PER_READ} lines per call; the result comes back as untrusted data."
            ),
            "input_schema": ReadFileInput.model_json_schema(),
        },
        {
            "name": FIND_SYMBOL,
            "description": (
                "Find where a function, class or module-level name is defined in the repository's Python "
                f"files: up to {MAX_SYMBOL_MATCHES} locations (path, line, the defining line)."
            ),
            "input_schema": FindSymbolInput.model_json_schema(),
        },
    ]


@dataclass(frozen=True)
class ToolResult:
    """One answer to a read call: its text (already fenced) and whether it is an error."""

    text: str
    is_error: bool = False
    tokens: int = 0


@dataclass(frozen=True)
class ReadAccess:
    """What a review may read and how much, per chunk: every chunk gets its own :class:`ReadSession`."""

    files: RepoFiles
    max_calls: int = 6
    max_tokens: int = 6000

    def session(self) -> ReadSession:
        return ReadSession(self)

    def instructions(self) -> str:
        """The prompt that tells the model about the tools and their limits (prompts/read_tools.md)."""
        return render_prompt(
            "read_tools",
            {
                "max_calls": str(self.max_calls),
                "max_tokens": str(self.max_tokens),
                "max_lines": str(MAX_LINES_PER_READ),
            },
        )


@dataclass
class ReadSession:
    """The reads of one chunk: answers calls while calls and tokens remain, then refuses."""

    access: ReadAccess
    calls: int = 0
    tokens: int = 0
    refused: int = 0
    log: list[tuple[str, bool]] = field(default_factory=list)  # (tool, is_error) per call, for tests and logs

    @property
    def exhausted(self) -> bool:
        """No further read will be answered (calls or tokens spent)."""
        return self.calls >= self.access.max_calls or self.tokens_left() < _MIN_RESULT_TOKENS

    def tokens_left(self) -> int:
        return max(0, self.access.max_tokens - self.tokens)

    def run(self, name: str, raw_input: object) -> ToolResult:
        """Answer one tool call; errors are results. Every answered call counts, errors included."""
        if self.exhausted:
            self.refused += 1
            return self._finish(name, ToolResult(NO_MORE_READS, is_error=True))
        self.calls += 1
        if name == READ_FILE:
            result = self._read_file(raw_input)
        elif name == FIND_SYMBOL:
            result = self._find_symbol(raw_input)
        else:
            result = _error("unknown tool: only read_file and find_symbol can be called here")
        return self._finish(name, result)

    def _finish(self, name: str, result: ToolResult) -> ToolResult:
        tokens = estimate_tokens(result.text)
        self.tokens += tokens
        self.log.append((name, result.is_error))
        return ToolResult(result.text, result.is_error, tokens)

    def _read_file(self, raw_input: object) -> ToolResult:
        try:
            request = ReadFileInput.model_validate(raw_input)
        except ValidationError as exc:
            return _error(f"invalid read_file input ({exc.error_count()} error(s)): give path, start_line, end_line")
        if not is_safe_path(request.path):
            return _error("path refused: use a repository-relative path without '..', '\\', NUL or a leading '/'")
        text = self.access.files.read(request.path)
        if text is None:
            return _error("no such file at the reviewed revision (or it is binary, too large, or refused)")
        lines = text.splitlines()
        first = request.start_line
        last = min(request.end_line or len(lines), len(lines), first + MAX_LINES_PER_READ - 1)
        if first > max(len(lines), 1) or last < first:
            return _error(f"line range outside the file: it has {len(lines)} line(s)")
        shown = _redacted_lines(lines)[first - 1 : last]
        header = f"{request.path}: lines {first}-{last} of {len(lines)}"
        body = _fit([f"{first + i:>6}| {line}" for i, line in enumerate(shown)], self._budget_chars(header))
        if body is None:
            return _error("the read budget left is too small for this read")
        note = "" if len(body) == len(shown) else f"\n(cut at line {first + len(body) - 1}: read budget)"
        return ToolResult(untrusted(RESULT_SOURCE, f"{header}{note}\n" + "\n".join(body), new_nonce()))

    def _find_symbol(self, raw_input: object) -> ToolResult:
        try:
            request = FindSymbolInput.model_validate(raw_input)
        except ValidationError as exc:
            return _error(f"invalid find_symbol input ({exc.error_count()} error(s)): give a Python identifier")
        symbol = request.name.rsplit(".", 1)[-1]
        pattern = re.compile(rf"^\s*(?:(?:async\s+)?def|class)\s+{symbol}\b|^{symbol}\s*(?::[^=]*)?=")
        matches: list[str] = []
        for path in [p for p in self.access.files.paths() if p.endswith((".py", ".pyi"))][:MAX_FILES_SCANNED]:
            text = self.access.files.read(path) if is_safe_path(path) else None
            if text is None or len(text) > MAX_SCANNED_CHARS or symbol not in text:
                continue
            for number, line in enumerate(text.splitlines(), start=1):
                if pattern.search(line):
                    matches.append(f"{path}:{number}: {redact_secrets(line.strip())[:200]}")
            if len(matches) >= MAX_SYMBOL_MATCHES:
                break
        if not matches:
            return _error(f"no definition of {symbol} found in the repository's Python files")
        header = f"definitions of {symbol}"
        body = _fit(matches[:MAX_SYMBOL_MATCHES], self._budget_chars(header))
        if body is None:
            return _error("the read budget left is too small for this search")
        return ToolResult(untrusted(RESULT_SOURCE, header + "\n" + "\n".join(body), new_nonce()))

    def _budget_chars(self, header: str) -> int:
        """Characters of result body the remaining tokens allow (fence and header counted)."""
        overhead = len(header) + 160
        return max(0, (self.tokens_left() * 7) // 2 - overhead)


def _error(message: str) -> ToolResult:
    return ToolResult(f"error: {message}", is_error=True)


def _fit(lines: list[str], chars: int) -> list[str] | None:
    """The leading lines that fit in ``chars`` characters (None when not even one does)."""
    kept: list[str] = []
    used = 0
    for line in lines:
        used += len(line) + 1
        if used > chars:
            break
        kept.append(line)
    return kept or None


def _redacted_lines(lines: list[str]) -> list[str]:
    """``lines`` with secrets redacted and the line count kept (a multi-line key keeps its lines)."""
    text = "\n".join(lines)
    parts: list[str] = []
    position = 0
    for match in find_secrets(text):
        parts.append(text[position : match.start])
        hidden = text[match.start : match.end]
        parts.append(REDACTION_TEMPLATE.format(kind=match.kind) + "\n" * hidden.count("\n"))
        position = match.end
    parts.append(text[position:])
    redacted = "".join(parts).split("\n")
    return [redact_secrets(line) for line in redacted]
