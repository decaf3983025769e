"""The CLI's diff input: read at most ``ARCHBOT_MAX_DIFF_BYTES``, index it, apply the diff cap.

The byte cap refuses a diff instead of reading part of it: which files are the riskiest is known only
once every file header has been seen, so a diff cut at a byte limit could drop the files that most
need a review, and a cut inside a hunk would be reported as a broken diff. 64 MiB is three times the
largest diff measured in ``bench/large_diff_memory.py`` and far above what GitHub's diff media type
serves; the bytes are kept as the only copy of the text (:mod:`app.review.diff_index`).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TextIO

from app.review.diff import DiffParseError, FileDiff
from app.review.diff_caps import CappedDiff, DiffCaps, apply_caps
from app.review.diff_index import index_diff
from app.settings import Settings

__all__ = ["DiffTooLargeError", "diff_caps", "load_capped_diff", "load_diff_files", "read_diff_bytes"]

LOG = logging.getLogger("archbot.diff")
_MIB = 1024 * 1024


class DiffTooLargeError(DiffParseError):
    """The diff is larger than archbot reads; the message says the limit and how to raise it."""


def diff_caps(settings: Settings) -> DiffCaps:
    """The diff cap the settings ask for."""
    return DiffCaps(max_lines=settings.archbot_max_diff_lines, max_files=settings.archbot_max_diff_files)


def _too_large(what: str, max_bytes: int) -> DiffTooLargeError:
    return DiffTooLargeError(
        f"{what} is more than archbot reads ({max_bytes / _MIB:,.1f} MiB); review a smaller range "
        f"or set ARCHBOT_MAX_DIFF_BYTES to raise the limit"
    )


def read_diff_bytes(source: str, stdin: TextIO, max_bytes: int) -> bytes:
    """The bytes of the diff file, or of stdin for ``-``; more than ``max_bytes`` raises
    :class:`DiffTooLargeError` after reading at most ``max_bytes + 1`` bytes."""
    if source == "-":
        buffer = getattr(stdin, "buffer", None)
        if buffer is not None:
            data = bytes(buffer.read(max_bytes + 1))
        else:  # a text stream without bytes underneath (tests): characters are at least one byte
            data = stdin.read(max_bytes + 1).encode("utf-8", errors="surrogatepass")
        if len(data) > max_bytes:
            raise _too_large("the diff on stdin", max_bytes)
        return data
    path = Path(source)
    with path.open("rb") as handle:
        data = handle.read(max_bytes + 1)
        if len(data) > max_bytes:
            size = path.stat().st_size / _MIB
            raise _too_large(f"{source} ({size:,.1f} MiB)", max_bytes)
    return data


def load_capped_diff(source: str, stdin: TextIO, settings: Settings) -> CappedDiff:
    """Read, index and cap the diff for ``archbot review``; over the cap, a warning on stderr."""
    data = read_diff_bytes(source, stdin, settings.archbot_max_diff_bytes)
    capped = apply_caps(index_diff(data), diff_caps(settings))
    if capped.over:
        LOG.warning("archbot: %s", capped.note())
    return capped


def load_diff_files(source: str, stdin: TextIO, settings: Settings) -> list[FileDiff]:
    """:func:`load_capped_diff`'s files: every file of the diff, those beyond the cap without hunks."""
    return load_capped_diff(source, stdin, settings).files
