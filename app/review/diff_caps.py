"""The diff cap: how much of a diff archbot reviews, and which files when a diff is over it.

A review costs time and memory in proportion to what is parsed and analysed, so archbot bounds it
the way GitHub bounds its diff media type: by default at most 20,000 diff lines and 300 files
(``ARCHBOT_MAX_DIFF_LINES``, ``ARCHBOT_MAX_DIFF_FILES``). What counts is the files archbot would
otherwise review: deleted, binary and mode-only files, and files without hunks, never count; a
file's size is the lines of its part of the diff (headers included; for a files-list row, its patch).

Over the cap, the files are taken by :func:`~app.review.budget.risk_rank` (then path), each one whole
while both limits hold; a file that does not fit is skipped and smaller ones after it may still fit.
Files the path rules skip anyway (lock files, vendored, generated, minified) come last and only use
what is left, so a ``!glob`` in ``review.ignore`` can still bring one into the review. The files
beyond the cap are never parsed: each is named as not reviewed with the cap and the variable that
raises it. ``review.ignore`` globs are not known when the cap is applied (the config arrives with the
file contents), so files they ignore count toward the cap like any other. Pure: no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.review.budget import risk_rank
from app.review.diff import FileDiff, path_skip_reason, status_skip_reason
from app.review.diff_index import DiffEntry, DiffIndex

__all__ = [
    "DEFAULT_MAX_FILES",
    "DEFAULT_MAX_LINES",
    "CappedDiff",
    "DiffCaps",
    "apply_caps",
    "choose_files",
]

DEFAULT_MAX_LINES = 20_000
DEFAULT_MAX_FILES = 300
LINES_VARIABLE = "ARCHBOT_MAX_DIFF_LINES"
FILES_VARIABLE = "ARCHBOT_MAX_DIFF_FILES"


@dataclass(frozen=True)
class DiffCaps:
    """At most ``max_lines`` diff lines in at most ``max_files`` files are reviewed."""

    max_lines: int = DEFAULT_MAX_LINES
    max_files: int = DEFAULT_MAX_FILES

    def __post_init__(self) -> None:
        if self.max_lines < 1 or self.max_files < 1:
            raise ValueError("diff caps must be at least 1")

    def files_reason(self) -> str:
        """Why a file beyond the file cap is not reviewed."""
        return (
            f"over the diff cap: at most {self.max_files:,} files are reviewed, the riskiest first "
            f"(set {FILES_VARIABLE} to raise it)"
        )

    def lines_reason(self, lines: int) -> str:
        """Why a file of ``lines`` diff lines that did not fit in the line cap is not reviewed."""
        return (
            f"over the diff cap: at most {self.max_lines:,} diff lines are reviewed, the riskiest files "
            f"first, and this file's {lines:,} did not fit (set {LINES_VARIABLE} to raise it)"
        )


@dataclass(frozen=True)
class CappedDiff:
    """Every file of a diff, in diff order; those beyond the cap have no hunks and a ``skip_note``.

    ``wanted_files``/``wanted_lines``: what the diff asked to review; ``reviewed_files``/
    ``reviewed_lines``: what fits in the cap; ``beyond``: paths left out because of the cap.
    """

    files: list[FileDiff]
    caps: DiffCaps
    wanted_files: int
    wanted_lines: int
    reviewed_files: int
    reviewed_lines: int
    beyond: tuple[str, ...]

    @property
    def over(self) -> bool:
        """True when the cap left files out."""
        return bool(self.beyond)

    def note(self) -> str:
        """One paragraph saying what the cap did, for summaries and warnings ("" when under it)."""
        if not self.over:
            return ""
        return (
            f"This diff has {self.wanted_files:,} files with {self.wanted_lines:,} diff lines to review, over "
            f"archbot's cap of {self.caps.max_files:,} files and {self.caps.max_lines:,} lines: the "
            f"{self.reviewed_files:,} highest-risk files that fit ({self.reviewed_lines:,} lines) were reviewed "
            f"and the other {len(self.beyond):,} are listed as not reviewed. Set {FILES_VARIABLE} and "
            f"{LINES_VARIABLE} to raise the cap."
        )


@dataclass(frozen=True)
class _Choice:
    parse: frozenset[int]
    notes: dict[int, str]
    wanted: tuple[int, int]
    reviewed: tuple[int, int]
    beyond: tuple[int, ...]


def _wanted(entry: DiffEntry) -> bool:
    return entry.has_hunks and status_skip_reason(entry.status, entry.is_binary) is None


def choose_files(entries: tuple[DiffEntry, ...], caps: DiffCaps) -> _Choice:
    """Which files to parse, and the cap's reason for each one left out (see the module docstring)."""
    wanted = [i for i, e in enumerate(entries) if _wanted(e)]
    skipped_by_path = {i for i in wanted if path_skip_reason(entries[i].path) is not None}
    order = sorted(wanted, key=lambda i: (i in skipped_by_path, risk_rank(entries[i].path), entries[i].path))
    parse: set[int] = set()
    notes: dict[int, str] = {}
    files = lines = 0
    for i in order:
        size = entries[i].lines
        if files < caps.max_files and lines + size <= caps.max_lines:
            parse.add(i)
            files += 1
            lines += size
        else:
            notes[i] = caps.files_reason() if files >= caps.max_files else caps.lines_reason(size)
    counted = [i for i in wanted if i not in skipped_by_path]
    taken = [i for i in counted if i in parse]
    return _Choice(
        parse=frozenset(parse),
        notes=notes,
        wanted=(len(counted), sum(entries[i].lines for i in counted)),
        reviewed=(len(taken), sum(entries[i].lines for i in taken)),
        beyond=tuple(i for i in counted if i in notes),
    )


def apply_caps(index: DiffIndex, caps: DiffCaps) -> CappedDiff:
    """Parse the files within the cap; the others keep their headers and a ``skip_note``.

    Files no review would read (deleted, binary, mode-only, without hunks) are not parsed either.
    Under the cap every other file is parsed exactly as :func:`~app.review.diff.parse_diff` does.
    """
    choice = choose_files(index.entries, caps)
    files = [
        index.file(i) if i in choice.parse else index.header_only(i, choice.notes.get(i))
        for i in range(len(index.entries))
    ]
    return CappedDiff(
        files=files,
        caps=caps,
        wanted_files=choice.wanted[0],
        wanted_lines=choice.wanted[1],
        reviewed_files=choice.reviewed[0],
        reviewed_lines=choice.reviewed[1],
        beyond=tuple(index.entries[i].path for i in choice.beyond),
    )
