"""Token budget: estimate, order files by risk, pack hunks into chunks, and name what did not fit.

Nothing here calls a tokenizer or the network: the estimate is a character count (see
:func:`estimate_tokens`). The plan never cuts a hunk; a file is kept whole in one chunk when it fits and
is otherwise split between hunks. Whatever is left out is named in ``ReviewPlan.not_reviewed`` with a
reason, down to the number of hunks of a partly reviewed file. Invariant (property-tested): every hunk
of every input file is either in exactly one chunk or counted in ``not_reviewed``, and no chunk's
``tokens`` exceeds ``chunk_budget``.

Chunk format (what the model sees; :meth:`Chunk.render`)
--------------------------------------------------------
Files are separated by one blank line. Each file starts with a header line::

    ### File: app/auth.py (renamed from app/login.py) (part 2)

with ``(renamed from X)``, ``(new file)``, ``(copied from X)`` or ``(deleted)`` after the path as they
apply, and ``(part K)`` when the file's hunks are spread over several chunks (or some were left out).
Each hunk follows as its git header line (``@@ -10,7 +10,8 @@ def login(user):``) and then one line per
diff line, prefixed with the coordinates a review comment on it must use::

    R  12 + added code          added line:     side RIGHT, line 12 (new file numbering)
    R  13   unchanged code      context line:   side RIGHT, line 13 (new file numbering)
    L   9 - removed code        removed line:   side LEFT,  line 9  (old file numbering)

i.e. side letter, a space, the line number right-aligned in at least three columns, a space, the diff
marker (``+``, ``-`` or a space), a space, then the code exactly as in the file. Only the lines shown
may carry inline comments; a multi-line comment must stay within one hunk. Code lines never start a
line of the rendered text, so a line of code cannot pass itself off as a file or hunk header.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from app.review.diff import FileDiff, FileStatus, Hunk
from app.review.models import NotReviewed

if TYPE_CHECKING:
    from app.review.context.model import ChunkContext

__all__ = [
    "CHARS_PER_TOKEN",
    "Chunk",
    "ChunkFile",
    "ReviewPlan",
    "estimate_tokens",
    "plan_review",
    "render_file_header",
    "render_hunk",
    "risk_rank",
]

CHARS_PER_TOKEN = 3.5

REASON_BUDGET = "review token budget reached"
REASON_HUNK_TOO_LARGE = "hunk too large for one model call"
REASON_NO_HUNKS = "no changes to review"


def _tokens_for_chars(chars: int) -> int:
    """``ceil(chars / 3.5)`` in integer arithmetic."""
    return (2 * chars + 6) // 7


def _chars_for_tokens(tokens: int) -> int:
    """The most characters whose estimate stays within ``tokens``."""
    return max(0, (7 * tokens) // 2)


def estimate_tokens(text: str) -> int:
    """Tokens ``text`` will cost, estimated as ``ceil(len(text) / 3.5)`` without any tokenizer.

    Why a character count: Claude's tokenizer is not available offline, and planning needs a cheap,
    deterministic number (the packing invariant is stated in it). Why 3.5: it is the commonly quoted
    figure for Claude on English text, and code sits close to it (long identifiers and keywords cost
    fewer tokens per character, indentation runs and punctuation more). It is an estimate, not a
    bound: dense symbols or non-Latin text can cost more. The budgets leave wide headroom (a 12,000-
    token chunk in a 200,000-token context), and what archbot accounts is the usage the API reports.
    """
    return _tokens_for_chars(len(text))


# ------------------------------------------------------------------------------------------- risk rank

RANK_SENSITIVE_PY = 0
RANK_SENSITIVE_OTHER = 1
RANK_PYTHON = 2
RANK_OTHER_CODE = 3
RANK_TESTS = 4
RANK_TEXT = 5

_SENSITIVE_WORD = re.compile(
    r"o?auth(?!ors?$)\w*|secur\w*|\w*crypt\w*|secrets?|tokens?|sessions?|permissions?|perms?|acls?"
    r"|rbac|webhooks?|payments?|billing|admin\w*|middlewares?|apis?|routes?|router|routers|routing|urls"
    r"|handlers?|settings?|configs?|configuration|conf|login|logout|signin|signup|passwords?|passwd"
    r"|jwt|csrf|cors|sso|saml|oidc|credentials?|signing|signatures?|sanitiz\w*|upload\w*"
)
_WORD_SPLIT = re.compile(r"[/._\-\s]+")
_PY_SUFFIXES = (".py", ".pyi", ".pyx")
_CODE_SUFFIXES = frozenset(
    {
        ".js", ".mjs", ".cjs", ".jsx", ".ts", ".tsx", ".go", ".rs", ".java", ".kt", ".kts", ".scala",
        ".rb", ".php", ".c", ".h", ".cc", ".cpp", ".hpp", ".cs", ".swift", ".m", ".sh", ".bash", ".zsh",
        ".ps1", ".sql", ".lua", ".pl", ".r", ".jl", ".proto", ".graphql", ".tf", ".hcl", ".vue",
        ".svelte", ".dart", ".ex", ".exs", ".erl", ".clj", ".groovy", ".nix",
    }
)  # fmt: skip
_CODE_NAMES = frozenset({"dockerfile", "containerfile", "makefile", "justfile", "procfile", "jenkinsfile"})
_TEST_DIRS = frozenset({"test", "tests", "testing", "__tests__", "spec", "specs", "e2e"})
_DOC_DIRS = frozenset({"doc", "docs", "documentation"})
_TEXT_SUFFIXES = frozenset({".md", ".rst", ".txt", ".adoc", ".html", ".htm", ".csv", ".svg"})


def _is_test(parts: list[str], base: str) -> bool:
    if any(part in _TEST_DIRS for part in parts[:-1]):
        return True
    return (
        base.startswith("test_")
        or base == "conftest.py"
        or "_test." in base
        or ".test." in base
        or ".spec." in base
        or base.endswith("_tests.py")
    )


def risk_rank(path: str) -> int:
    """Review priority of a file; lower is reviewed first.

    0 security-sensitive Python, 1 other security-sensitive code or config (and CI workflows),
    2 Python, 3 other code, 4 tests, 5 docs, plain config and other text. Security-sensitive means a
    path word such as auth, security, crypto, secret, token, session, permission, webhook, payment,
    admin, middleware, api, routes, handlers, settings or config. Tests and docs stay tests and docs
    whatever their names say.
    """
    lower = path.lower()
    parts = lower.split("/")
    base = parts[-1]
    suffix = base[base.rfind(".") :] if "." in base else ""
    if _is_test(parts, base):
        return RANK_TESTS
    if suffix in _TEXT_SUFFIXES or any(part in _DOC_DIRS for part in parts[:-1]):
        return RANK_TEXT
    is_py = base.endswith(_PY_SUFFIXES)
    is_code = is_py or suffix in _CODE_SUFFIXES or base in _CODE_NAMES or base.startswith("dockerfile")
    if lower.startswith(".github/workflows/") or lower in {"action.yml", "action.yaml"}:
        return RANK_SENSITIVE_OTHER
    sensitive = any(_SENSITIVE_WORD.fullmatch(word) for word in _WORD_SPLIT.split(lower) if word)
    if sensitive:
        return RANK_SENSITIVE_PY if is_py else RANK_SENSITIVE_OTHER
    if is_py:
        return RANK_PYTHON
    if is_code:
        return RANK_OTHER_CODE
    return RANK_TEXT


# ---------------------------------------------------------------------------------------------- render


def _display_path(path: str) -> str:
    """A path safe to put on one line: control characters (a newline in a file name) escaped."""
    return path if path.isprintable() else repr(path)[1:-1]


def render_file_header(path: str, old_path: str | None, status: FileStatus, part: int | None) -> str:
    """The ``### File: ...`` line of one file in a chunk, without its newline."""
    out = f"### File: {_display_path(path)}"
    if status is FileStatus.RENAMED and old_path:
        out += f" (renamed from {_display_path(old_path)})"
    elif status is FileStatus.ADDED:
        out += f" (copied from {_display_path(old_path)})" if old_path else " (new file)"
    elif status is FileStatus.REMOVED:
        out += " (deleted)"
    if part is not None:
        out += f" (part {part})"
    return out


def render_hunk(hunk: Hunk) -> str:
    """A hunk in the chunk format: its header line, then one coordinate-prefixed line per diff line.

    Every line, the last included, ends with a newline.
    """
    top = max(hunk.old_start + hunk.old_len - 1, hunk.new_start + hunk.new_len - 1)
    width = max(3, len(str(top)))
    out = [hunk.header().replace("\n", " ")]
    for ln in hunk.lines:
        if ln.kind == "-":
            out.append(f"L {ln.old_no:>{width}} - {ln.text}")
        else:
            out.append(f"R {ln.new_no:>{width}} {ln.kind} {ln.text}")
    out.append("")
    return "\n".join(out)


@dataclass(frozen=True)
class ChunkFile:
    """The hunks of one file that go into one chunk; ``part`` is 1-based when the file is split."""

    path: str
    old_path: str | None
    status: FileStatus
    hunks: tuple[Hunk, ...]
    part: int | None = None

    def header(self) -> str:
        """This file's ``### File:`` line (no newline)."""
        return render_file_header(self.path, self.old_path, self.status, self.part)

    def render(self) -> str:
        """Header line and hunks, ending with a newline."""
        return self.header() + "\n" + "".join(render_hunk(h) for h in self.hunks)


@dataclass(frozen=True)
class Chunk:
    """One model call's worth of diff. ``index`` is its position in ``ReviewPlan.chunks`` (from 0);
    ``tokens`` is ``estimate_tokens(self.render())`` (the diff only). ``context`` is the repository
    context the review adds to it (app/review/context/), None before it is built."""

    index: int
    files: tuple[ChunkFile, ...]
    tokens: int
    context: ChunkContext | None = None

    @property
    def context_tokens(self) -> int:
        return self.context.tokens if self.context is not None else 0

    def render(self) -> str:
        """The text the model sees; the format is described in this module's docstring."""
        return "\n".join(f.render() for f in self.files)


@dataclass(frozen=True)
class ReviewPlan:
    """Chunks to send, in risk order, and everything named as not reviewed (filters included)."""

    chunks: tuple[Chunk, ...]
    not_reviewed: tuple[NotReviewed, ...]
    total_tokens: int
    files_in_chunks: int


# ------------------------------------------------------------------------------------------------ plan


@dataclass
class _OpenFile:
    """A file being added to the chunk under construction."""

    file: FileDiff
    part: int | None
    hunks: list[Hunk]

    def freeze(self) -> ChunkFile:
        f = self.file
        return ChunkFile(path=f.path, old_path=f.old_path, status=f.status, hunks=tuple(self.hunks), part=self.part)


class _Packer:
    """Greedy, order-keeping packing of hunks into chunks under both budgets (see ``plan_review``)."""

    def __init__(self, chunk_budget: int, review_budget: int) -> None:
        self.max_chars = _chars_for_tokens(chunk_budget)
        self.review_budget = review_budget
        self.chunks: list[Chunk] = []
        self.committed_tokens = 0
        self.open_files: list[_OpenFile] = []
        self.open_chars = 0
        self.stopped = False

    def _fits_review(self, chunk_chars: int) -> bool:
        return self.committed_tokens + _tokens_for_chars(chunk_chars) <= self.review_budget

    def close(self) -> None:
        """Seal the chunk under construction (if any)."""
        if not self.open_files:
            return
        tokens = _tokens_for_chars(self.open_chars)
        files = tuple(f.freeze() for f in self.open_files)
        self.chunks.append(Chunk(index=len(self.chunks), files=files, tokens=tokens))
        self.committed_tokens += tokens
        self.open_files = []
        self.open_chars = 0

    def place(self, entry: _OpenFile, chars: int) -> bool:
        """Put a new file entry of ``chars`` characters into the open chunk, or else into a fresh one.

        The caller checked that ``chars`` fits an empty chunk. False (and ``stopped``) when the review
        budget has no room for it.
        """
        separated = self.open_chars + 1 + chars
        if self.open_files and separated <= self.max_chars:
            if not self._fits_review(separated):
                self.stopped = True
                return False
            self.open_files.append(entry)
            self.open_chars = separated
            return True
        open_tokens = _tokens_for_chars(self.open_chars) if self.open_files else 0
        if self.committed_tokens + open_tokens + _tokens_for_chars(chars) > self.review_budget:
            self.stopped = True
            return False
        self.close()
        self.open_files.append(entry)
        self.open_chars = chars
        return True

    def extend(self, entry: _OpenFile, hunk: Hunk, chars: int) -> bool | None:
        """Add a hunk to ``entry`` if it is the last file of the open chunk and there is room.

        True: added. None: no room in this chunk. False: the review budget is exhausted (``stopped``).
        """
        if not self.open_files or self.open_files[-1] is not entry:
            return None
        if self.open_chars + chars > self.max_chars:
            return None
        if not self._fits_review(self.open_chars + chars):
            self.stopped = True
            return False
        entry.hunks.append(hunk)
        self.open_chars += chars
        return True


def _header_chars(file: FileDiff, part: int | None) -> int:
    return len(render_file_header(file.path, file.old_path, file.status, part)) + 1


def _named(path: str, counts: dict[str, int], total: int, any_chunked: bool) -> list[NotReviewed]:
    """NotReviewed entries for one file: the whole file (hunks=None) or per reason with a hunk count."""
    reasons = [(reason, n) for reason, n in counts.items() if n]
    if not any_chunked and len(reasons) == 1 and reasons[0][1] == total:
        return [NotReviewed(path=path, reason=reasons[0][0])]
    return [NotReviewed(path=path, reason=reason, hunks=n) for reason, n in reasons]


def _pack_split(packer: _Packer, file: FileDiff, sizes: list[int]) -> tuple[int, dict[str, int]]:
    """Spread a file too large for one chunk over several, hunk by hunk, in order.

    Returns the number of hunks placed and, per reason, the number left out.
    """
    misses = {REASON_HUNK_TOO_LARGE: 0, REASON_BUDGET: 0}
    entry: _OpenFile | None = None  # this file's part in the open chunk, if any
    parts = 0
    placed = 0
    for hunk, chars in zip(file.hunks, sizes, strict=True):
        if packer.stopped:
            misses[REASON_BUDGET] += 1
            continue
        if entry is not None:
            added = packer.extend(entry, hunk, chars)
            if added is not None:
                placed += int(added)
                misses[REASON_BUDGET] += int(not added)
                continue
        needed = _header_chars(file, parts + 1) + chars
        if needed > packer.max_chars:
            misses[REASON_HUNK_TOO_LARGE] += 1
            continue
        candidate = _OpenFile(file=file, part=parts + 1, hunks=[hunk])
        if packer.place(candidate, needed):
            parts += 1
            entry = candidate
            placed += 1
        else:
            misses[REASON_BUDGET] += 1
    return placed, misses


def plan_review(
    files: Sequence[FileDiff],
    skipped: Sequence[NotReviewed] = (),
    *,
    chunk_budget: int = 12_000,
    review_budget: int = 120_000,
    max_files: int | None = None,
) -> ReviewPlan:
    """Order ``files`` by :func:`risk_rank` (then path) and pack their hunks into chunks.

    A file that fits one chunk stays whole, in the open chunk if there is room, else in a new one.
    A larger file is split between hunks (``part`` 1, 2, ...), filling the open chunk first. A hunk that
    alone exceeds ``chunk_budget`` is named ("hunk too large for one model call"), never cut. When the
    next piece would push the sum of chunk tokens over ``review_budget``, packing stops and everything
    left is named ("review token budget reached"); after ``max_files`` files have gone into chunks the
    rest is named ("max_files limit (N) reached"). ``skipped`` (from ``filter_files``) comes first in
    ``not_reviewed``. A partly reviewed file is named with the number of hunks left out.
    """
    ordered = sorted(files, key=lambda f: (risk_rank(f.path), f.path))
    packer = _Packer(chunk_budget, review_budget)
    named: list[NotReviewed] = list(skipped)
    reviewed_files = 0
    for file in ordered:
        total = len(file.hunks)
        if total == 0:
            named.append(NotReviewed(path=file.path, reason=REASON_NO_HUNKS))
            continue
        if packer.stopped:
            named.append(NotReviewed(path=file.path, reason=REASON_BUDGET))
            continue
        if max_files is not None and reviewed_files >= max_files:
            named.append(NotReviewed(path=file.path, reason=f"max_files limit ({max_files}) reached"))
            continue
        sizes = [len(render_hunk(h)) for h in file.hunks]
        whole = _header_chars(file, None) + sum(sizes)
        if whole <= packer.max_chars:
            if packer.place(_OpenFile(file=file, part=None, hunks=list(file.hunks)), whole):
                reviewed_files += 1
            else:
                named.append(NotReviewed(path=file.path, reason=REASON_BUDGET))
            continue
        placed, misses = _pack_split(packer, file, sizes)
        if placed:
            reviewed_files += 1
        named.extend(_named(file.path, misses, total, placed > 0))
    packer.close()
    chunks = tuple(packer.chunks)
    return ReviewPlan(
        chunks=chunks,
        not_reviewed=tuple(named),
        total_tokens=sum(c.tokens for c in chunks),
        files_in_chunks=reviewed_files,
    )
