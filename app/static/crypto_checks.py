"""Token and credential checks: insecure randomness for secrets (ARCH140), hard-coded weak secrets (ARCH141),
JWTs decoded without verification through PyJWT, python-jose, authlib and python-jwt (ARCH110), and authlib
claims that are never validated (ARCH143).

Every check here is name- and library-driven and stays quiet on test paths (``tests/``, ``test_*.py``,
``conftest.py``), where unverified decodes, dummy passwords and ``random`` test data are the norm.

ARCH140 flags a ``random``/``numpy.random``/``uuid.uuid1`` value, or a hash of ``time.time()``, only where it
becomes a token: assigned to, passed as, stored under, or returned by a function whose name says it is a
token, password, nonce, salt, session id, API key, CSRF token, or an auth/reset/invite code.

ARCH141 flags string constants given to a secret-named target (its last word is ``password``, ``secret``,
``key`` after ``secret``/``api``/``signing``/...), a secret-named keyword or parameter default, the password
of ``.login(user, password)``, the key of ``jwt.encode``/``jwt.decode`` and an ``Authorization`` header
value. Empty strings, placeholders, env-var names, messages, paths and URLs are skipped, values read from the
environment (``os.environ.get("SECRET_KEY", "dev")`` included) are never flagged, and the engine drops an
ARCH141 finding on a line ARCH112's detectors already report.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass

from app.static.checks import RawFinding
from app.static.facts import child_nodes, dotted, statement_span
from app.static.module_view import ModuleView


def _words(names: str) -> frozenset[str]:
    return frozenset(names.split())


__all__ = ["check_crypto", "is_test_path", "name_words", "secret_name", "token_name"]

# ------------------------------------------------------------------------------------- names

# A cheap first test: every name either predicate accepts contains one of these.
_INTERESTING = re.compile(r"tok|secret|pass|pw|otp|nonce|salt|srf|key|pin|cred|sid|session|code|link", re.IGNORECASE)
_WORD = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+")
_TEST_PATH = re.compile(
    r"(^|/)(tests?|testing|fixtures|docs?|examples?|samples?|doctests?|demos?)/"
    r"|(^|/)(test_[^/]*|[^/]*_test|conftest)\.py$"
)

# A value that becomes one of these is a secret: predictable randomness is a vulnerability there.
TOKEN_WORDS = _words(
    "token secret password passwd pwd otp totp hotp nonce salt csrf xsrf apikey passphrase passcode pin "
    "credential credentials sid sessionid"
)
TOKEN_PAIRS: dict[str, frozenset[str]] = {
    "session": _words("id key token cookie"),
    "key": _words("api access secret signing encryption private auth license master"),
    "code": _words(
        "login auth verification verify confirm confirmation reset otp mfa sms email invite invitation "
        "activation recovery backup access security pairing"
    ),
    "link": _words("reset magic invite invitation activation login"),
    "id": _words("session"),
}
# Where even a unique-but-guessable value (``uuid.uuid1``: time and MAC address) is a vulnerability.
STRONG_SECRET_WORDS = _words(
    "password passwd reset otp csrf xsrf secret apikey nonce salt invite invitation activation"
)
# Names that describe a token without being one (sizes, counts, timings, ML vocabulary).
NOT_A_TOKEN = _words(
    "ids idx index count counts num number len length size max min limit budget prob probs probability "
    "logits vocab embedding embeddings position pos type types ttl expiry expires expiration lifetime "
    "timeout delay interval rate ratio percent weight weights header field name url endpoint path prefix "
    "suffix jitter backoff sample samples retry retries age bucket shard port"
)

# The last word of a name that holds a secret value.
SECRET_LAST = _words("password passwd pwd pw passphrase passcode secret")
SECRET_KEY_BEFORE = _words("secret api signing jwt private encryption master app session hmac auth")
SECRET_TOKEN_BEFORE = _words("auth access api bearer bot refresh admin")


def name_words(name: str) -> list[str]:
    """``ADMIN_PASSWORD`` → ``['admin', 'password']``; ``apiKey`` → ``['api', 'key']``."""
    return [w.lower() for w in _WORD.findall(name)]


def token_name(name: str) -> bool:
    """True when a name says its value is a token, secret or one-time code."""
    if not _INTERESTING.search(name):
        return False
    words = name_words(name)
    if not words or NOT_A_TOKEN & set(words):
        return False
    joined = "".join(words)
    if joined in TOKEN_WORDS or any(w in TOKEN_WORDS for w in words):
        return True
    return any(w in TOKEN_PAIRS and TOKEN_PAIRS[w] & set(words) for w in words)


def secret_name(name: str) -> bool:
    """True when a name's last word says it holds a password, a secret or a secret key."""
    if not _INTERESTING.search(name):
        return False
    words = name_words(name)
    if not words:
        return False
    last = words[-1]
    before = set(words[:-1])
    if last in SECRET_LAST or "".join(words) in ("secretkey", "apikey", "secretkeybase"):
        return True
    if last == "key":
        return bool(before & SECRET_KEY_BEFORE)
    if last == "token":
        return bool(before & SECRET_TOKEN_BEFORE)
    return False


_CONTEXT_NAMES = _words("code pin key digits")
_AUTH_WORDS = _words(
    "login signin signup register verify verification reset otp mfa confirm confirmation activate activation "
    "invite authenticate password twofa passwordless magic"
)


def _auth_context(function_name: str) -> bool:
    """A function whose name says it logs in, verifies, resets or invites: a bare ``code`` there is a secret."""
    return bool(_AUTH_WORDS & set(name_words(function_name)))


def is_test_path(path: str) -> bool:
    """A test, fixture, conftest, documentation, example or sample module: dummy credentials live there."""
    return bool(_TEST_PATH.search(path.replace("\\", "/")))


# ------------------------------------------------------------------------------------- values

_PLACEHOLDER = re.compile(
    r"[<>{}]|\$\{|\$\(|%\(|^\$|^\*+$|^x+$|^\.+$|example|placeholder|redacted|your[-_ ]|replace[-_ ]?me|"
    r"^(none|null|nil|undefined|todo|tbd|fixme|string|str|text|integer|int|bool|boolean|number|hidden|required|"
    r"optional|masked|write_?only|password_?input)$",
    re.IGNORECASE,
)
_ENV_NAME = re.compile(r"[A-Z][A-Z0-9_]*")
_IDENTIFIER = re.compile(r"[a-z]+(?:_[a-z]+)+|[a-z]+(?:[A-Z][a-z]+)+")  # snake_case, camelCase
_IMPORT_PATH = re.compile(r"\.?[\w.]+:[\w.]+|\.[\w.]+")
_MAX_WEAK_CHARS = 40  # longer values are credential-shaped: ARCH112's detectors own them


def weak_secret_value(value: object, name: str = "") -> bool:
    """True for a short literal that can only be a real (weak) secret: not empty, a placeholder, a name or text.

    ``name``: the dict key the value is stored under; a value that repeats it is a field map, not a secret.
    """
    if isinstance(value, bytes):
        try:
            value = value.decode("ascii")
        except UnicodeDecodeError:
            return False
    if not isinstance(value, str):
        return False
    text = value.strip()
    if len(text) < 3 or len(text) > _MAX_WEAK_CHARS or text != value:
        return False
    if any(ch.isspace() for ch in text) or _PLACEHOLDER.search(text):
        return False
    if _ENV_NAME.fullmatch(text) and "_" in text:  # "SECRET_KEY": the name of a variable
        return False
    if _IDENTIFIER.fullmatch(text) or _IMPORT_PATH.fullmatch(text):  # "api_token", "pkg.mod:Class"
        return False
    if name and name_words(text) == name_words(name):  # {"password": "password"}: a field map
        return False
    if text.startswith(("/", "./", "~")) or "://" in text or text.endswith((".pem", ".key", ".json", ".txt")):
        return False
    return len(set(text)) > 1 and any(ch.isalnum() for ch in text)  # ":****" is a mask


# ------------------------------------------------------------------------------------ libraries

RANDOM_FUNCS = _words("random randint choice choices getrandbits randrange sample uniform randbytes shuffle triangular")
NUMPY_RANDOM_FUNCS = _words("rand randint randn random random_sample choice bytes permutation integers")
TIME_SOURCES = _words("time.time time.time_ns time.monotonic time.perf_counter datetime.datetime.now")
HASHERS = ("hashlib.",)

PYJWT_DECODERS = _words("jwt.decode jwt.api_jwt.decode jose.jwt.decode jwt.decode_complete")
UNVERIFIED_CLAIMS = _words(
    "jose.jwt.get_unverified_claims jose.jws.get_unverified_claims jwt.get_unverified_claims "
    "jose.jwt.get_unverified_claims"
)
AUTHLIB_DECODERS = _words("authlib.jose.jwt.decode authlib.jose.JsonWebToken.decode")
AUTHLIB_TOKEN_CTORS = _words("authlib.jose.JsonWebToken authlib.jose.rfc7519.JsonWebToken")
PYTHON_JWT_PROCESS = _words("python_jwt.process_jwt jwt.process_jwt")
PYTHON_JWT_VERIFY = _words("python_jwt.verify_jwt jwt.verify_jwt")
JWT_ENCODERS = _words("jwt.encode jose.jwt.encode jwt.api_jwt.encode")
JWT_KEYED = _words("jwt.encode jwt.decode jose.jwt.encode jose.jwt.decode jwt.api_jwt.encode")
# Claims that are read from an unverified token only to find the key for the verified decode.
ROUTING_CLAIMS = _words("iss kid alg typ tid jku x5u aud")
LOGIN_METHODS = _words("login simple_bind_s simple_bind bind_s")
BASIC_AUTH_CTORS = _words("HTTPBasicAuth HTTPDigestAuth BasicAuth HTTPProxyAuth")
_DSN_PASSWORD = re.compile(r"(?:^|[\s;])(?:password|pwd)\s*=\s*([^\s;'\"]+)", re.IGNORECASE)
_SETTINGS_BASES = ("BaseSettings", "Settings")
_ENUM_BASES = ("Enum", "Flag")  # members of an enum are labels, not secrets
AUTH_SCHEMES = ("Bearer ", "Basic ", "Token ", "token ", "bearer ")


@dataclass
class _Scope:
    """The function being walked (the module at the top): its name and node."""

    name: str
    node: ast.AST


_LEAVES = frozenset({ast.Name, ast.Constant, ast.Pass, ast.Break, ast.Continue, ast.alias})
_NEEDS_PARENT = frozenset({ast.Call, ast.Attribute, ast.Assign, ast.AnnAssign})


class _Walker:
    """One pass over a module: import aliases first, then every statement with its enclosing function."""

    def __init__(self, view: ModuleView) -> None:
        self.view = view
        self.aliases: dict[str, str] = {}
        self.parents: dict[ast.AST, ast.AST] = {}
        self.findings: list[RawFinding] = []
        self._stmt: ast.stmt | None = None
        self.authlib_tokens: set[str] = set()
        self.random_instances: set[str] = set()
        self.dicts: dict[str, ast.Dict] = {}

    # ----------------------------------------------------------------- names

    def qualname(self, expr: ast.expr) -> str:
        name = dotted(expr) or ""
        head, _, rest = name.partition(".")
        if head in self.aliases:
            base = self.aliases[head]
            return f"{base}.{rest}" if rest else base
        return name

    def _import(self, node: ast.Import | ast.ImportFrom) -> None:
        if isinstance(node, ast.Import):
            for alias in node.names:
                top = alias.name.partition(".")[0]
                self.aliases[alias.asname or top] = alias.name if alias.asname else top
        elif node.module and node.level == 0:
            for alias in node.names:
                self.aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"

    def add(self, rule: str, node: ast.AST, detail: str) -> None:
        stmt: ast.stmt | None = self._stmt
        line = getattr(node, "lineno", 1)
        end = getattr(node, "end_lineno", None) or line
        span = statement_span(stmt, line, end) if stmt is not None else (line, end)
        self.findings.append(RawFinding(rule, line, span, detail))

    def run(self) -> list[RawFinding]:
        if is_test_path(self.view.path):
            return []
        tree = self.view.tree
        for first in tree.body:  # module imports first; a function's own imports are read where they are
            if isinstance(first, ast.Import | ast.ImportFrom):
                self._import(first)
        module = _Scope("", tree)
        # One depth-first pass in source order: (node, its parent, its statement, its function).
        stack: list[tuple[ast.AST, ast.AST | None, ast.stmt | None, _Scope]] = [
            (top, tree, top, module) for top in reversed(tree.body)
        ]
        parents = self.parents
        while stack:
            node, parent, stmt, scope = stack.pop()
            if parent is not None and type(node) in _NEEDS_PARENT:
                parents[node] = parent
            if isinstance(node, ast.stmt):
                stmt = node
            self._stmt = stmt
            inner = scope
            if isinstance(node, ast.Call):
                self._call(node, scope)
            elif isinstance(node, ast.Assign | ast.AnnAssign):
                self._remember(node)
                self._assign(node, scope)
            elif isinstance(node, ast.Dict):
                self._dict(node)
            elif isinstance(node, ast.Return):
                if node.value is not None and token_name(scope.name):
                    self._token_value(node.value, node, f"`{scope.name}()` returns it", scope.name)
            elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
                self._defaults(node)
                inner = _Scope(getattr(node, "name", ""), node)
            elif isinstance(node, ast.Import | ast.ImportFrom) and scope is not module:
                self._import(node)
            stack.extend(
                (child, node, stmt, inner) for child in reversed(child_nodes(node)) if type(child) not in _LEAVES
            )
        return self.findings

    def _remember(self, node: ast.Assign | ast.AnnAssign) -> None:
        """``rng = random.Random()``, ``OPTIONS = {...}``, ``jwt = JsonWebToken([...])``: used further down."""
        if not (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)):
            return
        name, value = node.targets[0].id, node.value
        if isinstance(value, ast.Dict):
            self.dicts[name] = value
        elif isinstance(value, ast.Call):
            ctor = self.qualname(value.func)
            if ctor == "random.Random":
                self.random_instances.add(name)
            elif ctor in AUTHLIB_TOKEN_CTORS:
                self.authlib_tokens.add(name)

    def _own(self, scope: ast.AST) -> Iterator[ast.AST]:
        """Nodes of this scope; a nested def is yielded (for its defaults) but not entered."""
        if isinstance(scope, ast.Lambda):
            stack: list[ast.AST] = [scope.body]
        elif isinstance(scope, ast.FunctionDef | ast.AsyncFunctionDef):
            stack = list(scope.body)
        else:
            stack = list(getattr(scope, "body", []))
        while stack:
            node = stack.pop()
            yield node
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda | ast.ClassDef):
                if isinstance(node, ast.ClassDef):
                    stack.extend(node.body)
                continue
            stack.extend(child_nodes(node))

    # ------------------------------------------------------------ randomness

    def _weak_source(self, expr: ast.expr, strong: bool) -> str | None:
        """The predictable generator inside ``expr`` (``random.choice``, ...), if any."""
        for node in ast.walk(expr):
            if not isinstance(node, ast.Call):
                continue
            callee = self.qualname(node.func)
            module, _, func = callee.rpartition(".")
            if module == "random" and func in RANDOM_FUNCS:
                return callee
            if module in ("numpy.random", "np.random") and func in NUMPY_RANDOM_FUNCS:
                return callee
            if callee == "uuid.uuid1" and strong:  # unique, not secret: fine for ids and lock tokens
                return callee
            if (
                isinstance(node.func, ast.Attribute)
                and node.func.attr in RANDOM_FUNCS
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id in self.random_instances
            ):
                return f"{node.func.value.id}.{node.func.attr} (a `random.Random`)"
            if callee.startswith(HASHERS) and any(
                isinstance(sub, ast.Call) and self.qualname(sub.func) in TIME_SOURCES
                for arg in node.args
                for sub in ast.walk(arg)
            ):
                return f"{callee} of the current time"
        return None

    def _token_value(self, value: ast.expr, node: ast.AST, where: str, name: str) -> None:
        if isinstance(value, ast.Compare):
            return
        source = self._weak_source(value, bool(STRONG_SECRET_WORDS & set(name_words(name))))
        if source is not None:
            self.add("ARCH140", node, f"`{source}` is predictable and {where}, so it is used as a secret.")

    # --------------------------------------------------------------- targets

    @staticmethod
    def _target_name(target: ast.expr) -> str | None:
        if isinstance(target, ast.Name):
            return target.id
        if isinstance(target, ast.Attribute):
            return target.attr
        if isinstance(target, ast.Subscript):
            key = target.slice
            if isinstance(key, ast.Constant) and isinstance(key.value, str):
                return key.value
        return None

    def _assign(self, node: ast.Assign | ast.AnnAssign, scope: _Scope) -> None:
        if node.value is None:
            return
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        for target in targets:
            name = self._target_name(target)
            if name is None:
                continue
            if token_name(name) or (name.lower() in _CONTEXT_NAMES and _auth_context(scope.name)):
                self._token_value(node.value, node, f"it is stored in `{name}`", name)
            if (
                secret_name(name)
                and isinstance(node.value, ast.Constant)
                and weak_secret_value(node.value.value)
                and not self._settings_default(node)
            ):
                self.add("ARCH141", node, f"`{name}` is set to a literal.")

    def _settings_default(self, node: ast.AST) -> bool:
        """A field default of a pydantic ``BaseSettings`` class (read from the environment first, like
        ``os.environ.get(name, default)``, which this rule leaves alone too) or an enum member."""
        owner = self.parents.get(node)
        return isinstance(owner, ast.ClassDef) and any(
            (dotted(base) or "").rsplit(".", 1)[-1].endswith(_SETTINGS_BASES + _ENUM_BASES) for base in owner.bases
        )

    def _dict(self, node: ast.Dict) -> None:
        for key, value in zip(node.keys, node.values, strict=True):
            if not (isinstance(key, ast.Constant) and isinstance(key.value, str)):
                continue
            if token_name(key.value):
                self._token_value(value, value, f"it is stored under `{key.value!r}`", key.value)
            if not isinstance(value, ast.Constant):
                continue
            if secret_name(key.value) and weak_secret_value(value.value, key.value):
                self.add("ARCH141", value, f"`{key.value!r}` is given a literal.")
            elif key.value.lower() in ("authorization", "proxy-authorization") and isinstance(value.value, str):
                scheme = next((s for s in AUTH_SCHEMES if value.value.startswith(s)), None)
                credential = value.value[len(scheme) :] if scheme else ""
                if len(credential) >= 8 and not _PLACEHOLDER.search(credential) and " " not in credential:
                    self.add("ARCH141", value, f"The `{key.value}` header carries a literal credential.")

    def _defaults(self, func: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda) -> None:
        args = func.args
        positional = [*args.posonlyargs, *args.args]
        pairs = list(zip(positional[len(positional) - len(args.defaults) :], args.defaults, strict=True))
        pairs += [(a, d) for a, d in zip(args.kwonlyargs, args.kw_defaults, strict=True) if d is not None]
        for arg, default in pairs:
            if secret_name(arg.arg) and isinstance(default, ast.Constant) and weak_secret_value(default.value):
                self.findings.append(
                    RawFinding(
                        "ARCH141",
                        default.lineno,
                        (func.lineno, default.end_lineno or default.lineno),
                        f"The parameter `{arg.arg}` defaults to a literal.",
                    )
                )

    # ------------------------------------------------------------------ calls

    def _call(self, call: ast.Call, scope: _Scope) -> None:
        callee = self.qualname(call.func)
        for kw in call.keywords:
            if kw.arg is None:
                continue
            if token_name(kw.arg):
                self._token_value(kw.value, call, f"it is passed as `{kw.arg}=`", kw.arg)
            if secret_name(kw.arg) and isinstance(kw.value, ast.Constant) and weak_secret_value(kw.value.value):
                if not callee.startswith(("os.environ", "os.getenv")):
                    self.add("ARCH141", call, f"`{kw.arg}=` is a literal.")
            elif kw.arg == "auth" and isinstance(kw.value, ast.Tuple) and len(kw.value.elts) == 2:
                password = kw.value.elts[1]
                if isinstance(password, ast.Constant) and weak_secret_value(password.value):
                    self.add("ARCH141", call, "The password of `auth=(user, password)` is a literal.")
        if (
            isinstance(call.func, ast.Attribute)
            and call.func.attr in LOGIN_METHODS
            and len(call.args) >= 2
            and isinstance(call.args[1], ast.Constant)
            and weak_secret_value(call.args[1].value)
        ):
            self.add("ARCH141", call, f"The password given to `.{call.func.attr}()` is a literal.")
        short = callee.rsplit(".", 1)[-1]
        if short in BASIC_AUTH_CTORS and len(call.args) >= 2:
            password = call.args[1]
            if isinstance(password, ast.Constant) and weak_secret_value(password.value):
                self.add("ARCH141", call, f"The password given to `{short}()` is a literal.")
        if callee == "hmac.new" and call.args:
            key = call.args[0]
            if isinstance(key, ast.Constant) and weak_secret_value(key.value):
                self.add("ARCH141", call, "The HMAC key is a literal.")
        if short.endswith("connect") or short in ("create_engine", "Connection", "create_pool"):
            for arg in call.args[:1]:
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                    match = _DSN_PASSWORD.search(arg.value)
                    if match and weak_secret_value(match.group(1)):
                        self.add("ARCH141", call, "The connection string holds a literal password.")
        if (
            short == "set_cookie"
            and len(call.args) >= 2
            and isinstance(call.args[0], ast.Constant)
            and isinstance(call.args[0].value, str)
            and token_name(call.args[0].value)
        ):
            cookie = call.args[0].value
            self._token_value(call.args[1], call, f"it is set as the `{cookie}` cookie", cookie)
        if callee in JWT_KEYED and len(call.args) >= 2:
            key = call.args[1]
            if isinstance(key, ast.Constant) and weak_secret_value(key.value):
                self.add("ARCH141", call, "The JWT signing key is a literal.")
        self._jwt(call, callee, scope)

    # -------------------------------------------------------------------- JWT

    def _reads_only_routing_claims(self, call: ast.Call) -> bool:
        """``decode(...)["iss"]`` or ``.get("kid")``: the claim picks the key for a verified decode."""
        parent = self.parents.get(call)
        if isinstance(parent, ast.Subscript) and isinstance(parent.slice, ast.Constant):
            return parent.slice.value in ROUTING_CLAIMS
        if isinstance(parent, ast.Attribute) and parent.attr == "get":
            outer = self.parents.get(parent)
            if isinstance(outer, ast.Call) and outer.args and isinstance(outer.args[0], ast.Constant):
                return outer.args[0].value in ROUTING_CLAIMS
        return False

    def _verified_later(self, call: ast.Call, scope: _Scope) -> bool:
        """An unverified decode assigned to a name in a function that also decodes with verification."""
        if not isinstance(self.parents.get(call), ast.Assign) or scope.node is None:
            return False
        return any(
            isinstance(n, ast.Call)
            and n is not call
            and self.qualname(n.func) in PYJWT_DECODERS
            and self._unverified_reason(n) is None
            for n in self._own(scope.node)
        )

    def _unverified_reason(self, call: ast.Call) -> str | None:
        for kw in call.keywords:
            if kw.arg == "verify" and isinstance(kw.value, ast.Constant) and kw.value.value is False:
                return "`verify=False` skips the signature check."
            options = self.dicts.get(kw.value.id) if isinstance(kw.value, ast.Name) else kw.value
            if isinstance(options, ast.Call) and dotted(options.func) == "dict" and not options.args:
                options = ast.Dict(
                    keys=[ast.Constant(k.arg) for k in options.keywords if k.arg],
                    values=[k.value for k in options.keywords if k.arg],
                )
            if kw.arg == "options" and isinstance(options, ast.Dict):
                for key, value in zip(options.keys, options.values, strict=True):
                    if (
                        isinstance(key, ast.Constant)
                        and key.value == "verify_signature"
                        and isinstance(value, ast.Constant)
                        and value.value is False
                    ):
                        return "`verify_signature: False` skips the signature check."
            if kw.arg == "algorithms" and self._allows_none(kw.value):
                return "Algorithm 'none' accepts unsigned tokens."
        key = call.args[1] if len(call.args) >= 2 else next((k.value for k in call.keywords if k.arg == "key"), None)
        if isinstance(key, ast.Constant) and key.value in ("", b""):
            return "An empty key lets anyone sign a token that passes this check."
        return None

    @staticmethod
    def _allows_none(value: ast.expr) -> bool:
        return isinstance(value, ast.List | ast.Tuple | ast.Set) and any(
            isinstance(e, ast.Constant) and str(e.value).lower() == "none" for e in value.elts
        )

    def _jwt(self, call: ast.Call, callee: str, scope: _Scope) -> None:
        if callee in JWT_ENCODERS:
            algorithm = next((k.value for k in call.keywords if k.arg == "algorithm"), None)
            if algorithm is None and len(call.args) >= 3:
                algorithm = call.args[2]
            if isinstance(algorithm, ast.Constant) and str(algorithm.value).lower() == "none":
                self.add("ARCH110", call, "`algorithm='none'` issues unsigned tokens that anyone can forge.")
        elif callee in PYJWT_DECODERS:
            reason = self._unverified_reason(call)
            if reason is None:
                return
            if "none" not in reason and (self._reads_only_routing_claims(call) or self._verified_later(call, scope)):
                return
            self.add("ARCH110", call, reason)
        elif callee in UNVERIFIED_CLAIMS:
            if not self._reads_only_routing_claims(call):
                self.add(
                    "ARCH110", call, f"`{callee.rsplit('.', 1)[-1]}` returns the claims without checking the signature."
                )
        elif callee in PYTHON_JWT_PROCESS:
            calls = (self.qualname(n.func) for n in self._own(scope.node) if isinstance(n, ast.Call))
            if not any(c in PYTHON_JWT_VERIFY for c in calls):
                self.add("ARCH110", call, "`process_jwt` only parses the token; `verify_jwt` is never called here.")
        elif callee in AUTHLIB_TOKEN_CTORS:
            algorithms = call.args[0] if call.args else None
            if algorithms is not None and (
                self._allows_none(algorithms) or (isinstance(algorithms, ast.Constant) and algorithms.value == "none")
            ):
                self.add("ARCH110", call, "Algorithm 'none' accepts unsigned tokens.")
        elif callee in AUTHLIB_DECODERS or self._authlib_instance_decode(call):
            self._authlib_claims(call, scope)

    def _authlib_instance_decode(self, call: ast.Call) -> bool:
        """``decode`` on a module-level ``JsonWebToken([...])`` instance."""
        return (
            isinstance(call.func, ast.Attribute)
            and call.func.attr == "decode"
            and isinstance(call.func.value, ast.Name)
            and call.func.value.id in self.authlib_tokens
        )

    def _authlib_claims(self, call: ast.Call, scope: _Scope) -> None:
        """authlib verifies the signature in ``decode`` but checks exp/nbf/iss/aud only in ``claims.validate()``."""
        parent = self.parents.get(call)
        name: str | None = None
        if isinstance(parent, ast.Assign) and len(parent.targets) == 1 and isinstance(parent.targets[0], ast.Name):
            name = parent.targets[0].id
        if name is not None and scope.node is not None:
            for node in self._own(scope.node):
                if (
                    isinstance(node, ast.Attribute)
                    and node.attr == "validate"
                    and isinstance(node.value, ast.Name)
                    and node.value.id == name
                ):
                    return
        elif isinstance(parent, ast.Attribute) and parent.attr == "validate":
            return
        self.add("ARCH143", call, "`claims.validate()` is never called on the decoded claims.")


def check_crypto(view: ModuleView) -> list[RawFinding]:
    """ARCH110, ARCH140, ARCH141 and ARCH143 over one module."""
    return _Walker(view).run()
