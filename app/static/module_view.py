"""What a module check sees: the parsed module, its path, its source lines and the changed lines.

Every own check is a function ``(view: ModuleView) -> list[RawFinding]`` listed in
``app.static.engine.MODULE_CHECKS``; the engine keeps a finding only when its statement (or one of
its ``extra_lines``) touches a changed line. ``changed_lines`` is given so that a check can report
an unchanged sink whose data flow passes through a changed line (and name that line).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass


@dataclass(frozen=True)
class ModuleView:
    """One parsed changed Python file."""

    tree: ast.Module
    path: str
    lines: list[str]  # the source split on "\n" (1-based line n is lines[n - 1])
    changed_lines: frozenset[int]
