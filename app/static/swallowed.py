"""ARCH150: a broad exception handler after which the error is gone (pure module check).

A broad handler (``except:``, ``except Exception``, ``except BaseException``, or a tuple holding one
of them) is reported only when nothing of the failure survives: its body is ``pass``, ``...``,
``continue`` or a ``return`` of nothing, ``None``, a constant, an empty container or a default that
the ``try`` did not work on, with no call (no logging, metrics or error reporting), no ``raise`` and
no use of the caught exception. Handlers that log, re-raise, convert, store the error or fail
closed (``return False``) keep the error and are not reported, and neither are the fallbacks that
real code means:

- ``return raw`` after ``try: return json.loads(raw)``: the input itself is the intended fallback;
- ``pass`` after a ``try`` that returns or assigns a value which the code right after it checks or
  replaces (``try: path = find() / except Exception: pass / if not path: path = default``);
- ``continue`` in a retry loop that raises once the attempts are exhausted;
- ``pass`` around imports only (an optional dependency).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from app.static.checks import RawFinding
from app.static.module_view import ModuleView

RULE_ID = "ARCH150"
_BROAD = frozenset({"Exception", "BaseException", "builtins.Exception", "builtins.BaseException"})
_EMPTY_FACTORIES = frozenset({"dict", "list", "set", "tuple", "frozenset", "str", "bytes"})


def _name(expr: ast.expr) -> str:
    if isinstance(expr, ast.Name):
        return expr.id
    if isinstance(expr, ast.Attribute):
        return f"{_name(expr.value)}.{expr.attr}"
    return ""


def _is_broad(handler: ast.ExceptHandler) -> bool:
    kind = handler.type
    if kind is None:
        return True
    if isinstance(kind, ast.Tuple):
        return any(_name(elt) in _BROAD for elt in kind.elts)
    return _name(kind) in _BROAD


def _empty_value(expr: ast.expr) -> bool:
    """``None``, a constant other than ``False``, an empty container, or ``dict()``-like."""
    if isinstance(expr, ast.Constant):
        return expr.value is not False
    if isinstance(expr, ast.Dict):
        return not expr.keys
    if isinstance(expr, ast.List | ast.Tuple | ast.Set):
        return not expr.elts
    if isinstance(expr, ast.UnaryOp) and isinstance(expr.operand, ast.Constant):
        return True  # -1
    if isinstance(expr, ast.Call) and not expr.keywords:
        callee = _name(expr.func).rsplit(".", 1)[-1]
        # dict(), JSONResponse({}), Result(None): an empty value wrapped in a constructor
        factory = callee in _EMPTY_FACTORIES or callee[:1].isupper()
        return factory and all(_empty_value(arg) for arg in expr.args)
    return False


def _names_in(nodes: list[ast.stmt]) -> set[str]:
    return {n.id for stmt in nodes for n in ast.walk(stmt) if isinstance(n, ast.Name)}


def _assigned_in(nodes: list[ast.stmt]) -> set[str]:
    found: set[str] = set()
    for stmt in nodes:
        for node in ast.walk(stmt):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                found.add(node.id)
    return found


def _silent_kind(handler: ast.ExceptHandler, try_body: list[ast.stmt]) -> str | None:
    """How the handler drops the error ("pass", "continue", "return"), or None when it does not."""
    kinds: set[str] = set()
    for stmt in handler.body:
        if isinstance(stmt, ast.Pass) or (isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant)):
            kinds.add("pass")
        elif isinstance(stmt, ast.Continue):
            kinds.add("continue")
        elif isinstance(stmt, ast.Return):
            value = stmt.value
            if value is None or _empty_value(value):
                kinds.add("return")
            elif isinstance(value, ast.Name) and value.id != handler.name and value.id not in _names_in(try_body):
                kinds.add("return")  # a default the try did not work on
            else:
                return None
        else:
            return None
    for kind in ("return", "continue", "pass"):
        if kind in kinds:
            return kind
    return None


def _blocks(node: ast.AST) -> Iterator[list[ast.stmt]]:
    for field in ("body", "orelse", "finalbody"):
        block = getattr(node, field, None)
        if isinstance(block, list) and block and isinstance(block[0], ast.stmt):
            yield block
    for handler in getattr(node, "handlers", []):
        yield handler.body
    for case in getattr(node, "cases", []):
        yield case.body


def _intended_fallback(
    kind: str, stmt: ast.Try | ast.TryStar, after: list[ast.stmt], loop_after: list[ast.stmt] | None
) -> bool:
    if all(isinstance(s, ast.Import | ast.ImportFrom) for s in stmt.body):
        return True
    if kind == "pass" and after:
        if any(isinstance(n, ast.Return) for s in stmt.body for n in ast.walk(s)):
            return True  # try the fast path, fall through to the general one
        if _assigned_in(stmt.body) & _names_in(after):
            return True  # the code after checks or replaces what the try would have set
    if kind == "continue" and loop_after:
        return isinstance(loop_after[0], ast.Raise)  # retry, then give up loudly
    return False


def _walk(
    block: list[ast.stmt],
    loop_after: list[ast.stmt] | None,
    out: list[RawFinding],
    seen: set[int],
    outer_after: list[ast.stmt] | None = None,
) -> None:
    for index, stmt in enumerate(block):
        after = block[index + 1 :] + (outer_after or [])  # what runs next, out of enclosing blocks too
        if isinstance(stmt, ast.Try | ast.TryStar) and id(stmt) not in seen:
            seen.add(id(stmt))
            for handler in stmt.handlers:
                if not _is_broad(handler):
                    continue
                kind = _silent_kind(handler, stmt.body)
                if kind is None or _intended_fallback(kind, stmt, after, loop_after):
                    continue
                last = handler.body[-1]
                what = "bare `except:`" if handler.type is None else f"`except {ast.unparse(handler.type)}`"
                out.append(
                    RawFinding(
                        RULE_ID,
                        handler.lineno,
                        (handler.lineno, last.end_lineno or last.lineno),
                        f"This {what} ends in `{kind}` and keeps nothing of the error.",
                    )
                )
        if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            _walk(stmt.body, None, out, seen)
            continue
        is_loop = isinstance(stmt, ast.For | ast.AsyncFor | ast.While)
        inner_loop = after if is_loop else loop_after
        for inner in _blocks(stmt):
            _walk(inner, inner_loop, out, seen, None if is_loop else after)


def check_swallowed_errors(view: ModuleView) -> list[RawFinding]:
    """ARCH150 over one module."""
    found: list[RawFinding] = []
    _walk(view.tree.body, None, found, set())
    return found
