"""Build one chunk's repository context under a token budget.

For every Python file of the chunk, from the head revision's texts:

1. the enclosing function (and, for a method, the class outline: its header, docstring, fields and
   ``__init__``) of every hunk;
2. the definitions the changed lines call, resolved through imports, ``self``/``cls`` and module
   attributes, then what those call (depth 2);
3. the callers of changed functions, and the readers of attributes, fields and constants the change
   sets, in the files at hand;
4. the settings, constants and defaults the changed lines (removed ones included) read.

Candidates are ordered by risk (calls into network, subprocess, database, locks, auth and settings
first, then enclosing code, other callees, callers, depth-2 callees) and taken while they fit the
budget; the rest is named as left out. Long excerpts are trimmed in the middle, keeping the head,
the tail and the risky lines, with a marker. Pure: texts come through :class:`RepoIndex`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from app.review.budget import ChunkFile, estimate_tokens
from app.review.context.model import KIND_LABELS, ChunkContext, ContextItem, excerpt
from app.review.context.pysource import Definition, ModuleIndex, Reference, text_references
from app.review.context.resolve import RepoIndex, Target
from app.review.context.risk import risks_of, risky_lines

MAX_EXCERPT_LINES = 40
HEAD_LINES = 8
TAIL_LINES = 3
MAX_CALLERS = 3
CALL_BEFORE = 5  # lines kept above a caller's call (the condition or lock it sits under)
MAX_READERS = 2  # per name the change sets
MAX_SET_NAMES = 6
MAX_DEPTH2_PER_CALLEE = 6
_TIER = {"setting": 1, "enclosing": 1, "class": 2, "callee": 2, "caller": 3, "reader": 3, "named": 1, "outline": 2}


@dataclass(frozen=True)
class _Candidate:
    kind: str
    path: str
    start: int
    end: int
    symbol: str
    reason: str
    depth: int = 1
    keep: frozenset[int] | None = None  # lines to keep when trimming (None: head, tail, risky lines)
    extra: frozenset[int] = frozenset()  # lines also kept when trimming with the default rule
    header: int | None = None
    order: int = 0
    secondary: bool = False  # found for a test file's change, or inside a test file: packed last


@dataclass(frozen=True)
class _Focus:
    """The changed lines of one chunk file, in new-file numbering."""

    path: str
    added: frozenset[int]
    shown: frozenset[int]
    removed: tuple[tuple[int, str], ...]  # (nearest new line, removed text)
    anchors: tuple[int, ...]  # one new-side line per hunk: where its change sits


_TEST_DIRS = frozenset({"tests", "test", "testing", "fixtures", "examples", "example", "docs"})


def is_test_path(path: str) -> bool:
    """Tests, fixtures, examples and docs: their context is packed after the product code's."""
    parts = path.split("/")
    name = parts[-1]
    return bool(_TEST_DIRS & set(parts[:-1])) or name.startswith("test_") or name.endswith(("_test.py", "conftest.py"))


def _focus(file: ChunkFile) -> _Focus:
    added: set[int] = set()
    shown: set[int] = set()
    removed: list[tuple[int, str]] = []
    anchors: list[int] = []
    for hunk in file.hunks:
        pending: list[str] = []
        first: int | None = None
        for line in hunk.lines:
            if line.kind == "-":
                pending.append(line.text)
                continue
            number = line.new_no or hunk.new_start
            shown.add(number)
            if line.kind == "+":
                added.add(number)
                first = first or number
            if pending:
                removed += [(number, text) for text in pending]
                first = first or number
                pending = []
        if pending:
            end = hunk.new_start + max(hunk.new_len - 1, 0)
            removed += [(end, text) for text in pending]
            first = first or end
        anchors.append(first or hunk.new_start)
    return _Focus(file.path, frozenset(added), frozenset(shown), tuple(removed), tuple(anchors))


class _Collector:
    """Gathers candidates for one chunk, in discovery order, without duplicates."""

    def __init__(self, repo: RepoIndex, shown: dict[str, frozenset[int]]) -> None:
        self.repo = repo
        self.shown = shown
        self.items: list[_Candidate] = []
        self._seen: set[tuple[str, int, int]] = set()
        self.secondary = False  # the file whose change is being followed is a test file

    def add(self, candidate: _Candidate) -> bool:
        key = (candidate.path, candidate.start, candidate.end)
        span = set(range(candidate.start, candidate.end + 1))
        if key in self._seen:  # found again for another reason: keep the lines both want
            at, first = next((i, c) for i, c in enumerate(self.items) if (c.path, c.start, c.end) == key)
            if first.keep is not None and candidate.keep is not None:
                self.items[at] = replace(first, keep=first.keep | candidate.keep)
            return False
        if span <= self.shown.get(candidate.path, frozenset()):
            return False
        self._seen.add(key)
        secondary = self.secondary or is_test_path(candidate.path)
        self.items.append(replace(candidate, order=len(self.items), secondary=secondary))
        return True

    def target(self, target: Target, reason: str, depth: int) -> bool:
        t = target
        keep = None
        if t.definition is not None and t.definition.kind == "class" and (mod := self.repo.module(t.path)):
            keep = _class_outline(mod, t.definition)  # a class: what it is, not its every method
        return self.add(_Candidate(t.kind, t.path, t.start, t.end, t.symbol, reason, depth, keep, header=t.header))


def _class_outline(mod: ModuleIndex, cls: Definition) -> frozenset[int]:
    """The lines of a class that say what it is: header, docstring start, fields, ``__init__``."""
    keep = set(range(cls.start, cls.def_line + 3))
    for start, end in mod.fields.get(cls.qualname, {}).values():
        keep |= set(range(start, min(end, start + 2) + 1))
    init = mod.definition(f"{cls.qualname}.__init__")
    if init is not None:
        keep |= set(range(init.start, min(init.end, init.start + 24) + 1))
    return frozenset(keep)


def _enclosing(collect: _Collector, mod: ModuleIndex, focus: _Focus) -> None:
    for anchor in focus.anchors:
        scope = mod.enclosing(anchor, kinds=("function", "method"))
        if scope is not None:
            reason = f"holds the change at {focus.path}:{anchor}"
            # where the names the change reads are bound (``proc = await open_process(...)``) survives trimming
            changed = {n for n in focus.added if scope.start <= n <= scope.end}
            bound = frozenset(mod.binding_lines(scope, mod.names_read(changed)) - focus.shown)
            collect.add(_Candidate("enclosing", mod.path, scope.start, scope.end, scope.qualname, reason, extra=bound))
        owner = mod.enclosing(anchor, kinds=("class",))
        if owner is not None:
            collect.add(
                _Candidate(
                    "class", mod.path, owner.start, owner.end, owner.qualname,
                    f"class of the change at {focus.path}:{anchor}", keep=_class_outline(mod, owner),
                )
            )  # fmt: skip


def _followed_lines(mod: ModuleIndex, focus: _Focus) -> set[int]:
    """The lines whose references are followed: the added ones, the whole body of a function whose
    ``def`` line is added (code moved into a new function runs in a new place), and the lines that bind
    or fill a name the added lines read (``items.extend(super().middlewares)`` above ``for m in items``)."""
    lines = set(focus.added)
    for d in mod.defs:
        if d.kind != "class" and d.def_line in focus.added:
            lines |= set(range(d.def_line, d.end + 1))
    for anchor in focus.anchors:
        scope = mod.enclosing(anchor, kinds=("function", "method"))
        if scope is not None:
            changed = {n for n in focus.added if scope.start <= n <= scope.end}
            lines |= mod.binding_lines(scope, mod.names_read(changed))
    return lines


def _references(mod: ModuleIndex, focus: _Focus) -> list[Reference]:
    refs = mod.references(_followed_lines(mod, focus))
    for line, text in focus.removed:
        refs += text_references(text, line)
    return refs


def _callees(collect: _Collector, mod: ModuleIndex, focus: _Focus) -> None:
    level1: list[Target] = []
    for ref in _references(mod, focus):
        target = collect.repo.resolve(mod, ref)
        if target is None:
            continue
        verb = "called" if ref.call else "read"
        if collect.target(target, f"{verb} at {focus.path}:{ref.line}", 1) and target.definition is not None:
            level1.append(target)
    for callee in level1:
        definition = callee.definition
        inner = collect.repo.module(callee.path)
        if inner is None or definition is None or definition.kind == "class":
            continue
        lines = set(range(definition.def_line, definition.end + 1))
        added = 0
        for ref in inner.references(lines):
            target = collect.repo.resolve(inner, ref)
            if target is None or (target.path, target.start) == (callee.path, callee.start):
                continue
            reason = f"called by `{callee.symbol}` at {callee.path}:{ref.line}"
            added += int(collect.target(target, reason, 2))
            if added >= MAX_DEPTH2_PER_CALLEE:
                break


def _changed_functions(mod: ModuleIndex, focus: _Focus) -> list[Definition]:
    touched = set(focus.added) | {line for line, _ in focus.removed}
    out: list[Definition] = []
    for d in mod.defs:
        if d.kind not in ("function", "method") or not any(d.start <= line <= d.end for line in touched):
            continue
        if not any(o.start <= d.start and d.end <= o.end for o in out):
            out.append(d)
    return out


def _callers(collect: _Collector, mod: ModuleIndex, focus: _Focus) -> None:
    for changed in _changed_functions(mod, focus):
        found = 0
        for other in collect.repo.loaded():
            for ref in other.calls(changed.name):
                if ref.chain[-1] != changed.name:
                    continue
                if changed.kind == "method" and len(ref.chain) < 2:
                    continue
                if other.path == mod.path and changed.start <= ref.line <= changed.end:
                    continue
                scope = other.enclosing(ref.line, kinds=("function", "method"))
                start, end = (scope.start, scope.end) if scope else (max(1, ref.line - 3), ref.line + 3)
                head = range(start, (scope.def_line if scope else start) + 1)
                keep = frozenset({*head, *range(ref.line - CALL_BEFORE, ref.line + 4)})
                symbol = scope.qualname if scope else "(module level)"
                reason = f"calls changed `{changed.qualname}` at {other.path}:{ref.line}"
                found += int(collect.add(_Candidate("caller", other.path, start, end, symbol, reason, keep=keep)))
                if found >= MAX_CALLERS:
                    break
            if found >= MAX_CALLERS:
                break


def _readers(collect: _Collector, mod: ModuleIndex, focus: _Focus) -> None:
    """Code that reads an attribute, field or constant the change sets (``self._stop = True``, a field's
    new default): where the new value takes effect."""
    names = sorted(n for n in mod.assigned(focus.added) if len(n) >= 4 and not n.endswith("__"))
    for name in names[:MAX_SET_NAMES]:
        found = 0
        for other in collect.repo.loaded():
            for line in other.attribute_reads(name):
                if other.path == focus.path and line in focus.shown:
                    continue
                scope = other.enclosing(line, kinds=("function", "method"))
                if scope is None:
                    continue
                keep = frozenset({*range(scope.start, scope.def_line + 1), *range(line - 2, line + 3)})
                reason = f"reads `{name}`, which the change sets, at {other.path}:{line}"
                found += int(
                    collect.add(
                        _Candidate("reader", other.path, scope.start, scope.end, scope.qualname, reason, keep=keep)
                    )
                )
                if found >= MAX_READERS:
                    break
            if found >= MAX_READERS:
                break


def _keep(candidate: _Candidate, lines: list[str]) -> set[int] | None:
    """The lines to show of a candidate, or None for all of them (short enough)."""
    size = candidate.end - candidate.start + 1
    if candidate.keep is None and size <= MAX_EXCERPT_LINES:
        return None
    keep = set(candidate.keep) if candidate.keep is not None else set()
    if candidate.keep is None:
        keep |= set(range(candidate.start, candidate.start + HEAD_LINES))
        keep |= set(range(candidate.end - TAIL_LINES + 1, candidate.end + 1))
        keep |= candidate.extra
        for number in sorted(risky_lines(lines, candidate.start, candidate.end)):
            if len(keep) >= MAX_EXCERPT_LINES:
                break
            keep |= {number - 1, number, number + 1}
    if candidate.header is not None:
        keep.add(candidate.header)
    return keep


def _render(candidate: _Candidate, repo: RepoIndex, hidden: frozenset[int]) -> ContextItem | None:
    mod = repo.module(candidate.path)
    if mod is None:
        return None
    start = min(candidate.start, candidate.header or candidate.start)
    keep = _keep(candidate, mod.lines)
    if candidate.header is not None and keep is None:
        keep = {candidate.header, *range(candidate.start, candidate.end + 1)}
    body, shown = excerpt(mod.lines, start, candidate.end, keep=keep, hidden=hidden)
    if not shown:
        return None
    code = "\n".join(mod.lines[n - 1] for n in sorted(shown))
    risks = ("settings",) if candidate.kind == "setting" else risks_of(code)
    label = KIND_LABELS[candidate.kind] if candidate.depth == 1 else "called two calls down"
    head = (
        f"### Context: {candidate.path} lines {start}-{candidate.end} · {label}: `{candidate.symbol}`"
        f" · {candidate.reason}" + (f" · risk: {', '.join(risks)}" if risks else "")
    )
    text = "\n".join([head, *body]) + "\n"
    return ContextItem(
        kind=candidate.kind,
        path=candidate.path,
        start=start,
        end=candidate.end,
        symbol=candidate.symbol,
        reason=candidate.reason,
        depth=candidate.depth,
        risks=risks,
        text=text,
        tokens=estimate_tokens(text) + 1,
        shown=shown,
        secondary=candidate.secondary,
    )


def _priority(item: ContextItem, order: int) -> tuple[int, int, int]:
    risky = bool(item.risks) and item.kind in ("callee", "setting", "caller", "reader")
    tier = 0 if risky else _TIER[item.kind] + (2 if item.depth > 1 else 0)
    return tier + (10 if item.secondary else 0), item.depth, order


def build_chunk_context(files: Sequence[ChunkFile], repo: RepoIndex, budget: int) -> ChunkContext:
    """The context of one chunk's ``files`` within ``budget`` tokens (0: none)."""
    if budget <= 0:
        return ChunkContext(budget=max(budget, 0))
    shown = {f.path: _focus(f).shown for f in files}
    collect = _Collector(repo, shown)
    for file in files:
        mod = repo.module(file.path)
        if mod is None or mod.tree is None:
            continue
        focus = _focus(file)
        collect.secondary = is_test_path(file.path)
        _enclosing(collect, mod, focus)
        _callees(collect, mod, focus)
    for file in files:  # callers last: they are found by name and cost a scan
        mod = repo.module(file.path)
        if mod is not None and mod.tree is not None:
            collect.secondary = is_test_path(file.path)
            _callers(collect, mod, _focus(file))
            _readers(collect, mod, _focus(file))
    rendered = [
        (item, candidate.order)
        for candidate in collect.items
        if (item := _render(candidate, repo, shown.get(candidate.path, frozenset()))) is not None
    ]
    return _pack(rendered, budget)


def _pack(rendered: Iterable[tuple[ContextItem, int]], budget: int) -> ChunkContext:
    included: list[ContextItem] = []
    left_out: list[ContextItem] = []
    lines: dict[str, set[int]] = {}
    spent = 0
    for item, _ in sorted(rendered, key=lambda pair: _priority(*pair)):
        if item.shown <= lines.get(item.path, set()):
            continue  # everything it shows is already in
        if spent + item.tokens > budget:
            left_out.append(item)
            continue
        included.append(item)
        lines.setdefault(item.path, set()).update(item.shown)
        spent += item.tokens
    return ChunkContext(
        budget=budget,
        included=tuple(included),
        left_out=tuple(left_out),
        tokens=spent,
        lines={path: frozenset(numbers) for path, numbers in lines.items()},
    )


_NAMED_PATH = re.compile(r"(?<![\w/.-])((?:[\w.-]+/)*[\w.-]+\.pyi?)\b")
_NAMED_SYMBOL = re.compile(r"`([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)(?:\(\))?`")
MAX_NAMED = 12  # files and symbols a document may pull in


def named_in(text: str) -> tuple[list[str], list[str]]:
    """The Python paths and the backticked symbols (``Cls.method``, ``func()``) a document names."""
    paths = list(dict.fromkeys(m.group(1).lstrip("./") for m in _NAMED_PATH.finditer(text)))
    symbols = [s for s in dict.fromkeys(m.group(1) for m in _NAMED_SYMBOL.finditer(text)) if not s.endswith(".py")]
    return paths[:MAX_NAMED], symbols[:MAX_NAMED]


def build_named_context(text: str, repo: RepoIndex, budget: int) -> ChunkContext:
    """Context for a design document or an issue (``/plan``): the definitions of the symbols it names
    in backticks, and an outline (the top-level definitions) of the Python files it names."""
    if budget <= 0:
        return ChunkContext(budget=max(budget, 0))
    paths, symbols = named_in(text)
    collect = _Collector(repo, {})
    for symbol in symbols:
        last = symbol.rsplit(".", 1)[-1]
        found = [(m, d) for m in repo.loaded() for d in m.defs if d.qualname == symbol or (d.name == last == symbol)]
        for mod, d in found[:2]:
            collect.add(
                _Candidate("named", mod.path, d.start, d.end, d.qualname, f"named in the document as `{symbol}`")
            )
    for path in paths:
        named = repo.module(path)
        if named is None or named.tree is None:
            continue
        heads = frozenset(d.def_line for d in named.defs if d.parent is None or d.kind == "method")
        if heads:
            end = max(d.end for d in named.defs)
            collect.add(
                _Candidate("outline", path, 1, end, path, "named in the document", keep=heads | set(range(1, 4)))
            )
    rendered = [(item, c.order) for c in collect.items if (item := _render(c, repo, frozenset())) is not None]
    return _pack(rendered, budget)
