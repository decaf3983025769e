"""What each ruff rule archbot selects catches, why it matters and the safe pattern, in our own words.

This is the documentation side of :data:`app.static.ruff_adapter.RUFF_RULES` (which holds category and
severity): the SARIF rule help and ``docs/rules.md`` are built from it. ``name`` is ruff's own name of
the rule, the slug of its page under https://docs.astral.sh/ruff/rules/.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RuffHelp:
    """The documentation of one ruff rule: ruff's name for it, and three sentences of ours."""

    name: str
    catches: str
    why: str
    safe: str


_BLOCKING = (
    "A blocking call inside a coroutine holds the event loop thread: every other request and task on this "
    "worker waits until it returns, so one slow upstream or disk turns into latency for everyone."
)
_TO_THREAD = "Use the async counterpart, or move the call off the loop with `await asyncio.to_thread(...)`."
_INJECTION = (
    "When any part of the text comes from a request, a file or another service, whoever controls it "
    "controls what runs: this is how injection bugs happen."
)
_SHELL = (
    "A shell interprets quotes, `;`, `&&`, `$(...)` and globs in the command: a value that reaches it "
    "from outside can run any command with this process's rights."
)
_NO_SHELL = (
    "Pass the program and its arguments as a list without a shell "
    '(`subprocess.run(["git", "log", ref], check=True)`); if a shell is unavoidable, quote every '
    "value with `shlex.quote`."
)
_RAW_SQL = "Keep the SQL a constant and pass values as bound parameters; build identifiers only from an allow-list."
_XML = (
    "Python's standard XML parsers resolve entities and DTDs: a crafted document can expand to gigabytes "
    "(billion laughs) or, with some parsers, read local files and reach internal hosts."
)
_DEFUSED = "Parse untrusted XML with `defusedxml` (same API, e.g. `defusedxml.ElementTree.fromstring`)."
_WEAK_CRYPTO = (
    "Broken or weak algorithms give no real protection: collisions, brute force or known attacks recover "
    "what they were meant to protect."
)
_CLEARTEXT = (
    "The protocol sends credentials and data unencrypted and unauthenticated: anyone on the path can "
    "read or change them."
)
_TLS_WEAK = (
    "Without proper certificate and host checks, or with an outdated protocol version, anyone on the "
    "network path can impersonate the peer and read or change the traffic, credentials included."
)
_EXCEPT_BUG = "The handler does not do what it reads as: some errors are caught twice, never, or by accident."
_XSS = (
    "Text marked as safe HTML, or rendered without escaping, is sent to the browser as markup: a value "
    "that reaches it from a user runs as script in other users' sessions (cross-site scripting)."
)


def _h(name: str, catches: str, why: str, safe: str) -> RuffHelp:
    return RuffHelp(name, catches, why, safe)


RUFF_HELP: dict[str, RuffHelp] = {
    # ---- async -----------------------------------------------------------------------------------
    "ASYNC100": _h(
        "cancel-scope-no-checkpoint",
        "A timeout or cancel scope (`asyncio.timeout`, `anyio.fail_after`, `trio.move_on_after`, ...) whose "
        "body never awaits.",
        "A timeout can only fire at an `await`: a scope without one never times out, so the limit it seems "
        "to set does not exist.",
        "Put the awaited work inside the scope, or remove the scope if nothing in it can block.",
    ),
    "ASYNC105": _h(
        "trio-sync-call",
        "A trio function that must be awaited, called without `await`.",
        "Without `await` the call only creates a coroutine object: the operation never happens and the "
        "code after it runs as if it had.",
        "Await it: `await trio.sleep(1)`, `await nursery.start(task)`.",
    ),
    "ASYNC110": _h(
        "async-busy-wait",
        "A `while` loop that polls a condition and sleeps between checks (`while not ready: await "
        "asyncio.sleep(0.1)`).",
        "Polling wakes the task over and over, adds up to one interval of latency and burns CPU under load.",
        "Wait on an `asyncio.Event` (or `Condition`) that the producer sets, with a timeout if needed.",
    ),
    "ASYNC115": _h(
        "async-zero-sleep",
        "`trio.sleep(0)` or `anyio.sleep(0)` used to yield to the scheduler.",
        "It works, but it hides the intent: a reader cannot tell a deliberate checkpoint from a leftover or a mistake.",
        "Use `await trio.lowlevel.checkpoint()` or `await anyio.lowlevel.checkpoint()`.",
    ),
    "ASYNC116": _h(
        "long-sleep-not-forever",
        "A trio or anyio sleep longer than a day.",
        "A huge interval usually means 'wait until cancelled', written so that it eventually wakes up and "
        "runs code nobody expects to run.",
        "Use `trio.sleep_forever()` / `anyio.sleep_forever()` and rely on cancellation.",
    ),
    "ASYNC210": _h(
        "blocking-http-call-in-async-function",
        "A synchronous HTTP call (`requests`, `urllib3`, `urllib.request.urlopen`, ...) inside an `async def`.",
        _BLOCKING,
        "Use an async client (`httpx.AsyncClient`, `aiohttp`) created once and injected, or "
        "`await asyncio.to_thread(...)`.",
    ),
    "ASYNC212": _h(
        "blocking-http-call-httpx-in-async-function",
        "A call on a synchronous `httpx.Client` inside an `async def`.",
        _BLOCKING,
        "Use `httpx.AsyncClient` and `await` its methods.",
    ),
    "ASYNC220": _h(
        "create-subprocess-in-async-function",
        "`subprocess.Popen` or `os.spawn*` inside an `async def`.",
        _BLOCKING,
        "Use `await asyncio.create_subprocess_exec(...)` (or `anyio.open_process`).",
    ),
    "ASYNC221": _h(
        "run-process-in-async-function",
        "`subprocess.run`, `check_output`, `os.system` and other calls that start a process and wait for it, "
        "inside an `async def`.",
        _BLOCKING,
        "Use `asyncio.create_subprocess_exec(...)` and `await proc.communicate()`, or `anyio.run_process`.",
    ),
    "ASYNC222": _h(
        "wait-for-process-in-async-function",
        "`os.wait`, `os.waitpid` and similar waits for a child process inside an `async def`.",
        _BLOCKING,
        "Start the process with asyncio and `await proc.wait()`.",
    ),
    "ASYNC230": _h(
        "blocking-open-call-in-async-function",
        "`open()`, `io.open` or similar file opening inside an `async def`.",
        _BLOCKING,
        "Use `anyio.open_file` / `aiofiles`, or do the whole file operation in `await asyncio.to_thread(...)`.",
    ),
    "ASYNC240": _h(
        "blocking-path-method-in-async-function",
        "Blocking `os.path` or `pathlib.Path` operations (`exists`, `read_text`, `stat`, ...) inside an `async def`.",
        _BLOCKING,
        "Use `anyio.Path`, or `await asyncio.to_thread(path.read_text)`; on a local disk a single `stat` is "
        "usually harmless, a loop of them is not.",
    ),
    "ASYNC250": _h(
        "blocking-input-in-async-function",
        "`input()` inside an `async def`.",
        _BLOCKING,
        "Read the terminal in a thread: `await asyncio.to_thread(input, prompt)`.",
    ),
    "ASYNC251": _h(
        "blocking-sleep-in-async-function",
        "`time.sleep(...)` inside an `async def`.",
        _BLOCKING,
        "Use `await asyncio.sleep(...)`.",
    ),
    "RUF006": _h(
        "asyncio-dangling-task",
        "The task returned by `asyncio.create_task` or `ensure_future` is not stored anywhere.",
        "The event loop keeps only a weak reference to tasks: an unreferenced task can be garbage-collected "
        "before it finishes, and its exception is never observed.",
        "Run it in an `asyncio.TaskGroup`, or keep it in a set and remove it in `add_done_callback`.",
    ),
    # ---- injection -------------------------------------------------------------------------------
    "S102": _h(
        "exec-builtin",
        "A call to the `exec()` builtin.",
        "`exec` runs any Python it is given with this process's rights. " + _INJECTION,
        "Replace it with explicit code: a dispatch table of functions, `ast.literal_eval` for literals, or a "
        "real parser for a small language.",
    ),
    "S307": _h(
        "suspicious-eval-usage",
        "A call to the `eval()` builtin.",
        "`eval` runs any expression it is given, including imports and calls. " + _INJECTION,
        "Parse literals with `ast.literal_eval`, numbers with `int`/`float`, and data with `json.loads`.",
    ),
    "S602": _h(
        "subprocess-popen-with-shell-equals-true",
        "A `subprocess` call with `shell=True`.",
        _SHELL,
        _NO_SHELL,
    ),
    "S604": _h(
        "call-with-shell-equals-true",
        "Any function call passing `shell=True` (often a wrapper around `subprocess`).",
        _SHELL,
        _NO_SHELL,
    ),
    "S605": _h(
        "start-process-with-a-shell",
        "`os.system`, `os.popen` and the `popen2`/`commands` family, which always run through a shell.",
        _SHELL,
        "Use `subprocess.run([...], check=True)` with an argument list instead.",
    ),
    "S608": _h(
        "hardcoded-sql-expression",
        "SQL text built with f-strings, `%`, `.format()` or `+` concatenation.",
        "A value pasted into SQL is parsed as SQL: a quote in it ends the literal and the rest runs as "
        "query text (SQL injection), reading or changing any data the connection can reach.",
        'Pass values as parameters (`cur.execute("SELECT * FROM t WHERE id = %s", (item_id,))`, '
        "SQLAlchemy `text(...)` with `:name` binds); build identifiers only from an allow-list.",
    ),
    "S610": _h(
        "django-extra",
        "Django's `QuerySet.extra(...)`.",
        "`extra` inserts raw SQL fragments into the query; values formatted into them are an SQL injection "
        "path, and the API is slated for removal.",
        "Use the ORM (`annotate`, `F`, `Func`, `filter`), or `RawSQL` with `params=` when SQL is unavoidable.",
    ),
    "S611": _h(
        "django-raw-sql",
        "Django's `RawSQL(...)` expression.",
        "The SQL string goes to the database as written. " + _INJECTION,
        _RAW_SQL + " With `RawSQL`, always pass values in `params`.",
    ),
    "S601": _h(
        "paramiko-call",
        "`exec_command` on a Paramiko SSH client.",
        "The command is run by the remote shell: a value formatted into it can run any command on that host.",
        "Keep the command constant, and quote every value with `shlex.quote`; prefer a fixed remote script "
        "that takes validated arguments.",
    ),
    "S609": _h(
        "unix-command-wildcard-injection",
        "A shell command with a `*` wildcard passed to `subprocess` or `os` calls.",
        "The shell expands the wildcard into file names, and a file named like an option (`--checkpoint-action"
        "=exec=...`) becomes an option of the command.",
        "List the files in Python (`pathlib.Path.glob`) and pass them after `--` in an argument list, without a shell.",
    ),
    # ---- deserialization -------------------------------------------------------------------------
    "S301": _h(
        "suspicious-pickle-usage",
        "Loading data with `pickle` or a module built on it (`dill`, `shelve`, `jsonpickle`, `pandas.read_pickle`).",
        "Unpickling runs code chosen by whoever wrote the bytes: a cache entry, upload or model file becomes "
        "remote code execution.",
        "Use a data-only format (JSON, MessagePack, safetensors); if you must unpickle, only your own signed "
        "artefacts.",
    ),
    "S302": _h(
        "suspicious-marshal-usage",
        "`marshal.load` / `marshal.loads`.",
        "`marshal` is an internal format for code objects: crafted input can crash the interpreter, and "
        "loaded code objects can be executed.",
        "Use JSON or another data-only format for anything that crosses a trust boundary.",
    ),
    "S506": _h(
        "unsafe-yaml-load",
        "`yaml.load` with a loader that can build arbitrary Python objects (or no explicit safe loader).",
        "A YAML document can then instantiate any class and call constructors: loading it is running code.",
        "Use `yaml.safe_load(...)` (or `Loader=yaml.SafeLoader`).",
    ),
    # ---- TLS / SSH --------------------------------------------------------------------------------
    "S323": _h(
        "suspicious-unverified-context-usage",
        "`ssl._create_unverified_context()`.",
        _TLS_WEAK,
        "Use `ssl.create_default_context()`, with `cafile=` for a private CA.",
    ),
    "S501": _h(
        "request-with-no-cert-validation",
        "`requests` or `httpx` calls with `verify=False`.",
        _TLS_WEAK,
        'Keep `verify=True`; for a private CA pass its bundle path (`verify="/etc/ssl/ca.pem"`).',
    ),
    "S502": _h(
        "ssl-insecure-version",
        "An SSL context or socket pinned to SSLv2, SSLv3, TLS 1.0 or TLS 1.1.",
        _TLS_WEAK,
        "Use `ssl.create_default_context()` and, if needed, `minimum_version = ssl.TLSVersion.TLSv1_2`.",
    ),
    "S503": _h(
        "ssl-with-bad-defaults",
        "A function whose default argument is an insecure SSL/TLS protocol version.",
        _TLS_WEAK,
        "Default to `ssl.PROTOCOL_TLS_CLIENT` (or a context from `ssl.create_default_context()`).",
    ),
    "S504": _h(
        "ssl-with-no-version",
        "`ssl.wrap_socket` called without `ssl_version`.",
        "`ssl.wrap_socket` is deprecated (removed in 3.12) and, without a version and context, does not "
        "check the peer's certificate or host name. " + _TLS_WEAK,
        "Use `ssl.create_default_context().wrap_socket(sock, server_hostname=host)`.",
    ),
    "S507": _h(
        "ssh-no-host-key-verification",
        "Paramiko's `AutoAddPolicy` or `WarningPolicy` as the missing-host-key policy.",
        "Unknown host keys are then accepted: the first connection to a spoofed host succeeds, and the "
        "credentials sent to it are lost.",
        "Load known hosts (`client.load_system_host_keys()`) and keep `RejectPolicy`.",
    ),
    # ---- dangerous defaults and APIs --------------------------------------------------------------
    "S201": _h(
        "flask-debug-true",
        "`app.run(debug=True)` in a Flask application.",
        "The Werkzeug debugger lets anyone who can reach the server run Python code in it from the browser.",
        "Read debug mode from configuration that is off by default, and never enable it where the server "
        "is reachable by others.",
    ),
    "S202": _h(
        "tarfile-unsafe-members",
        "`tarfile.extractall()` without a `filter=` or a vetted member list.",
        "Archive members can carry `../` paths, absolute paths, links or device files: extracting them can "
        "overwrite files outside the target directory.",
        'Pass `filter="data"` (Python 3.12+, backported to recent 3.8-3.11 releases), or check each member\'s '
        "resolved path stays inside the target.",
    ),
    "S701": _h(
        "jinja2-autoescape-false",
        "A Jinja2 `Environment` created with `autoescape=False` (the library default).",
        _XSS,
        "Use `autoescape=select_autoescape()` (or `True`) for HTML, and mark only trusted fragments as safe.",
    ),
    "S702": _h(
        "mako-templates",
        "Rendering with Mako templates.",
        "Mako does not escape expressions by default. " + _XSS,
        'Set `default_filters=["h"]` on the template lookup, or use an autoescaping engine (Jinja2 with '
        "`select_autoescape`).",
    ),
    "S704": _h(
        "unsafe-markup-use",
        "`markupsafe.Markup(...)` (or a configured equivalent) built from a non-constant value.",
        _XSS,
        "Build markup from constants and pass values through `Markup.format(...)` or `escape(...)`, which escape them.",
    ),
    "S308": _h(
        "suspicious-mark-safe-usage",
        "Django's `mark_safe(...)`.",
        _XSS,
        'Use `format_html("<b>{}</b>", value)`, which escapes the values, and keep `mark_safe` for constant markup.',
    ),
    "S612": _h(
        "logging-config-insecure-listen",
        "`logging.config.listen()`.",
        "The listener accepts logging configuration from the network, and configuration can name classes "
        "to instantiate: anyone who can connect to the port can run code.",
        "Configure logging from a file or code at startup; if remote reconfiguration is needed, pass a "
        "`verify=` function that checks a signature.",
    ),
    # ---- crypto, permissions, protocols -----------------------------------------------------------
    "S103": _h(
        "bad-file-permissions",
        "`os.chmod` with a mask that grants write (or execute) access to the group or to everyone.",
        "Other users and processes on the host can then change or replace the file: configuration, "
        "scripts and keys become writable by whoever shares the machine or volume.",
        "Use the narrowest mode (`0o600` for secrets, `0o644` for readable data, `0o755` for executables).",
    ),
    "S108": _h(
        "hardcoded-temp-file",
        "A hard-coded path under `/tmp`, `/var/tmp` or `/dev/shm`.",
        "A fixed name in a shared directory can be created first by another user (a symlink to a file of "
        "yours), and two runs of the program collide on it.",
        "Use `tempfile.mkstemp()`, `NamedTemporaryFile()` or `TemporaryDirectory()`, which create unique "
        "names with safe permissions.",
    ),
    "S303": _h(
        "suspicious-insecure-hash-usage",
        "MD2, MD4, MD5 or SHA-1 through `cryptography`'s `hashes` or PyCryptodome's `Crypto.Hash`.",
        _WEAK_CRYPTO,
        "Use SHA-256 or better for integrity, and a slow KDF (argon2, scrypt, bcrypt) for passwords.",
    ),
    "S304": _h(
        "suspicious-insecure-cipher-usage",
        "Broken ciphers (ARC2, ARC4, Blowfish, DES, IDEA, ...) through `cryptography` or PyCryptodome.",
        _WEAK_CRYPTO,
        "Use an authenticated cipher such as AES-GCM or ChaCha20-Poly1305 (`cryptography`'s `AESGCM`), or "
        "`Fernet` for simple cases.",
    ),
    "S305": _h(
        "suspicious-insecure-cipher-mode-usage",
        "ECB mode for a block cipher.",
        "ECB encrypts equal blocks to equal ciphertext: patterns in the data stay visible, and blocks can be "
        "reordered or replayed.",
        "Use an authenticated mode (AES-GCM) with a fresh nonce per message.",
    ),
    "S306": _h(
        "suspicious-mktemp-usage",
        "`tempfile.mktemp()`.",
        "`mktemp` only returns a name: another process can create that file between the call and the open "
        "(a race that can redirect your writes).",
        "Use `tempfile.mkstemp()` or `NamedTemporaryFile()`, which create the file atomically.",
    ),
    "S310": _h(
        "suspicious-url-open-usage",
        "`urllib.request.urlopen` (or `Request`) on a URL that is not a constant.",
        "`urlopen` accepts `file://` and other schemes: a URL from outside can read local files or reach "
        "internal services.",
        "Check the scheme (and the host, for user-given URLs) before opening, or use an HTTP client that "
        "only speaks http(s), with a timeout.",
    ),
    "S312": _h(
        "suspicious-telnet-usage",
        "Use of `telnetlib`.",
        _CLEARTEXT,
        "Use SSH (`asyncssh`, `paramiko`) or an HTTPS API.",
    ),
    "S321": _h(
        "suspicious-ftp-lib-usage",
        "Use of `ftplib` (plain FTP).",
        _CLEARTEXT,
        "Use SFTP/SCP, `ftplib.FTP_TLS` with `prot_p()`, or object storage over HTTPS.",
    ),
    "S324": _h(
        "hashlib-insecure-hash-function",
        "`hashlib` with MD4, MD5, SHA-1 (or `hashlib.new` naming them).",
        _WEAK_CRYPTO,
        "Use `hashlib.sha256` (or `blake2b`) for integrity and a KDF for passwords; for a non-security "
        "checksum pass `usedforsecurity=False`.",
    ),
    "S505": _h(
        "weak-cryptographic-key",
        "DSA or RSA keys shorter than 2048 bits, or EC keys on curves below 224 bits.",
        "Short keys can be broken with available computing power: signatures can be forged and traffic decrypted.",
        "Generate RSA keys of 3072 bits (2048 at least), or use Ed25519 / P-256.",
    ),
    "S508": _h(
        "snmp-insecure-version",
        "SNMP v1 or v2c (`mpModel=0` or `1` in pysnmp).",
        "SNMP v1/v2c authenticate with a community string sent in clear text; anyone on the path can read "
        "it and then read or change device settings.",
        "Use SNMPv3 with authentication and privacy (`UsmUserData` with auth and priv keys).",
    ),
    "S509": _h(
        "snmp-weak-cryptography",
        "SNMPv3 set up without encryption (`noAuthNoPriv` or `authNoPriv`).",
        "Without privacy the traffic, and what it reveals about the device, is readable on the wire.",
        "Configure both an authentication and a privacy protocol (`authPriv`).",
    ),
    "S313": _h("suspicious-xmlc-element-tree-usage", "`xml.etree.cElementTree` parsing functions.", _XML, _DEFUSED),
    "S314": _h("suspicious-xml-element-tree-usage", "`xml.etree.ElementTree` parsing functions.", _XML, _DEFUSED),
    "S315": _h("suspicious-xml-expat-reader-usage", "`xml.dom.expatreader` parsers.", _XML, _DEFUSED),
    "S316": _h("suspicious-xml-expat-builder-usage", "`xml.dom.expatbuilder` parsing functions.", _XML, _DEFUSED),
    "S317": _h("suspicious-xml-sax-usage", "`xml.sax` parsing functions.", _XML, _DEFUSED),
    "S318": _h("suspicious-xml-mini-dom-usage", "`xml.dom.minidom` parsing functions.", _XML, _DEFUSED),
    "S319": _h("suspicious-xml-pull-dom-usage", "`xml.dom.pulldom` parsing functions.", _XML, _DEFUSED),
    # ---- reliability ------------------------------------------------------------------------------
    "S113": _h(
        "request-without-timeout",
        "`requests` calls without a `timeout=`, and `requests` or `httpx` calls with `timeout=None`.",
        "`requests` waits forever by default: one dead upstream holds this worker, its connection and the "
        "caller's request until someone restarts the process.",
        "Pass a timeout sized to the caller's deadline, e.g. `timeout=(2.0, 10.0)` (connect, read).",
    ),
    "B006": _h(
        "mutable-argument-default",
        "A list, dict, set or other mutable value as a function argument's default.",
        "The default is created once, when the function is defined, and shared by every call: data from "
        "one request leaks into the next.",
        "Default to `None` and create the value inside the function (`items = [] if items is None else items`).",
    ),
    "B039": _h(
        "mutable-contextvar-default",
        "A `ContextVar` whose `default=` is a mutable value.",
        "The default object is shared by every context that has not set the variable: one task's changes "
        "are seen by all the others, which is what a context variable was meant to prevent.",
        "Use an immutable default (or `None`) and `var.set(...)` a fresh object in each context.",
    ),
    "B012": _h(
        "jump-statement-in-finally",
        "`return`, `break` or `continue` inside a `finally` block.",
        "A jump out of `finally` silently discards the exception in flight (even `KeyboardInterrupt` and "
        "cancellation).",
        "Move the jump after the `try` statement, and let `finally` only clean up.",
    ),
    "B014": _h(
        "duplicate-handler-exception",
        "An `except (A, B)` tuple that names the same exception twice, also through an alias (`IOError` "
        "next to `OSError`).",
        _EXCEPT_BUG,
        "Name each exception once.",
    ),
    "B025": _h(
        "duplicate-try-block-exception",
        "The same exception caught in two handlers of one `try` (or `try`/`except*`) statement.",
        "The second handler can never run: the code it holds looks like error handling but is dead.",
        "Merge the two handlers into one.",
    ),
    "B029": _h(
        "except-with-empty-tuple",
        "`except ():` (or `except* ():`) with an empty tuple.",
        "An empty tuple catches nothing: the handler looks like error handling but never runs.",
        "Name the exceptions to catch, or remove the handler.",
    ),
    "B030": _h(
        "except-with-non-exception-classes",
        "An `except` clause whose expression is not an exception class or a tuple of them.",
        "Python raises `TypeError` when it evaluates such a clause while an exception is in flight, so the "
        "original error is replaced by a confusing one.",
        "Catch exception classes only: `except (ValueError, KeyError):`.",
    ),
    "B023": _h(
        "function-uses-loop-variable",
        "A function or lambda defined in a loop that reads the loop variable without binding it.",
        "Closures look the variable up when they run, not when they are made: every callback created in "
        "the loop sees the last value.",
        "Bind the value when creating the closure: `lambda item=item: handle(item)` or "
        "`functools.partial(handle, item)`.",
    ),
    "B020": _h(
        "loop-variable-overrides-iterator",
        "A `for` loop whose target variable has the same name as the iterable it loops over.",
        "The loop rebinds the name of the collection: code after the loop sees the last item instead of "
        "the collection.",
        "Use distinct names: `for item in items:`.",
    ),
    "PLW0711": _h(
        "binary-op-exception",
        "`except A or B:` / `except A and B:`.",
        "`or`/`and` evaluate to one of the two classes, so only that one is caught; the other passes through.",
        "Use a tuple: `except (A, B):`.",
    ),
    "PLW1509": _h(
        "subprocess-popen-preexec-fn",
        "`subprocess` calls with `preexec_fn=`.",
        "`preexec_fn` runs Python between fork and exec: in a process with threads it can deadlock on a "
        "lock another thread held at fork time.",
        "Use the dedicated arguments (`start_new_session=True`, `process_group=`, `user=`, `umask=`, `extra_groups=`).",
    ),
    "PLW1510": _h(
        "subprocess-run-without-check",
        "`subprocess.run` without an explicit `check=`.",
        "A failing command returns a non-zero code that nothing looks at: the program carries on as if it "
        "had succeeded.",
        "Pass `check=True`, or `check=False` and inspect `returncode` right after.",
    ),
    "B019": _h(
        "cached-instance-method",
        "`functools.lru_cache` or `functools.cache` on a method.",
        "The cache keys include `self`, so it keeps every instance alive for the life of the process "
        "(a memory leak), and it is shared by all of them.",
        "Cache on a module-level function keyed by plain values, or keep a per-instance cache attribute "
        "(or `functools.cached_property` for an argument-less value).",
    ),
    "PLW2101": _h(
        "useless-with-lock",
        "`with threading.Lock():` (or `RLock`, `Semaphore`, ...) where the lock is created in the `with` "
        "statement itself.",
        "Each execution creates a new lock that nobody else holds, so the block is never protected.",
        "Create the lock once (module, class or instance attribute) and use that object: `with self._lock:`.",
    ),
}
