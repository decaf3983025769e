"""What the context builder returns per chunk, and how the model sees it.

Context format (what the model reads after the diff)::

    ### Context: svc/helpers.py lines 10-24 · function `fetch_secret` · called at svc/app.py:12 · risk: network
       10 | def fetch_secret(name):
          ⋯ 6 lines omitted ⋯
       18 |     return client.access_secret_version(name)

Every code line carries its real line number then `` | ``: there is no side letter and no change
marker, so no context line can be mistaken for a diff line (which carry ``R``/``L`` coordinates) and
none can carry an inline comment. Lines the chunk's diff already shows are replaced by a marker.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

KIND_LABELS: Mapping[str, str] = {
    "enclosing": "enclosing code of the change",
    "class": "enclosing class of the change",
    "callee": "called by the change",
    "setting": "setting or constant the change reads",
    "caller": "caller of a changed function",
    "reader": "reads what the change sets",
    "named": "definition the document names",
    "outline": "outline of a file the document names",
}
OMITTED = "⋯"


@dataclass(frozen=True)
class ContextItem:
    """One excerpt of a head-revision file. ``shown`` holds the line numbers its text includes."""

    kind: str  # a key of KIND_LABELS
    path: str
    start: int
    end: int
    symbol: str
    reason: str
    depth: int = 1
    risks: tuple[str, ...] = ()
    text: str = ""
    tokens: int = 0
    shown: frozenset[int] = frozenset()
    secondary: bool = False  # for a test file's change, or inside a test file: packed after the rest


@dataclass(frozen=True)
class ChunkContext:
    """The context of one chunk: what fitted its budget (in priority order) and what was left out."""

    budget: int
    included: tuple[ContextItem, ...] = ()
    left_out: tuple[ContextItem, ...] = ()
    tokens: int = 0
    lines: Mapping[str, frozenset[int]] = field(default_factory=dict)  # path -> context lines shown

    def render(self) -> str:
        """The context section of the prompt, or "(none)"."""
        if not self.included:
            return "(none)"
        return "\n".join(item.text for item in self.included)


def excerpt(
    lines: list[str],
    start: int,
    end: int,
    *,
    keep: set[int] | None,
    hidden: frozenset[int],
) -> tuple[list[str], frozenset[int]]:
    """Rendered lines ``start..end`` of a file: only ``keep`` (None: all), gaps and ``hidden`` lines
    (shown in the diff) collapsed into one marker line each. Returns the lines and the numbers shown."""
    width = max(4, len(str(end)))
    out: list[str] = []
    shown: set[int] = set()
    gap: list[int] = []
    in_diff: list[int] = []

    def flush() -> None:
        if gap:
            out.append(f"{'':>{width}}   {OMITTED} {len(gap)} line(s) omitted {OMITTED}")
            gap.clear()
        if in_diff:
            out.append(f"{'':>{width}}   {OMITTED} lines {in_diff[0]}-{in_diff[-1]}: in the diff above {OMITTED}")
            in_diff.clear()

    for number in range(start, min(end, len(lines)) + 1):
        if number in hidden:
            if gap:
                flush()
            in_diff.append(number)
            continue
        if keep is not None and number not in keep:
            if in_diff:
                flush()
            gap.append(number)
            continue
        flush()
        code = lines[number - 1].rstrip()
        out.append(f"{number:>{width}} | {code}" if code else f"{number:>{width}} |")
        shown.add(number)
    flush()
    return out, frozenset(shown)
