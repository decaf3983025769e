"""Read-only access to the head revision's files beyond the diff: what review context is built from.

The review core never does I/O itself: the caller hands it a :class:`RepoFiles`. The CLI and the
Action read the working tree (confined to the checkout root, symlinks out of it refused); App mode
hands the blobs its one GraphQL read fetched, as a :class:`MappedRepoFiles`. Paths are repository
relative, ``/``-separated, never absolute and never with ``..``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol


class RepoFiles(Protocol):
    """The files of the head revision that a reviewer may look at besides the changed ones."""

    def read(self, path: str) -> str | None:
        """The text of ``path`` at the head revision, or None (absent, binary, too large, refused)."""
        ...

    def paths(self) -> Sequence[str]:
        """Every path this source can read (for resolving imports and finding symbols)."""
        ...


def is_safe_path(path: str) -> bool:
    """A repository-relative path without ``..``, absolute roots, backslashes or NUL bytes."""
    if not path or "\x00" in path or "\\" in path or path.startswith("/"):
        return False
    return all(part not in ("", ".", "..") for part in path.split("/"))


@dataclass(frozen=True)
class MappedRepoFiles:
    """Files held in memory (App mode's fetched blobs, tests)."""

    texts: Mapping[str, str] = field(default_factory=dict)

    def read(self, path: str) -> str | None:
        return self.texts.get(path) if is_safe_path(path) else None

    def paths(self) -> Sequence[str]:
        return sorted(self.texts)


NO_REPO_FILES = MappedRepoFiles()
"""No files beyond the diff (the default: context then comes only from the changed files' texts)."""
