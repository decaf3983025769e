"""Per-call values written into a library's module-level settings (ARCH119).

``openai.api_key = api_key`` inside a request handler or a per-user helper configures the whole
process: every thread and task shares the module, so two concurrent calls with different keys or
endpoints race and one call's request goes out with the other's credentials. Only writes whose value
comes from the function's own parameters are reported (a constant set once is configuration, not a
race); start-up and CLI functions (``main``, ``setup*``, ``configure*``, ``init*``) and the standard
library's modules are left alone.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterable

from app.static.checks import RawFinding
from app.static.facts import body_nodes, child_nodes, own_nodes, statement_span
from app.static.module_view import ModuleView

_STARTUP_PREFIXES = ("main", "setup", "set_up", "configure", "init_", "initialize", "bootstrap", "cli", "_main")
_STDLIB = frozenset(sys.stdlib_module_names)


def _module_aliases(nodes: Iterable[ast.AST]) -> dict[str, str]:
    """``import x`` / ``import x as y`` bindings among ``nodes`` (one scope's ``own_nodes``), stdlib excluded."""
    aliases: dict[str, str] = {}
    for node in nodes:
        if isinstance(node, ast.Import):
            for alias in node.names:
                top = alias.name.partition(".")[0]
                if top in _STDLIB:
                    continue
                aliases[alias.asname or top] = alias.name if alias.asname else top
    return aliases


def _names(expr: ast.expr) -> set[str]:
    return {n.id for n in own_nodes([expr]) if isinstance(n, ast.Name)}


def _parameters(func: ast.FunctionDef | ast.AsyncFunctionDef) -> set[str]:
    args = func.args
    every = [*args.posonlyargs, *args.args, *args.kwonlyargs]
    every += [a for a in (args.vararg, args.kwarg) if a is not None]
    return {a.arg for a in every} - {"self", "cls"}


def _in_main_guard(tree: ast.Module) -> set[ast.AST]:
    guarded: set[ast.AST] = set()
    for stmt in tree.body:
        if (
            isinstance(stmt, ast.If)
            and isinstance(stmt.test, ast.Compare)
            and isinstance(stmt.test.left, ast.Name)
            and stmt.test.left.id == "__name__"
        ):
            guarded.update(n for n in ast.walk(stmt) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef))
    return guarded


def _functions(tree: ast.Module) -> list[ast.FunctionDef | ast.AsyncFunctionDef]:
    found: list[ast.FunctionDef | ast.AsyncFunctionDef] = []
    stack: list[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            found.append(node)
        stack.extend(child for child in child_nodes(node) if isinstance(child, ast.stmt))
    return found


def _under_with(func: ast.FunctionDef | ast.AsyncFunctionDef) -> set[ast.AST]:
    """Statements inside a ``with`` block of ``func`` (a lock or a scoped override: left alone)."""
    inside: set[ast.AST] = set()
    for node in body_nodes(func):
        if isinstance(node, ast.With | ast.AsyncWith):
            inside.update(own_nodes(node.body))
    return inside


def _writes_module(node: ast.AST, local: dict[str, str]) -> bool:
    """``mod.attr = value`` with ``mod`` one of the ``local`` module aliases."""
    return isinstance(node, ast.Assign) and any(
        isinstance(t, ast.Attribute) and isinstance(t.value, ast.Name) and t.value.id in local for t in node.targets
    )


def _module_writes(
    func: ast.FunctionDef | ast.AsyncFunctionDef, body: list[ast.AST], local: dict[str, str]
) -> tuple[list[ast.Assign], list[ast.Assign]]:
    """``(per_call, every)``: assignments ``mod.attr = value`` in ``func``'s own scope (``body``, its
    ``own_nodes``) outside ``with`` blocks, in source order; ``per_call`` are those whose value comes
    from a parameter."""
    derived = _parameters(func)
    if not local or not derived or not any(_writes_module(n, local) for n in body):
        return [], []
    guarded = _under_with(func)
    per_call: list[ast.Assign] = []
    every: list[ast.Assign] = []
    statements = sorted(
        (n for n in body if isinstance(n, ast.Assign | ast.AnnAssign)),
        key=lambda n: (n.lineno, n.col_offset),
    )
    for stmt in statements:
        if stmt.value is None:
            continue
        uses = _names(stmt.value) & derived
        targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
        if uses:
            derived.update(t.id for t in targets if isinstance(t, ast.Name))
        if stmt in guarded or not isinstance(stmt, ast.Assign):
            continue
        if _writes_module(stmt, local):
            every.append(stmt)
            if uses:
                per_call.append(stmt)
    return per_call, every


def check_process_config(view: ModuleView) -> list[RawFinding]:
    """ARCH119 over one module: at most one finding per function, on its first per-call write."""
    tree = view.tree
    aliases = _module_aliases(body_nodes(tree))
    startup = _in_main_guard(tree)
    found: list[RawFinding] = []
    for func in _functions(tree):
        if func in startup or func.name.lower().lstrip("_").startswith(_STARTUP_PREFIXES):
            continue
        body = body_nodes(func)
        local = {**aliases, **_module_aliases(body)}
        writes, every = _module_writes(func, body, local)
        if not writes:
            continue
        first = writes[0]
        target = next(t for t in first.targets if isinstance(t, ast.Attribute))
        alias = target.value.id if isinstance(target.value, ast.Name) else ""
        module = local.get(alias, alias)
        attrs = sorted({t.attr for w in every for t in w.targets if isinstance(t, ast.Attribute)})
        shown = ", ".join(f"`{module}.{a}`" for a in attrs[:4])
        detail = (
            f"`{func.name}` sets {shown} on each call, from its arguments; the `{module}` module is shared by "
            "every thread and task of the process, so concurrent calls overwrite each other's value."
        )
        span = statement_span(first, first.lineno, first.end_lineno or first.lineno)
        extra = frozenset(w.lineno for w in every if w is not first)
        found.append(RawFinding("ARCH119", first.lineno, span, detail, extra))
    return found
