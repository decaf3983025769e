"""archbot's own AST checks (ARCH101-ARCH114 except secrets): one pass over a parsed module.

Each check yields a ``RawFinding``: the rule, the offending node's line, and the line span of the
enclosing statement (the caller keeps a finding only when that span touches a changed line).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

from app.review.models import Severity
from app.static.facts import (
    AWAITS,
    body_nodes,
    child_nodes,
    collect_facts,
    dotted,
    has_star_kwargs,
    is_const,
    keyword,
    own_nodes,
    resolve,
    root_name,
    statement_span,
)
from app.static.names import (
    ASYNC_LOCK_CTORS,
    CLIENT_CTORS,
    HTTP_METHODS,
    JWT_DECODERS,
    LOOP_GETTERS,
    MUTATING_METHODS,
    NETWORK_PREFIXES,
    ROUTE_DECORATORS,
    SAFE_YAML_LOADERS,
    SYNC_CLIENTS,
    TASK_SPAWNERS,
    THREAD_LOCK_CTORS,
    UNSAFE_DESERIALIZERS,
)


@dataclass(frozen=True)
class RawFinding:
    """A rule hit before the changed-lines filter: where it is and which lines make it relevant."""

    rule_id: str
    line: int
    span: tuple[int, int]
    detail: str
    extra_lines: frozenset[int] = frozenset()
    severity: Severity | None = None  # None: the rule's own; set where the kind of problem decides it


@dataclass
class _Func:
    """What the checker knows about the function it is in."""

    node: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda
    is_async: bool
    is_route: bool
    has_await: bool
    locals: set[str]
    globals: set[str]
    loads: dict[str, int]
    uses_acquire: bool
    class_name: str | None
    sync_vars: dict[str, str] = field(default_factory=dict)
    task_groups: set[str] = field(default_factory=set)
    loop_vars: set[str] = field(default_factory=set)
    locks_held: int = 0

    @property
    def concurrent(self) -> bool:
        """True where other requests can interleave: an async def that awaits, or a sync route."""
        return (self.is_async and self.has_await) or (not self.is_async and self.is_route)


class Checker(ast.NodeVisitor):
    """Walks one module once and collects ``RawFinding``s."""

    def __init__(self, tree: ast.Module) -> None:
        self.tree = tree
        self.findings: list[RawFinding] = []
        self.facts, self.parents = collect_facts(tree)
        self.funcs: list[_Func] = []
        self.classes: list[str] = []

    # ----------------------------------------------------------------- facts

    def qualname(self, expr: ast.expr) -> str | None:
        """Dotted name with import aliases resolved, unless a local variable shadows the import."""
        root = root_name(expr)
        if root is not None and self._is_local(root.id):
            return dotted(expr)
        return resolve(self.facts.aliases, expr)

    def _is_local(self, name: str) -> bool:
        return bool(self.funcs) and name in self.funcs[-1].locals and name not in self.funcs[-1].globals

    def generic_visit(self, node: ast.AST) -> None:
        """Visit the children the rules care about (``child_nodes``), skipping name and context leaves."""
        for child in child_nodes(node):
            self.visit(child)

    # --------------------------------------------------------------- helpers

    def span(self, node: ast.AST) -> tuple[int, int]:
        """Lines of the statement that holds ``node`` (only the header of a compound statement)."""
        stmt: ast.AST = node
        while not isinstance(stmt, ast.stmt) and stmt in self.parents:
            stmt = self.parents[stmt]
        first = getattr(node, "lineno", 1)
        last = getattr(node, "end_lineno", None) or first
        if not isinstance(stmt, ast.stmt):
            return first, last
        return statement_span(stmt, first, last)

    def add(
        self,
        rule_id: str,
        node: ast.AST,
        detail: str,
        extra: frozenset[int] = frozenset(),
        span: tuple[int, int] | None = None,
    ) -> None:
        line = getattr(node, "lineno", 1)
        self.findings.append(RawFinding(rule_id, line, span or self.span(node), detail, extra))

    @property
    def func(self) -> _Func | None:
        return self.funcs[-1] if self.funcs else None

    def _lock_kind(self, expr: ast.expr) -> str | None:
        """'thread', 'async' or 'lock' (a lock of unknown kind) for a with-item, else None."""
        if isinstance(expr, ast.Call):
            ctor = self.qualname(expr.func) or ""
            if ctor in THREAD_LOCK_CTORS:
                return "thread"
            if ctor in ASYNC_LOCK_CTORS:
                return "async"
            expr = expr.func
        key = dotted(expr)
        if key is None:
            return None
        if key in self.facts.thread_locks:
            return "thread"
        if key in self.facts.async_locks:
            return "async"
        last = key.rsplit(".", 1)[-1].lower()
        return "lock" if any(word in last for word in ("lock", "mutex", "sem")) else None

    # ------------------------------------------------------------- functions

    def _enter(self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda) -> _Func:
        has_await = False
        uses_acquire = False
        locals_: set[str] = set()
        globals_: set[str] = set()
        loads: dict[str, int] = {}
        for sub in body_nodes(node):
            if isinstance(sub, AWAITS):
                has_await = True
            elif isinstance(sub, ast.Name):
                if isinstance(sub.ctx, ast.Store | ast.Del):
                    locals_.add(sub.id)
                else:
                    loads[sub.id] = loads.get(sub.id, 0) + 1
            elif isinstance(sub, ast.Global | ast.Nonlocal):
                globals_.update(sub.names)
            elif isinstance(sub, ast.Attribute) and sub.attr == "acquire":
                uses_acquire = True
        args = node.args
        for arg in (*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg):
            if arg is not None:
                locals_.add(arg.arg)
        is_route = not isinstance(node, ast.Lambda) and any(
            isinstance(dec, ast.Call) and isinstance(dec.func, ast.Attribute) and dec.func.attr in ROUTE_DECORATORS
            for dec in node.decorator_list
        )
        return _Func(
            node=node,
            is_async=isinstance(node, ast.AsyncFunctionDef),
            is_route=is_route,
            has_await=has_await,
            locals=locals_,
            globals=globals_,
            loads=loads,
            uses_acquire=uses_acquire,
            class_name=self.classes[-1] if self.classes and self._is_method(node) else None,
        )

    def _is_method(self, node: ast.AST) -> bool:
        return isinstance(self.parents.get(node), ast.ClassDef)

    def _visit_function(self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda) -> None:
        self.funcs.append(self._enter(node))
        self.generic_visit(node)
        self.funcs.pop()

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        self._visit_function(node)

    def visit_AsyncFunctionDef(self, node: ast.AsyncFunctionDef) -> None:
        self._visit_function(node)

    def visit_Lambda(self, node: ast.Lambda) -> None:
        self._visit_function(node)

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        self.classes.append(node.name)
        self.generic_visit(node)
        self.classes.pop()

    # ------------------------------------------------------------ statements

    def _visit_with(self, node: ast.With | ast.AsyncWith) -> None:
        func = self.func
        kinds = [self._lock_kind(item.context_expr) for item in node.items]
        for item in node.items:
            self._bind_with_target(item)
        if func is not None and isinstance(node, ast.With) and func.is_async and "thread" in kinds:
            header = frozenset(range(node.lineno, node.body[0].lineno))
            for sub in own_nodes(node.body):
                if isinstance(sub, AWAITS):
                    self.add(
                        "ARCH106",
                        sub,
                        f"The threading lock taken on line {node.lineno} is still held at this `await`.",
                        header,
                    )
        held = any(kinds)
        if func is not None and held:
            func.locks_held += 1
        self.generic_visit(node)
        if func is not None and held:
            func.locks_held -= 1

    def _bind_with_target(self, item: ast.withitem) -> None:
        func = self.func
        if func is None or not isinstance(item.optional_vars, ast.Name):
            return
        name = item.optional_vars.id
        if isinstance(item.context_expr, ast.Call):
            ctor = self.qualname(item.context_expr.func) or ""
            receiver = root_name(item.context_expr.func)
            sync_vars = self._sync_vars()
            if ctor.endswith(("TaskGroup", "create_task_group", "open_nursery")):
                func.task_groups.add(name)
            elif ctor in SYNC_CLIENTS:
                func.sync_vars[name] = ctor
            elif receiver is not None and receiver.id in sync_vars and receiver is not item.context_expr.func:
                func.sync_vars[name] = sync_vars[receiver.id]  # e.g. `with conn.cursor() as cur`

    def visit_With(self, node: ast.With) -> None:
        self._visit_with(node)

    def visit_AsyncWith(self, node: ast.AsyncWith) -> None:
        self._visit_with(node)

    def visit_Try(self, node: ast.Try) -> None:
        self._check_swallowed_cancel(node)
        self.generic_visit(node)

    def visit_TryStar(self, node: ast.TryStar) -> None:
        self._check_swallowed_cancel(node)
        self.generic_visit(node)

    def _check_swallowed_cancel(self, node: ast.Try | ast.TryStar) -> None:
        func = self.func
        if func is None or not func.is_async:
            return
        if not any(isinstance(sub, AWAITS) for sub in own_nodes(node.body)):
            return
        for handler in node.handlers:
            catches = self._catches_cancel(handler.type)
            if not catches:
                continue
            if not _reraises(handler):
                header = (handler.lineno, max(handler.lineno, handler.body[0].lineno - 1))
                self.add("ARCH114", handler, f"This handler ({catches}) does not re-raise.", span=header)
            return  # cancellation never reaches a later handler: the first one that catches it decides

    def _catches_cancel(self, expr: ast.expr | None) -> str | None:
        if expr is None:
            return "bare `except:`"
        names = expr.elts if isinstance(expr, ast.Tuple) else [expr]
        for name in names:
            qual = self.qualname(name) or ""
            if qual in ("BaseException", "builtins.BaseException") or qual.endswith("CancelledError"):
                return f"`except {qual.rsplit('.', 1)[-1]}`"
        return None

    def visit_Expr(self, node: ast.Expr) -> None:
        if isinstance(node.value, ast.Call) and self._spawns_task(node.value):
            self.add("ARCH102", node.value, "The task object is discarded right away.")
        self.generic_visit(node)

    def visit_Assign(self, node: ast.Assign) -> None:
        self._check_assign(node.targets, node.value, node)
        self.generic_visit(node)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        if node.value is not None:
            self._check_assign([node.target], node.value, node)
        self.generic_visit(node)

    def visit_AugAssign(self, node: ast.AugAssign) -> None:
        self._check_shared_write(node.target, node)
        self.generic_visit(node)

    def visit_Delete(self, node: ast.Delete) -> None:
        for target in node.targets:
            self._check_shared_write(target, node)
        self.generic_visit(node)

    def _check_assign(self, targets: list[ast.expr], value: ast.expr, node: ast.stmt) -> None:
        func = self.func
        for target in targets:
            self._check_shared_write(target, node)
            self._check_tls_attribute(target, value, node)
        if func is None or len(targets) != 1 or not isinstance(targets[0], ast.Name):
            return
        name = targets[0].id
        if isinstance(value, ast.Call):
            callee = self.qualname(value.func) or ""
            receiver = root_name(value.func)
            if callee in SYNC_CLIENTS:
                func.sync_vars[name] = callee
            elif receiver is not None and receiver.id in self._sync_vars() and receiver is not value.func:
                func.sync_vars[name] = self._sync_vars()[receiver.id]
            if callee in LOOP_GETTERS:
                func.loop_vars.add(name)
            if self._spawns_task(value) and not func.loads.get(name) and name not in func.globals:
                self.add("ARCH102", value, f"It is assigned to `{name}`, which is never used again.")

    def _check_tls_attribute(self, target: ast.expr, value: ast.expr, node: ast.stmt) -> None:
        if not isinstance(target, ast.Attribute):
            return
        if target.attr == "check_hostname" and is_const(value, False):
            self.add("ARCH113", node, "`check_hostname = False` turns off host name checks.")
        elif target.attr == "verify_mode" and (self.qualname(value) or "").endswith("CERT_NONE"):
            self.add("ARCH113", node, "`verify_mode = CERT_NONE` accepts any certificate.")

    # ----------------------------------------------------- shared state (103)

    def _shared_target(self, expr: ast.expr) -> str | None:
        """The shared module/class state that writing through ``expr`` changes, if any."""
        func = self.func
        if func is None:
            return None
        base: ast.expr = expr
        while isinstance(base, ast.Subscript | ast.Attribute):
            if isinstance(base, ast.Attribute) and isinstance(base.value, ast.Name):
                owner = base.value.id
                cls = func.class_name
                if (
                    cls
                    and owner in ("self", "cls", cls)
                    and base.attr in self.facts.class_mutables.get(cls, set())
                    and base.attr not in self.facts.instance_attrs.get(cls, set())
                ):
                    return f"class attribute `{cls}.{base.attr}`"
            base = base.value
        if not isinstance(base, ast.Name) or base is expr:
            return None
        name = base.id
        if name in self.facts.module_mutables and (name not in func.locals or name in func.globals):
            return f"module-level `{name}`"
        return None

    def _check_shared_write(self, target: ast.expr, node: ast.stmt) -> None:
        func = self.func
        if func is None or not func.concurrent or func.locks_held or func.uses_acquire:
            return
        if isinstance(target, ast.Name):
            if target.id in func.globals and target.id in self.facts.module_names:
                self.add("ARCH103", node, f"`global {target.id}` is rebound here.")
            return
        what = self._shared_target(target)
        if what:
            self.add("ARCH103", node, f"This writes to {what}.")

    # ------------------------------------------------------------------ calls

    def _sync_vars(self) -> dict[str, str]:
        func = self.func
        if func is None:
            return self.facts.sync_vars
        return {**self.facts.sync_vars, **func.sync_vars}

    def _spawns_task(self, call: ast.Call) -> bool:
        callee = self.qualname(call.func) or ""
        if callee in TASK_SPAWNERS:
            return True
        func = self.func
        if not isinstance(call.func, ast.Attribute) or call.func.attr != "create_task":
            return False
        receiver = call.func.value
        if isinstance(receiver, ast.Call):
            return (self.qualname(receiver.func) or "") in LOOP_GETTERS
        key = dotted(receiver) or ""
        if func is not None and key in func.task_groups:
            return False
        loops = func.loop_vars if func is not None else set()
        return key in loops or key.rsplit(".", 1)[-1] in ("loop", "_loop", "event_loop")

    def visit_Call(self, node: ast.Call) -> None:
        callee = self.qualname(node.func) or ""
        func = self.func
        if callee == "asyncio.gather":
            self._check_gather(node)
        if callee in CLIENT_CTORS and func is not None:
            self._check_client_lifecycle(node, callee)
        self._check_timeout(node, callee)
        self._check_tls(node, callee)
        self._check_deserialization(node, callee)
        if func is not None and isinstance(node.func, ast.Attribute) and node.func.attr in MUTATING_METHODS:
            parent = self.parents.get(node)
            stmt = parent if isinstance(parent, ast.stmt) else node
            if isinstance(stmt, ast.Expr) and func.concurrent and not func.locks_held and not func.uses_acquire:
                what = self._shared_target(node.func)
                if what:
                    self.add("ARCH103", node, f"`.{node.func.attr}()` changes {what}.")
        self.generic_visit(node)

    def _check_gather(self, node: ast.Call) -> None:
        if has_star_kwargs(node):
            return
        flag = keyword(node, "return_exceptions")
        if flag is not None and not is_const(flag.value, False):
            return
        if len(node.args) >= 2 or any(isinstance(arg, ast.Starred) for arg in node.args):
            self.add("ARCH101", node, "")

    def _check_client_lifecycle(self, node: ast.Call, callee: str) -> None:
        parent = self.parents.get(node)
        short = callee.rsplit(".", 1)[-1]
        if isinstance(parent, ast.Attribute):
            self.add("ARCH104", node, f"`{short}()` is used for one call and never closed.")
        elif isinstance(parent, ast.Expr):
            self.add("ARCH104", node, f"`{short}()` is created and dropped without being closed.")
        elif isinstance(parent, ast.Assign | ast.AnnAssign) and isinstance(
            target := parent.targets[0] if isinstance(parent, ast.Assign) else parent.target, ast.Name
        ):
            func = self.func
            if func is not None and not self._released(target.id, func):
                self.add("ARCH104", node, f"`{target.id}` is never closed, returned or handed over.")

    def _released(self, name: str, func: _Func) -> bool:
        """True when the function closes, enters, returns, stores or hands over ``name``."""
        if name in func.globals:
            return True
        for sub in body_nodes(func.node):
            if isinstance(sub, ast.Attribute) and isinstance(sub.value, ast.Name) and sub.value.id == name:
                if sub.attr in ("close", "aclose", "__aexit__", "__exit__"):
                    return True
            elif isinstance(sub, ast.withitem) and isinstance(sub.context_expr, ast.Name):
                if sub.context_expr.id == name:
                    return True
            elif isinstance(sub, ast.Return | ast.Yield | ast.YieldFrom) and sub.value is not None:
                value = sub.value
                values = value.elts if isinstance(value, ast.Tuple | ast.List) else [value]
                if any(isinstance(v, ast.Name) and v.id == name for v in values):
                    return True
            elif isinstance(sub, ast.Call):
                values = [*sub.args, *(kw.value for kw in sub.keywords)]
                if any(isinstance(v, ast.Name) and v.id == name for v in values):
                    return True
            elif isinstance(sub, ast.Assign) and isinstance(sub.value, ast.Name) and sub.value.id == name:
                return True
        return False

    def _check_timeout(self, node: ast.Call, callee: str) -> None:
        timeout = keyword(node, "timeout")
        if timeout is not None and is_const(timeout.value, None):
            if callee.startswith(NETWORK_PREFIXES) or self._is_client_method(node):
                self.add("ARCH105", node, "`timeout=None` waits forever.")
            return
        if has_star_kwargs(node):
            return
        if callee == "aiohttp.ClientSession" and timeout is None:
            self.add("ARCH105", node, "aiohttp's default is a 5-minute total timeout and no read timeout.")
        elif (
            callee == "aiohttp.ClientTimeout"
            and not node.args
            and all(is_const(kw.value, None) for kw in node.keywords)
        ):
            self.add("ARCH105", node, "`ClientTimeout()` with no limits never times out.")
        elif callee == "httpx.Timeout" and node.args and is_const(node.args[0], None) and not node.keywords:
            self.add("ARCH105", node, "`httpx.Timeout(None)` disables every timeout.")
        elif callee == "urllib.request.urlopen" and len(node.args) < 3 and timeout is None:
            self.add("ARCH105", node, "`urlopen` without `timeout=` can wait forever.")
        elif timeout is None and self._is_requests_call(node, callee):
            self.add("ARCH105", node, "`requests` has no default timeout: this can wait forever.")

    def _is_requests_call(self, node: ast.Call, callee: str) -> bool:
        if callee.startswith("requests.") and callee.rsplit(".", 1)[-1] in HTTP_METHODS:
            return True
        receiver = root_name(node.func)
        return (
            isinstance(node.func, ast.Attribute)
            and node.func.attr in HTTP_METHODS
            and receiver is not None
            and self._sync_vars().get(receiver.id, "").startswith("requests.")
        )

    def _is_client_method(self, node: ast.Call) -> bool:
        """``x.get(...)``-style call on something that is, or is named like, an HTTP client."""
        if not isinstance(node.func, ast.Attribute) or node.func.attr not in HTTP_METHODS:
            return False
        receiver = dotted(node.func.value) or ""
        root = root_name(node.func.value)
        if root is not None and root.id in self._sync_vars():
            return True
        last = receiver.rsplit(".", 1)[-1].lower()
        return any(word in last for word in ("client", "session", "http", "api"))

    def _check_tls(self, node: ast.Call, callee: str) -> None:
        http_call = callee.startswith(NETWORK_PREFIXES) or self._is_client_method(node)
        for kw in node.keywords:
            off = is_const(kw.value, False)
            if kw.arg == "verify" and off and http_call and callee not in JWT_DECODERS:
                self.add("ARCH113", node, "`verify=False` accepts any certificate.")
            elif kw.arg in ("ssl", "verify_ssl") and off and (http_call or callee.startswith("aiohttp.")):
                self.add("ARCH113", node, f"`{kw.arg}=False` accepts any certificate.")

    def _cli_namespaces(self) -> set[str]:
        """Names bound to ``parser.parse_args()`` anywhere in the module (computed once)."""
        cached = self.__dict__.get("_cli_names")
        if cached is None:
            cached = {
                target.id
                for stmt in ast.walk(self.tree)
                if isinstance(stmt, ast.Assign)
                and isinstance(stmt.value, ast.Call)
                and isinstance(stmt.value.func, ast.Attribute)
                and stmt.value.func.attr in ("parse_args", "parse_known_args")
                for target in stmt.targets
                if isinstance(target, ast.Name)
            }
            self.__dict__["_cli_names"] = cached
        return cached

    def _operator_file(self, node: ast.Call) -> bool:
        """The data comes from a file the operator named on the command line (``args.input``,
        ``open(args.input, "rb")``): a script loading its user's own file, no trust boundary."""
        if not node.args:
            return False
        data = node.args[0]
        if isinstance(data, ast.Call) and isinstance(data.func, ast.Name) and data.func.id == "open" and data.args:
            data = data.args[0]
        root = root_name(data)
        return isinstance(data, ast.Attribute) and root is not None and root.id in self._cli_namespaces()

    def _check_deserialization(self, node: ast.Call, callee: str) -> None:
        if (callee in UNSAFE_DESERIALIZERS or callee == "torch.load") and self._operator_file(node):
            return
        if callee in UNSAFE_DESERIALIZERS:
            self.add("ARCH111", node, f"`{callee}` runs code embedded in the data it reads.")
        elif callee in ("yaml.load", "yaml.load_all"):
            loader = keyword(node, "Loader")
            value = loader.value if loader else (node.args[1] if len(node.args) > 1 else None)
            if value is None or (self.qualname(value) or "").rsplit(".", 1)[-1] not in SAFE_YAML_LOADERS:
                self.add("ARCH111", node, "`yaml.load` without `SafeLoader` can build arbitrary objects.")
        elif callee == "torch.load":
            weights_only = keyword(node, "weights_only")
            if weights_only is None or not is_const(weights_only.value, True):
                self.add("ARCH111", node, "`torch.load` without `weights_only=True` unpickles the file.")
        elif callee == "numpy.load":
            allow = keyword(node, "allow_pickle")
            if allow is not None and is_const(allow.value, True):
                self.add("ARCH111", node, "`allow_pickle=True` lets the file run code.")


def _is_logging_call(call: ast.Call) -> bool:
    name = call.func.attr if isinstance(call.func, ast.Attribute) else dotted(call.func) or ""
    return name in ("debug", "info", "warning", "warn", "error", "exception", "critical", "log", "print")


def _reraises(handler: ast.ExceptHandler) -> bool:
    """True when the handler raises, or hands the caught exception to a call (which may re-raise it)."""
    for sub in own_nodes(handler.body):
        if isinstance(sub, ast.Raise):
            return True
        if handler.name and isinstance(sub, ast.Call) and not _is_logging_call(sub):
            values = [*sub.args, *(kw.value for kw in sub.keywords)]
            if any(isinstance(v, ast.Name) and v.id == handler.name for v in values):
                return True
    return False


def check_module(tree: ast.Module) -> list[RawFinding]:
    """Run every own AST rule over one parsed module."""
    checker = Checker(tree)
    checker.visit(tree)
    return checker.findings
