"""Blocking through calls (ARCH115/ARCH118): an ``async def`` calling a sync helper of the same module
(module function, nested function, or ``self.``/``cls.`` method) that blocks, up to three calls deep.

The finding is placed on the call site in the coroutine; its detail names the chain
(``handler → get_secret → boto3 client.get_secret_value``). Offloaded calls (``asyncio.to_thread(f)``,
``run_in_executor(None, f)``) pass the helper without calling it, so they are never seen as calls.
"""

from __future__ import annotations

import ast

from app.static.checks import RawFinding
from app.static.facts import dotted, own_nodes, resolve, root_name, statement_span
from app.static.module_view import ModuleView
from app.static.names import BLOCKING_CALLS, ROUTE_DECORATORS, SYNC_CLIENT_METHODS, SYNC_CLIENTS

MAX_DEPTH = 3
_PATH_IO = frozenset({"read_text", "read_bytes", "write_text", "write_bytes"})
_TRANSPARENT_DECORATORS = frozenset({"staticmethod", "classmethod"})
_Def = ast.FunctionDef | ast.AsyncFunctionDef


def _is_test_path(path: str) -> bool:
    name = path.rsplit("/", 1)[-1]
    parts = path.split("/")
    return "tests" in parts[:-1] or name.startswith("test_") or name.endswith("_test.py") or name == "conftest.py"


class _Module:
    """Module-wide tables: aliases, top-level sync functions, class methods, sync clients by name."""

    def __init__(self, tree: ast.Module, path: str) -> None:
        self.aliases: dict[str, str] = {}
        top = [s for stmt in tree.body for s in ([stmt, *stmt.body] if isinstance(stmt, ast.If | ast.Try) else [stmt])]
        for node in top:
            if isinstance(node, ast.Import):
                for alias in node.names:
                    self.aliases[alias.asname or alias.name.partition(".")[0]] = (
                        alias.name if alias.asname else alias.name.partition(".")[0]
                    )
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                for alias in node.names:
                    self.aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"
        self.functions: dict[str, _Def] = {}
        self.methods: dict[str, dict[str, _Def]] = {}
        self.clients: dict[str, str] = {}
        self.in_tests = _is_test_path(path)
        self.direct_memo: dict[int, tuple[ast.Call, str] | None] = {}
        for stmt in tree.body:
            if isinstance(stmt, _Def):
                self.functions[stmt.name] = stmt
            elif isinstance(stmt, ast.ClassDef):
                self.methods[stmt.name] = {s.name: s for s in stmt.body if isinstance(s, _Def)}
            self._bind(stmt, "")
        for stmt in tree.body:
            if isinstance(stmt, ast.ClassDef):
                for sub in ast.walk(stmt):
                    if isinstance(sub, ast.Assign) and isinstance(sub.value, ast.Call):
                        for target in sub.targets:
                            if (
                                isinstance(target, ast.Attribute)
                                and isinstance(target.value, ast.Name)
                                and target.value.id in ("self", "cls")
                            ):
                                self._client(f"self.{target.attr}", sub.value)
        self.returns_client: dict[str, str] = {}
        for name, func in self.functions.items():
            for sub in _stmts(func.body):
                if isinstance(sub, ast.Return) and isinstance(sub.value, ast.Call):
                    ctor = resolve(self.aliases, sub.value.func) or ""
                    if ctor in SYNC_CLIENTS:
                        self.returns_client[name] = ctor

    def _bind(self, stmt: ast.stmt, prefix: str) -> None:
        if isinstance(stmt, ast.Assign) and isinstance(stmt.value, ast.Call):
            for target in stmt.targets:
                if isinstance(target, ast.Name):
                    self._client(prefix + target.id, stmt.value)

    def _client(self, key: str, value: ast.Call) -> None:
        ctor = resolve(self.aliases, value.func) or ""
        if ctor in SYNC_CLIENTS:
            self.clients[key] = ctor


def _local_clients(mod: _Module, func: _Def) -> dict[str, str]:
    found = dict(mod.clients)
    for sub in own_nodes(func.body):
        value: ast.expr | None = None
        names: list[str] = []
        if isinstance(sub, ast.Assign):
            value, names = sub.value, [t.id for t in sub.targets if isinstance(t, ast.Name)]
        elif isinstance(sub, ast.withitem) and isinstance(sub.optional_vars, ast.Name):
            value, names = sub.context_expr, [sub.optional_vars.id]
        if not isinstance(value, ast.Call) or not names:
            continue
        kind = _client_kind(mod, value, found)
        if kind is not None:
            for name in names:
                found[name] = kind
    return found


def _client_kind(mod: _Module, expr: ast.expr, clients: dict[str, str]) -> str | None:
    """The sync client type ``expr`` evaluates to (a constructor, a known name, a method of one)."""
    if isinstance(expr, ast.Call):
        ctor = resolve(mod.aliases, expr.func) or ""
        if ctor in SYNC_CLIENTS:
            return ctor
        if isinstance(expr.func, ast.Name) and expr.func.id in mod.returns_client:
            return mod.returns_client[expr.func.id]
        if isinstance(expr.func, ast.Attribute):
            return _client_kind(mod, expr.func.value, clients)
        return None
    key = dotted(expr)
    return clients.get(key) if key is not None else None


def _direct(mod: _Module, func: _Def) -> tuple[ast.Call, str] | None:
    """The first blocking call made in ``func``'s own body, with a short description (memoised)."""
    key = id(func)
    if key not in mod.direct_memo:
        mod.direct_memo[key] = _first_blocking(mod, func)
    return mod.direct_memo[key]


def _first_blocking(mod: _Module, func: _Def) -> tuple[ast.Call, str] | None:
    clients = _local_clients(mod, func)
    calls = sorted(
        (sub for sub in own_nodes(func.body) if isinstance(sub, ast.Call)), key=lambda c: (c.lineno, c.col_offset)
    )
    for call in calls:
        callee = resolve(mod.aliases, call.func) or ""
        if callee in BLOCKING_CALLS:
            if mod.in_tests and (callee == "time.sleep" or "file" in BLOCKING_CALLS[callee]):
                continue
            return call, f"`{callee}`"
        if not isinstance(call.func, ast.Attribute):
            continue
        attr, receiver = call.func.attr, call.func.value
        if (
            attr in _PATH_IO
            and isinstance(receiver, ast.Call)
            and not mod.in_tests
            and (resolve(mod.aliases, receiver.func) or "") in ("pathlib.Path", "Path")
        ):
            return call, f"`Path.{attr}()`"
        kind = _client_kind(mod, receiver, clients)
        if kind is None:
            root = root_name(receiver)
            kind = clients.get(root.id) if root is not None else None
        if kind is not None and (attr in SYNC_CLIENT_METHODS or kind in ("boto3.client", "boto3.resource")):
            return call, f"{kind.split('.')[0]} client.{attr}"
    return None


def _helper(mod: _Module, call: ast.Call, cls: str | None, nested: dict[str, _Def]) -> _Def | None:
    target: _Def | None = None
    if isinstance(call.func, ast.Name):
        target = nested.get(call.func.id) or mod.functions.get(call.func.id)
    elif (
        isinstance(call.func, ast.Attribute)
        and isinstance(call.func.value, ast.Name)
        and call.func.value.id in ("self", "cls")
        and cls is not None
    ):
        target = mod.methods.get(cls, {}).get(call.func.attr)
    if not isinstance(target, ast.FunctionDef):
        return None
    if any(_decorator_name(dec) not in _TRANSPARENT_DECORATORS for dec in target.decorator_list):
        return None
    if any(isinstance(sub, ast.Yield | ast.YieldFrom) for sub in own_nodes(target.body)):
        return None
    return target


def _decorator_name(dec: ast.expr) -> str:
    return dec.id if isinstance(dec, ast.Name) else ""


def _stmts(body: list[ast.stmt]) -> list[ast.stmt]:
    """Every statement of the same scope under ``body`` (nested defs themselves, not their bodies)."""
    found: list[ast.stmt] = []
    stack = list(body)
    while stack:
        stmt = stack.pop()
        found.append(stmt)
        if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            continue
        for field in ("body", "orelse", "finalbody", "handlers", "cases"):
            inner = getattr(stmt, field, None)
            if isinstance(inner, list):
                for item in inner:
                    if isinstance(item, ast.stmt):
                        stack.append(item)
                    elif isinstance(item, ast.ExceptHandler | ast.match_case):
                        stack.extend(item.body)
    return found


def _nested_defs(func: _Def) -> dict[str, _Def]:
    return {stmt.name: stmt for stmt in _stmts(func.body) if isinstance(stmt, _Def)}


def _chain(mod: _Module, func: ast.FunctionDef, cls: str | None, depth: int, seen: set[str]) -> list[str] | None:
    """``[func, ..., what blocks]`` when ``func`` blocks directly or through its own helpers."""
    direct = _direct(mod, func)
    if direct is not None:
        return [func.name, direct[1]]
    if depth >= MAX_DEPTH:
        return None
    nested = _nested_defs(func)
    for sub in own_nodes(func.body):
        if isinstance(sub, ast.Call):
            target = _helper(mod, sub, cls, nested)
            if target is not None and target.name not in seen and isinstance(target, ast.FunctionDef):
                rest = _chain(mod, target, cls, depth + 1, seen | {target.name})
                if rest is not None:
                    return [func.name, *rest]
    return None


def _is_route(func: _Def) -> bool:
    return any(
        isinstance(dec, ast.Call) and isinstance(dec.func, ast.Attribute) and dec.func.attr in ROUTE_DECORATORS
        for dec in func.decorator_list
    )


def _statement_of(func: _Def, call: ast.Call) -> tuple[int, int]:
    best: ast.stmt | None = None
    for stmt in own_nodes(func.body):
        if (
            isinstance(stmt, ast.stmt)
            and stmt.lineno <= call.lineno <= (stmt.end_lineno or stmt.lineno)
            and (best is None or stmt.lineno >= best.lineno)
        ):
            best = stmt
    if best is None:
        return call.lineno, call.end_lineno or call.lineno
    return statement_span(best, call.lineno, call.end_lineno or call.lineno)


def _async_defs(tree: ast.Module) -> list[tuple[ast.AsyncFunctionDef, str | None]]:
    found: list[tuple[ast.AsyncFunctionDef, str | None]] = []
    for stmt in tree.body:
        if isinstance(stmt, ast.AsyncFunctionDef):
            found.append((stmt, None))
        elif isinstance(stmt, ast.ClassDef):
            found.extend((sub, stmt.name) for sub in stmt.body if isinstance(sub, ast.AsyncFunctionDef))
    return found


def check_blocking_helpers(view: ModuleView) -> list[RawFinding]:
    """ARCH115 (ARCH118 in an async route): a sync helper that blocks, called on the event loop."""
    async_defs = _async_defs(view.tree)
    if not async_defs:
        return []
    mod = _Module(view.tree, view.path)
    findings: list[RawFinding] = []
    for func, cls in async_defs:
        nested = _nested_defs(func)
        nodes = list(own_nodes(func.body))
        awaited = {id(sub.value) for sub in nodes if isinstance(sub, ast.Await)}
        for sub in nodes:
            if not isinstance(sub, ast.Call) or id(sub) in awaited:
                continue
            target = _helper(mod, sub, cls, nested)
            if target is None or not isinstance(target, ast.FunctionDef):
                continue
            chain = _chain(mod, target, cls, 1, {target.name})
            if chain is None:
                continue
            blocking = _direct_line(mod, target, cls)
            detail = f"`{target.name}()` blocks: {' → '.join([func.name, *chain])}."
            extra = frozenset({blocking}) if blocking else frozenset()
            rule = "ARCH118" if _is_route(func) else "ARCH115"
            findings.append(RawFinding(rule, sub.lineno, _statement_of(func, sub), detail, extra))
    return findings


def _direct_line(mod: _Module, func: ast.FunctionDef, cls: str | None) -> int | None:
    """The line of the blocking call in the helper itself (a change there makes the call site relevant)."""
    direct = _direct(mod, func)
    return direct[0].lineno if direct is not None else None
