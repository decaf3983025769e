"""Blocking work on the event loop: ARCH107/108/109 (a blocking call in an ``async def``) and ARCH115/118
(a call of a same-module sync helper that blocks, with the chain), from one catalogue.

What blocks is decided by ``app.static.blocking_types`` over ``app.static.blocking_names``: catalogued
functions (``requests.get``, ``subprocess.run``, ``open``), blocking methods of tracked objects
(``s = requests.Session()``, ``self.s3 = boto3.client("s3")``, ``p: Path``, ``with self._lock:``) and, on
receivers of unknown type, calls only a synchronous client makes (``x.request("GET", url)`` not awaited).

Silent: awaited calls, ``async with``/``async for``, async libraries, calls handed to a thread
(``asyncio.to_thread(f, ...)``, ``run_in_executor(None, f)``, a lambda: ``f`` is passed, not called here),
nested sync functions (unless called: then ARCH115), and coroutines defined under
``if __name__ == "__main__":``. The helper chain goes through module functions, nested functions and
``self.``/``cls.`` methods (of the class or a base class in the module), up to three calls deep;
generators and decorated helpers (caches, framework hooks) are skipped.

Severity follows the kind (``Kind.steps_down``): the rule's own for network, database, SDK, subprocess,
locks and model loads; one step lower for file I/O, two (never below low) for file-system metadata.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from app.review.models import SEVERITY_ORDER, Severity
from app.static import blocking_names as cat
from app.static.blocking_types import (
    INSTANCE,
    Context,
    Hit,
    ModuleTypes,
    all_statements,
    own_statements,
    qualify,
)
from app.static.checks import RawFinding
from app.static.facts import body_nodes, child_nodes, dotted, statement_span
from app.static.module_view import ModuleView
from app.static.names import ROUTE_DECORATORS
from app.static.rules import RULES_BY_ID

MAX_DEPTH = 3
_TRANSPARENT_DECORATORS = frozenset({"staticmethod", "classmethod"})
_CONTAINERS = (
    ast.List, ast.Tuple, ast.Set, ast.Dict, ast.Starred, ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp,
    ast.comprehension, ast.IfExp,
)  # fmt: skip
_COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)
_Def = ast.FunctionDef | ast.AsyncFunctionDef
_BY_ORDER = sorted(SEVERITY_ORDER, key=SEVERITY_ORDER.__getitem__)


@dataclass(frozen=True)
class _Site:
    """A call or a ``with`` item in some function's own code, with the statement that holds it."""

    node: ast.Call | ast.withitem
    stmt: ast.stmt
    ctx: Context


@dataclass
class _Scope:
    """A function being scanned: its node, class, names' types and where it sits."""

    func: _Def
    cls: str | None
    env: Mapping[str, str]
    nested: dict[str, ast.FunctionDef] = field(default_factory=dict)


def _sites(body: list[ast.stmt]) -> Iterator[_Site]:
    """Calls and ``with`` items evaluated by the scope itself, with how each call's result is used."""
    for stmt in own_statements(body):
        if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            continue
        if isinstance(stmt, ast.With):
            yield from (_Site(item, stmt, Context()) for item in stmt.items)
        stack: list[tuple[ast.AST, Context]] = []
        for child in child_nodes(stmt):
            if isinstance(child, ast.stmt | ast.excepthandler | ast.match_case):
                continue
            top = Context(
                async_item=(isinstance(stmt, ast.AsyncWith) and child in [i for i in stmt.items])
                or (isinstance(stmt, ast.AsyncFor) and child is stmt.iter),
                returned=isinstance(stmt, ast.Return),
            )
            stack.append((child, top))
        calls: list[_Site] = []
        while stack:
            node, ctx = stack.pop()
            if isinstance(node, ast.withitem):
                stack.append((node.context_expr, ctx))
                continue
            if isinstance(node, ast.Lambda | ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                continue
            if isinstance(node, ast.Call):
                calls.append(_Site(node, stmt, ctx))
            for child in child_nodes(node):
                stack.append((child, _child_context(node, child, ctx)))
        calls.sort(key=lambda site: _end(site.node))  # inner calls first: `open(p)` before `open(p).read()`
        yield from calls


def _child_context(parent: ast.AST, child: ast.AST, ctx: Context) -> Context:
    if isinstance(parent, ast.Await):
        return Context(awaited=True)
    if isinstance(parent, ast.Yield | ast.YieldFrom):
        return Context(returned=True)
    if isinstance(parent, ast.Call):
        return Context(argument=child is not parent.func)
    if isinstance(parent, ast.keyword):
        return Context(argument=True)
    if isinstance(parent, _COMPREHENSIONS) and not isinstance(child, ast.comprehension):
        return Context(argument=True)  # `[c.request("GET", u) for u in urls]` is usually a list of coroutines
    if isinstance(parent, _CONTAINERS):
        return Context(argument=ctx.argument, returned=ctx.returned)
    return Context()


def _end(node: ast.AST) -> tuple[int, int]:
    return getattr(node, "end_lineno", 0) or 0, getattr(node, "end_col_offset", 0) or 0


def _lock_key(expr: ast.expr, cls: str | None) -> str | None:
    """How a lock is named across the module: ``_LOCK``, or ``Cls.self._lock`` for an instance's."""
    text = dotted(expr)
    if text is None:
        return None
    return f"{cls}.{text}" if cls is not None and text.startswith(("self.", "cls.")) else text


def _entry_coroutines(tree: ast.Module, types: ModuleTypes) -> set[str]:
    """Coroutines the module runs as a program's entry point: ``asyncio.run(main())``, ``anyio.run(main)``."""
    found: set[str] = set()
    for stmt in all_statements(tree.body):
        if not isinstance(stmt, ast.Expr | ast.Assign | ast.Return | ast.Raise):
            continue
        for node in ast.walk(stmt):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            runner = node.func.attr if isinstance(node.func, ast.Attribute) else ""
            name = qualify(types.aliases, node.func) or ""
            if name not in cat.ENTRY_RUNNERS and runner not in cat.ENTRY_RUNNERS:
                continue
            first = node.args[0]
            first = first.func if isinstance(first, ast.Call) else first
            if isinstance(first, ast.Name):
                found.add(first.id)
    return found


def _created_here(func: _Def, node: ast.AST) -> bool:
    """``node`` is, or is a method call on, a plain name the function itself assigns."""
    target = node.func.value if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) else node
    if not isinstance(target, ast.Name):
        return False
    return any(
        isinstance(stmt, ast.Assign) and any(isinstance(t, ast.Name) and t.id == target.id for t in stmt.targets)
        for stmt in own_statements(func.body)
    )


def _is_route(func: _Def) -> bool:
    return any(
        isinstance(dec, ast.Call) and isinstance(dec.func, ast.Attribute) and dec.func.attr in ROUTE_DECORATORS
        for dec in func.decorator_list
    )


def _is_main_guard(stmt: ast.stmt) -> bool:
    if not isinstance(stmt, ast.If) or not isinstance(stmt.test, ast.Compare):
        return False
    sides = [stmt.test.left, *stmt.test.comparators]
    return any(isinstance(s, ast.Name) and s.id == "__name__" for s in sides) and any(
        isinstance(s, ast.Constant) and s.value == "__main__" for s in sides
    )


def _startup_hook(func: ast.AsyncFunctionDef, registered: set[str]) -> bool:
    """A lifespan, startup or shutdown hook: it runs while no request is being served."""
    if func.name in registered or "lifespan" in func.name:
        return True
    for dec in func.decorator_list:
        call = dec if isinstance(dec, ast.Call) else None
        target = call.func if call is not None else dec
        name = target.attr if isinstance(target, ast.Attribute) else target.id if isinstance(target, ast.Name) else ""
        if name not in cat.STARTUP_DECORATORS:
            continue
        events = [a.value for a in (call.args if call is not None else []) if isinstance(a, ast.Constant)]
        if not events or any(event in cat.STARTUP_EVENTS for event in events):
            return True
    return False


def _registered_hooks(tree: ast.Module) -> set[str]:
    """Names handed to a framework as lifespan or startup/shutdown hooks anywhere in the module."""
    found: set[str] = set()
    for stmt in all_statements(tree.body):
        value = stmt.value if isinstance(stmt, ast.Expr | ast.Assign) else None
        if not isinstance(value, ast.Call):
            continue
        for kw in value.keywords:
            if kw.arg in cat.STARTUP_KEYWORDS:
                items = kw.value.elts if isinstance(kw.value, ast.List | ast.Tuple) else [kw.value]
                found.update(item.id for item in items if isinstance(item, ast.Name))
        func = value.func
        if (
            isinstance(func, ast.Attribute)
            and func.attr == "append"
            and isinstance(func.value, ast.Attribute)
            and func.value.attr in cat.STARTUP_REGISTRIES
        ):
            found.update(arg.id for arg in value.args if isinstance(arg, ast.Name))
    return found


def _lowered(severity: Severity, steps: int) -> Severity:
    index = min(SEVERITY_ORDER[severity] + steps, SEVERITY_ORDER[Severity.LOW])
    return _BY_ORDER[max(index, SEVERITY_ORDER[severity])]


class _Checker:
    """One module: its types, the coroutines in it, and memoised helper scans."""

    def __init__(self, view: ModuleView, holders: set[int]) -> None:
        self.holders = holders  # definitions with a coroutine somewhere inside
        self.hooks = _registered_hooks(view.tree)
        self.types = ModuleTypes(view.tree)
        self.findings: list[RawFinding] = []
        self.memo: dict[int, tuple[list[str], int, Hit] | None] = {}
        self.slow_locks: set[str] | None = None
        self.entry = _entry_coroutines(view.tree, self.types)
        self.generators: dict[int, bool] = {}

    # ---------------------------------------------------------------- walking

    def run(self, body: list[ast.stmt], env: Mapping[str, str], cls: str | None, top: bool) -> None:
        if top:
            body = [stmt for stmt in body if not _is_main_guard(stmt)]
        for stmt in own_statements(body):
            holder = id(stmt) in self.holders
            if isinstance(stmt, ast.AsyncFunctionDef) or (isinstance(stmt, ast.FunctionDef) and holder):
                scope = _Scope(stmt, cls, self.types.function_env(stmt, env, cls))
                if isinstance(stmt, ast.AsyncFunctionDef) and not _startup_hook(stmt, self.hooks):
                    self._coroutine(scope)
                if holder:
                    self.run(stmt.body, scope.env, None, top=False)
            elif isinstance(stmt, ast.ClassDef) and holder:
                self.run(stmt.body, env, stmt.name, top=False)

    def _coroutine(self, scope: _Scope) -> None:
        func = scope.func
        route = _is_route(func)
        scope.nested = _nested_defs(func)
        direct: dict[tuple[int, int], tuple[Hit, ast.AST, tuple[int, int]]] = {}
        for site in _sites(func.body):
            if isinstance(site.node, ast.withitem) and isinstance(site.stmt, ast.With):
                hit = self.types.with_hit(site.node, site.stmt, scope.env)
                node: ast.AST = site.node.context_expr
            elif isinstance(site.node, ast.Call):
                hit = self.types.classify(site.node, scope.env, site.ctx)
                node = site.node
            else:
                continue
            span = statement_span(site.stmt, getattr(node, "lineno", 1), getattr(node, "end_lineno", None) or 1)
            if hit is not None and hit.kind.name == "lock" and not self._contended(func, node, scope.cls):
                continue
            if hit is not None and self.entry and func.name in self.entry and hit.kind.name in cat.ENTRY_QUIET_KINDS:
                continue
            if hit is not None:
                key = (id(site.stmt), getattr(node, "lineno", 1))
                if key not in direct or _end(node) < _end(direct[key][1]):  # `a.execute(q).fetchone()`: execute
                    direct[key] = (hit, node, span)
            elif isinstance(site.node, ast.Call) and not site.ctx.async_use:
                self._helper_call(scope, site.node, span, route)
        for stmt in own_statements(func.body):
            if isinstance(stmt, ast.With) and (call := self.types.inference_site(stmt, scope.env)) is not None:
                what = f"`{ast.unparse(call.func)[:60]}(...)` under `{ast.unparse(stmt.items[0].context_expr)}`"
                hit = Hit(cat.COMPUTE, what, cat.COMPUTE.phrase)
                inner = next(s for s in own_statements(stmt.body) if s.lineno <= call.lineno <= (s.end_lineno or 0))
                direct.setdefault(
                    (id(inner), call.lineno), (hit, call, statement_span(inner, call.lineno, call.lineno))
                )
        for hit, node, span in direct.values():
            self._direct(hit, node, span, route)

    # ------------------------------------------------------------------ locks

    def _contended(self, func: _Def, node: ast.AST, cls: str | None) -> bool:
        """A plain lock taken in a coroutine is worth reporting when the module also holds it around blocking
        work (then waiting for it waits for that work); not when the coroutine made the lock itself."""
        if _created_here(func, node):
            return False
        target = node.func.value if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) else node
        key = _lock_key(target, cls) if isinstance(target, ast.expr) else None
        return key is not None and key in self._slow_locks()

    def _slow_locks(self) -> set[str]:
        if self.slow_locks is None:
            self.slow_locks = set()
            for func, cls in self._functions():
                self.slow_locks.update(self._locks_held_around_blocking(func, cls))
        return self.slow_locks

    def _functions(self) -> Iterator[tuple[_Def, str | None]]:
        for stmt in self.types.functions.values():
            yield stmt, None
        for name, node in self.types.classes.items():
            for member in node.body:
                if isinstance(member, _Def):
                    yield member, name

    def _locks_held_around_blocking(self, func: _Def, cls: str | None) -> set[str]:
        withs = [
            (stmt, item.context_expr)
            for stmt in own_statements(func.body)
            if isinstance(stmt, ast.With)
            for item in stmt.items
            if isinstance(item.context_expr, ast.Name | ast.Attribute)
        ]
        if not withs:
            return set()
        env = self.types.function_env(func, self.types.env, cls)
        found: set[str] = set()
        for stmt, expr in withs:
            key = _lock_key(expr, cls)
            if key is None or self.types.type_of(expr, env) != "threading.Lock":
                continue
            nested = _nested_defs(func)
            for site in _sites(stmt.body):
                if not isinstance(site.node, ast.Call):
                    continue
                hit = self.types.classify(site.node, env, site.ctx)
                helper = self._helper(site.node, cls, nested, env) if hit is None else None
                if (hit is not None and hit.kind.name != "lock") or (
                    helper is not None and self._chain(helper[0], helper[1], 1, {helper[0].name}) is not None
                ):
                    found.add(key)
                    break
        return found

    # --------------------------------------------------------------- findings

    def _direct(self, hit: Hit, node: ast.AST, span: tuple[int, int], route: bool) -> None:
        if hit.kind.name == "sleep":
            rule, detail = ("ARCH109", hit.detail) if route else ("ARCH107", "")
        else:
            rule, detail = ("ARCH109" if route else "ARCH108"), hit.detail
        severity = _lowered(RULES_BY_ID[rule].severity, hit.kind.steps_down)
        self.findings.append(RawFinding(rule, getattr(node, "lineno", 1), span, detail, severity=severity))

    def _helper_call(self, scope: _Scope, call: ast.Call, span: tuple[int, int], route: bool) -> None:
        helper = self._helper(call, scope.cls, scope.nested, scope.env)
        if helper is None:
            return
        target, owner = helper
        found = self._chain(target, owner, 1, {target.name})
        if found is None:
            return
        chain, line, hit = found
        rule = "ARCH118" if route else "ARCH115"
        detail = f"`{target.name}()` blocks: {' → '.join([scope.func.name, *chain])}."
        severity = _lowered(RULES_BY_ID[rule].severity, hit.kind.steps_down)
        self.findings.append(RawFinding(rule, call.lineno, span, detail, frozenset({line}), severity))

    # ---------------------------------------------------------------- helpers

    def _helper(
        self, call: ast.Call, cls: str | None, nested: Mapping[str, ast.FunctionDef], env: Mapping[str, str]
    ) -> tuple[ast.FunctionDef, str | None] | None:
        """The same-module sync function ``call`` runs, with the class it belongs to: a nested or module
        function, a ``self.``/``cls.`` method, or a method of an instance of a module class
        (``CLASSIFIER = Classifier()`` ... ``CLASSIFIER.reload()``)."""
        target: _Def | None = None
        owner = cls
        func = call.func
        if isinstance(func, ast.Name):
            target = nested.get(func.id)
            if target is None:
                target, owner = self.types.functions.get(func.id), None
        elif isinstance(func, ast.Attribute):
            if isinstance(func.value, ast.Name) and func.value.id in ("self", "cls") and cls is not None:
                target = self.types.method(cls, func.attr, set())
            else:
                instance = self.types.type_of(func.value, env) or ""
                if instance.startswith(INSTANCE):
                    owner = instance.removeprefix(INSTANCE)
                    target = self.types.method(owner, func.attr, set())
        if not isinstance(target, ast.FunctionDef):
            return None
        if any(not isinstance(d, ast.Name) or d.id not in _TRANSPARENT_DECORATORS for d in target.decorator_list):
            return None
        if id(target) not in self.generators:
            self.generators[id(target)] = any(isinstance(n, ast.Yield | ast.YieldFrom) for n in body_nodes(target))
        return None if self.generators[id(target)] else (target, owner)

    def _chain(
        self, func: ast.FunctionDef, cls: str | None, depth: int, seen: set[str]
    ) -> tuple[list[str], int, Hit] | None:
        """``([func, ..., what blocks], line of the blocking call, hit)`` when ``func`` blocks, itself or
        through its own helpers (memoised per helper)."""
        if id(func) not in self.memo:
            self.memo[id(func)] = self._scan(func, cls, depth, seen)
        return self.memo[id(func)]

    def _scan(
        self, func: ast.FunctionDef, cls: str | None, depth: int, seen: set[str]
    ) -> tuple[list[str], int, Hit] | None:
        env = self.types.function_env(func, self.types.env, cls)
        nested = _nested_defs(func)
        later: list[tuple[ast.FunctionDef, str | None]] = []
        for site in _sites(func.body):
            if isinstance(site.node, ast.withitem) and isinstance(site.stmt, ast.With):
                hit = self.types.with_hit(site.node, site.stmt, env)
                line = site.node.context_expr.lineno
            elif isinstance(site.node, ast.Call):
                hit = self.types.classify(site.node, env, site.ctx)
                line = site.node.lineno
                if hit is None and depth < MAX_DEPTH:
                    helper = self._helper(site.node, cls, nested, env)
                    if helper is not None and helper[0].name not in seen:
                        later.append(helper)
            else:
                continue
            # A helper taking a plain lock (a counter's, a cache's) holds it for microseconds: not reported.
            if hit is not None and hit.kind.name != "lock":
                return [func.name, hit.chain], line, hit
        for target, owner in later:
            rest = self._chain(target, owner, depth + 1, seen | {target.name})
            if rest is not None:
                return [func.name, *rest[0]], rest[1], rest[2]
        return None


def _nested_defs(func: _Def) -> dict[str, ast.FunctionDef]:
    return {s.name: s for s in own_statements(func.body) if isinstance(s, ast.FunctionDef) and s is not func}


def _coroutine_holders(body: list[ast.stmt], found: set[int]) -> bool:
    """Add to ``found`` every definition under ``body`` that holds an ``async def``; True if ``body`` has one."""
    any_here = False
    for stmt in own_statements(body):
        if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            inner = _coroutine_holders(stmt.body, found)
            if inner:
                found.add(id(stmt))
            any_here = any_here or inner or isinstance(stmt, ast.AsyncFunctionDef)
    return any_here


def check_blocking(view: ModuleView) -> list[RawFinding]:
    """ARCH107/108/109 and ARCH115/118 for every coroutine of the module."""
    if not any("async" in line for line in view.lines):
        return []
    holders: set[int] = set()
    if not _coroutine_holders(view.tree.body, holders):
        return []
    checker = _Checker(view, holders)
    checker.run(view.tree.body, checker.types.env, None, top=True)
    return checker.findings
