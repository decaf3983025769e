"""Taint flow over one module's AST: which values hold untrusted data at each call (pure).

Intra-procedural and flow-sensitive: statements run in order; assignments, f-strings, ``%``,
``.format``, ``+``, ``.join``, containers, attributes and subscripts of tainted values, ``await`` of
tainted calls and the methods of a tainted value carry taint; a clean assignment kills it; branches
merge by union. Sanitizers (``app.static.sources_sinks``) clean a value for every family or for some;
an ``if`` that rejects (``return``/``raise``/``abort()``) after checking a value (``x not in ALLOWED``,
``not p.is_relative_to(base)``, ``urlparse(u).hostname not in HOSTS``) validates it for the rest of the
function, and ``if x in ALLOWED:`` validates it inside the branch. A call into a function of the same
module (or a method of the same class) with tainted arguments runs that function with its parameters
tainted (three calls deep at most), so a sink inside a helper is seen with the caller's data, and the
helper's return value carries what it returns.

The flow does not judge sinks: ``ModuleFlow`` calls ``on_call(call, frame)`` for every call it meets
with the state at that point, and ``app.static.rules_taint`` decides what is a tainted sink.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace

from app.static import sources_sinks as cat
from app.static.facts import child_nodes, dotted, resolve

MAX_DEPTH = 3
PARAM, WEAK, STRONG = 1, 2, 3  # how much a value's origin is to be distrusted (Taint.tier)
MAX_CALLEE_RUNS = 300
MAX_LINES = 16
_SOURCE_HINT = re.compile(
    r"request|@\w+(?:\.\w+)*\.(?:get|post|put|patch|delete|route|api_route|websocket|task|view)\b|shared_task|"
    r"\bactor\b|argv|\binput\(|\.recv|Consumer|IncomingMessage|ConsumerRecord|receive_|properties, body|"
    r"get_argument|get_query_argument|get_body_argument|get_param|get_cookie|"
    r"litestar|websocket"
)


_PARAM_SINK_HINT = re.compile(
    r"system|popen|shell|getoutput|execute|text\(|raw\(|RawSQL|read_sql|fetch|urlopen|urlretrieve|Request\("
)


_CONTAINER_METHODS = frozenset({"model_dump", "dict", "items", "keys", "values", "split", "splitlines", "to_dict"})
"""Methods that return a dict, list or view (pydantic's ``model_dump()``, ``str.split()``): shown as repr()."""


@dataclass(frozen=True)
class Taint:
    """Untrusted data: where it came from, the lines it flowed through, which families it is clean for."""

    origin: str
    origin_line: int
    lines: frozenset[int]
    tier: int = 3  # STRONG; WEAK: the operator's own input (sys.argv, input()); PARAM: a caller's argument
    cleared: frozenset[str] = frozenset()
    request: bool = False  # the request object itself, not yet a value read from it

    def via(self, line: int) -> Taint:
        if line in self.lines or len(self.lines) >= MAX_LINES:
            return self
        return replace(self, lines=self.lines | {line})

    def clear(self, families: frozenset[str]) -> Taint:
        return replace(self, cleared=self.cleared | families)

    def data(self, origin: str, line: int) -> Taint:
        """A value read from a request object."""
        cleared = self.cleared
        if origin.rsplit(".", 1)[-1].split("[", 1)[0].split("(", 1)[0] in cat.NO_LINE_BREAK_ATTRS:
            cleared = cleared | {"log"}  # header and cookie values cannot hold a line break
        return Taint(origin, line, self.lines | {line}, self.tier, cleared)

    @property
    def strong(self) -> bool:
        return self.tier == STRONG

    def for_family(self, family: str) -> bool:
        return family not in self.cleared and not self.request


def merge(a: Taint | None, b: Taint | None) -> Taint | None:
    """The union of two taints (either may be None: clean)."""
    if a is None or a is b:
        return b
    if b is None:
        return a
    if (a.request and not b.request) or (a.request == b.request and b.tier > a.tier):
        a, b = b, a
    lines = a.lines | b.lines if len(a.lines) + len(b.lines) <= MAX_LINES else a.lines
    return Taint(a.origin, a.origin_line, lines, max(a.tier, b.tier), a.cleared & b.cleared, a.request and b.request)


Env = dict[str, Taint | None]  # name or dotted path -> taint; None: validated (clean) here


def _merge_env(a: Env, b: Env) -> Env:
    out: Env = {}
    for key in a.keys() | b.keys():
        in_a, in_b = key in a, key in b
        if in_a and in_b:
            out[key] = merge(a[key], b[key])
        elif (
            "." not in key or (a.get(key) if in_a else b.get(key)) is not None
        ):  # a name missing on one side is clean there
            out[key] = a.get(key) if in_a else b.get(key)
    return out


def _const_str(expr: ast.expr) -> str | None:
    return expr.value if isinstance(expr, ast.Constant) and isinstance(expr.value, str) else None


def annotation_names(ann: ast.expr | None) -> list[str]:
    """The dotted names of an annotation: ``Optional[int]`` -> [Optional, int], ``int | None`` -> [int, None]."""
    if ann is None:
        return []
    if isinstance(ann, ast.Constant):
        if ann.value is None:
            return ["None"]
        if not isinstance(ann.value, str):
            return []
        try:
            ann = ast.parse(ann.value, mode="eval").body
        except SyntaxError:
            return []
    name = dotted(ann)
    if name is not None:
        return [name]
    if isinstance(ann, ast.Subscript):
        return annotation_names(ann.value) + annotation_names(ann.slice)
    if isinstance(ann, ast.BinOp):
        return annotation_names(ann.left) + annotation_names(ann.right)
    if isinstance(ann, ast.Tuple | ast.List):
        return [n for elt in ann.elts for n in annotation_names(elt)]
    return []


def statements(body: list[ast.stmt]) -> Iterator[ast.stmt]:
    """Every statement under ``body``, nested blocks and definitions included (no expressions walked)."""
    stack = list(reversed(body))
    while stack:
        stmt = stack.pop()
        yield stmt
        inner: list[ast.stmt] = []
        for name in ("body", "orelse", "finalbody"):
            block = getattr(stmt, name, None)
            if isinstance(block, list):
                inner.extend(block)
        for handler in getattr(stmt, "handlers", ()):
            inner.extend(handler.body)
        for case in getattr(stmt, "cases", ()):
            inner.extend(case.body)
        stack.extend(reversed(inner))


FunctionNode = ast.FunctionDef | ast.AsyncFunctionDef


@dataclass
class Frame:
    """One run of one function: its state at the current statement and where it was called from."""

    flow: ModuleFlow
    func: FunctionNode | None
    class_name: str | None
    env: Env = field(default_factory=dict)
    defs: dict[str, ast.expr] = field(default_factory=dict)  # name -> the expression last assigned to it
    chain: tuple[int, ...] = ()  # call lines from the outermost caller
    depth: int = 0
    returns: Taint | None = None
    consumers: set[str] = field(default_factory=set)
    stmt: ast.stmt | None = None  # the statement being run

    # ------------------------------------------------------------------ values

    def qualname(self, expr: ast.expr) -> str | None:
        name = dotted(expr)
        if name is not None and name.split(".", 1)[0] in self.defs:
            return name  # a local shadows the import
        return resolve(self.flow.aliases, expr)

    def value_of(self, expr: ast.expr) -> ast.expr:
        """The expression a local (or module constant) name was last given, else ``expr`` itself."""
        for _ in range(4):
            if not isinstance(expr, ast.Name):
                return expr
            found = self.defs.get(expr.id) or self.flow.constants.get(expr.id)
            if found is None:
                return expr
            expr = found
        return expr

    def is_container(self, expr: ast.expr) -> bool:
        """A dict, list, tuple or set: formatting it shows its items' repr()."""
        built = self.value_of(expr)
        if isinstance(built, ast.Dict | ast.List | ast.Tuple | ast.Set | ast.ListComp | ast.DictComp | ast.SetComp):
            return True
        if not isinstance(built, ast.Call):
            return False
        if isinstance(built.func, ast.Attribute) and built.func.attr in _CONTAINER_METHODS:
            return True
        return self.qualname(built.func) in {"dict", "list", "tuple", "set", "sorted"}

    def const_text(self, expr: ast.expr, depth: int = 0) -> str:
        """The constant text an expression is built from (through local definitions), for shape tests."""
        if depth > 4:
            return ""
        text = _const_str(expr)
        if text is not None:
            return text
        if isinstance(expr, ast.Name):
            target = self.value_of(expr)
            return "" if target is expr else self.const_text(target, depth + 1)
        if isinstance(expr, ast.JoinedStr):
            return "".join(self.const_text(v, depth + 1) for v in expr.values)
        if isinstance(expr, ast.FormattedValue):
            return self.const_text(expr.value, depth + 1) if isinstance(expr.value, ast.Name) else "\x00"
        if isinstance(expr, ast.BinOp):
            return self.const_text(expr.left, depth + 1) + " " + self.const_text(expr.right, depth + 1)
        if isinstance(expr, ast.Call):
            parts = [self.const_text(a, depth + 1) for a in expr.args[:2]]
            if isinstance(expr.func, ast.Attribute):
                parts.insert(0, self.const_text(expr.func.value, depth + 1))
            return " ".join(parts)
        return ""

    def taint(self, expr: ast.expr | None) -> Taint | None:
        """The taint of ``expr`` in the current state (None: nothing untrusted in it)."""
        if expr is None:
            return None
        return self._eval(expr, 0)

    def _eval(self, expr: ast.expr, depth: int) -> Taint | None:
        if depth > 40:
            return None
        line = getattr(expr, "lineno", 0)
        if isinstance(expr, ast.Name):
            if expr.id in self.env:
                return self.env[expr.id]
            if expr.id not in self.defs and resolve(self.flow.aliases, expr) in cat.REQUEST_GLOBALS:
                return Taint("request", line, frozenset({line}), request=True)
            return None
        if isinstance(expr, ast.Attribute):
            return self._attribute(expr, depth, line)
        if isinstance(expr, ast.Subscript):
            base = self._eval(expr.value, depth + 1)
            if base is not None and base.request:
                return base.data(f"{dotted(expr.value) or 'request'}[...]", line)
            return base
        if isinstance(expr, ast.Call):
            return self._call_value(expr, depth)
        if isinstance(expr, ast.JoinedStr):
            out: Taint | None = None
            for value in expr.values:
                out = merge(out, self._eval(value, depth + 1))
            return out
        if isinstance(expr, ast.FormattedValue):
            inner = self._eval(expr.value, depth + 1)
            if inner is not None and (expr.conversion == ord("r") or self.is_container(expr.value)):
                return inner.clear(frozenset({"log"}))  # repr() escapes line breaks
            return inner
        if isinstance(expr, ast.BinOp):
            return merge(self._eval(expr.left, depth + 1), self._eval(expr.right, depth + 1))
        if isinstance(expr, ast.BoolOp):
            out = None
            for value in expr.values:
                out = merge(out, self._eval(value, depth + 1))
            return out
        if isinstance(expr, ast.IfExp):
            return merge(self._eval(expr.body, depth + 1), self._eval(expr.orelse, depth + 1))
        if isinstance(expr, ast.List | ast.Tuple | ast.Set):
            out = None
            for elt in expr.elts:
                out = merge(out, self._eval(elt, depth + 1))
            return out
        if isinstance(expr, ast.Dict):
            out = None
            for item in [*expr.keys, *expr.values]:
                if item is not None:
                    out = merge(out, self._eval(item, depth + 1))
            return out
        if isinstance(expr, ast.Starred | ast.Await):
            return self._eval(expr.value, depth + 1)
        if isinstance(expr, ast.NamedExpr):
            named = self._eval(expr.value, depth + 1)
            self.bind(expr.target, named, expr.value, line)
            return named
        if isinstance(expr, ast.ListComp | ast.SetComp | ast.GeneratorExp | ast.DictComp):
            return self._comprehension(expr, depth)
        return None

    def _attribute(self, expr: ast.Attribute, depth: int, line: int) -> Taint | None:
        key = dotted(expr)
        if key is not None:
            if key in self.env:
                return self.env[key]
            qual = self.qualname(expr)
            if qual in cat.WEAK_SOURCE_ATTRS:
                return Taint(qual or key, line, frozenset({line}), tier=WEAK)
            if qual in cat.REQUEST_GLOBALS or key == "self.request":  # Django class views, Tornado handlers
                return Taint("request", line, frozenset({line}), request=True)
        base = self._eval(expr.value, depth + 1)
        if base is None:
            return None
        if base.request:
            if expr.attr in cat.SAFE_REQUEST_ATTRS:
                return None
            return base.data(key or f"request.{expr.attr}", line)
        if expr.attr in cat.PATH_SAFE_ATTRS:
            return base.clear(frozenset({"path"}))
        return base

    def _comprehension(
        self, expr: ast.ListComp | ast.SetComp | ast.GeneratorExp | ast.DictComp, depth: int
    ) -> Taint | None:
        saved = dict(self.env)
        try:
            for gen in expr.generators:
                self.bind(gen.target, self._eval(gen.iter, depth + 1), None, getattr(gen.iter, "lineno", 0))
            if isinstance(expr, ast.DictComp):
                return merge(self._eval(expr.key, depth + 1), self._eval(expr.value, depth + 1))
            return self._eval(expr.elt, depth + 1)
        finally:
            self.env = saved

    def _args_taint(self, call: ast.Call, depth: int) -> Taint | None:
        out: Taint | None = None
        for arg in call.args:
            out = merge(out, self._eval(arg, depth + 1))
        for kw in call.keywords:
            out = merge(out, self._eval(kw.value, depth + 1))
        return out

    def _call_value(self, call: ast.Call, depth: int) -> Taint | None:
        line = call.lineno
        func = call.func
        qual = self.qualname(func) or ""
        method = func.attr if isinstance(func, ast.Attribute) else None
        if qual in cat.WEAK_SOURCE_CALLS:
            return Taint(f"{qual}()", line, frozenset({line}), tier=WEAK)
        if method in cat.SOCKET_READ_METHODS:
            return Taint(f"socket .{method}()", line, frozenset({line}))
        redispatched = self.flow.redispatch(call, qual, method)
        if redispatched is not None:
            return self._call_value(redispatched, depth + 1)
        if qual in cat.SANITIZERS:
            return None
        if qual in cat.FAMILY_SANITIZERS:
            found = self._args_taint(call, depth)
            return found.clear(cat.FAMILY_SANITIZERS[qual]) if found is not None else None
        callee = self.flow.callee(self, call)
        if callee is not None:
            return self.flow.run_callee(self, call, callee)
        if qual in cat.PROPAGATORS:
            return self._args_taint(call, depth)
        if method is None or not isinstance(func, ast.Attribute):
            return None
        receiver = self._eval(func.value, depth + 1)
        if receiver is not None and receiver.request:
            if method in cat.SAFE_REQUEST_ATTRS:
                return None
            return receiver.data(f"{dotted(func.value) or 'request'}.{method}()", line)
        if method in cat.HANDLER_READ_METHODS and isinstance(func.value, ast.Name) and func.value.id == "self":
            return Taint(f"self.{method}()", line, frozenset({line}))
        if method in cat.WEBSOCKET_READ_METHODS:
            return Taint(f".{method}()", line, frozenset({line}))
        if method in cat.NON_PROPAGATING_METHODS:
            return None
        if receiver is None and _const_str(self.value_of(func.value)) is None:
            return None
        out = merge(receiver, self._args_taint(call, depth))
        if out is None:
            return None
        first = _const_str(call.args[0]) if call.args else None
        if method == "replace" and first is not None and ("\n" in first or "\r" in first):
            return out.clear(frozenset({"log"}))
        if method == "encode" and first in {"unicode_escape", "unicode-escape"}:
            return out.clear(frozenset({"log"}))
        return out

    # -------------------------------------------------------------- bindings

    def bind(self, target: ast.expr, value: Taint | None, source: ast.expr | None, line: int) -> None:
        """Assign ``value`` (the taint of ``source``) to ``target``."""
        if isinstance(target, ast.Name):
            self.env[target.id] = value.via(line) if value is not None else None
            for key in [k for k in self.env if k.startswith(target.id + ".")]:
                del self.env[key]
            if source is not None:
                self.defs[target.id] = source
            else:
                self.defs.pop(target.id, None)
        elif isinstance(target, ast.Tuple | ast.List):
            for elt in target.elts:
                self.bind(elt, value, None, line)
        elif isinstance(target, ast.Starred):
            self.bind(target.value, value, None, line)
        elif isinstance(target, ast.Attribute):
            path = dotted(target)
            if path is not None:
                self.env[path] = value.via(line) if value is not None else None
        elif isinstance(target, ast.Subscript):
            container = dotted(target.value)
            if container is not None and value is not None:
                self.env[container] = merge(self.env.get(container), value.via(line))

    def clean(self, keys: set[str]) -> None:
        for key in keys:
            self.env[key] = None
            for other in [k for k in self.env if k.startswith(key + ".")]:
                self.env[other] = None
            root = key.split(".", 1)[0]
            source = self.defs.get(root)
            if (
                isinstance(source, ast.Call)
                and source.args
                and self.qualname(source.func) in {"urllib.parse.urlparse", "urllib.parse.urlsplit"}
            ):
                inner = dotted(source.args[0])
                if inner is not None and inner != key:
                    self.env[inner] = None


# ---------------------------------------------------------------------------------------- guards


def _keys_in(expr: ast.expr) -> set[str]:
    """Names and dotted paths an expression reads, looking into calls that may validate (not ``len``)."""
    key = dotted(expr)
    if key is not None:
        return {key}
    if isinstance(expr, ast.Call):
        name = dotted(expr.func) or ""
        if name.rsplit(".", 1)[-1] in cat.NOT_VALIDATING_CALLS:
            return set()
        keys: set[str] = set()
        if isinstance(expr.func, ast.Attribute):
            keys |= _keys_in(expr.func.value)
        for arg in [*expr.args, *(kw.value for kw in expr.keywords)]:
            keys |= _keys_in(arg)
        return keys
    if isinstance(expr, ast.Attribute | ast.Subscript):
        return _keys_in(expr.value)
    if isinstance(expr, ast.List | ast.Tuple | ast.Set):
        return {k for elt in expr.elts for k in _keys_in(elt)}
    if isinstance(expr, ast.BinOp):
        return _keys_in(expr.left) | _keys_in(expr.right)
    return set()


def checked_keys(test: ast.expr) -> set[str]:
    """What a rejecting ``if`` looked at: compared, tested for membership or passed to a validator."""
    if isinstance(test, ast.BoolOp):
        return {k for value in test.values for k in checked_keys(value)}
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        return checked_keys(test.operand)
    if isinstance(test, ast.Compare):
        if any(isinstance(op, ast.Is | ast.IsNot) for op in test.ops):
            return set()
        return {k for operand in [test.left, *test.comparators] for k in _keys_in(operand)}
    if isinstance(test, ast.Call):
        return _keys_in(test)
    return set()


def positive_keys(test: ast.expr) -> set[str]:
    """What is validated where ``test`` holds: ``x in ALLOWED``, ``x == "a"``, ``p.is_relative_to(base)``."""
    if isinstance(test, ast.BoolOp) and isinstance(test.op, ast.And):
        return {k for value in test.values for k in positive_keys(value)}
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        return negative_keys(test.operand)
    if isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.In | ast.Eq):
        key = dotted(test.left)
        return {key} if key is not None else set()
    if isinstance(test, ast.Call) and isinstance(test.func, ast.Attribute):
        if test.func.attr in cat.VALIDATING_METHODS:
            return _keys_in(test.func.value)
        if test.func.attr in {"fullmatch", "match"} and test.args[1:]:
            return _keys_in(test.args[1])
    return set()


def negative_keys(test: ast.expr) -> set[str]:
    """What is validated where ``test`` fails: ``x not in ALLOWED``, ``not x.isdigit()``."""
    if isinstance(test, ast.BoolOp) and isinstance(test.op, ast.Or):
        return {k for value in test.values for k in negative_keys(value)}
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        return positive_keys(test.operand)
    if isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.NotIn | ast.NotEq):
        key = dotted(test.left)
        return {key} if key is not None else set()
    return set()


# ------------------------------------------------------------------------------------ the module


def _header(stmt: ast.stmt) -> list[ast.expr]:
    """The expressions a statement evaluates itself (not those of its nested blocks)."""
    if isinstance(stmt, ast.If | ast.While):
        return [stmt.test]
    if isinstance(stmt, ast.For | ast.AsyncFor):
        return [stmt.iter]
    if isinstance(stmt, ast.With | ast.AsyncWith):
        return [item.context_expr for item in stmt.items]
    if isinstance(stmt, ast.Match):
        return [stmt.subject]
    if isinstance(stmt, ast.Try | ast.TryStar | ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        return []
    return [node for node in child_nodes(stmt) if isinstance(node, ast.expr)]


def _calls(exprs: list[ast.expr]) -> Iterator[ast.Call]:
    """Calls in evaluation order (inner before outer), not inside lambdas."""
    stack: list[tuple[ast.AST, bool]] = [(e, False) for e in reversed(exprs)]
    while stack:
        node, done = stack.pop()
        if done:
            if isinstance(node, ast.Call):
                yield node
            continue
        if isinstance(node, ast.Lambda):
            continue
        stack.append((node, True))
        stack.extend((child, False) for child in reversed(child_nodes(node)))


OnCall = Callable[[ast.Call, Frame], None]
_CONVERTERS = re.compile(r"<(?:int|float|uuid):(\w+)>|\{(\w+):(?:int|float|uuid)\}")


def _converted_params(func: FunctionNode) -> set[str]:
    """Route parameters the router converts to numbers or UUIDs (``<int:id>``, ``{id:int}``)."""
    names: set[str] = set()
    for deco in func.decorator_list:
        if isinstance(deco, ast.Call) and deco.args:
            path = _const_str(deco.args[0])
            if path:
                names.update(a or b for a, b in _CONVERTERS.findall(path))
    return names


class ModuleFlow:
    """Runs every function of a module (and its top-level code) and reports each call to ``on_call``."""

    def __init__(self, tree: ast.Module, on_call: OnCall) -> None:
        self.tree = tree
        self.on_call = on_call
        self.aliases: dict[str, str] = {}
        self.constants: dict[str, ast.expr] = {}
        self.functions: dict[str, FunctionNode] = {}
        self.methods: dict[tuple[str, str], FunctionNode] = {}
        self.callee_runs = 0
        self._returns: dict[tuple[int, tuple[tuple[str, int, frozenset[str]] | None, ...]], Taint | None] = {}
        self._active: set[int] = set()
        self._seen: set[int] = set()
        self.lines: list[str] = []
        self.is_script = False  # a `__main__` guard: parameters are the operator's, not a trust boundary
        self._collect()
        self.django = any(target.startswith("django") for target in self.aliases.values())

    def _collect(self) -> None:
        assigned: dict[str, int] = {}
        for node in statements(self.tree.body):  # imports anywhere: a function-level import names the same module
            if isinstance(node, ast.Import):
                for alias in node.names:
                    self.aliases[(alias.asname or alias.name).split(".")[0]] = (
                        alias.name if alias.asname else alias.name.split(".")[0]
                    )
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                for alias in node.names:
                    self.aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"
        for stmt in self.tree.body:
            if isinstance(stmt, ast.If) and "__main__" in ast.dump(stmt.test):
                self.is_script = True
            elif isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef):
                self.functions[stmt.name] = stmt
            elif isinstance(stmt, ast.ClassDef):
                for item in stmt.body:
                    if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef):
                        self.methods[(stmt.name, item.name)] = item
            elif isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
                name = stmt.targets[0].id
                assigned[name] = assigned.get(name, 0) + 1
                self.constants[name] = stmt.value
            elif isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name) and stmt.value is not None:
                assigned[stmt.target.id] = assigned.get(stmt.target.id, 0) + 1
                self.constants[stmt.target.id] = stmt.value
        for name, count in assigned.items():
            if count > 1:
                del self.constants[name]
        self.aliases.setdefault("open", "open")

    # ------------------------------------------------------------------ entry

    def run(self, lines: list[str]) -> None:
        """Run the module's functions (those whose text can hold a source or, for a caller's
        parameters, a sink that cares about them) and its top-level code."""
        self.lines = lines
        source = "\n".join(lines)
        if not _SOURCE_HINT.search(source) and not _PARAM_SINK_HINT.search(source):
            return
        for node in statements(self.tree.body):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                self._run_function(node, None)
            elif isinstance(node, ast.ClassDef):
                for item in node.body:
                    if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef):
                        self._run_function(item, node.name)
        frame = Frame(self, None, None)
        self.block(
            frame,
            [s for s in self.tree.body if not isinstance(s, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)],
        )

    def _run_function(self, func: FunctionNode, class_name: str | None) -> None:
        if id(func) in self._seen:
            return
        self._seen.add(id(func))
        frame = Frame(self, func, class_name)
        self._seed(frame, func, class_name)
        strong = any(t is not None and t.tier > PARAM for t in frame.env.values()) or bool(frame.consumers)
        if not strong:
            text = "\n".join(self.lines[func.lineno - 1 : func.end_lineno or func.lineno])
            if not _SOURCE_HINT.search(text) and not (frame.env and _PARAM_SINK_HINT.search(text)):
                return  # nothing untrusted can start here, and no sink cares about the parameters
        self.block(frame, func.body)

    # ----------------------------------------------------------------- sources

    def _decorator_kind(self, func: FunctionNode) -> str | None:
        for deco in func.decorator_list:
            target = deco.func if isinstance(deco, ast.Call) else deco
            name = dotted(target) or ""
            qual = resolve(self.aliases, target) or name
            head, _, attr = name.rpartition(".")
            last = attr or name
            if qual in cat.ROUTE_DECORATOR_NAMES:
                return "route"
            if (
                isinstance(deco, ast.Call)
                and head
                and attr in cat.ROUTE_DECORATOR_ATTRS
                and head not in cat.NOT_ROUTERS
            ):
                return "route"
            if last in cat.TASK_DECORATOR_ATTRS or qual.rsplit(".", 1)[-1] in cat.TASK_DECORATOR_ATTRS:
                return "task"
        return None

    def _seed(self, frame: Frame, func: FunctionNode, class_name: str | None) -> None:
        kind = self._decorator_kind(func)
        args = [*func.args.posonlyargs, *func.args.args, *func.args.kwonlyargs]
        if class_name is not None and args and args[0].arg in {"self", "cls"}:
            args = args[1:]
        if kind == "task" and args and args[0].arg == "self":
            args = args[1:]
        defaults = self._defaults(func)
        request_first = False
        for index, arg in enumerate(args):
            names = annotation_names(arg.annotation)
            line = arg.lineno
            if any(n in cat.REQUEST_TYPES or n.rsplit(".", 1)[-1] in cat.REQUEST_TYPES for n in names) or (
                not names and arg.arg in cat.REQUEST_PARAM_NAMES
            ):
                frame.env[arg.arg] = Taint("request", line, frozenset({line}), request=True)
                request_first = request_first or index == 0
            elif any(n in cat.MESSAGE_TYPES or n.rsplit(".", 1)[-1] in cat.MESSAGE_TYPES for n in names):
                frame.env[arg.arg] = Taint(f"message `{arg.arg}`", line, frozenset({line}))
            elif any(n in cat.CONSUMER_TYPES or n.rsplit(".", 1)[-1] in cat.CONSUMER_TYPES for n in names):
                frame.consumers.add(arg.arg)
        view = request_first and self.django and (class_name is None or func.name in cat.ROUTE_DECORATOR_ATTRS)
        pika = len(args) == 4 and args[3].arg in cat.PIKA_CALLBACK_PARAMS and args[2].arg in {"properties", "props"}
        if pika:
            frame.env[args[3].arg] = Taint("message body", args[3].lineno, frozenset({args[3].lineno}))
        if kind is None and not view:
            if self.is_script:
                return  # an operator-run script: its functions get what the operator typed
            for arg in args:
                if arg.arg not in frame.env and not self._not_data(arg, defaults.get(arg.arg)):
                    origin = f"parameter `{arg.arg}` of `{func.name}`"
                    frame.env[arg.arg] = Taint(origin, arg.lineno, frozenset({arg.lineno}), tier=PARAM)
            return
        label = "task argument" if kind == "task" else "request parameter"
        converted = _converted_params(func)
        for arg in args:
            if arg.arg in frame.env or arg.arg in converted or self._not_data(arg, defaults.get(arg.arg)):
                continue
            seeded = Taint(f"{label} `{arg.arg}`", arg.lineno, frozenset({arg.lineno}))
            default = defaults.get(arg.arg)
            if isinstance(default, ast.Call) and (dotted(default.func) or "").rsplit(".", 1)[-1] in {
                "Header",
                "Cookie",
            }:
                seeded = seeded.clear(frozenset({"log"}))  # header and cookie values cannot hold a line break
            frame.env[arg.arg] = seeded

    @staticmethod
    def _defaults(func: FunctionNode) -> dict[str, ast.expr]:
        positional = [*func.args.posonlyargs, *func.args.args]
        out = {
            arg.arg: default
            for arg, default in zip(
                positional[len(positional) - len(func.args.defaults) :], func.args.defaults, strict=True
            )
        }
        for arg, kw_default in zip(func.args.kwonlyargs, func.args.kw_defaults, strict=True):
            if kw_default is not None:
                out[arg.arg] = kw_default
        return out

    def _not_data(self, arg: ast.arg, default: ast.expr | None) -> bool:
        """A parameter the framework injects or parses into a type that carries no client text."""
        names = annotation_names(arg.annotation)
        if arg.arg in {"self", "cls"}:
            return True
        if default is not None and isinstance(default, ast.Call):
            called = dotted(default.func) or ""
            if called in cat.INJECTED_DEFAULTS or called.rsplit(".", 1)[-1] in cat.INJECTED_DEFAULTS:
                return True
        if not names:
            return False
        lasts = {n.rsplit(".", 1)[-1] for n in names}
        if lasts & cat.INJECTED_ANNOTATIONS or set(names) & cat.INJECTED_ANNOTATIONS:
            return True
        meaningful = [
            n for n in names if n not in {"Optional", "typing.Optional", "Annotated", "typing.Annotated", "Union"}
        ]
        if names[0] in {"Annotated", "typing.Annotated"} and isinstance(arg.annotation, ast.Subscript):
            inner = arg.annotation.slice
            first = inner.elts[0] if isinstance(inner, ast.Tuple) and inner.elts else inner
            meaningful = annotation_names(first)
        if names[0] in {"Literal", "typing.Literal"}:
            return True
        return bool(meaningful) and all(
            n in cat.SAFE_PARAM_ANNOTATIONS or n.rsplit(".", 1)[-1] in cat.SAFE_PARAM_ANNOTATIONS for n in meaningful
        )

    # ---------------------------------------------------------------- calls

    def redispatch(self, call: ast.Call, qual: str, method: str | None) -> ast.Call | None:
        """``asyncio.to_thread(f, *args)`` as the call ``f(*args)`` (also ``loop.run_in_executor``)."""
        index = cat.REDISPATCH_CALLS.get(qual)
        if index is None and method == "run_in_executor":
            index = 1
        if index is None or len(call.args) <= index or isinstance(call.args[index], ast.Starred):
            return None
        inner = ast.Call(func=call.args[index], args=list(call.args[index + 1 :]), keywords=list(call.keywords))
        return ast.copy_location(inner, call)

    def callee(self, frame: Frame, call: ast.Call) -> FunctionNode | None:
        func = call.func
        if isinstance(func, ast.Name) and func.id in self.functions and func.id not in frame.defs:
            return self.functions[func.id]
        if (
            isinstance(func, ast.Attribute)
            and isinstance(func.value, ast.Name)
            and func.value.id in {"self", "cls"}
            and frame.class_name is not None
        ):
            return self.methods.get((frame.class_name, func.attr))
        return None

    def run_callee(self, frame: Frame, call: ast.Call, func: FunctionNode) -> Taint | None:
        """Run ``func`` with the caller's argument taints; its sinks report, its return taint comes back."""
        params = [*func.args.posonlyargs, *func.args.args]
        is_method = not isinstance(call.func, ast.Name)
        if is_method and params and params[0].arg in {"self", "cls"}:
            params = params[1:]
        bound: dict[str, Taint | None] = {}
        for param, arg in zip(params, call.args, strict=False):
            if isinstance(arg, ast.Starred):
                break
            bound[param.arg] = frame.taint(arg)
        names = {p.arg for p in [*params, *func.args.kwonlyargs]}
        for kw in call.keywords:
            if kw.arg in names:
                bound[kw.arg] = frame.taint(kw.value)
        if all(t is None or t.tier == PARAM for t in bound.values()):
            return None  # nothing, or only the caller's own parameters: the callee's own run covers them
        key = (id(func), tuple((t.origin, t.tier, t.cleared) if t else None for t in bound.values()))
        if key in self._returns:
            return self._returns[key]
        if frame.depth >= MAX_DEPTH or self.callee_runs >= MAX_CALLEE_RUNS or id(func) in self._active:
            return None
        self.callee_runs += 1
        class_name = frame.class_name if is_method else None
        inner = Frame(self, func, class_name, chain=(*frame.chain, call.lineno), depth=frame.depth + 1)
        for name, taint in bound.items():
            inner.env[name] = taint.via(call.lineno) if taint is not None else None
        self._active.add(id(func))
        try:
            self.block(inner, func.body)
        finally:
            self._active.discard(id(func))
        self._returns[key] = inner.returns
        return inner.returns

    # ------------------------------------------------------------- statements

    def block(self, frame: Frame, stmts: list[ast.stmt]) -> bool:
        """Run statements in order; True when the block always leaves (return, raise, abort())."""
        return any(self.statement(frame, stmt) for stmt in stmts)

    def _terminates(self, frame: Frame, stmt: ast.stmt) -> bool:
        if isinstance(stmt, ast.Return | ast.Raise | ast.Continue | ast.Break):
            return True
        if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call):
            name = frame.qualname(stmt.value.func) or ""
            return name in cat.TERMINATING_CALLS or name.rsplit(".", 1)[-1] in {"abort", "exit"}
        return False

    def statement(self, frame: Frame, stmt: ast.stmt) -> bool:
        frame.stmt = stmt
        for call in _calls(_header(stmt)):
            self.on_call(call, frame)
            if self.callee(frame, call) is not None:
                frame.taint(call)  # runs the callee for its sinks
        line = stmt.lineno
        if isinstance(stmt, ast.Assign):
            value = frame.taint(stmt.value)
            for target in stmt.targets:
                frame.bind(target, value, stmt.value, line)
        elif isinstance(stmt, ast.AnnAssign) and stmt.value is not None:
            frame.bind(stmt.target, frame.taint(stmt.value), stmt.value, line)
        elif isinstance(stmt, ast.AugAssign):
            value = merge(frame.taint(stmt.target), frame.taint(stmt.value))
            frame.bind(stmt.target, value, None, line)
            if isinstance(stmt.target, ast.Name):
                frame.defs[stmt.target.id] = ast.BinOp(left=stmt.target, op=stmt.op, right=stmt.value)
        elif isinstance(stmt, ast.Return):
            frame.returns = merge(frame.returns, frame.taint(stmt.value))
            return True
        elif isinstance(stmt, ast.If):
            return self._if(frame, stmt)
        elif isinstance(stmt, ast.For | ast.AsyncFor):
            self._loop_target(frame, stmt)
            self._loop(frame, stmt.body, stmt.orelse)
        elif isinstance(stmt, ast.While):
            self._loop(frame, stmt.body, stmt.orelse)
        elif isinstance(stmt, ast.With | ast.AsyncWith):
            for item in stmt.items:
                if item.optional_vars is not None:
                    frame.bind(item.optional_vars, frame.taint(item.context_expr), item.context_expr, line)
            return self.block(frame, stmt.body)
        elif isinstance(stmt, ast.Try | ast.TryStar):
            return self._try(frame, stmt)
        elif isinstance(stmt, ast.Match):
            self._match(frame, stmt)
        return self._terminates(frame, stmt)

    def _if(self, frame: Frame, stmt: ast.If) -> bool:
        before = dict(frame.env)
        frame.clean(positive_keys(stmt.test))
        body_done = self.block(frame, stmt.body)
        body_env = frame.env
        frame.env = dict(before)
        frame.clean(negative_keys(stmt.test))
        else_done = self.block(frame, stmt.orelse)
        else_env = frame.env
        if body_done and else_done:
            frame.env = before
            return True
        if body_done:
            frame.env = else_env
            keys = checked_keys(stmt.test) | self._validated_through(frame, stmt.test)
            frame.clean({k for k in keys if k in frame.env or k.split(".")[0] in frame.env})
        elif else_done:
            frame.env = body_env
        else:
            frame.env = _merge_env(body_env, else_env)
        return False

    @staticmethod
    def _validated_through(frame: Frame, test: ast.expr) -> set[str]:
        """``err = check_model(req)`` then ``if err is not None: return err``: ``req`` passed the check."""
        keys: set[str] = set()
        for node in [test, *(child for child in child_nodes(test))]:
            target = node.operand if isinstance(node, ast.UnaryOp) else node
            if isinstance(target, ast.Compare):
                target = target.left
            if not isinstance(target, ast.Name):
                continue
            source = frame.defs.get(target.id)
            if isinstance(source, ast.Await):
                source = source.value
            if not isinstance(source, ast.Call):
                continue
            called = (dotted(source.func) or "").rsplit(".", 1)[-1].lstrip("_")
            if called.startswith(cat.VALIDATOR_PREFIXES):
                keys.update(k for arg in source.args for k in _keys_in(arg))
        return keys

    def _loop_target(self, frame: Frame, stmt: ast.For | ast.AsyncFor) -> None:
        iterable = stmt.iter
        value = frame.taint(iterable)
        name = iterable.id if isinstance(iterable, ast.Name) else dotted(iterable) or ""
        source = frame.value_of(iterable) if isinstance(iterable, ast.Name) else iterable
        ctor = frame.qualname(source.func) if isinstance(source, ast.Call) else None
        if (
            name in frame.consumers
            or "consumer" in name.lower()
            or (ctor is not None and (ctor in cat.CONSUMER_TYPES or ctor.rsplit(".", 1)[-1] in cat.CONSUMER_TYPES))
        ):
            value = merge(value, Taint("queue message", stmt.lineno, frozenset({stmt.lineno})))
        frame.bind(stmt.target, value, None, stmt.lineno)

    def _loop(self, frame: Frame, body: list[ast.stmt], orelse: list[ast.stmt]) -> None:
        before = dict(frame.env)
        self.block(frame, body)
        frame.env = _merge_env(before, frame.env)
        self.block(frame, orelse)

    def _try(self, frame: Frame, stmt: ast.Try | ast.TryStar) -> bool:
        before = dict(frame.env)
        body_done = self.block(frame, stmt.body) or self.block(frame, stmt.orelse)
        after_body = frame.env
        outs = [] if body_done else [after_body]
        for handler in stmt.handlers:
            frame.env = _merge_env(before, after_body)
            if not self.block(frame, handler.body):
                outs.append(frame.env)
        done = not outs
        frame.env = before
        if outs:
            frame.env = outs[0]
            for env in outs[1:]:
                frame.env = _merge_env(frame.env, env)
        if stmt.finalbody:
            done = self.block(frame, stmt.finalbody) or done
        return done

    def _match(self, frame: Frame, stmt: ast.Match) -> None:
        before = dict(frame.env)
        merged = dict(before)
        for case in stmt.cases:
            frame.env = dict(before)
            if not self.block(frame, case.body):
                merged = _merge_env(merged, frame.env)
        frame.env = merged
