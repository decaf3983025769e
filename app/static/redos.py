"""ReDoS checks: catastrophic constant regular expressions (ARCH142) and patterns built from request data (ARCH144).

ARCH142 reads a constant pattern with the stdlib's own regex parser (``re._parser`` on 3.11+,
``sre_parse`` before) and flags a repeat whose body can match one run of characters in many ways:
``(a+)+``, ``(\\w+\\s?)*``, ``(.*a){20}`` (every other required piece of the body is covered by the
inner repeat's characters), ``(a|aa?)*`` (one character matched in runs of two lengths) and ``(.|\\s)*``
(alternatives that match the same character) -- but only when something after the repeat can fail (``$``, a
literal, ``fullmatch``) or the repeat needs several iterations, since only then is it backtracked into.
Patterns the parser rejects, or that need anything else to be slow, are left alone: precision before recall.

ARCH144 is deliberately local: the pattern argument of an ``re``/``regex`` call contains a parameter of a
route handler or a ``request.*`` value of the same function (directly or through a local assigned from
one), and is not wrapped in ``re.escape``.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from typing import Any

from app.static.checks import RawFinding
from app.static.facts import child_nodes, dotted, statement_span
from app.static.module_view import ModuleView
from app.static.names import ROUTE_DECORATORS

_sre_parse: Any
_sre_const: Any
try:  # the parser is private; on an interpreter without it ARCH142 simply finds nothing
    import re._constants as _sre_const  # type: ignore[import-not-found,no-redef,unused-ignore]
    import re._parser as _sre_parse  # type: ignore[import-not-found,no-redef,unused-ignore]
except ImportError:  # pragma: no cover - Python < 3.11
    _sre_parse = _sre_const = None


def _words(names: str) -> frozenset[str]:
    return frozenset(names.split())


__all__ = ["check_redos", "nested_quantifier"]

REGEX_MODULES = ("re", "regex")
REGEX_FUNCS = _words("compile match search fullmatch sub subn split findall finditer")
MAX_PATTERN_CHARS = 2_000
_BIG_REPEAT = 5  # an outer `{m,n}` with n below this is not worth a finding
# Characters a pattern piece is tested against: ASCII and a few others, enough to compare classes.
_UNIVERSE: tuple[int, ...] = (*range(128), 0xA0, 0xE9, 0x3B1, 0x4E00, 0x2028)
REQUEST_ATTRS = _words(
    "args form values json data GET POST query query_params path_params match_info cookies headers "
    "files get_json body content params rel_url"
)
REQUEST_TYPES = _words("Request HttpRequest WebSocket")
_NOT_INPUT_PARAMS = _words("self cls")


# ------------------------------------------------------------------ constant patterns (ARCH142)


def _charset(op: Any, av: Any) -> frozenset[int] | None:
    """The universe characters one single-character parser item matches, or None if it is not one."""
    c = _sre_const
    if c is None:  # pragma: no cover
        return None
    if op is c.LITERAL:
        return frozenset({av})
    if op is c.NOT_LITERAL:
        return frozenset(ch for ch in _UNIVERSE if ch != av)
    if op is c.ANY:
        return frozenset(ch for ch in _UNIVERSE if ch != 10)
    if op is c.IN:
        negate = False
        chars: set[int] = set()
        for sub_op, sub_av in av:
            if sub_op is c.NEGATE:
                negate = True
            elif sub_op is c.LITERAL:
                chars.add(sub_av)
            elif sub_op is c.RANGE:
                chars.update(ch for ch in _UNIVERSE if sub_av[0] <= ch <= sub_av[1])
            elif sub_op is c.CATEGORY:
                chars.update(ch for ch in _UNIVERSE if _in_category(sub_av, ch))
            else:
                return None
        if negate:
            return frozenset(ch for ch in _UNIVERSE if ch not in chars)
        return frozenset(chars)
    return None


def _in_category(category: Any, ch: int) -> bool:
    c = _sre_const
    char = chr(ch)
    table = {
        c.CATEGORY_DIGIT: char.isdigit(),
        c.CATEGORY_NOT_DIGIT: not char.isdigit(),
        c.CATEGORY_SPACE: char.isspace(),
        c.CATEGORY_NOT_SPACE: not char.isspace(),
        c.CATEGORY_WORD: char.isalnum() or char == "_",
        c.CATEGORY_NOT_WORD: not (char.isalnum() or char == "_"),
    }
    return table.get(category, False)


def _is_repeat(op: Any) -> bool:
    c = _sre_const
    return c is not None and op in (c.MAX_REPEAT, c.MIN_REPEAT, getattr(c, "POSSESSIVE_REPEAT", None))


def _can_be_empty(op: Any, av: Any) -> bool:
    c = _sre_const
    if _is_repeat(op):
        return bool(av[0] == 0) or all(_can_be_empty(o, a) for o, a in av[2])
    if op is c.SUBPATTERN:
        return all(_can_be_empty(o, a) for o, a in av[-1])
    if op is c.BRANCH:
        return any(all(_can_be_empty(o, a) for o, a in branch) for branch in av[1])
    return op in (c.AT, c.ASSERT, c.ASSERT_NOT)


def _flatten(items: list[tuple[Any, Any]]) -> list[tuple[Any, Any]]:
    """The body's sequence with plain groups opened: ``((a+)(b?))`` reads as ``a+ b?``."""
    c = _sre_const
    out: list[tuple[Any, Any]] = []
    for op, av in items:
        if op is c.SUBPATTERN:
            out.extend(_flatten(list(av[-1])))
        else:
            out.append((op, av))
    return out


def _single_set(op: Any, av: Any) -> frozenset[int] | None:
    """A single-character item's set; a repeat of one (``a+``, ``[ab]{2}``) counts as its character's set."""
    if _is_repeat(op) and len(av[2]) == 1:
        return _single_set(*_flatten(list(av[2]))[0]) if len(_flatten(list(av[2]))) == 1 else None
    return _charset(op, av)


def _one_char(branch: list[tuple[Any, Any]]) -> frozenset[int] | None:
    """The characters an alternative matches as a one-character string (``aa?`` matches ``a``), if any."""
    seq = _flatten(branch)
    required = [(op, av) for op, av in seq if not _can_be_empty(op, av)]
    if len(required) > 1:
        return None
    if not required:
        sets = [_single_set(op, av) for op, av in seq if _is_repeat(op) and av[1] >= 1]
        return sets[0] if len(seq) == 1 and sets else None
    op, av = required[0]
    if _is_repeat(op) and av[0] > 1:
        return None
    return _single_set(op, av)


_LENGTH_CAP = 4


def _x_lengths(seq: list[tuple[Any, Any]], x: int) -> frozenset[int] | None:
    """Lengths (capped) of the strings made only of character ``x`` that ``seq`` matches; None if none."""
    c = _sre_const
    total: frozenset[int] = frozenset({0})
    for op, av in seq:
        piece: set[int] | frozenset[int] | None
        if op is c.BRANCH:
            options = [_x_lengths(_flatten(list(branch)), x) for branch in av[1]]
            found = [o for o in options if o is not None]
            piece = frozenset().union(*found) if found else None
        elif op in (c.AT, c.ASSERT, c.ASSERT_NOT):
            piece = {0}
        else:
            chars = _single_set(op, av)
            if chars is None:
                return None
            low, high = (av[0], av[1]) if _is_repeat(op) else (1, 1)
            if x in chars:
                piece = set(range(min(low, _LENGTH_CAP), min(high, _LENGTH_CAP) + 1))
            else:
                piece = {0} if low == 0 else None
        if piece is None:
            return None
        total = frozenset(min(a + b, _LENGTH_CAP + 1) for a in total for b in piece)
    return total


def _uniform_variable(seq: list[tuple[Any, Any]]) -> bool:
    """One character can be matched in runs of two different lengths (``a(|a?)`` from ``a|aa?``, ``\\d{1,3}``)."""
    candidates: set[int] = set()
    for op, av in seq:
        chars = _single_set(op, av)
        if chars:
            candidates.add(min(chars))
            candidates.update(ch for ch in (97, 48, 32, 45, 46) if ch in chars)
    for x in candidates:
        lengths = _x_lengths(seq, x)
        if lengths is not None and len(lengths - {0}) >= 2:
            return True
    return False


def _ambiguous_body(body: list[tuple[Any, Any]]) -> bool:
    """True when one run of characters can be split between iterations of the enclosing repeat in many ways."""
    c = _sre_const
    seq = _flatten(body)
    if len(seq) == 1 and seq[0][0] is c.BRANCH:
        sets = [_one_char(list(branch)) for branch in seq[0][1][1]]
        known = [found for found in sets if found]
        if any(a & b for i, a in enumerate(known) for b in known[i + 1 :]):
            return True  # (.|\s)*, (a|aa?)*, (\d|\d\d)+: one character matched by two alternatives
    if _uniform_variable(seq):
        return True
    for index, (op, av) in enumerate(seq):
        if not (_is_repeat(op) and av[1] == _sre_const.MAXREPEAT):
            continue
        inner = _single_set(op, av)
        if not inner:
            continue
        others = seq[:index] + seq[index + 1 :]
        if all(_can_be_empty(o, a) or ((s := _single_set(o, a)) is not None and bool(s & inner)) for o, a in others):
            return True
    return False


def _always_matches(op: Any, av: Any) -> bool:
    """True for a piece that matches (the empty string) wherever it is tried: it can never make a match fail."""
    c = _sre_const
    if _is_repeat(op):
        return bool(av[0] == 0)
    if op is c.SUBPATTERN:
        return all(_always_matches(o, a) for o, a in av[-1])
    if op is c.BRANCH:
        return any(all(_always_matches(o, a) for o, a in branch) for branch in av[1])
    return False


def _find_nested(items: Any, tail_fails: bool) -> bool:
    """An ambiguous repeat followed by something that can fail (only then does the engine backtrack into it)."""
    c = _sre_const
    items = list(items)
    for index, (op, av) in enumerate(items):
        after = tail_fails or not all(_always_matches(o, a) for o, a in items[index + 1 :])
        if _is_repeat(op):
            outer_max = av[1]
            big = outer_max == c.MAXREPEAT or outer_max >= _BIG_REPEAT
            # a repeat that needs several iterations can fail by itself: (.*a){20} on 19 a's
            if (after or av[0] >= 2) and big and _ambiguous_body(list(av[2])):
                return True
            if _find_nested(av[2], after):
                return True
        elif op is c.SUBPATTERN:
            if _find_nested(av[-1], after):
                return True
        elif op is c.BRANCH:
            if any(_find_nested(branch, after) for branch in av[1]):
                return True
        elif op in (c.ASSERT, c.ASSERT_NOT) and _find_nested(av[1], False):
            return True
    return False


def nested_quantifier(pattern: str | bytes, flags: int = 0, *, whole: bool = False) -> bool:
    """True when the pattern has a repeat that backtracks exponentially (or polynomially) on a near-miss.

    ``whole``: the pattern must match the whole input (``fullmatch``), so its end can fail too.
    """
    if _sre_parse is None or len(pattern) > MAX_PATTERN_CHARS:
        return False
    try:
        parsed = _sre_parse.parse(pattern, flags)
    except Exception:  # noqa: BLE001 - any parser error: not our finding
        return False
    try:
        return _find_nested(parsed, whole)
    except (RecursionError, IndexError, TypeError, ValueError):
        return False


# --------------------------------------------------------------------------------- the walk


def _statements(body: list[ast.stmt]) -> Iterator[ast.stmt]:
    """Every statement, nested ones included, without entering expressions (imports are statements)."""
    stack = list(body)
    while stack:
        stmt = stack.pop()
        yield stmt
        for name in ("body", "orelse", "finalbody", "handlers"):
            inner = getattr(stmt, name, None)
            if isinstance(inner, list):
                for item in inner:
                    if isinstance(item, ast.stmt):
                        stack.append(item)
                    elif isinstance(item, ast.ExceptHandler):
                        stack.extend(item.body)


class _Walker:
    """One pass over a module: import aliases, module string constants, then every regex call."""

    def __init__(self, view: ModuleView) -> None:
        self.view = view
        self.aliases: dict[str, str] = {}
        self.constants: dict[str, str | bytes] = {}
        self.findings: list[RawFinding] = []

    def qualname(self, expr: ast.expr) -> str:
        name = dotted(expr) or ""
        head, _, rest = name.partition(".")
        if head in self.aliases:
            base = self.aliases[head]
            return f"{base}.{rest}" if rest else base
        return name

    def run(self) -> list[RawFinding]:
        tree = self.view.tree
        for node in _statements(tree.body):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    self.aliases[alias.asname or alias.name.partition(".")[0]] = (
                        alias.name if alias.asname else alias.name.partition(".")[0]
                    )
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                for alias in node.names:
                    self.aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"
        if not any(v in REGEX_MODULES or v.partition(".")[0] in REGEX_MODULES for v in self.aliases.values()):
            return []
        for stmt in tree.body:
            if (
                isinstance(stmt, ast.Assign)
                and len(stmt.targets) == 1
                and isinstance(stmt.targets[0], ast.Name)
                and isinstance(stmt.value, ast.Constant)
                and isinstance(stmt.value.value, str | bytes)
            ):
                self.constants[stmt.targets[0].id] = stmt.value.value
        self._visit_scope(tree.body, set(), self._flask_request())
        return self.findings

    def _flask_request(self) -> set[str]:
        return {
            local
            for local, full in self.aliases.items()
            if full in ("flask.request", "quart.request", "sanic.request", "bottle.request")
        }

    # A scope's statements are walked in order so that `x = request.args[...]` taints later uses of x.
    def _visit_scope(self, body: list[ast.stmt], tainted: set[str], request_names: set[str]) -> None:
        for stmt in body:
            self._visit_stmt(stmt, tainted, request_names)

    def _visit_stmt(self, stmt: ast.stmt, tainted: set[str], request_names: set[str]) -> None:
        if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef):
            for dec in stmt.decorator_list:
                self._visit_expr(dec, stmt, tainted, request_names)
            inner_tainted, inner_requests = self._function_inputs(stmt, request_names)
            self._visit_scope(stmt.body, inner_tainted, inner_requests)
            return
        if isinstance(stmt, ast.ClassDef):
            self._visit_scope(stmt.body, set(), request_names)
            return
        for child in child_nodes(stmt):
            if isinstance(child, ast.stmt):
                self._visit_stmt(child, tainted, request_names)
            elif isinstance(child, ast.expr):
                self._visit_expr(child, stmt, tainted, request_names)
            else:  # handlers, withitems, comprehensions, match cases, arguments
                for sub in self._expr_and_stmts(child):
                    if isinstance(sub, ast.stmt):
                        self._visit_stmt(sub, tainted, request_names)
                    else:
                        self._visit_expr(sub, stmt, tainted, request_names)
        if isinstance(stmt, ast.Assign | ast.AnnAssign) and stmt.value is not None:
            targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
            user = bool(tainted or request_names) and self._is_tainted(stmt.value, tainted, request_names)
            for target in targets:
                if isinstance(target, ast.Name):
                    (tainted.add if user else tainted.discard)(target.id)

    def _expr_and_stmts(self, node: ast.AST) -> Iterator[ast.expr | ast.stmt]:
        for child in child_nodes(node):
            if isinstance(child, ast.expr | ast.stmt):
                yield child
            else:
                yield from self._expr_and_stmts(child)

    def _function_inputs(
        self, func: ast.FunctionDef | ast.AsyncFunctionDef, request_names: set[str]
    ) -> tuple[set[str], set[str]]:
        """A route handler's parameters (request objects apart) are user input; request objects are tracked."""
        is_route = any(
            isinstance(dec, ast.Call)
            and isinstance(dec.func, ast.Attribute)
            and (dec.func.attr in ROUTE_DECORATORS or dec.func.attr == "route")
            for dec in func.decorator_list
        )
        params = [*func.args.posonlyargs, *func.args.args, *func.args.kwonlyargs]
        requests = set(request_names)
        tainted: set[str] = set()
        for arg in params:
            annotation = dotted(arg.annotation) if arg.annotation is not None else None
            requests.discard(arg.arg)  # a parameter shadows a module-level `request`
            if (arg.arg in ("request", "req") and annotation is None) or (
                annotation is not None and annotation.rsplit(".", 1)[-1] in REQUEST_TYPES
            ):
                requests.add(arg.arg)
            elif is_route and arg.arg not in _NOT_INPUT_PARAMS:
                tainted.add(arg.arg)
        return tainted, requests

    def _is_tainted(self, expr: ast.expr, tainted: set[str], request_names: set[str]) -> bool:
        """True when the value comes from user input and was not passed through ``re.escape``."""
        stack: list[ast.AST] = [expr]
        while stack:
            node = stack.pop()
            if isinstance(node, ast.Call):
                callee = self.qualname(node.func)
                if callee in ("re.escape", "regex.escape"):
                    continue
                if isinstance(node.func, ast.Attribute) and node.func.attr in ("get", "getlist", "get_json", "json"):
                    stack.append(node.func.value)
                    continue
                stack.extend(node.args)
                stack.extend(kw.value for kw in node.keywords)
                if isinstance(node.func, ast.Attribute):
                    stack.append(node.func.value)
                continue
            if isinstance(node, ast.Subscript):
                stack.append(node.value)  # an index into a constant table is not the pattern
                continue
            if isinstance(node, ast.Attribute):
                root = node
                while isinstance(root.value, ast.Attribute):
                    root = root.value
                if isinstance(root.value, ast.Name) and root.value.id in request_names:
                    if root.attr in REQUEST_ATTRS:
                        return True
                    continue
                stack.append(node.value)
                continue
            if isinstance(node, ast.Name):
                if node.id in tainted:
                    return True
                continue
            if isinstance(node, ast.Lambda):
                continue
            stack.extend(n for n in child_nodes(node) if isinstance(n, ast.expr | ast.comprehension | ast.keyword))
        return False

    def _visit_expr(self, expr: ast.expr, stmt: ast.stmt, tainted: set[str], request_names: set[str]) -> None:
        stack: list[ast.AST] = [expr]
        while stack:
            node = stack.pop()
            if isinstance(node, ast.Lambda):
                continue
            if isinstance(node, ast.Call):
                self._check_call(node, stmt, tainted, request_names)
            stack.extend(child_nodes(node))

    def _check_call(self, call: ast.Call, stmt: ast.stmt, tainted: set[str], request_names: set[str]) -> None:
        func_expr = call.func
        if isinstance(func_expr, ast.Attribute):
            if func_expr.attr not in REGEX_FUNCS:
                return
        elif not isinstance(func_expr, ast.Name) or func_expr.id not in self.aliases:
            return
        callee = self.qualname(func_expr)
        module, _, func = callee.rpartition(".")
        if module not in REGEX_MODULES or func not in REGEX_FUNCS:
            return
        pattern = call.args[0] if call.args else next((kw.value for kw in call.keywords if kw.arg == "pattern"), None)
        if pattern is None:
            return
        span = statement_span(stmt, call.lineno, call.end_lineno or call.lineno)
        text = self._constant(pattern)
        if text is not None:
            if nested_quantifier(text, self._flags(call, func), whole=func == "fullmatch"):
                self.findings.append(
                    RawFinding("ARCH142", call.lineno, span, "This pattern nests a repeat inside a repeat.")
                )
            return
        if self._is_tainted(pattern, tainted, request_names):
            self.findings.append(
                RawFinding(
                    "ARCH144",
                    call.lineno,
                    span,
                    f"The pattern given to `{module}.{func}` is built from request data without `re.escape`.",
                )
            )

    def _constant(self, expr: ast.expr) -> str | bytes | None:
        if isinstance(expr, ast.Constant) and isinstance(expr.value, str | bytes):
            return expr.value
        if isinstance(expr, ast.Name):
            return self.constants.get(expr.id)
        return None

    def _flags(self, call: ast.Call, func: str) -> int:
        """Constant ``re.X``-style flags given to the call (only VERBOSE changes how the pattern parses)."""
        position = {"compile": 1, "match": 2, "search": 2, "fullmatch": 2, "findall": 2, "finditer": 2}.get(func)
        flag: ast.expr | None = next((kw.value for kw in call.keywords if kw.arg == "flags"), None)
        if flag is None and position is not None and len(call.args) > position:
            flag = call.args[position]
        if flag is None:
            return 0
        names = [self.qualname(n) for n in ast.walk(flag) if isinstance(n, ast.Attribute | ast.Name)]
        verbose = any(name.rsplit(".", 1)[-1] in ("X", "VERBOSE") for name in names)
        return 64 if verbose else 0  # re.VERBOSE


def check_redos(view: ModuleView) -> list[RawFinding]:
    """ARCH142 and ARCH144 over one module."""
    return _Walker(view).run()
