"""The checkout behind a local review: which directory holds the new revision, and which files match.

``archbot review`` runs the static checks on whole files, so it needs the new revision's text. The
checkout is ``--repo-dir`` when given, else the current directory when its files carry the diff's
added lines (the common ``git diff main... | archbot review --diff -`` inside a checkout). A file whose
text does not carry the diff's added lines at their line numbers (a checkout at another revision) is
not analysed, with that reason, instead of getting findings on the wrong lines.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from app.review.diff import FileDiff, FileStatus

REASON_MISMATCH = "working tree does not match the diff (check out the new revision, or pass --repo-dir)"
REASON_NO_CHECKOUT = "no checkout of the new revision (run inside it, or pass --repo-dir)"
REASON_MISSING = "not in the checkout"


@dataclass
class Checkout:
    """New file texts by path, and why the others have none."""

    root: Path | None
    contents: dict[str, str | None] = field(default_factory=dict)
    problems: dict[str, str] = field(default_factory=dict)


def carries_diff(text: str, f: FileDiff) -> bool:
    """True when every added line of ``f`` stands in ``text`` at its new line number."""
    lines = text.split("\n")
    for hunk in f.hunks:
        for ln in hunk.lines:
            if ln.kind != "+" or ln.new_no is None:
                continue
            if ln.new_no > len(lines) or lines[ln.new_no - 1].removesuffix("\r") != ln.text:
                return False
    return True


def _read_one(root: Path, f: FileDiff) -> tuple[str | None, str | None]:
    """The file's text and ``None``, or ``None`` and why not."""
    target = (root / f.path).resolve()
    if not target.is_relative_to(root) or not target.is_file():
        return None, REASON_MISSING
    text = target.read_text(encoding="utf-8", errors="replace")
    if not carries_diff(text, f):
        return None, REASON_MISMATCH
    return text, None


def read_checkout(files: Sequence[FileDiff], root: Path) -> Checkout:
    """The new texts of ``files`` under ``root``; paths that escape the checkout are refused."""
    resolved = root.resolve()
    checkout = Checkout(root=resolved)
    for f in files:
        if f.status in (FileStatus.REMOVED, FileStatus.BINARY) or not f.added_lines:
            continue
        text, problem = _read_one(resolved, f)
        checkout.contents[f.path] = text
        if problem is not None:
            checkout.problems[f.path] = problem
    return checkout


def find_checkout(files: Sequence[FileDiff], repo_dir: Path | None, cwd: Path) -> Checkout:
    """``repo_dir`` when given; else ``cwd`` when at least one changed file there matches the diff."""
    if repo_dir is not None:
        return read_checkout(files, repo_dir)
    here = read_checkout(files, cwd)
    if any(text is not None for text in here.contents.values()):
        return here
    return Checkout(root=None, problems={path: REASON_NO_CHECKOUT for path in here.contents})
