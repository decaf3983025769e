"""What the own AST rules know about a module before walking it, and the small AST helpers they share.

Facts: import aliases, module-level names and mutable containers, class-level mutable attributes,
attributes assigned on ``self``, and which names hold threading locks, asyncio locks or synchronous
clients. Helpers: name resolution, same-scope traversal and statement spans.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from app.static.names import ASYNC_LOCK_CTORS, MUTABLE_CTORS, SYNC_CLIENTS, THREAD_LOCK_CTORS

SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)
AWAITS = (ast.Await, ast.AsyncFor, ast.AsyncWith)

# Fields that never hold a node the rules look at: names (str), the Load/Store context singletons,
# import aliases (read from the Import node itself) and a Constant's value. Skipping them makes a walk
# about a third cheaper than ``ast.iter_child_nodes``.
_LEAF_FIELDS = frozenset(
    {"ctx", "id", "attr", "arg", "name", "names", "module", "level", "kind", "type_comment", "is_async",
     "conversion", "simple"}
)  # fmt: skip


def _node_classes() -> Iterator[type[ast.AST]]:
    stack: list[type[ast.AST]] = [ast.AST]
    while stack:
        cls = stack.pop()
        yield cls
        stack.extend(cls.__subclasses__())


_CHILDREN = "_archbot_children"
"""The attribute under which :func:`child_nodes` keeps a node's children."""

CHILD_FIELDS: Mapping[type[ast.AST], tuple[str, ...]] = MappingProxyType(
    {
        cls: tuple(f for f in cls._fields if f not in _LEAF_FIELDS and not (cls is ast.Constant and f == "value"))
        for cls in _node_classes()
    }
)


def child_nodes(node: ast.AST) -> list[ast.AST]:
    """The child nodes the rules care about (see ``_LEAF_FIELDS``), in field order.

    Every check walks the same tree, so the list is kept on the node after the first call (the rules
    never change a tree; callers must not mutate the list).
    """
    cached: list[ast.AST] | None = node.__dict__.get(_CHILDREN)
    if cached is not None:
        return cached
    children: list[ast.AST] = []
    for name in CHILD_FIELDS.get(type(node), node._fields):
        value = getattr(node, name, None)
        if isinstance(value, list):
            children.extend([item for item in value if isinstance(item, ast.AST)])
        elif isinstance(value, ast.AST):
            children.append(value)
    node.__dict__[_CHILDREN] = children
    return children


_OWN_CHILDREN = "_archbot_own_children"
_BODY_NODES = "_archbot_body_nodes"


def own_nodes(nodes: list[ast.stmt] | list[ast.expr] | ast.AST) -> Iterator[ast.AST]:
    """Every node under ``nodes`` that belongs to the same scope (nested defs and lambdas excluded).

    Depth first, each node before its children; a node's same-scope children are kept on it after
    the first walk (like :func:`child_nodes`). For a whole function, class or module body use
    :func:`body_nodes`, which keeps the walk itself.
    """
    stack: list[ast.AST] = list(nodes) if isinstance(nodes, list) else [nodes]
    pop, extend = stack.pop, stack.extend
    while stack:
        node = pop()
        yield node
        own: list[ast.AST] | None = node.__dict__.get(_OWN_CHILDREN)
        if own is None:
            own = [child for child in child_nodes(node) if not isinstance(child, SCOPES)]
            node.__dict__[_OWN_CHILDREN] = own
        extend(own)


def body_nodes(scope: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda | ast.ClassDef | ast.Module) -> list[ast.AST]:
    """``list(own_nodes(scope.body))``: the nodes of a function's (class's, module's) own scope, in
    :func:`own_nodes` order, walked once per tree and kept on ``scope`` (callers must not mutate it).
    A shared index for the own checks: every check that looks at "this function's statements and
    expressions" can take it instead of walking again."""
    cached: list[ast.AST] | None = scope.__dict__.get(_BODY_NODES)
    if cached is None:
        cached = list(own_nodes(scope.body))
        scope.__dict__[_BODY_NODES] = cached
    return cached


def dotted(expr: ast.expr) -> str | None:
    """``a.b.c`` for a Name/Attribute chain, else None."""
    parts: list[str] = []
    while isinstance(expr, ast.Attribute):
        parts.append(expr.attr)
        expr = expr.value
    if isinstance(expr, ast.Name):
        parts.append(expr.id)
        return ".".join(reversed(parts))
    return None


def root_name(expr: ast.expr) -> ast.Name | None:
    """The Name at the bottom of an Attribute/Subscript/Call chain (``a`` in ``a.b[c].d()``)."""
    while isinstance(expr, ast.Attribute | ast.Subscript | ast.Call):
        expr = expr.func if isinstance(expr, ast.Call) else expr.value
    return expr if isinstance(expr, ast.Name) else None


def is_const(expr: ast.expr | None, value: object) -> bool:
    return isinstance(expr, ast.Constant) and expr.value is value


def keyword(call: ast.Call, name: str) -> ast.keyword | None:
    return next((kw for kw in call.keywords if kw.arg == name), None)


def has_star_kwargs(call: ast.Call) -> bool:
    return any(kw.arg is None for kw in call.keywords)


@dataclass
class ModuleFacts:
    """Module-wide facts collected before the walk: imports, shared state, locks, clients."""

    aliases: dict[str, str] = field(default_factory=dict)
    module_names: set[str] = field(default_factory=set)
    module_mutables: set[str] = field(default_factory=set)
    class_mutables: dict[str, set[str]] = field(default_factory=dict)
    instance_attrs: dict[str, set[str]] = field(default_factory=dict)
    thread_locks: set[str] = field(default_factory=set)
    async_locks: set[str] = field(default_factory=set)
    sync_vars: dict[str, str] = field(default_factory=dict)


def resolve(aliases: dict[str, str], expr: ast.expr) -> str | None:
    """Dotted name with import aliases resolved (``r.get`` → ``requests.get`` after ``import requests as r``)."""
    name = dotted(expr)
    if name is None:
        return None
    head, _, rest = name.partition(".")
    if head in aliases:
        base = aliases[head]
        return f"{base}.{rest}" if rest else base
    return name


class _Collector:
    """One pass over a module: parent links, imports, then module- and class-level bindings."""

    def __init__(self, tree: ast.Module) -> None:
        self.tree = tree
        self.facts = ModuleFacts()
        self.parents: dict[ast.AST, ast.AST] = {}

    def qualname(self, expr: ast.expr) -> str | None:
        return resolve(self.facts.aliases, expr)

    def _collect(self) -> None:
        facts = self.facts
        parents = self.parents
        stack: list[ast.AST] = [self.tree]
        self_assigns: list[ast.Assign | ast.AnnAssign] = []
        while stack:
            node = stack.pop()
            for child in child_nodes(node):
                parents[child] = node
                stack.append(child)
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.asname:
                        facts.aliases[alias.asname] = alias.name
                    else:
                        top = alias.name.partition(".")[0]
                        facts.aliases[top] = top
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                for alias in node.names:
                    facts.aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"
            elif isinstance(node, ast.Assign | ast.AnnAssign) and node.value is not None:
                self_assigns.append(node)
        for stmt in self.tree.body:
            self._collect_binding(stmt, prefix="")
            if isinstance(stmt, ast.ClassDef):
                self._collect_class(stmt)
        for assign in self_assigns:  # after the walk: every import alias is known by now
            self._collect_self_assign(assign)

    def _collect_self_assign(self, node: ast.Assign | ast.AnnAssign) -> None:
        """``self.x = ...`` inside a class's methods: an instance attribute (and maybe a lock or client)."""
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        attrs = [t.attr for t in targets if isinstance(t, ast.Attribute) and dotted(t) == f"self.{t.attr}"]
        if not attrs or node.value is None:
            return
        owner: ast.AST | None = self.parents.get(node)
        while owner is not None and not isinstance(owner, ast.ClassDef):
            owner = self.parents.get(owner)
        if owner is None:
            return
        for attr in attrs:
            self.facts.instance_attrs.setdefault(owner.name, set()).add(attr)
            self._classify_value(f"self.{attr}", node.value)

    def _collect_binding(self, stmt: ast.stmt, prefix: str) -> None:
        """Record what a module- or class-level assignment binds (mutable, lock, sync client)."""
        targets: list[ast.expr]
        if isinstance(stmt, ast.Assign):
            targets, value = stmt.targets, stmt.value
        elif isinstance(stmt, ast.AnnAssign) and stmt.value is not None:
            targets, value = [stmt.target], stmt.value
        else:
            return
        for target in targets:
            if not isinstance(target, ast.Name):
                continue
            key = prefix + target.id
            if not prefix:
                self.facts.module_names.add(target.id)
                if self._is_mutable(value):
                    self.facts.module_mutables.add(target.id)
            self._classify_value(key, value)

    def _classify_value(self, key: str, value: ast.expr) -> None:
        if not isinstance(value, ast.Call):
            return
        ctor = self.qualname(value.func) or ""
        if ctor in THREAD_LOCK_CTORS:
            self.facts.thread_locks.add(key)
        elif ctor in ASYNC_LOCK_CTORS:
            self.facts.async_locks.add(key)
        elif ctor in SYNC_CLIENTS:
            self.facts.sync_vars[key] = ctor

    def _is_mutable(self, value: ast.expr) -> bool:
        if isinstance(value, ast.Dict | ast.List | ast.Set | ast.DictComp | ast.ListComp | ast.SetComp):
            return True
        return isinstance(value, ast.Call) and (self.qualname(value.func) or "") in MUTABLE_CTORS

    def _collect_class(self, cls: ast.ClassDef) -> None:
        mutables: set[str] = set()
        for stmt in cls.body:
            if isinstance(stmt, ast.Assign | ast.AnnAssign) and stmt.value is not None:
                targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
                for target in targets:
                    if isinstance(target, ast.Name):
                        if self._is_mutable(stmt.value):
                            mutables.add(target.id)
                        for prefix in ("self.", "cls.", f"{cls.name}."):
                            self._classify_value(prefix + target.id, stmt.value)
        self.facts.class_mutables[cls.name] = mutables


def collect_facts(tree: ast.Module) -> tuple[ModuleFacts, dict[ast.AST, ast.AST]]:
    """The module's facts and a child → parent map of every node."""
    collector = _Collector(tree)
    collector._collect()
    return collector.facts, collector.parents


def statement_span(stmt: ast.stmt, first: int, last: int) -> tuple[int, int]:
    """The statement's lines, or only its header lines for a compound statement, widened to ``first..last``."""
    start = stmt.lineno
    decorators = getattr(stmt, "decorator_list", None)
    if decorators:
        start = min(start, *(dec.lineno for dec in decorators))
    body = getattr(stmt, "body", None)
    if isinstance(body, list) and body and isinstance(body[0], ast.stmt):
        end = max(stmt.lineno, body[0].lineno - 1)
        if first > end:  # the node sits in a later clause header (elif/except/finally): itself only
            return first, last
    else:
        end = stmt.end_lineno or stmt.lineno
    return min(start, first), max(end, last)
