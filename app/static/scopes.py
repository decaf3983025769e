"""Where a finding sits, for its identity: the enclosing scope of a line and the occurrence of its code.

A scope is the qualified name Python itself gives a definition (``__qualname__``): ``Service.handle``,
``Service.handle.<locals>.inner``, or ``<module>`` at top level. Decorators and the lines above a ``def``
belong to the enclosing scope (they run there). The index is built once per file from one walk over the
definitions; looking a line up is a list access.

The occurrence of a piece of code is how many times the same code (whitespace removed) appears before it
among the lines of the same scope (nested definitions excluded). It depends on the source only, never on
which lines a diff changed or which other findings exist, so it stays the same from one push to the next.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field

MODULE_SCOPE = "<module>"
_WS = re.compile(r"\s+")
_Def = ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef


def _children(node: ast.AST, qualname: str) -> list[tuple[_Def, str]]:
    """Definitions directly inside ``node`` (at any statement depth, not inside another definition)."""
    found: list[tuple[_Def, str]] = []
    stack: list[ast.AST] = [child for child in ast.iter_child_nodes(node) if isinstance(child, ast.stmt)]
    while stack:
        child = stack.pop()
        if isinstance(child, _Def):
            if qualname == MODULE_SCOPE:
                name = child.name
            elif isinstance(node, ast.ClassDef):
                name = f"{qualname}.{child.name}"
            else:
                name = f"{qualname}.<locals>.{child.name}"
            found.append((child, name))
        elif isinstance(child, ast.stmt | ast.excepthandler | ast.match_case):  # defs are statements only
            stack.extend(ast.iter_child_nodes(child))
    return found


@dataclass
class ScopeIndex:
    """Line -> scope of one file; ``tree`` None (a file that does not parse) puts every line in ``<module>``."""

    tree: ast.Module | None
    lines: list[str]
    _owner: list[int] = field(default_factory=list)  # line (1-based, index 0 unused) -> index into _names
    _names: list[str] = field(default_factory=list)
    _starts: list[int] = field(default_factory=list)  # scope -> its first line

    def _build(self) -> None:
        self._names, self._starts = [MODULE_SCOPE], [1]
        self._owner = [0] * (len(self.lines) + 2)
        if self.tree is None:
            return
        pending: list[tuple[ast.AST, str]] = [(self.tree, MODULE_SCOPE)]
        while pending:  # outer definitions first, so an inner one overwrites its lines afterwards
            node, qualname = pending.pop(0)
            for child, name in _children(node, qualname):
                index = len(self._names)
                self._names.append(name)
                self._starts.append(child.lineno)
                last = min(child.end_lineno or child.lineno, len(self._owner) - 1)
                for line in range(child.lineno, last + 1):
                    self._owner[line] = index
                pending.append((child, name))

    def _scope_index(self, line: int) -> int:
        if not self._names:
            self._build()
        return self._owner[line] if 0 < line < len(self._owner) else 0

    def scope(self, line: int) -> str:
        """The qualified name of the innermost definition holding ``line``, or ``<module>``."""
        index = self._scope_index(line)
        return self._names[index]

    def occurrence(self, span: tuple[int, int]) -> int:
        """How many times the code of ``span`` (whitespace removed) appears in its scope before ``span``."""
        index = self._scope_index(span[0])
        needle = _WS.sub("", "".join(self.lines[span[0] - 1 : span[1]]))
        if not needle:
            return 0
        lines = range(self._starts[index], span[0])
        before = "".join(_WS.sub("", self.lines[n - 1]) for n in lines if self._scope_index(n) == index)
        return before.count(needle)

    def place(self, span: tuple[int, int]) -> tuple[str, int]:
        """(scope, occurrence) of the code at ``span``."""
        return self.scope(span[0]), self.occurrence(span)
