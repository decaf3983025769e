"""The working tree as :class:`~app.review.repo_files.RepoFiles` for the CLI (``--repo-dir`` or the checkout).

File-system I/O at the edge: callers run reads off the event loop. Confined to the root: unsafe paths
(``..``, absolute, backslashes, NUL) and anything whose resolved location leaves the root (a symlink
pointing out of the checkout) read as ``None``; listings skip symlinks, hidden and vendored folders.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from functools import cached_property
from pathlib import Path

from app.review.repo_files import is_safe_path

MAX_FILE_BYTES = 1_000_000
MAX_LISTED = 20_000
_SKIPPED_DIRS = frozenset({"node_modules", "__pycache__", "venv", "site-packages", "dist", "build"})


class WorkingTreeFiles:
    """Files under ``root`` (the new revision's checkout)."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()

    def read(self, path: str) -> str | None:
        if not is_safe_path(path):
            return None
        target = self.root / path
        try:
            resolved = target.resolve(strict=True)
        except (OSError, RuntimeError):
            return None
        if not resolved.is_relative_to(self.root) or not resolved.is_file():
            return None
        try:
            if resolved.stat().st_size > MAX_FILE_BYTES:
                return None
            data = resolved.read_bytes()
        except OSError:
            return None
        if b"\0" in data:
            return None
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            return None

    def paths(self) -> Sequence[str]:
        return self._listing

    @cached_property
    def _listing(self) -> list[str]:
        found: list[str] = []
        for directory, dirs, files in os.walk(self.root, followlinks=False):
            dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in _SKIPPED_DIRS)
            base = Path(directory)
            for name in sorted(files):
                full = base / name
                if full.is_symlink():
                    continue
                found.append(full.relative_to(self.root).as_posix())
                if len(found) >= MAX_LISTED:
                    return found
        return found
