"""Shared-state checks: a per-instance lock guarding process-wide state (ARCH116), and a collection
changed while a ``for`` loop iterates over it (ARCH117)."""

from __future__ import annotations

import ast

from app.static.checks import RawFinding
from app.static.facts import child_nodes, dotted, own_nodes, resolve, statement_span
from app.static.module_view import ModuleView
from app.static.names import ASYNC_LOCK_CTORS, THREAD_LOCK_CTORS

_COPIES = frozenset({"list", "tuple", "sorted", "dict", "set", "frozenset", "reversed", "copy.copy", "copy.deepcopy"})
_VIEW_METHODS = frozenset({"keys", "items", "values"})
_SHRINKING = frozenset({"remove", "pop", "discard", "popitem", "clear", "add", "update", "setdefault"})
_PROCESS_CALLS = frozenset({"os.chdir", "os.putenv", "os.unsetenv", "signal.signal", "logging.basicConfig"})


def _aliases(tree: ast.Module) -> dict[str, str]:
    aliases: dict[str, str] = {}
    for node in tree.body:
        if isinstance(node, ast.Import):
            for alias in node.names:
                aliases[alias.asname or alias.name.partition(".")[0]] = (
                    alias.name if alias.asname else alias.name.partition(".")[0]
                )
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    return aliases


def _module_state(tree: ast.Module) -> set[str]:
    names: set[str] = set()
    for stmt in tree.body:
        targets = (
            stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target] if isinstance(stmt, ast.AnnAssign) else []
        )
        value = stmt.value if isinstance(stmt, ast.Assign | ast.AnnAssign) else None
        if isinstance(value, ast.Dict | ast.List | ast.Set) or (
            isinstance(value, ast.Call)
            and isinstance(value.func, ast.Name)
            and value.func.id in ("dict", "list", "set")
        ):
            names.update(t.id for t in targets if isinstance(t, ast.Name))
    return names


def _key(expr: ast.expr) -> str | None:
    return dotted(expr)


def _span(stmt: ast.stmt) -> tuple[int, int]:
    return statement_span(stmt, stmt.lineno, stmt.end_lineno or stmt.lineno)


def _instance_locks(cls: ast.ClassDef, aliases: dict[str, str]) -> set[str]:
    locks: set[str] = set()
    for stmt in cls.body:
        if isinstance(stmt, ast.FunctionDef) and stmt.name == "__init__":
            for sub in own_nodes(stmt.body):
                if isinstance(sub, ast.Assign) and isinstance(sub.value, ast.Call):
                    ctor = resolve(aliases, sub.value.func) or ""
                    if ctor in THREAD_LOCK_CTORS or ctor in ASYNC_LOCK_CTORS:
                        locks.update(
                            t.attr
                            for t in sub.targets
                            if isinstance(t, ast.Attribute) and isinstance(t.value, ast.Name) and t.value.id == "self"
                        )
    return locks


def _process_write(stmt: ast.stmt, aliases: dict[str, str], state: set[str]) -> str | None:
    """What process-wide state ``stmt`` writes, if any."""
    targets: list[ast.expr] = []
    if isinstance(stmt, ast.Assign):
        targets = stmt.targets
    elif isinstance(stmt, ast.AugAssign | ast.AnnAssign):
        targets = [stmt.target]
    elif isinstance(stmt, ast.Delete):
        targets = stmt.targets
    for target in targets:
        if isinstance(target, ast.Subscript):
            base = resolve(aliases, target.value) or ""
            if base == "os.environ":
                return "`os.environ`"
            if isinstance(target.value, ast.Name) and target.value.id in state:
                return f"module-level `{target.value.id}`"
    if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call):
        call = stmt.value
        callee = resolve(aliases, call.func) or ""
        if callee in _PROCESS_CALLS:
            return f"`{callee}`"
        if isinstance(call.func, ast.Attribute):
            owner = resolve(aliases, call.func.value) or ""
            if owner in ("os.environ", "sys.path", "sys.modules"):
                return f"`{owner}`"
            if isinstance(call.func.value, ast.Name) and call.func.value.id in state:
                return f"module-level `{call.func.value.id}`"
    return None


def _check_instance_locks(tree: ast.Module, aliases: dict[str, str]) -> list[RawFinding]:
    state = _module_state(tree)
    found: list[RawFinding] = []
    for cls in (stmt for stmt in tree.body if isinstance(stmt, ast.ClassDef)):
        locks = _instance_locks(cls, aliases)
        if not locks:
            continue
        for node in ast.walk(cls):
            if not isinstance(node, ast.With | ast.AsyncWith):
                continue
            held = [
                item.context_expr.attr
                for item in node.items
                if isinstance(item.context_expr, ast.Attribute)
                and isinstance(item.context_expr.value, ast.Name)
                and item.context_expr.value.id == "self"
                and item.context_expr.attr in locks
            ]
            if not held:
                continue
            for stmt in node.body:
                what = _process_write(stmt, aliases, state)
                if what is not None:
                    detail = (
                        f"`self.{held[0]}` is created per instance in `__init__`, but this writes {what}, "
                        "which every instance shares."
                    )
                    found.append(RawFinding("ARCH116", stmt.lineno, _span(stmt), detail, frozenset({node.lineno})))
                    break
    return found


def _iterated(loop: ast.For, aliases: dict[str, str]) -> tuple[str, str] | None:
    """``(name, how)`` of the collection a loop iterates directly (not over a copy)."""
    it = loop.iter
    if isinstance(it, ast.Call):
        if isinstance(it.func, ast.Attribute) and it.func.attr in _VIEW_METHODS and not it.args:
            it = it.func.value
        elif isinstance(it.func, ast.Name) and it.func.id == "enumerate" and len(it.args) == 1:
            it = it.args[0]
        else:
            return None
    if isinstance(it, ast.Name | ast.Attribute):
        key = _key(it)
        return (key, "dict" if loop.iter is not it else "any") if key is not None else None
    return None


def _breaks_after(body: list[ast.stmt], index: int) -> bool:
    rest = body[index + 1 :]
    return bool(rest) and isinstance(rest[0], ast.Break | ast.Return | ast.Raise)


def _mutations(body: list[ast.stmt], key: str) -> list[ast.stmt]:
    """Statements in ``body`` (nested blocks included, not nested loops' own breaks) that resize ``key``."""
    found: list[ast.stmt] = []
    for index, stmt in enumerate(body):
        if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            continue
        resized = False
        if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call):
            func = stmt.value.func
            if isinstance(func, ast.Attribute) and func.attr in _SHRINKING and _key(func.value) == key:
                resized = True
        elif isinstance(stmt, ast.Delete):
            resized = any(isinstance(t, ast.Subscript) and _key(t.value) == key for t in stmt.targets)
        elif isinstance(stmt, ast.Assign) and isinstance(stmt.value, ast.Call):
            func = stmt.value.func
            resized = isinstance(func, ast.Attribute) and func.attr in ("pop", "popitem") and _key(func.value) == key
        if resized and not _breaks_after(body, index):
            found.append(stmt)
        for field in ("body", "orelse", "finalbody"):
            inner = getattr(stmt, field, None)
            if isinstance(inner, list) and not isinstance(stmt, ast.For | ast.While):
                found.extend(_mutations(inner, key))
        if isinstance(stmt, ast.Try):
            for handler in stmt.handlers:
                found.extend(_mutations(handler.body, key))
    return found


def _new_key_writes(loop: ast.For, key: str) -> list[ast.stmt]:
    """``d[k2] = v`` in a loop over a dict where ``k2`` is not the loop's own key: the dict can grow."""
    loop_names = {n.id for n in ast.walk(loop.target) if isinstance(n, ast.Name)}
    found: list[ast.stmt] = []
    for stmt in ast.walk(loop):
        if isinstance(stmt, ast.Assign):
            for target in stmt.targets:
                if isinstance(target, ast.Subscript) and _key(target.value) == key:
                    index = target.slice
                    if not (isinstance(index, ast.Name) and index.id in loop_names):
                        found.append(stmt)
    return found


def _check_iteration(tree: ast.Module, aliases: dict[str, str]) -> list[RawFinding]:
    found: list[RawFinding] = []
    stack: list[ast.AST] = [tree]
    loops: list[ast.For] = []
    while stack:
        node = stack.pop()
        if isinstance(node, ast.For):
            loops.append(node)
        if isinstance(node, ast.stmt | ast.Module | ast.ExceptHandler):
            stack.extend(child for child in child_nodes(node) if isinstance(child, ast.stmt | ast.ExceptHandler))
    for loop in loops:
        iterated = _iterated(loop, aliases)
        if iterated is None:
            continue
        key, _how = iterated
        hits = _mutations(loop.body, key)
        if (
            isinstance(loop.iter, ast.Call)
            and isinstance(loop.iter.func, ast.Attribute)
            and loop.iter.func.attr == "items"
        ):
            hits += [s for s in _new_key_writes(loop, key) if s not in hits]
        for stmt in hits:
            detail = f"The loop on line {loop.lineno} iterates over `{key}` itself while this changes its size."
            found.append(RawFinding("ARCH117", stmt.lineno, _span(stmt), detail, frozenset({loop.lineno})))
    return found


def check_state(view: ModuleView) -> list[RawFinding]:
    """ARCH116 and ARCH117 over one module."""
    aliases = _aliases(view.tree)
    return _check_instance_locks(view.tree, aliases) + _check_iteration(view.tree, aliases)
