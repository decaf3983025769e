"""A lock or semaphore released only on the success path (ARCH130).

``await sem.acquire()`` … ``sem.release()`` as two statements of one block, with calls or awaits in
between and no ``try/finally``: any exception (a model error, a cancelled request, a timeout) skips
the release, the permit is gone for good, and after as many failures as the semaphore has permits the
service hangs. The same holds for ``lock.acquire()``/``lock.release()`` and for module helpers named
``acquire_x()``/``release_x()`` that wrap them. ``async with sem:`` (or ``try/finally``) is the fix.
"""

from __future__ import annotations

import ast

from app.static.checks import RawFinding
from app.static.facts import child_nodes, dotted, own_nodes, statement_span
from app.static.module_view import ModuleView


def _call_of(stmt: ast.stmt) -> ast.Call | None:
    """The call a bare expression statement makes (``f()`` or ``await f()``)."""
    if not isinstance(stmt, ast.Expr):
        return None
    value = stmt.value.value if isinstance(stmt.value, ast.Await) else stmt.value
    return value if isinstance(value, ast.Call) else None


def _lock_key(stmt: ast.stmt, verb: str) -> str | None:
    """What ``stmt`` acquires or releases (``verb``): ``x.y`` for ``x.y.acquire()``, ``helper:x`` for
    ``acquire_x()``; None when it does neither (``acquire(blocking=False)`` tested in an ``if`` is not
    a bare statement, so it never matches)."""
    call = _call_of(stmt)
    if call is None:
        return None
    func = call.func
    if isinstance(func, ast.Attribute) and func.attr == verb:
        return dotted(func.value)
    name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
    if name.startswith(verb + "_") and len(name) > len(verb) + 1:
        return "helper:" + name[len(verb) + 1 :]
    return None


def _may_raise(stmts: list[ast.stmt]) -> bool:
    return any(isinstance(n, ast.Call | ast.Await | ast.Raise) for n in own_nodes(stmts))


def _releases_in(stmts: list[ast.stmt], key: str) -> bool:
    return any(isinstance(n, ast.stmt) and _lock_key(n, "release") == key for n in own_nodes(stmts))


def _guarded(between: list[ast.stmt], key: str) -> bool:
    """A ``try`` between acquire and release whose handlers or ``finally`` release too."""
    for stmt in between:
        if isinstance(stmt, ast.Try | ast.TryStar):
            handlers = [s for h in stmt.handlers for s in h.body]
            if _releases_in([*handlers, *stmt.finalbody], key):
                return True
    return False


def _check_block(body: list[ast.stmt], found: list[RawFinding]) -> None:
    for index, stmt in enumerate(body):
        key = _lock_key(stmt, "acquire")
        if key is None:
            continue
        for later in range(index + 1, len(body)):
            if _lock_key(body[later], "release") != key:
                continue
            between = body[index + 1 : later]
            if between and _may_raise(between) and not _guarded(between, key):
                release = body[later]
                what = key.removeprefix("helper:")
                detail = (
                    f"`{what}` is acquired here and released on line {release.lineno} only if nothing in "
                    "between raises: an exception or a cancellation skips the release and the permit is lost."
                )
                span = statement_span(stmt, stmt.lineno, stmt.end_lineno or stmt.lineno)
                found.append(RawFinding("ARCH130", stmt.lineno, span, detail, frozenset({release.lineno})))
            break


def check_release(view: ModuleView) -> list[RawFinding]:
    """ARCH130 over one module: every statement block of every function."""
    found: list[RawFinding] = []
    stack: list[ast.AST] = [view.tree]
    while stack:
        node = stack.pop()
        for field in ("body", "orelse", "finalbody"):
            block = getattr(node, field, None)
            if isinstance(block, list) and block and isinstance(block[0], ast.stmt):
                _check_block(block, found)
        stack.extend(child for child in child_nodes(node) if isinstance(child, ast.stmt | ast.ExceptHandler))
    return found
