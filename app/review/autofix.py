"""Deterministic fixes for deterministic findings, produced by code where the fix is unambiguous.

Pure functions over the head revision's text. A fix rewrites exactly the one line a static finding
points at, and only when that line is one whole statement and the change is mechanical:

- ARCH105 (network call without a timeout): add ``timeout=10`` to the one ``requests``/``urlopen``
  call on the line that has none;
- ARCH107 (``time.sleep`` in ``async def``, also when ARCH109 reports it in a route):
  ``await asyncio.sleep(...)``;
- ARCH108/ARCH109 (blocking call in ``async def``): ``await asyncio.to_thread(func, args...)`` when the
  blocking call is the only call on the line and is the statement's whole value;
- ARCH111 (unsafe deserialisation): ``yaml.load(x[, Loader=...])`` -> ``yaml.safe_load(x)``, and
  ``torch.load(...)`` gains ``weights_only=True``;
- ARCH102 (task not kept): the task goes into the module's own set of background tasks, when the
  module has exactly one (a module-level ``set()`` whose name says it holds tasks).

The asyncio fixes need ``asyncio`` imported by the module (adding an import would touch a line
outside the finding's range) and the line inside an ``async def`` (a nested sync helper cannot
await). Every fix is verified afterwards like any suggestion (:mod:`app.review.suggestions`) and
marked ``deterministic``.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Mapping, Sequence

from app.review.models import Finding, Fix, Placement, Side, Source, SuggestionCheck

__all__ = ["FIXABLE_RULES", "add_deterministic_fixes", "fix_line"]

DEFAULT_TIMEOUT = "timeout=10"
_HTTP_FUNCS = {"get", "post", "put", "patch", "delete", "head", "options", "request"}
_YAML_LOADERS = {"Loader", "FullLoader", "UnsafeLoader", "BaseLoader", "SafeLoader", "CLoader", "CFullLoader"}


class _Module:
    """A parsed head file: its lines, statements by line, and what the module imports and defines."""

    def __init__(self, tree: ast.Module, lines: list[str]) -> None:
        self.tree = tree
        self.lines = lines
        self.imports_asyncio = any(
            isinstance(node, ast.Import) and any(a.name == "asyncio" and a.asname is None for a in node.names)
            for node in tree.body
        )
        self.task_sets = [name for name in _module_sets(tree) if "task" in name.lower()]

    def in_async_def(self, line: int) -> bool:
        """Is the innermost function around ``line`` an ``async def``? (``ast.parse`` accepts an
        ``await`` anywhere; only the compiler refuses it outside one, so the fix must not rely on it.)"""
        functions = [
            node
            for node in ast.walk(self.tree)
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
            and node.lineno <= line <= (node.end_lineno or node.lineno)
        ]
        innermost = max(functions, key=lambda node: node.lineno, default=None)
        return isinstance(innermost, ast.AsyncFunctionDef)

    def can_await(self, line: int) -> bool:
        return self.imports_asyncio and self.in_async_def(line)

    def statement_at(self, line: int) -> ast.stmt | None:
        """The simple statement that is exactly line ``line`` (starts and ends there), or None."""
        for node in ast.walk(self.tree):
            if isinstance(node, ast.stmt) and node.lineno == line and node.end_lineno == line:
                simple = (ast.Expr, ast.Assign, ast.AnnAssign, ast.AugAssign, ast.Return)
                return node if isinstance(node, simple) else None
        return None


def _module_sets(tree: ast.Module) -> list[str]:
    names: list[str] = []
    for node in tree.body:
        target: ast.expr | None = None
        value: ast.expr | None = None
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
        elif isinstance(node, ast.AnnAssign):
            target, value = node.target, node.value
        if (
            isinstance(target, ast.Name)
            and isinstance(value, ast.Call)
            and isinstance(value.func, ast.Name)
            and value.func.id == "set"
            and not value.args
        ):
            names.append(target.id)
    return names


def _dotted(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = _dotted(node.value)
        return f"{base}.{node.attr}" if base else None
    return None


def _segment(line: str, node: ast.expr) -> str:
    """Source of ``node`` on ``line`` (AST columns are UTF-8 byte offsets)."""
    raw = line.encode("utf-8")
    return raw[node.col_offset : node.end_col_offset].decode("utf-8")


def _replace(line: str, node: ast.expr, text: str) -> str:
    raw = line.encode("utf-8")
    end = node.end_col_offset or node.col_offset
    return (raw[: node.col_offset] + text.encode("utf-8") + raw[end:]).decode("utf-8")


def _with_keyword(line: str, call: ast.Call, keyword: str) -> str:
    """``call`` on ``line`` with ``keyword`` added as its last argument."""
    source = _segment(line, call)
    inner = source[: source.rfind(")")].rstrip()
    separator = ", " if call.args or call.keywords else ""
    separator = " " if separator and inner.endswith(",") else separator
    return _replace(line, call, f"{inner}{separator}{keyword})")


def _calls(node: ast.AST) -> list[ast.Call]:
    return [n for n in ast.walk(node) if isinstance(n, ast.Call)]


def _value(stmt: ast.stmt) -> ast.expr | None:
    if isinstance(stmt, (ast.Expr, ast.Assign, ast.AnnAssign, ast.AugAssign, ast.Return)):
        return stmt.value
    return None


def _no_kwargs_splat(call: ast.Call) -> bool:
    return all(k.arg is not None for k in call.keywords)


def _fix_timeout(module: _Module, stmt: ast.stmt, line: str) -> str | None:
    candidates = []
    for call in _calls(stmt):
        name = _dotted(call.func) or ""
        root, _, attr = name.rpartition(".")
        http = root in {"requests", "requests.api"} and attr in _HTTP_FUNCS
        has_timeout = any(k.arg == "timeout" for k in call.keywords)
        if (http or name.endswith("urlopen")) and _no_kwargs_splat(call) and not has_timeout:
            candidates.append(call)
    if len(candidates) != 1 or candidates[0].lineno != candidates[0].end_lineno:
        return None
    return _with_keyword(line, candidates[0], DEFAULT_TIMEOUT)


def _fix_sleep(module: _Module, stmt: ast.stmt, line: str) -> str | None:
    call = stmt.value if isinstance(stmt, ast.Expr) else None
    if not module.can_await(stmt.lineno) or not isinstance(call, ast.Call) or _dotted(call.func) != "time.sleep":
        return None
    return _replace(line, call, "await asyncio.sleep(" + _segment(line, call)[len(_segment(line, call.func)) + 1 :])


def _fix_to_thread(module: _Module, stmt: ast.stmt, line: str) -> str | None:
    value = _value(stmt)
    if not module.can_await(stmt.lineno) or not isinstance(value, ast.Call) or isinstance(stmt, ast.AugAssign):
        return None
    func = _dotted(value.func)
    if func == "time.sleep":
        return _fix_sleep(module, stmt, line)
    if func is None or func == "asyncio.to_thread" or len(_calls(value)) != 1:
        return None
    parts = [_segment(line, a) for a in value.args]
    parts += [(f"{k.arg}=" if k.arg else "**") + _segment(line, k.value) for k in value.keywords]
    return _replace(line, value, f"await asyncio.to_thread({', '.join([func, *parts])})")


def _fix_unsafe_load(module: _Module, stmt: ast.stmt, line: str) -> str | None:
    for call in _calls(stmt):
        name = _dotted(call.func)
        if name == "yaml.load" and len(call.args) == 1 and not isinstance(call.args[0], ast.Starred):
            loaders = [k for k in call.keywords if k.arg == "Loader"]
            if len(loaders) == len(call.keywords) and all(
                (_dotted(k.value) or "").rpartition(".")[2] in _YAML_LOADERS for k in loaders
            ):
                return _replace(line, call, f"yaml.safe_load({_segment(line, call.args[0])})")
        if name == "torch.load" and _no_kwargs_splat(call) and not any(k.arg == "weights_only" for k in call.keywords):
            return _with_keyword(line, call, "weights_only=True") if call.lineno == call.end_lineno else None
    return None


def _fix_task_kept(module: _Module, stmt: ast.stmt, line: str) -> str | None:
    call = stmt.value if isinstance(stmt, ast.Expr) else None
    if not isinstance(call, ast.Call) or _dotted(call.func) not in {"asyncio.create_task", "asyncio.ensure_future"}:
        return None
    if len(module.task_sets) != 1:
        return None  # no set to keep it in, or several: which one is a guess
    tasks = module.task_sets[0]
    indent = line[: len(line) - len(line.lstrip())]
    return (
        f"{indent}_task = {_segment(line, call)}\n{indent}{tasks}.add(_task)\n"
        f"{indent}_task.add_done_callback({tasks}.discard)"
    )


Fixer = Callable[[_Module, ast.stmt, str], str | None]
FIXERS: dict[str, Fixer] = {
    "ARCH102": _fix_task_kept,
    "ARCH105": _fix_timeout,
    "ARCH107": _fix_sleep,
    "ARCH108": _fix_to_thread,
    "ARCH109": _fix_to_thread,
    "ARCH111": _fix_unsafe_load,
}
FIXABLE_RULES: frozenset[str] = frozenset(FIXERS)


def _parse(text: str) -> _Module | None:
    try:
        return _Module(ast.parse(text), text.replace("\r\n", "\n").split("\n"))
    except (SyntaxError, ValueError, RecursionError):
        return None


def fix_line(rule_id: str, text: str, line: int) -> str | None:
    """The replacement for line ``line`` of ``text`` that fixes ``rule_id`` there, or None."""
    fixer = FIXERS.get(rule_id)
    module = _parse(text) if fixer is not None else None
    if fixer is None or module is None or not 1 <= line <= len(module.lines):
        return None
    stmt = module.statement_at(line)
    if stmt is None:
        return None
    fixed = fixer(module, stmt, module.lines[line - 1])
    return fixed if fixed is not None and fixed != module.lines[line - 1] else None


def add_deterministic_fixes(findings: Sequence[Finding], contents: Mapping[str, str | None]) -> list[Finding]:
    """Static findings on one inline RIGHT line, without a suggestion, get archbot's fix where one exists."""
    out: list[Finding] = []
    for finding in findings:
        text = contents.get(finding.path or "")
        eligible = (
            finding.source is Source.STATIC
            and finding.rule_id in FIXERS
            and finding.suggestion is None
            and finding.placement is Placement.INLINE
            and finding.side is Side.RIGHT
            and finding.line is not None
            and finding.start_line in (None, finding.line)
            and text is not None
        )
        fixed = fix_line(finding.rule_id or "", text or "", finding.line or 0) if eligible else None
        if fixed is None:
            out.append(finding)
            continue
        claim = Fix(
            start_line=finding.line, end_line=finding.line, check=SuggestionCheck.COMMITTABLE, deterministic=True
        )
        out.append(finding.model_copy(update={"suggestion": fixed, "start_line": None, "fix": claim}))
    return out
