"""A diff's files read from their headers only; a file's hunks are parsed when it is asked for.

:func:`index_diff` takes the raw diff (bytes as read, or text) and keeps it as the only copy: it finds
the ``diff --git`` sections with ``bytes.find``, decodes and reads just their header lines (paths,
status, binary), and counts each section's lines. :meth:`DiffIndex.file` decodes and parses one
section when the caller decides that file is worth its per-line objects (see
:mod:`app.review.diff_caps`); a file that is never reviewed costs only its :class:`DiffEntry`.
Decoding is UTF-8 with replacement characters, section by section (a ``\\n`` never splits a
character, so this gives the same text as decoding the whole diff at once).

:func:`index_file_rows` does the same for the rows of GitHub's paginated files list, whose patches are
parsed only on request. A diff without ``diff --git`` lines (``diff -u``, hg, svn) is parsed whole
by :func:`~app.review.diff.parse_diff`; such diffs are rare and small. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from app.review.diff import (
    FileDiff,
    FileStatus,
    file_patch_header,
    parse_diff,
    parse_file_patch,
    parse_git_file,
    read_git_file_header,
)

__all__ = ["DiffEntry", "DiffIndex", "index_diff", "index_file_rows"]

_GIT = b"diff --git "
_NL_GIT = b"\n" + _GIT


@dataclass(frozen=True, slots=True)
class DiffEntry:
    """One file of a diff as its headers describe it.

    ``lines`` is the size of the file's part of the diff in lines (its section, headers included, or
    its files-list patch); ``has_hunks`` whether that part holds any ``@@`` hunk.
    """

    path: str
    old_path: str | None
    status: FileStatus
    is_binary: bool
    has_hunks: bool
    lines: int


@dataclass(frozen=True)
class DiffIndex:
    """The files of one diff, in diff order; ``file(i)`` parses file ``i`` (each call parses anew)."""

    entries: tuple[DiffEntry, ...]
    _parse: Callable[[int], FileDiff]

    def file(self, index: int) -> FileDiff:
        """File ``index`` with all its hunks (raises ``DiffParseError`` on a malformed hunk)."""
        return self._parse(index)

    def header_only(self, index: int, skip_note: str | None = None) -> FileDiff:
        """File ``index`` without hunks, optionally carrying why it is not reviewed."""
        e = self.entries[index]
        return FileDiff(e.path, e.old_path, e.status, (), e.is_binary, skip_note=skip_note)


def _section_starts(data: bytes) -> list[int]:
    """Offsets of the lines that start with ``diff --git``."""
    starts = [0] if data.startswith(_GIT) else []
    pos = data.find(_NL_GIT)
    while pos != -1:
        starts.append(pos + 1)
        pos = data.find(_NL_GIT, pos + 1)
    return starts


def _line_end(data: bytes, pos: int, end: int) -> int:
    """Offset just past the line that starts at ``pos`` (at most ``end``)."""
    nl = data.find(b"\n", pos, end)
    return end if nl == -1 else nl + 1


def _first_line_starting(data: bytes, prefixes: tuple[bytes, ...], start: int, end: int) -> int:
    """Offset of the first line in ``start..end`` (after the line at ``start``) that starts with a prefix."""
    found = [data.find(b"\n" + p, start, end) for p in prefixes]
    hits = [pos + 1 for pos in found if pos != -1]
    return min(hits, default=-1)


def _decode(raw: bytes) -> str:
    return raw.decode("utf-8", errors="replace")


def _git_entry(data: bytes, start: int, end: int, first_line: int) -> DiffEntry:
    """Read one section's headers: everything up to its ``+++`` line, or its first ``@@`` line."""
    body = _first_line_starting(data, (b"--- ", b"@@ "), start, end)
    if body == -1:
        head_end, has_hunks = end, False
    elif data.startswith(b"--- ", body):
        plus_end = _line_end(data, _line_end(data, body, end), end)  # the "+++" line (checked when read)
        head_end = plus_end
        has_hunks = data.startswith(b"@@", plus_end) or data.find(b"\n@@", plus_end, end) != -1
    else:
        head_end, has_hunks = body, True  # "@@" before "---": parse_git_file will refuse it
    head = read_git_file_header(_decode(data[start:head_end]), first_line, has_hunks)
    lines = data.count(b"\n", start, end) + (0 if data.endswith(b"\n", start, end) else 1)
    return DiffEntry(head.path, head.old_path, head.status, head.is_binary, has_hunks, lines)


def _plain_index(data: bytes) -> DiffIndex:
    files = parse_diff(_decode(data))
    entries = tuple(
        DiffEntry(
            f.path,
            f.old_path,
            f.status,
            f.is_binary,
            bool(f.hunks),
            sum(1 + len(h.lines) for h in f.hunks) + 2,
        )
        for f in files
    )
    return DiffIndex(entries, files.__getitem__)


def index_diff(diff: bytes | str) -> DiffIndex:
    """Index a unified diff (see the module docstring); ``parse_diff(text)`` file by file, lazily.

    Header errors (a section whose path cannot be told, a ``---`` without ``+++``) are raised here as
    ``DiffParseError``; hunk errors when the file is parsed. Text before the first file is ignored.
    """
    data = diff.encode("utf-8", errors="surrogatepass") if isinstance(diff, str) else diff
    starts = _section_starts(data)
    if not starts:
        return _plain_index(data)
    bounds = [*starts, len(data)]
    first_lines = [data.count(b"\n", 0, starts[0]) + 1]
    entries: list[DiffEntry] = []
    for k, start in enumerate(starts):
        entry = _git_entry(data, start, bounds[k + 1], first_lines[k])
        entries.append(entry)
        first_lines.append(first_lines[k] + entry.lines)

    def parse(index: int) -> FileDiff:
        return parse_git_file(_decode(data[bounds[index] : bounds[index + 1]]), first_lines[index])

    return DiffIndex(tuple(entries), parse)


def index_file_rows(rows: Sequence[Mapping[str, Any]]) -> DiffIndex:
    """Index the rows of ``GET /pulls/{n}/files``; a row's patch is parsed when its file is asked for."""
    fields = [
        (
            str(row.get("filename", "")),
            str(row.get("status", "modified")),
            row.get("patch") if isinstance(row.get("patch"), str) else None,
            row.get("previous_filename") if isinstance(row.get("previous_filename"), str) else None,
        )
        for row in rows
    ]
    entries = []
    for filename, status, patch, previous in fields:
        head = file_patch_header(filename, status, patch, previous)
        lines = patch.count("\n") + 1 if patch else 0
        entries.append(DiffEntry(head.path, head.old_path, head.status, head.is_binary, bool(patch), lines))

    def parse(index: int) -> FileDiff:
        return parse_file_patch(*fields[index])

    return DiffIndex(tuple(entries), parse)
