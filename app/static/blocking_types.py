"""Which calls block: the catalogue (``app.static.blocking_names``) applied to one module's code.

``ModuleTypes`` learns, once per module, what its names hold: import aliases, module-level objects
(``CACHE = redis.Redis(...)``), what each class keeps on ``self`` (``self.s3 = boto3.client("s3")`` in
any method, class-level attributes and annotations), and what module functions and methods return
(``def s3(): return boto3.client("s3")``, ``-> requests.Session``). ``function_env`` adds a function's own
bindings (annotated parameters, assignments, ``with ... as``) to that. ``classify`` then says whether a
call blocks, and why: a catalogued function, a blocking method of a tracked object, or, for receivers
of unknown type, a call whose signature only a synchronous client has (``x.request("GET", url)``,
``x.get_object(Bucket=...)``, ``cur.execute("SELECT ...")``) and that is not awaited.

Bindings are flow-insensitive: a name bound to two different things in one scope is not tracked.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass

from app.static import blocking_names as cat
from app.static.facts import AWAITS, body_nodes, dotted, own_nodes

ASYNC = "async"  # bound by `async with`/`async for` or from an `await`: an async object, never blocking
AMBIGUOUS = ""  # bound to different things in one scope: not tracked
INSTANCE = "@"  # "@Classifier": an instance of the module's own class `Classifier`
_Def = ast.FunctionDef | ast.AsyncFunctionDef
Env = dict[str, str]


@dataclass(frozen=True)
class Hit:
    """One blocking call: what it is (``what``), of which kind, and a phrase saying why it blocks."""

    kind: cat.Kind
    what: str  # "`requests.get()`", "`s.get()`", "`with self._lock:`"
    phrase: str
    why: str = ""  # " (`s` is a `requests.Session`)"
    chain: str = ""  # how a chain names it: "`requests.get`", "boto3 client.get_secret_value"
    guessed: bool = False  # matched by signature on a receiver of unknown type

    @property
    def detail(self) -> str:
        return f"{self.what} {self.phrase}{self.why}."


@dataclass(frozen=True)
class Context:
    """Where a call sits: its use decides whether an unknown receiver can be an async object."""

    awaited: bool = False
    async_item: bool = False  # the context expression of `async with` or the iterable of `async for`
    argument: bool = False  # an argument of another call (`gather(x.request(...))`)
    returned: bool = False  # `return x.request(...)` / `yield ...`

    @property
    def async_use(self) -> bool:
        return self.awaited or self.async_item

    @property
    def may_be_coroutine(self) -> bool:
        return self.async_use or self.argument or self.returned


def _annotation_name(aliases: Mapping[str, str], expr: ast.expr | None) -> str | None:
    """The tracked type an annotation names (``Path``, ``Optional[Session]``, ``"httpx.Client" | None``)."""
    if expr is None:
        return None
    if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
        try:
            expr = ast.parse(expr.value, mode="eval").body
        except SyntaxError:
            return None
    if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.BitOr):
        left, right = _annotation_name(aliases, expr.left), _annotation_name(aliases, expr.right)
        return left or right if not (left and right and left != right) else None
    if isinstance(expr, ast.Subscript):
        outer = qualify(aliases, expr.value) or ""
        if outer.rsplit(".", 1)[-1] in ("Optional", "Annotated"):
            inner = expr.slice.elts[0] if isinstance(expr.slice, ast.Tuple) else expr.slice
            return _annotation_name(aliases, inner)
        if outer in ("typing.IO", "IO"):
            return "file"
        return None
    name = qualify(aliases, expr)
    return _type_for_name(name) if name else None


def _type_for_name(name: str) -> str | None:
    if name in cat.CLASSES:
        return cat.CLASSES[name]
    if name in cat.ASYNC_CLASSES:
        return ASYNC
    for prefix, suffix, type_name in cat.CLIENT_PATTERNS:
        last = name.rsplit(".", 1)[-1]
        if name.startswith(prefix) and last.endswith(suffix) and not any(m in name for m in cat.ASYNC_MARKERS):
            return type_name
    return None


def qualify(aliases: Mapping[str, str], expr: ast.expr) -> str | None:
    """Dotted name with import aliases resolved (``r.get`` is ``requests.get`` after ``import requests as r``)."""
    name = dotted(expr)
    if name is None:
        return None
    head, _, rest = name.partition(".")
    if head in aliases:
        base = aliases[head]
        return f"{base}.{rest}" if rest else base
    return name


def _is_const(expr: ast.expr | None, *values: object) -> bool:
    return isinstance(expr, ast.Constant) and any(expr.value == v and type(expr.value) is type(v) for v in values)


def _keyword(call: ast.Call, name: str) -> ast.expr | None:
    return next((kw.value for kw in call.keywords if kw.arg == name), None)


def _code(expr: ast.expr, limit: int = 60) -> str:
    """Short source text of ``expr`` for a message (``urllib3.PoolManager().request``)."""
    text = ast.unparse(expr)
    return text if len(text) <= limit else "…" + text[-limit:]


def _short(name: str) -> str:
    return name.removeprefix("builtins.")


class ModuleTypes:
    """What one module's names hold: aliases, module objects, class attributes, function results."""

    def __init__(self, tree: ast.Module) -> None:
        self.aliases: dict[str, str] = {}
        for node in all_statements(tree.body):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    top = alias.name.partition(".")[0]
                    self.aliases[alias.asname or top] = alias.name if alias.asname else top
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                for alias in node.names:
                    self.aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"
        self.functions: dict[str, _Def] = {}
        self.classes: dict[str, ast.ClassDef] = {}
        for stmt in _top_statements(tree.body):
            if isinstance(stmt, _Def):
                self.functions[stmt.name] = stmt
            elif isinstance(stmt, ast.ClassDef):
                self.classes[stmt.name] = stmt
        self._returns: dict[str, str | None] = {}  # module function -> type of its result (memo)
        self._method_returns: dict[tuple[str, str], str | None] = {}
        self.class_envs: dict[str, Env] = {}
        self.env: Env = {}
        self._bind_all(_top_statements(tree.body), self.env)

    def result_of(self, name: str) -> str | None:
        """The tracked type module function ``name`` returns (``def s3(): return boto3.client("s3")``)."""
        if name not in self._returns:
            self._returns[name] = None  # a recursive call while computing it: unknown
            self._returns[name] = self._result_type(self.functions[name], self.env)
        return self._returns[name]

    def method_result(self, cls: str, name: str) -> str | None:
        """The tracked type ``self.name()`` returns in class ``cls`` (or a base class of the module)."""
        key = (cls, name)
        if key not in self._method_returns:
            self._method_returns[key] = None
            method = self.method(cls, name, set())
            env = {**self.env, **self._class(cls, set())}
            self._method_returns[key] = self._result_type(method, env) if method is not None else None
        return self._method_returns[key]

    def method(self, cls: str, name: str, seen: set[str]) -> _Def | None:
        """The definition ``self.name`` refers to in class ``cls``: its own, or a module base class's."""
        node = self.classes.get(cls)
        if node is None or cls in seen:
            return None
        for stmt in node.body:
            if isinstance(stmt, _Def) and stmt.name == name:
                return stmt
        for base in node.bases:
            if isinstance(base, ast.Name):
                found = self.method(base.id, name, seen | {cls})
                if found is not None:
                    return found
        return None

    # ----------------------------------------------------------------- classes

    def _class(self, name: str, seen: set[str]) -> Env:
        if name in self.class_envs:
            return self.class_envs[name]
        cls = self.classes[name]
        env: Env = {}
        self.class_envs[name] = env  # a class that (indirectly) names itself as a base: no recursion
        for base in cls.bases:
            if isinstance(base, ast.Name) and base.id in self.classes and base.id not in seen | {name}:
                env.update(self._class(base.id, seen | {name}))
        body_env: Env = {}
        self._bind_all(cls.body, body_env)
        for attr_name, value in body_env.items():
            for prefix in ("self.", "cls.", f"{name}."):
                _merge(env, prefix + attr_name, value)
        for method in (s for s in cls.body if isinstance(s, _Def)):
            writes = [
                (node, key)
                for node in own_statements(method.body)
                if isinstance(node, ast.Assign | ast.AnnAssign) and node.value is not None
                for target in (node.targets if isinstance(node, ast.Assign) else [node.target])
                if isinstance(target, ast.Attribute)
                and (key := dotted(target)) is not None
                and key.startswith("self.")
                and key.count(".") == 1
            ]
            local = self.function_env(method, self.env) if writes else {}
            for node, key in writes:
                attr = self.type_of(node.value, local)
                if isinstance(node, ast.AnnAssign):
                    attr = attr or _annotation_name(self.aliases, node.annotation)
                _merge(env, key, attr or AMBIGUOUS)
                _merge(env, "cls." + key[5:], attr or AMBIGUOUS)
        self.class_envs[name] = env
        return env

    # --------------------------------------------------------------- bindings

    def _params(self, func: _Def | ast.Lambda) -> Env:
        env: Env = {}
        args = func.args
        for arg in (*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg):
            if arg is None:
                continue
            found = None if isinstance(func, ast.Lambda) else _annotation_name(self.aliases, arg.annotation)
            env[arg.arg] = found or AMBIGUOUS
        return env

    def _result_type(self, func: _Def, env: Env) -> str | None:
        declared = _annotation_name(self.aliases, func.returns)
        if declared or isinstance(func, ast.AsyncFunctionDef):
            return declared if isinstance(func, ast.FunctionDef) else None
        local = self.function_env(func, env)
        found: set[str] = set()
        for node in body_nodes(func):
            if isinstance(node, ast.Return) and node.value is not None:
                found.add(self.type_of(node.value, local) or AMBIGUOUS)
            elif isinstance(node, ast.Yield | ast.YieldFrom):
                return None
        return found.pop() if len(found) == 1 and AMBIGUOUS not in found else None

    def _bind_all(self, stmts: Iterable[ast.stmt], env: Env) -> None:
        for stmt in stmts:
            self._bind(stmt, env, env)

    def _bind(self, node: ast.AST, env: Mapping[str, str], out: Env) -> None:
        """Record in ``out`` what one statement (or named expression, comprehension) binds; types are
        read through ``env``."""
        if isinstance(node, ast.Assign):
            found = self.type_of(node.value, env)
            for target in node.targets:
                self._bind_target(target, found, out)
        elif isinstance(node, ast.AnnAssign):
            found = self.type_of(node.value, env) if node.value is not None else None
            found = found or _annotation_name(self.aliases, node.annotation)
            self._bind_target(node.target, found, out)
        elif isinstance(node, ast.NamedExpr):
            self._bind_target(node.target, self.type_of(node.value, env), out)
        elif isinstance(node, ast.With | ast.AsyncWith):
            for item in node.items:
                if item.optional_vars is None:
                    continue
                if isinstance(node, ast.AsyncWith):
                    self._bind_target(item.optional_vars, ASYNC, out)
                    continue
                ctx_type = self.type_of(item.context_expr, env)
                spec = cat.TYPES.get(ctx_type or "")
                entered = spec.enter if spec is not None else None
                self._bind_target(item.optional_vars, ctx_type if entered is None else entered or None, out)
        elif isinstance(node, ast.For | ast.AsyncFor | ast.comprehension):
            self._bind_target(node.target, ASYNC if isinstance(node, ast.AsyncFor) else None, out)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            out[node.name] = AMBIGUOUS

    def _bind_target(self, target: ast.expr, found: str | None, env: Env) -> None:
        if isinstance(target, ast.Name):
            _merge(env, target.id, found or AMBIGUOUS)
        elif isinstance(target, ast.Tuple | ast.List):
            for elt in target.elts:
                self._bind_target(elt.value if isinstance(elt, ast.Starred) else elt, None, env)

    def function_env(self, func: _Def | ast.Lambda, outer: Mapping[str, str], cls: str | None = None) -> Env:
        """``outer`` (module, enclosing function) plus the class's ``self.`` attributes and ``func``'s own
        bindings; a name the function binds to something untracked shadows the outer one (value ``""``)."""
        env: Env = dict(outer)
        if cls is not None and cls in self.classes:
            env.update(self._class(cls, set()))
            env["__class__"] = cls
        own: Env = self._params(func)
        view = _View(own, env)
        body: list[ast.stmt] = [] if isinstance(func, ast.Lambda) else func.body
        for stmt in own_statements(body):
            if isinstance(stmt, ast.Assign) and isinstance(stmt.value, ast.Await):
                for target in stmt.targets:  # `x = await ...` is an async result, never a sync client
                    self._bind_target(target, ASYNC, own)
            elif isinstance(stmt, ast.Global | ast.Nonlocal):
                view.globals.update(stmt.names)
            else:
                self._bind(stmt, view, own)
        for name in view.globals:
            own.pop(name, None)
        env.update(own)
        return env

    # ------------------------------------------------------------------ types

    def type_of(self, expr: ast.expr | None, env: Mapping[str, str]) -> str | None:
        """The tracked type ``expr`` evaluates to, or None."""
        if expr is None:
            return None
        key = dotted(expr)
        if key is not None and key in env:
            return env[key] or None
        if isinstance(expr, ast.Call):
            return self._call_type(expr, env)
        if isinstance(expr, ast.Attribute):
            owner = self.type_of(expr.value, env)
            spec = cat.TYPES.get(owner or "")
            if spec is not None:
                return spec.attrs.get(expr.attr) or spec.any_attr
            if (
                expr.attr == cat.ORM_MANAGER
                and owner is None
                and isinstance(expr.value, ast.Name)
                and expr.value.id[:1].isupper()
            ):
                return "django.queryset"
            return None
        if isinstance(expr, ast.Subscript):
            spec = cat.TYPES.get(self.type_of(expr.value, env) or "")
            return spec.subscript if spec is not None else None
        if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.Div):
            return "pathlib.Path" if self.type_of(expr.left, env) == "pathlib.Path" else None
        if isinstance(expr, ast.Await):
            return ASYNC
        return None

    def _call_type(self, call: ast.Call, env: Mapping[str, str]) -> str | None:
        func = call.func
        if isinstance(func, ast.Attribute):
            owner = self.type_of(func.value, env)
            spec = cat.TYPES.get(owner or "")
            if spec is not None:
                return spec.returns.get(func.attr)
            if isinstance(func.value, ast.Name) and func.value.id in ("self", "cls"):
                cls = env.get("__class__")
                if cls:
                    return self.method_result(cls, func.attr)
        if isinstance(func, ast.Name) and func.id in self.classes and env.get(func.id) in (None, AMBIGUOUS):
            return INSTANCE + func.id
        if isinstance(func, ast.Name) and func.id in self.functions and env.get(func.id) in (None, AMBIGUOUS):
            found_ = self.result_of(func.id)
            if found_:
                return found_
        name = self.callee(call, env)
        if name is None:
            return None
        found = cat.FACTORIES.get(name) or _type_for_name(name)
        if found is None and "." in name:
            owner_name, _, method = name.rpartition(".")
            owner_type = _type_for_name(owner_name)
            if owner_type is not None and method.startswith("from_"):
                found = owner_type
        if found == "archive" and self._in_memory(call, env):
            return "memory"  # `zipfile.ZipFile(io.BytesIO(data))`: the archive is already in memory
        sized = call.args or _keyword(call, "maxsize") is not None
        if (
            found is not None
            and found in cat.SIZED_VARIANTS
            and sized
            and not _is_const(call.args[0] if call.args else None, 0)
        ):
            found = cat.SIZED_VARIANTS[found]
        return found

    def callee(self, call: ast.Call, env: Mapping[str, str]) -> str | None:
        """The qualified name of what ``call`` calls, unless its root is a local or tracked name."""
        name = dotted(call.func)
        if name is None:
            return None
        root = name.partition(".")[0]
        if root in env:
            return None
        return qualify(self.aliases, call.func)

    def inference_site(self, stmt: ast.With, env: Mapping[str, str]) -> ast.Call | None:
        """The first call made under ``with torch.no_grad():`` (a forward pass), unless it is awaited."""
        if not any(
            isinstance(item.context_expr, ast.Call) and self.callee(item.context_expr, env) in cat.INFERENCE_CONTEXTS
            for item in stmt.items
        ):
            return None
        for inner in own_statements(stmt.body):
            if isinstance(inner, ast.Expr | ast.Assign | ast.AnnAssign | ast.Return) and inner.value is not None:
                value = inner.value
                if isinstance(value, ast.Call | ast.Attribute | ast.Subscript) and any(
                    isinstance(n, ast.Call) for n in ast.walk(value)
                ):
                    return next(n for n in ast.walk(value) if isinstance(n, ast.Call))
        return None

    # --------------------------------------------------------------- classify

    def classify(self, call: ast.Call, env: Mapping[str, str], ctx: Context) -> Hit | None:
        """The blocking work ``call`` does on the thread that runs it, or None."""
        if ctx.async_use:
            return None
        name = self.callee(call, env)
        if name is not None:
            hit = self._function_hit(call, name, env)
            if hit is not None:
                return hit
        if isinstance(call.func, ast.Attribute):
            return self._method_hit(call, call.func, env, ctx)
        return None

    def _function_hit(self, call: ast.Call, name: str, env: Mapping[str, str]) -> Hit | None:
        kind_name = cat.FUNCTIONS.get(name)
        if kind_name is None:
            kind_name = next(
                (k for prefix, suffix, k in cat.SUFFIX_FUNCTIONS if name.startswith(prefix) and name.endswith(suffix)),
                None,
            )
        if kind_name is None and name in cat.BLOCKS_WITH_ARGS and (call.args or _keyword(call, "host")):
            kind_name = cat.TYPES[cat.CLASSES[name]].kind
        if kind_name is None or self._harmless_call(call, name, kind_name, env):
            return None
        kind = cat.KINDS[kind_name]
        short = _short(name)
        return Hit(kind, f"`{short}()`", kind.phrase, chain=f"`{short}`")

    def _harmless_call(self, call: ast.Call, name: str, kind: str, env: Mapping[str, str]) -> bool:
        if name == "time.sleep":
            return bool(call.args) and _is_const(call.args[0], 0, 0.0)
        if kind == cat.FILE.name:
            return self._in_memory(call, env)
        if name in ("fcntl.flock", "fcntl.lockf"):
            return any(isinstance(n, ast.Attribute) and n.attr == "LOCK_NB" for a in call.args for n in ast.walk(a))
        return False

    def _in_memory(self, call: ast.Call, env: Mapping[str, str]) -> bool:
        """The file a call opens is a buffer in memory (``io.BytesIO(...)``), or a file object it is given."""
        if _keyword(call, "fileobj") is not None:
            return True
        return bool(call.args) and self.type_of(call.args[0], env) == "memory"

    def _method_hit(self, call: ast.Call, func: ast.Attribute, env: Mapping[str, str], ctx: Context) -> Hit | None:
        method, receiver = func.attr, func.value
        owner = self.type_of(receiver, env)
        text = dotted(receiver)
        subject = f"`{_code(func)}()`"
        spec = cat.TYPES.get(owner or "")
        if spec is not None:
            if not _blocks(spec, method) or (spec.kind in ("lock", "wait") and _nonblocking(call, method)):
                return None
            kind = cat.KINDS[cat.METHOD_KINDS.get((spec.name, method), spec.kind)]
            phrase = cat.METHOD_PHRASES.get((spec.name, method)) or spec.phrase or kind.phrase
            why = f" (`{text}` is {spec.label})" if text else f" (on {spec.label})"
            return Hit(kind, subject, phrase, why, chain=f"{spec.name.replace('.', ' ', 1)}.{method}")
        if owner is not None or ctx.may_be_coroutine:
            return None
        return self._signature_hit(call, method, subject)

    def _signature_hit(self, call: ast.Call, method: str, subject: str) -> Hit | None:
        """A call on a receiver of unknown type that only a synchronous client makes this way."""
        first = call.args[0] if call.args else None
        verb = isinstance(first, ast.Constant) and isinstance(first.value, str)
        verb = verb and str(getattr(first, "value", "")).upper() in cat.HTTP_METHOD_NAMES
        if (method in cat.HTTP_SIGNATURE_METHODS and verb) or (method in cat.POOL_ONLY_METHODS and len(call.args) >= 2):
            why = " (a urllib3-style `request(method, url)`, not awaited)"
            return Hit(cat.HTTP, subject, "looks like a synchronous HTTP call", why, f"{method}()", guessed=True)
        sdk = sorted(kw.arg for kw in call.keywords if kw.arg in cat.SDK_KEYWORDS)
        if sdk and method.islower():
            why = f" (AWS-style `{sdk[0]}=` parameter, not awaited)"
            return Hit(cat.SDK, subject, "looks like a synchronous `boto3` call", why, f"boto3 {method}", guessed=True)
        if (method in cat.SQL_METHODS and _looks_like_sql(first)) or method in cat.FETCH_METHODS:
            why = " (a DB-API cursor method, not awaited)"
            return Hit(cat.DB, subject, "looks like a synchronous database call", why, f"{method}()", guessed=True)
        return None

    def with_hit(self, item: ast.withitem, stmt: ast.With, env: Mapping[str, str]) -> Hit | None:
        """``with lock:`` in a coroutine, when ``lock`` is known to be a threading (or file) lock. A body
        that awaits under the lock is ARCH106's (a deadlock), not reported twice."""
        expr = item.context_expr
        if isinstance(expr, ast.Call) or any(isinstance(n, AWAITS) for n in own_nodes(stmt.body)):
            return None
        spec = cat.TYPES.get(self.type_of(expr, env) or "")
        text = dotted(expr)
        if spec is None or not spec.with_blocks or text is None:
            return None
        kind = cat.KINDS[spec.kind]
        phrase = spec.phrase or kind.phrase
        return Hit(kind, f"`with {text}:`", phrase, f" (`{text}` is {spec.label})", f"with {text}")


class _View(Mapping[str, str]):
    """A function's own bindings over those of its enclosing scopes (read-only)."""

    def __init__(self, own: Env, outer: Mapping[str, str]) -> None:
        self.own, self.outer = own, outer
        self.globals: set[str] = set()

    def __getitem__(self, key: str) -> str:
        if key in self.own and key not in self.globals:
            return self.own[key]
        return self.outer[key]

    def __iter__(self) -> Iterator[str]:
        return iter({**self.outer, **self.own})

    def __len__(self) -> int:
        return len({**self.outer, **self.own})


def _merge(env: Env, key: str, value: str) -> None:
    """Bind ``key``; a second, different binding in the same scope makes it ambiguous."""
    if key in env and env[key] != value:
        env[key] = AMBIGUOUS
    else:
        env[key] = value


def _blocks(spec: cat.ObjectType, method: str) -> bool:
    if method in spec.blocking:
        return True
    if not spec.all_block or method in spec.safe or method.startswith("_") or method in spec.returns:
        return False
    return not method[:1].isupper()


def _nonblocking(call: ast.Call, method: str) -> bool:
    """``acquire(blocking=False)``, ``get(False)``, ``wait(timeout=0)``, ``shutdown(wait=False)``."""
    for kw in call.keywords:
        if kw.arg in cat.NONBLOCKING_FLAGS and _is_const(kw.value, False):
            return True
        if kw.arg == "timeout" and _is_const(kw.value, 0, 0.0):
            return True
    if method in ("acquire", "get", "put") and call.args:
        return _is_const(call.args[0] if method != "put" else call.args[-1], False) and (
            method != "put" or len(call.args) > 1
        )
    if method in ("wait", "result", "join", "exception") and call.args:
        return _is_const(call.args[0], 0, 0.0)
    return False


def _looks_like_sql(expr: ast.expr | None) -> bool:
    text: str | None = None
    if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
        text = expr.value
    elif isinstance(expr, ast.JoinedStr) and expr.values and isinstance(expr.values[0], ast.Constant):
        text = str(expr.values[0].value)
    elif isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.Add | ast.Mod):
        return _looks_like_sql(expr.left)
    elif isinstance(expr, ast.Call) and isinstance(expr.func, ast.Name | ast.Attribute) and expr.args:
        name = expr.func.id if isinstance(expr.func, ast.Name) else expr.func.attr
        return name == "text" and _looks_like_sql(expr.args[0])
    if text is None:
        return False
    words = text.lstrip(" \t\n(").split(None, 1)
    return bool(words) and words[0].upper() in cat.SQL_KEYWORDS


def own_statements(body: list[ast.stmt]) -> Iterator[ast.stmt]:
    """Every statement of the scope in source order (nested definitions themselves, not their bodies)."""
    for stmt in body:
        yield stmt
        if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            continue
        for name in ("body", "orelse", "finalbody"):
            inner = getattr(stmt, name, None)
            if isinstance(inner, list):
                yield from own_statements(inner)
        for handler in getattr(stmt, "handlers", []):
            yield from own_statements(handler.body)
        for case in getattr(stmt, "cases", []):
            yield from own_statements(case.body)


def all_statements(body: list[ast.stmt]) -> Iterator[ast.stmt]:
    """Every statement under ``body``, nested definitions' bodies included."""
    stack = list(reversed(body))
    while stack:
        stmt = stack.pop()
        yield stmt
        for name in ("body", "orelse", "finalbody"):
            inner = getattr(stmt, name, None)
            if isinstance(inner, list):
                stack.extend(reversed(inner))
        for handler in getattr(stmt, "handlers", []):
            stack.extend(reversed(handler.body))
        for case in getattr(stmt, "cases", []):
            stack.extend(reversed(case.body))


def _top_statements(body: list[ast.stmt]) -> Iterator[ast.stmt]:
    """Module-level statements, including those inside top-level ``if``/``try``/``with`` blocks."""
    for stmt in body:
        yield stmt
        if isinstance(stmt, ast.If | ast.Try | ast.With):
            inner: list[ast.stmt] = [*stmt.body, *getattr(stmt, "orelse", [])]
            if isinstance(stmt, ast.Try):
                inner += [s for h in stmt.handlers for s in h.body] + stmt.finalbody
            yield from _top_statements(inner)
