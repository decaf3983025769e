"""One Python module as the context builder sees it: definitions, imports, constants, references.

Pure: parses text with :mod:`ast`, never imports or runs it. Line numbers are the file's own
(1-based, inclusive); a definition's span starts at its first decorator.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from typing import TypeGuard

MAX_SOURCE_CHARS = 1_000_000
_FILLERS = frozenset({"append", "extend", "update", "add", "insert", "setdefault"})  # calls that fill a name
_CHAIN_RE = re.compile(r"\b[A-Za-z_]\w*(?:\s*\.\s*[A-Za-z_]\w*)*(\s*\()?")


@dataclass(frozen=True)
class Definition:
    """A function, method or class."""

    name: str
    qualname: str  # ``Class.method`` for a method, ``func`` for a top-level function
    kind: str  # "function", "method" or "class"
    start: int  # first decorator or the def line
    def_line: int
    end: int
    parent: str | None = None  # the class qualname of a method
    bases: tuple[str, ...] = ()  # a class's base names as written (last dotted part)


@dataclass(frozen=True)
class Binding:
    """What an imported local name refers to: a module, or ``name`` taken from a module."""

    module: str  # dotted; for a relative import, relative to ``base_dir``
    name: str | None = None
    base_dir: str | None = None  # the package directory a relative import resolves against


@dataclass(frozen=True)
class Reference:
    """A dotted name a line uses: ``("self", "client", "sign")``; ``call`` when it is called."""

    chain: tuple[str, ...]
    line: int
    call: bool


@dataclass
class ModuleIndex:
    """The parsed facts of one module."""

    path: str
    lines: list[str]
    tree: ast.Module | None
    defs: list[Definition] = field(default_factory=list)
    imports: dict[str, Binding] = field(default_factory=dict)
    constants: dict[str, tuple[int, int]] = field(default_factory=dict)  # module-level name -> span
    instances: dict[str, str] = field(default_factory=dict)  # module-level ``x = Cls(...)`` -> "Cls"
    fields: dict[str, dict[str, tuple[int, int]]] = field(default_factory=dict)  # class -> attr -> span
    # function qualname -> local name -> class name: annotated parameters and ``x = Cls(...)``
    local_types: dict[str, dict[str, str]] = field(default_factory=dict)
    _calls: dict[str, list[Reference]] | None = field(default=None, repr=False)
    _reads: dict[str, list[int]] | None = field(default=None, repr=False)
    _annotations: set[int] | None = field(default=None, repr=False)

    def definition(self, qualname: str) -> Definition | None:
        return next((d for d in self.defs if d.qualname == qualname), None)

    def enclosing(self, line: int, *, kinds: Collection[str] = ("function", "method", "class")) -> Definition | None:
        """The innermost definition of one of ``kinds`` whose span holds ``line``."""
        found = [d for d in self.defs if d.kind in kinds and d.start <= line <= d.end]
        return min(found, key=lambda d: d.end - d.start) if found else None

    def calls(self, name: str) -> list[Reference]:
        """Every call in the module whose called name ends in ``name`` (computed once per module)."""
        if self._calls is None:
            self._calls = {}
            for node in ast.walk(self.tree) if self.tree is not None else ():
                if isinstance(node, ast.Call) and (chain := dotted(node.func)):
                    self._calls.setdefault(chain[-1], []).append(Reference(chain, node.lineno, True))
        return self._calls.get(name, [])

    def _annotation_nodes(self) -> set[int]:
        """Ids of the nodes inside type annotations (a type named there is not what the code calls)."""
        if self._annotations is None:
            found: list[ast.expr] = []
            for node in ast.walk(self.tree) if self.tree is not None else ():
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    a = node.args
                    every = [*a.posonlyargs, *a.args, *a.kwonlyargs, *filter(None, [a.vararg, a.kwarg])]
                    found += [arg.annotation for arg in every if arg.annotation is not None]
                    found += [node.returns] if node.returns is not None else []
                elif isinstance(node, ast.AnnAssign):
                    found.append(node.annotation)
            self._annotations = {id(inner) for ann in found for inner in ast.walk(ann)}
        return self._annotations

    def attribute_reads(self, name: str) -> list[int]:
        """Lines that read ``<anything>.name`` (computed once per module)."""
        if self._reads is None:
            self._reads = {}
            for node in ast.walk(self.tree) if self.tree is not None else ():
                if isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Load):
                    self._reads.setdefault(node.attr, []).append(node.lineno)
        return self._reads.get(name, [])

    def assigned(self, lines: Collection[int]) -> set[str]:
        """Attribute and module names that statements on ``lines`` set (``self.x = ...``, ``X: int = 1``)."""
        out: set[str] = set()
        for node in ast.walk(self.tree) if self.tree is not None and lines else ():
            if isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)) and node.lineno in lines:
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for target in targets:
                    if isinstance(target, ast.Attribute):
                        out.add(target.attr)
                    elif isinstance(target, ast.Name):
                        out.add(target.id)
        return out

    def binding_lines(self, scope: Definition, names: Collection[str]) -> set[int]:
        """Lines inside ``scope`` that bind one of ``names`` (assignment, ``with ... as``, ``for``) or fill
        it (``names.append(...)``, ``.extend``, ``.update``)."""
        out: set[int] = set()
        if self.tree is None or not names:
            return out
        for node in ast.walk(self.tree):
            if not scope.start <= getattr(node, "lineno", 0) <= scope.end:
                continue
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store) and node.id in names:
                out.add(node.lineno)
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in _FILLERS:
                target = node.func.value
                if isinstance(target, ast.Name) and target.id in names:
                    out.add(node.lineno)
        return out

    def names_read(self, lines: Collection[int]) -> set[str]:
        """Plain names loaded on ``lines``."""
        return {
            node.id
            for node in (ast.walk(self.tree) if self.tree is not None and lines else ())
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) and node.lineno in lines
        }

    def references(self, lines: Collection[int]) -> list[Reference]:
        """Calls, attribute reads, UPPER_CASE and CamelCase names on ``lines`` (a node spanning a line counts)."""
        if self.tree is None or not lines:
            return []
        low, high = min(lines), max(lines)
        out: list[Reference] = []
        annotations = self._annotation_nodes()
        for node in ast.walk(self.tree):
            if not isinstance(node, (ast.Call, ast.Attribute, ast.Name)) or id(node) in annotations:
                continue
            first = getattr(node, "lineno", 0)
            last = getattr(node, "end_lineno", first) or first
            if last < low or first > high or not any(n in lines for n in range(first, last + 1)):
                continue
            if isinstance(node, ast.Call):
                chain = dotted(node.func)
                if chain:
                    out.append(Reference(chain, first, True))
            elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Load):
                chain = dotted(node)
                if chain and len(chain) >= 2:
                    out.append(Reference(chain, first, False))
                elif isinstance(node.value, ast.Call) and dotted(node.value.func) == ("super",):
                    out.append(Reference(("super", node.attr), first, False))
            elif _bare_upper(node):  # a constant, or a class used bare (raise X)
                out.append(Reference((node.id,), first, False))
        return out


def _bare_upper(node: ast.AST) -> TypeGuard[ast.Name]:
    """A loaded name starting with a capital (``TIMEOUT``, ``RequestEntityTooLarge``)."""
    return isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) and len(node.id) > 1 and node.id[0].isupper()


def dotted(node: ast.expr) -> tuple[str, ...]:
    """``a.b.c`` as ``("a", "b", "c")``; () for anything that is not a plain name chain."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return ()
    parts.append(node.id)
    return tuple(reversed(parts))


def text_references(text: str, line: int) -> list[Reference]:
    """References in a line that is not parsed (a removed line): dotted names, calls, UPPER names."""
    out = []
    for match in _CHAIN_RE.finditer(text):
        raw = match.group(0)
        call = raw.rstrip().endswith("(")
        chain = tuple(p.strip() for p in raw.rstrip("( \t").split("."))
        if len(chain) >= 2 or call or (chain[0].isupper() and len(chain[0]) > 1):
            out.append(Reference(chain, line, call))
    return out


def _package_dir(path: str) -> str:
    return path.rsplit("/", 1)[0] if "/" in path else ""


def _relative_base(path: str, level: int) -> str | None:
    parts = [p for p in _package_dir(path).split("/") if p]
    if level - 1 > len(parts):
        return None
    return "/".join(parts[: len(parts) - (level - 1)])


def _span(node: ast.stmt) -> tuple[int, int]:
    decorators = getattr(node, "decorator_list", [])
    start = min([node.lineno, *(d.lineno for d in decorators)])
    return start, node.end_lineno or node.lineno


def _targets(node: ast.stmt) -> Iterator[str]:
    if isinstance(node, ast.Assign):
        for target in node.targets:
            if isinstance(target, ast.Name):
                yield target.id
    elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
        yield node.target.id


def _add_imports(index: ModuleIndex, node: ast.Import | ast.ImportFrom) -> None:
    if isinstance(node, ast.Import):
        for alias in node.names:
            if alias.asname:
                index.imports[alias.asname] = Binding(alias.name)
            else:
                top = alias.name.split(".", 1)[0]
                index.imports.setdefault(top, Binding(top))
        return
    base = _relative_base(index.path, node.level) if node.level else None
    if node.level and base is None:
        return
    for alias in node.names:
        if alias.name != "*":
            index.imports[alias.asname or alias.name] = Binding(node.module or "", alias.name, base)


def _walk_defs(index: ModuleIndex, body: list[ast.stmt], parent: str | None) -> None:
    for node in body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            start, end = _span(node)
            qual = f"{parent}.{node.name}" if parent else node.name
            if isinstance(node, ast.ClassDef):
                bases = tuple(chain[-1] for chain in map(dotted, node.bases) if chain)
                index.defs.append(Definition(node.name, qual, "class", start, node.lineno, end, parent, bases))
                index.fields[qual] = {t: _span(s) for s in node.body for t in _targets(s)}
                _walk_defs(index, node.body, qual)
            else:
                owner = index.definition(parent) if parent else None
                kind = "method" if owner is not None and owner.kind == "class" else "function"
                index.defs.append(Definition(node.name, qual, kind, start, node.lineno, end, parent))
                index.local_types[qual] = _local_types(node)
                _walk_defs(index, node.body, qual)
        elif isinstance(node, (ast.If, ast.Try, ast.With, ast.AsyncWith, ast.For, ast.AsyncFor, ast.While)):
            handlers = [stmt for h in getattr(node, "handlers", []) for stmt in h.body]
            inner = [*node.body, *getattr(node, "orelse", []), *getattr(node, "finalbody", []), *handlers]
            _walk_defs(index, inner, parent)  # definitions under ``if``/``try``/``with``, at any level


def _type_name(node: ast.expr | None) -> str | None:
    """The class an annotation names: ``Cls``, ``mod.Cls``, ``"Cls"``, ``Cls | None``, ``Optional[Cls]``."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        try:
            node = ast.parse(node.value, mode="eval").body
        except SyntaxError:
            return None
    if isinstance(node, ast.BinOp):
        return _type_name(node.left) or _type_name(node.right)
    if isinstance(node, ast.Subscript) and dotted(node.value)[-1:] == ("Optional",):
        return _type_name(node.slice)
    chain = dotted(node) if node is not None else ()
    return chain[-1] if chain and chain[-1][:1].isupper() and chain[-1] != "None" else None


def _local_types(node: ast.FunctionDef | ast.AsyncFunctionDef) -> dict[str, str]:
    args = node.args
    out = {
        a.arg: name
        for a in [*args.posonlyargs, *args.args, *args.kwonlyargs]
        if (name := _type_name(a.annotation)) is not None
    }
    for inner in ast.walk(node):
        if isinstance(inner, ast.Assign) and len(inner.targets) == 1 and isinstance(inner.targets[0], ast.Name):
            value = inner.value.value if isinstance(inner.value, ast.Await) else inner.value
            if isinstance(value, ast.Call) and (called := dotted(value.func)) and called[-1][:1].isupper():
                out.setdefault(inner.targets[0].id, called[-1])
    return out


def parse_module(path: str, text: str) -> ModuleIndex:
    """The index of one module; a file that does not parse has lines but no facts."""
    lines = text.splitlines()
    if len(text) > MAX_SOURCE_CHARS:
        return ModuleIndex(path, lines, None)
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):
        return ModuleIndex(path, lines, None)
    index = ModuleIndex(path, lines, tree)
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            _add_imports(index, node)
    _walk_defs(index, tree.body, None)
    for node in tree.body:
        for name in _targets(node):
            index.constants[name] = _span(node)
            value = node.value if isinstance(node, (ast.Assign, ast.AnnAssign)) else None
            if isinstance(value, ast.Call):
                called = dotted(value.func)
                if called:
                    index.instances[name] = called[-1]
    return index
