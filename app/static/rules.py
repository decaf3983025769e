"""archbot's own deterministic rules: the catalogue of ARCH1xx, with the text every output shows.

``title``, ``message`` and ``fix`` go into each finding; ``name``, ``catches`` and the two examples
are the rule's documentation (SARIF rule help, ``docs/rules.md``), written by us.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.review.models import Category, Severity


@dataclass(frozen=True)
class StaticRule:
    """One deterministic rule: what it flags, how bad it is, and what to do about it."""

    id: str
    category: Category
    severity: Severity
    title: str  # one line: what is wrong (the finding's title, the rule's short description)
    message: str  # why it matters
    fix: str  # the safe pattern, in words
    name: str  # kebab-case name of the rule
    catches: str  # what exactly the check flags
    unsafe: str  # a short example it flags
    safe: str  # the same code written safely
    family: str = ""  # bench/corpus family (blocking, sql, ssrf, secrets, ...); empty: the rule's category


_C, _S = Category, Severity

_UNSORTED: tuple[StaticRule, ...] = (
    StaticRule(
        "ARCH101",
        _C.CONCURRENCY,
        _S.MEDIUM,
        "asyncio.gather() without return_exceptions: one failure leaves its siblings running",
        "When one awaitable fails, gather() raises at once but does not cancel the others: they keep "
        "running unobserved, their own errors are lost, and the caller may retry into duplicate work.",
        "Use `async with asyncio.TaskGroup()` (3.11+), which cancels the siblings on the first failure, "
        "or pass `return_exceptions=True` and handle each result that is an exception.",
        name="gather-without-return-exceptions",
        catches="A call to `asyncio.gather(...)` with two or more awaitables (or a starred list of them) and "
        "without `return_exceptions=True`.",
        unsafe="profile, orders = await asyncio.gather(fetch_profile(uid), fetch_orders(uid))",
        safe="async with asyncio.TaskGroup() as tg:\n"
        "    profile = tg.create_task(fetch_profile(uid))\n"
        "    orders = tg.create_task(fetch_orders(uid))",
    ),
    StaticRule(
        "ARCH102",
        _C.CONCURRENCY,
        _S.MEDIUM,
        "Task created and not kept: it can be garbage-collected mid-flight and its error is never seen",
        "The event loop holds only a weak reference to a task. A task nobody references can vanish before "
        "it finishes, and an exception inside it is only logged as 'never retrieved' at shutdown.",
        "Keep the task: run it in an `asyncio.TaskGroup`, or add it to a set and discard it in "
        "`add_done_callback`, and make sure its exception is observed.",
        name="task-not-kept",
        catches="`asyncio.create_task(...)` or `asyncio.ensure_future(...)` whose result is thrown away, or "
        "assigned to a name that is never used again, outside a task group.",
        unsafe="asyncio.create_task(send_audit_event(event))",
        safe="background: set[asyncio.Task[None]] = set()\n"
        "\n"
        "task = asyncio.create_task(send_audit_event(event))\n"
        "background.add(task)\n"
        "task.add_done_callback(background.discard)",
    ),
    StaticRule(
        "ARCH103",
        _C.CONCURRENCY,
        _S.MEDIUM,
        "Shared mutable state changed in concurrent code without a lock",
        "Module- or class-level state is shared by every request. Between two `await`s (or across "
        "FastAPI's threadpool for sync routes) another request can interleave: check-then-set races, "
        "lost updates and unbounded growth follow, and it breaks once you run more than one replica.",
        "Guard it with an `asyncio.Lock` (a `threading.Lock` for sync code), pass per-request state "
        "explicitly, or move it to a shared store with atomic operations (e.g. Redis).",
        name="unlocked-shared-state",
        catches="A write to module-level or class-level mutable state (rebinding a `global`, item assignment, or a "
        "mutating method such as `.append()` or `.update()`) inside an `async def` that awaits, or inside a "
        "sync route handler, with no lock held.",
        unsafe="_cache: dict[str, User] = {}\n"
        "\n"
        "async def get_user(uid: str) -> User:\n"
        "    if uid not in _cache:\n"
        "        _cache[uid] = await load_user(uid)\n"
        "    return _cache[uid]",
        safe="_cache: dict[str, User] = {}\n"
        "_cache_lock = asyncio.Lock()\n"
        "\n"
        "async def get_user(uid: str) -> User:\n"
        "    async with _cache_lock:\n"
        "        if uid not in _cache:\n"
        "            _cache[uid] = await load_user(uid)\n"
        "        return _cache[uid]",
    ),
    StaticRule(
        "ARCH104",
        _C.RELIABILITY,
        _S.MEDIUM,
        "HTTP client created per call and never closed",
        "Each client owns a connection pool. Creating one per call throws away keep-alive and TLS reuse, "
        "and a client that is never closed leaks sockets and file descriptors until the process dies.",
        "Create one client at startup (lifespan), inject it and close it on shutdown; for a one-off call "
        "use `async with httpx.AsyncClient(...) as client:`.",
        name="http-client-per-call",
        catches="An `httpx.Client`/`AsyncClient`, `aiohttp.ClientSession` or `requests.Session` created inside a "
        "function and then used once, dropped, or left unclosed (not closed, returned or handed to someone "
        "who owns it).",
        unsafe="async def fetch(url: str) -> bytes:\n"
        "    client = httpx.AsyncClient(timeout=5.0)\n"
        "    response = await client.get(url)\n"
        "    return response.content",
        safe="async def fetch(client: httpx.AsyncClient, url: str) -> bytes:\n"
        "    response = await client.get(url)  # one client, created in the lifespan\n"
        "    return response.content",
    ),
    StaticRule(
        "ARCH105",
        _C.RELIABILITY,
        _S.MEDIUM,
        "Network call without a timeout",
        "Without a timeout, one slow or dead upstream holds a worker, a connection and the caller's "
        "request forever (aiohttp's default is a 5-minute total); under load that becomes an outage.",
        "Set an explicit timeout sized to the caller's deadline (e.g. `httpx.Timeout(5.0, connect=2.0)`, "
        "`aiohttp.ClientTimeout(total=10)`), and retry only idempotent calls, with backoff.",
        name="network-call-without-timeout",
        catches="`requests` calls without `timeout=`, `urlopen` without `timeout=`, aiohttp sessions relying on the "
        "default timeout, and explicit `timeout=None`, `httpx.Timeout(None)` or an empty "
        "`aiohttp.ClientTimeout()`.",
        unsafe="response = requests.get(url)",
        safe="response = requests.get(url, timeout=(2.0, 10.0))  # connect, read",
    ),
    StaticRule(
        "ARCH106",
        _C.CONCURRENCY,
        _S.HIGH,
        "`await` while holding a threading lock",
        "A threading lock held across an `await` is held while the event loop runs other tasks; any of "
        "them that takes the same lock blocks the whole loop thread, which is a deadlock.",
        "Use an `asyncio.Lock` with `async with`, or release the threading lock before awaiting.",
        name="await-under-threading-lock",
        catches="An `await` inside a `with` block that holds a `threading` or `multiprocessing` lock (or semaphore, "
        "condition) in an `async def`.",
        unsafe="_lock = threading.Lock()\n"
        "\n"
        "async def refresh() -> None:\n"
        "    with _lock:\n"
        "        await reload_config()",
        safe="_lock = asyncio.Lock()\n"
        "\n"
        "async def refresh() -> None:\n"
        "    async with _lock:\n"
        "        await reload_config()",
    ),
    StaticRule(
        "ARCH107",
        _C.CONCURRENCY,
        _S.HIGH,
        "time.sleep() inside async def blocks the event loop",
        "time.sleep() stops the whole event loop thread: every other request and task on this worker waits for it.",
        "Use `await asyncio.sleep(...)`.",
        name="time-sleep-in-async",
        catches="A call to `time.sleep(...)` inside an `async def`.",
        unsafe="async def poll() -> None:\n    while not done():\n        time.sleep(1)",
        safe="async def poll() -> None:\n    while not done():\n        await asyncio.sleep(1)",
    ),
    StaticRule(
        "ARCH108",
        _C.CONCURRENCY,
        _S.MEDIUM,
        "Blocking call inside async def",
        "A coroutine runs on the event loop thread: while this call waits (network, database, cloud SDK, "
        "subprocess, a threading lock or queue, or the disk), no other request or task on this worker runs.",
        "Use the async library (httpx.AsyncClient, redis.asyncio, asyncpg/psycopg async, aioboto3, "
        "asyncio.create_subprocess_exec, anyio/aiofiles, an asyncio.Lock/Queue), or move the call off the loop "
        "with `await asyncio.to_thread(...)`.",
        name="blocking-io-in-async",
        catches="A call inside an `async def` that blocks (catalogue: `app/static/blocking_names.py`, names "
        "resolved through imports): synchronous HTTP, database and cache drivers, cloud SDKs, sockets, "
        "subprocesses, `threading` locks, events, queues and futures, file and file-system calls, model loads "
        "and inference under `torch.no_grad()`, `input()`; also methods of objects created, annotated or kept "
        "on `self` as such (`s = requests.Session()`, `db: Session`). Unknown receivers only by a signature no "
        "async client has un-awaited (`x.request('GET', url)`, `Bucket=`, `cur.execute('SELECT ...')`). "
        "Network, database, SDK, subprocess and waits: medium; file I/O and locks: low.",
        unsafe='async def load(key: str) -> bytes:\n    return s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()',
        safe="async def load(key: str) -> bytes:\n"
        "    obj = await asyncio.to_thread(s3.get_object, Bucket=BUCKET, Key=key)\n"
        '    return await asyncio.to_thread(obj["Body"].read)',
    ),
    StaticRule(
        "ARCH109",
        _C.CONCURRENCY,
        _S.HIGH,
        "Async route makes a blocking call",
        "The server runs an `async def` route on the event loop itself, so this blocking call stalls every "
        "in-flight request on the worker, health checks included.",
        "Use an async client here, move the call to `await asyncio.to_thread(...)`, or declare the route "
        "with plain `def` so the framework runs it in its threadpool.",
        name="blocking-io-in-async-route",
        catches="The same blocking calls as ARCH108, inside an `async def` registered as a route "
        "(`@app.get(...)`, `@router.post(...)`), where it stalls the server itself: high, file I/O and locks "
        "medium, file-system metadata low.",
        unsafe='@app.get("/price")\n'
        "async def price(sku: str) -> dict[str, float]:\n"
        '    return requests.get(f"{PRICING}/{sku}", timeout=5).json()',
        safe='@app.get("/price")\n'
        "async def price(sku: str, client: httpx.AsyncClient = Depends(http_client)) -> dict[str, float]:\n"
        '    return (await client.get(f"{PRICING}/{sku}")).json()',
    ),
    StaticRule(
        "ARCH110",
        _C.SECURITY,
        _S.CRITICAL,
        "JWT decoded without verification",
        "With signature (or algorithm) verification off, anyone can forge a token: the claims are "
        "attacker-controlled input, not identity.",
        "Verify the signature with a pinned algorithm list, e.g. `jwt.decode(token, key, "
        "algorithms=['RS256'], audience=..., issuer=...)`; never allow 'none'.",
        name="jwt-without-verification",
        catches="JWT decoding with the signature check turned off (PyJWT and python-jose `verify=False`, "
        '`options={"verify_signature": False}`), the `none` algorithm allowed (also authlib `JsonWebToken`), '
        "python-jose `get_unverified_claims`, and python-jwt `process_jwt` in a function that never calls "
        "`verify_jwt`. Reading only `iss`/`kid`/`alg` to pick the key of a verified decode is not flagged, nor "
        "is test code.",
        unsafe='claims = jwt.decode(token, options={"verify_signature": False})',
        safe='claims = jwt.decode(token, public_key, algorithms=["RS256"], audience=AUDIENCE, issuer=ISSUER)',
    ),
    StaticRule(
        "ARCH111",
        _C.SECURITY,
        _S.HIGH,
        "Unsafe deserialization (pickle / unsafe YAML / torch.load)",
        "Unpickling or unsafe YAML loading executes code chosen by whoever controls the bytes; a model "
        "file, cache entry or request body becomes remote code execution.",
        "Use a data-only format (JSON, `yaml.safe_load`, safetensors), `torch.load(..., weights_only=True)`, "
        "and sign or checksum artefacts you must unpickle.",
        name="unsafe-deserialization",
        catches="Loads through `pickle`, `cloudpickle`, `dill`, `joblib`, `marshal`, `shelve`, `jsonpickle` or "
        "`pandas.read_pickle`, `yaml.load` without a safe loader, `torch.load` without `weights_only=True`, "
        "and `numpy.load(..., allow_pickle=True)`.",
        unsafe="model = torch.load(path)",
        safe="model = torch.load(path, weights_only=True)  # or safetensors.torch.load_file(path)",
    ),
    StaticRule(
        "ARCH112",
        _C.SECURITY,
        _S.CRITICAL,
        "Credential committed in code",
        "A secret in the repository is readable by everyone with access to it, its forks and its history; "
        "removing it later does not un-leak it.",
        "Revoke and rotate it now, then load it from the environment or a secret store "
        "(pydantic `SecretStr`), never from source.",
        name="committed-credential",
        catches="A credential in an added line: cloud and API keys with a recognisable format (AWS, GitHub, "
        "Anthropic, OpenAI, Stripe, Slack, Google), private keys, JWTs, passwords in URLs, and high-entropy "
        "string values assigned to names such as `password`, `secret` or `api_key`.",
        unsafe='STRIPE_KEY = "sk_live_..."  # the real value, committed',
        safe="class Settings(BaseSettings):\n    stripe_key: SecretStr  # read from the environment or a secret store",
    ),
    StaticRule(
        "ARCH113",
        _C.SECURITY,
        _S.HIGH,
        "TLS certificate verification disabled",
        "Without certificate checks any network hop can impersonate the upstream and read or change the "
        "traffic, credentials included.",
        "Keep verification on; for a private CA pass its bundle (`verify='/path/ca.pem'`, "
        "`ssl.create_default_context(cafile=...)`).",
        name="tls-verification-disabled",
        catches="HTTP calls or clients with `verify=False` (or `ssl=False`, `verify_ssl=False`), and SSL contexts "
        "with `check_hostname = False` or `verify_mode = CERT_NONE`.",
        unsafe="httpx.get(url, verify=False)",
        safe='httpx.get(url, verify="/etc/ssl/private-ca.pem")',
    ),
    StaticRule(
        "ARCH114",
        _C.CONCURRENCY,
        _S.MEDIUM,
        "Cancellation swallowed in async code",
        "A bare `except:` / `except BaseException` / `except CancelledError` that does not re-raise eats "
        "`asyncio.CancelledError`: timeouts, TaskGroup and graceful shutdown can no longer stop this task.",
        "Catch `Exception` instead, or re-raise `CancelledError` after cleanup (`except "
        "asyncio.CancelledError: ...; raise`).",
        name="cancellation-swallowed",
        catches="In an `async def`, a `try` block that awaits and a handler for `BaseException`, "
        "`asyncio.CancelledError` or a bare `except:` that does not re-raise.",
        unsafe='try:\n    await worker.run()\nexcept BaseException:\n    log.exception("worker failed")',
        safe='try:\n    await worker.run()\nexcept Exception:\n    log.exception("worker failed")',
    ),
    StaticRule(
        "ARCH140",
        _C.SECURITY,
        _S.HIGH,
        "Token or secret generated with a predictable random source",
        "`random`, `numpy.random`, `uuid.uuid1` and hashes of the clock are not cryptographically secure: "
        "their output can be predicted from earlier values or from the time, so a token, code or key made "
        "with them can be guessed.",
        "Use the `secrets` module: `secrets.token_urlsafe(32)`, `secrets.token_hex(16)`, "
        "`secrets.choice(alphabet)`, `secrets.randbelow(1_000_000)` for numeric codes.",
        name="insecure-random-token",
        catches="A `random.*`, `numpy.random.*` or `uuid.uuid1()` value, or a `hashlib` digest of `time.time()`, "
        "that is assigned to, passed as, stored under or returned by a function named like a token, password, "
        "nonce, salt, session id, API key, CSRF token or auth/reset/invite code. Sampling, jitter, shuffling, "
        "load balancing and test code are not flagged.",
        unsafe='import random\n\n\ndef password_reset_code() -> str:\n    return f"{random.randint(0, 999999):06d}"',
        safe='import secrets\n\n\ndef password_reset_code() -> str:\n    return f"{secrets.randbelow(1_000_000):06d}"',
        family="randomness",
    ),
    StaticRule(
        "ARCH141",
        _C.SECURITY,
        _S.HIGH,
        "Hard-coded password or secret key",
        "A password or signing key written in the source is the same in every deployment and known to "
        "everyone who can read the repository; short dictionary values such as `changeme` or `admin` are "
        "also the first ones an attacker tries.",
        'Read it from the environment or a secret store at start-up (`os.environ["SECRET_KEY"]`, pydantic '
        "`SecretStr`) and fail when it is missing; rotate the value that was committed.",
        name="hardcoded-weak-secret",
        catches="A short string literal (not empty, not a placeholder like `<key>`, `${X}`, `{x}` or `%(x)s`, "
        "not an env-var name, path, URL or sentence) assigned to a name whose last word is `password`, "
        "`secret` or a secret `key`, given as such a keyword or parameter default, as the password of "
        "`.login(user, password)` or `auth=(user, password)`, as the key of `jwt.encode`/`jwt.decode`, or "
        "as an `Authorization` header value. Values read from the environment and test code are not flagged.",
        unsafe='app.config["SECRET_KEY"] = "dev-secret-key"',
        safe='app.config["SECRET_KEY"] = os.environ["FLASK_SECRET_KEY"]',
        family="secrets",
    ),
    StaticRule(
        "ARCH142",
        _C.SECURITY,
        _S.MEDIUM,
        "Regular expression with catastrophic backtracking",
        "A repeat nested in a repeat that can split the same characters between iterations in many ways "
        "makes a failing match take exponential (or high polynomial) time: one long near-miss input ties "
        "up the worker.",
        "Make the inner pieces unambiguous (`^[\\w.+-]+@...` instead of `^([\\w.+-]+)*@...`, a required "
        "separator inside the group), bound the input length first, or use a linear-time engine such as "
        "`google-re2`.",
        name="regex-catastrophic-backtracking",
        catches="A constant pattern given to `re`/`regex` `compile`, `match`, `search`, `fullmatch`, `sub`, "
        "`split`, `findall` or `finditer` with an unbounded repeat whose body is an unbounded repeat plus "
        "optional pieces or pieces its characters cover (`(a+)+`, `(\\w+\\s?)*`, `(.*,)*`), or "
        "alternatives that match the same characters (`(.|\\s)*`).",
        unsafe='import re\n\nNAME = re.compile(r"^([a-zA-Z]+ ?)+$")',
        safe='import re\n\nNAME = re.compile(r"^[a-zA-Z]+(?: [a-zA-Z]+)*$")',
        family="redos",
    ),
    StaticRule(
        "ARCH143",
        _C.SECURITY,
        _S.MEDIUM,
        "authlib JWT claims decoded but never validated",
        "authlib's `jwt.decode` checks the signature but not the claims: until `claims.validate()` runs, "
        "expired tokens, tokens not yet valid and tokens issued for another audience are accepted.",
        "Call `claims.validate()` (with `claims_options` naming the required `iss`/`aud`) before using the claims.",
        name="jwt-claims-not-validated",
        catches="The result of authlib `jwt.decode(...)` (or `JsonWebToken(...).decode`) used in a function that "
        "never calls `.validate()` on it.",
        unsafe="from authlib.jose import jwt\n\n\ndef current_user(token: str) -> str:\n"
        "    claims = jwt.decode(token, PUBLIC_KEY)\n"
        '    return claims["sub"]',
        safe="from authlib.jose import jwt\n\n\ndef current_user(token: str) -> str:\n"
        "    claims = jwt.decode(token, PUBLIC_KEY, claims_options=CLAIMS_OPTIONS)\n"
        "    claims.validate()\n"
        '    return claims["sub"]',
        family="jwt",
    ),
    StaticRule(
        "ARCH144",
        _C.SECURITY,
        _S.HIGH,
        "Regular expression built from request data",
        "Whoever sends the request chooses the pattern: a pattern with nested repeats makes the match run "
        "for minutes (ReDoS), and metacharacters change what is matched.",
        "Escape the value (`re.escape(term)`) to match it literally, or pick the pattern from a fixed table "
        "by a key the user sends.",
        name="regex-from-user-input",
        catches="The pattern argument of an `re`/`regex` call contains a parameter of a route handler or a "
        "`request.*` value of the same function (directly or through a local variable) not wrapped in "
        "`re.escape`.",
        unsafe='import re\n\n\n@app.get("/search")\ndef search(q: str) -> list[str]:\n'
        "    return [t for t in TITLES if re.search(q, t)]",
        safe='import re\n\n\n@app.get("/search")\ndef search(q: str) -> list[str]:\n'
        "    return [t for t in TITLES if re.search(re.escape(q), t)]",
        family="redos",
    ),
    StaticRule(
        "ARCH115",
        _C.CONCURRENCY,
        _S.MEDIUM,
        "async def calls a sync helper that blocks the event loop",
        "The helper called here is a plain function that does blocking work (network, database, file, "
        "subprocess or sleep); called from a coroutine it runs on the event loop thread, so every other "
        "coroutine on this loop waits until it returns.",
        "Call it with `await asyncio.to_thread(helper, ...)` (or `loop.run_in_executor`), or give the "
        "helper an async version that uses an async client.",
        name="blocking-via-helper",
        catches="A call, in an `async def`, of a sync function of the same module (a module function, a nested "
        "function, a `self.`/`cls.` method of the class or of a base class) that makes an ARCH108 blocking call "
        "itself or through its own helpers, up to three calls deep; the finding names the chain. Offloaded "
        "calls, generators, decorated helpers and helpers that only take a plain lock are skipped.",
        unsafe="def load_rates() -> dict:\n    return requests.get(RATES, timeout=5).json()\n\n"
        "async def quote(amount: float) -> float:\n    return amount * load_rates()['EUR']",
        safe="async def quote(amount: float) -> float:\n"
        "    rates = await asyncio.to_thread(load_rates)\n    return amount * rates['EUR']",
        family="blocking",
    ),
    StaticRule(
        "ARCH116",
        _C.CONCURRENCY,
        _S.MEDIUM,
        "A per-instance lock guards process-wide state",
        "The lock is created in `__init__`, so each instance has its own; the state written under it is "
        "shared by the whole process, and two instances can write it at the same time.",
        "Guard process-wide state with one module-level lock (or keep the state on the instance).",
        name="instance-lock-global",
        catches="A write to `os.environ`, `sys.path`, `os.chdir`, `signal.signal`, `logging.basicConfig` or a "
        "module-level dict/list/set inside `with self._lock:` where `self._lock` is a lock created in `__init__`.",
        unsafe="class Refresher:\n    def __init__(self) -> None:\n        self._lock = threading.Lock()\n\n"
        "    def apply(self, token: str) -> None:\n        with self._lock:\n            os.environ['TOKEN'] = token",
        safe="_ENV_LOCK = threading.Lock()\n\nclass Refresher:\n    def apply(self, token: str) -> None:\n"
        "        with _ENV_LOCK:\n            os.environ['TOKEN'] = token",
        family="shared-state",
    ),
    StaticRule(
        "ARCH117",
        _C.RELIABILITY,
        _S.MEDIUM,
        "Collection resized while a loop iterates over it",
        "Removing items from a list being iterated skips the element after each removal; adding or removing "
        "dict or set keys during iteration raises `RuntimeError: ... changed size during iteration`.",
        "Iterate over a copy (`list(items)`, `list(d.items())`), or build the new collection with a "
        "comprehension and assign it back.",
        name="mutate-while-iterating",
        catches="Inside `for x in c:` (also `c.keys()`, `c.items()`, `c.values()`, `enumerate(c)`), a "
        "`c.remove/pop/discard/add/update/clear(...)` or `del c[...]` not followed by `break`/`return`, "
        "or a write of a new key into a dict iterated with `.items()`. Appending to a list is not flagged.",
        unsafe="for session in sessions:\n    if session.expired:\n        sessions.remove(session)",
        safe="sessions[:] = [s for s in sessions if not s.expired]",
        family="shared-state",
    ),
    StaticRule(
        "ARCH119",
        _C.CONCURRENCY,
        _S.MEDIUM,
        "Per-call value written into a library's module-level settings",
        "A module attribute such as `openai.api_key` is one value for the whole process. Setting it from "
        "this call's arguments races with every other thread or task doing the same: one caller's request "
        "can go out with another caller's key, endpoint or API version.",
        "Pass per-call settings to a client object (`OpenAI(api_key=..., base_url=...)`, a session, a "
        "config argument) instead of the module; set module defaults once at start-up.",
        name="per-call-module-config",
        catches="Inside a function (not `main`, `setup*`, `configure*`, `init*` or a `__main__` block), an "
        "assignment `mod.attr = value` to a non-stdlib module imported with `import mod`, where the value "
        "comes from the function's parameters. Constants, `with` blocks and test paths are not flagged.",
        unsafe="def complete(prompt: str, api_key: str, base: str) -> str:\n    import openai\n\n"
        "    openai.api_key = api_key\n"
        "    openai.api_base = base\n    return openai.Completion.create(prompt=prompt).text",
        safe="def complete(prompt: str, api_key: str, base: str) -> str:\n    import openai\n\n"
        "    client = openai.OpenAI(api_key=api_key, base_url=base)\n"
        "    return client.completions.create(prompt=prompt).text",
        family="shared-state",
    ),
    StaticRule(
        "ARCH130",
        _C.RELIABILITY,
        _S.MEDIUM,
        "Lock or semaphore released only when nothing raises",
        "The release is a plain statement after the work: an exception, a timeout or a cancelled request "
        "in between skips it. A lock stays held forever; a semaphore loses a permit each time, and after "
        "as many failures as it has permits every later caller waits for good.",
        "Use `async with sem:` / `with lock:`, or put the release in a `finally:` right after the acquire.",
        name="release-not-in-finally",
        catches="`x.acquire()` / `await x.acquire()` (or a helper `acquire_name()`) followed in the same block "
        "by `x.release()` (or `release_name()`) with calls or awaits in between and no `try` whose handler "
        "or `finally` releases.",
        unsafe="await sem.acquire()\nresult = await model.generate(params)\nsem.release()",
        safe="async with sem:\n    result = await model.generate(params)",
        family="resources",
    ),
    StaticRule(
        "ARCH118",
        _C.CONCURRENCY,
        _S.HIGH,
        "Async route calls a sync helper that blocks the event loop",
        "This route is an `async def`, so the server runs it on the event loop; the helper called here does "
        "blocking work (network, database, file, subprocess or sleep) and stalls every in-flight request on "
        "the worker until it returns.",
        "Call it with `await asyncio.to_thread(helper, ...)`, make the helper async, or declare the route "
        "with plain `def` so the framework runs it in its threadpool.",
        name="blocking-via-helper-in-route",
        catches="The same helper calls as ARCH115, inside an `async def` registered as a route (`@app.get(...)`).",
        unsafe="def read_secret(name: str) -> str:\n    return requests.get(f'{VAULT}/{name}', timeout=5).text\n\n"
        "@app.get('/secret')\nasync def secret() -> str:\n    return read_secret('db')",
        safe="def read_secret(name: str) -> str:\n    return requests.get(f'{VAULT}/{name}', timeout=5).text\n\n"
        "@app.get('/secret')\nasync def secret() -> str:\n    return await asyncio.to_thread(read_secret, 'db')",
        family="blocking",
    ),
    StaticRule(
        "ARCH120",
        _C.SECURITY,
        _S.HIGH,
        "Request data reaches a command",
        "Whoever sends the request chooses part of the command: through a shell (`os.system`, `shell=True`) "
        "`;`, `|` and `$(...)` run anything; without a shell a value that becomes the program, or an argument "
        "starting with `-`, still turns the command into another one (`--upload-pack=...`, `-o /etc/...`).",
        "Pass a fixed program and a list of arguments without a shell, put `--` before values that must "
        "not be options, and pick programs and flags from an allow-list; `shlex.quote` each value if a shell "
        "is unavoidable.",
        name="command-from-user-input",
        catches="A route parameter, a `request.*` value, a task argument, a queue message or a socket read (or "
        "a value built from one: f-string, `%`, `+`, `.format`, `.join`, containers, same-module helpers) "
        "reaching `os.system`/`os.popen`/`subprocess.*(shell=True)`/`asyncio.create_subprocess_shell`, or "
        "the program or an option of `subprocess.*`/`os.exec*`/`os.spawn*`/`asyncio.create_subprocess_exec`, "
        "unless `shlex.quote`d, parsed (`int`, `UUID`, `ip_address`), allow-listed or placed after `--`. "
        "`sys.argv`/`input()` in a shell string is reported at low severity; argparse values not at all.",
        unsafe='@app.get("/ping")\ndef ping(host: str) -> str:\n'
        '    return subprocess.check_output(f"ping -c 1 {host}", shell=True, text=True)',
        safe='@app.get("/ping")\ndef ping(host: str) -> str:\n'
        "    address = ipaddress.ip_address(host)\n"
        '    return subprocess.check_output(["ping", "-c", "1", str(address)], text=True)',
        family="command",
    ),
    StaticRule(
        "ARCH121",
        _C.SECURITY,
        _S.HIGH,
        "Request data is pasted into SQL",
        "A quote in the value ends the string literal and the rest is SQL the client wrote: it can read "
        "other tenants' rows, change data or drop tables.",
        'Send values as bound parameters (`execute("... WHERE id = %s", [value])`, `text(":id")` with '
        "a dict); identifiers such as sort columns come from an allow-list.",
        name="sql-from-user-input",
        catches="Untrusted data built into the query string (f-string, `%`, `+`, `.format`, through local "
        "variables) of `execute`/`executemany`/`executescript`, asyncpg `fetch*`, Django `raw`/`extra`/"
        "`RawSQL`, SQLAlchemy `text()`, `pandas.read_sql`; bound parameters, numbers and allow-listed "
        "identifiers are silent.",
        unsafe='from sqlalchemy import text\n\n\n@app.get("/orders")\n'
        "async def orders(status: str, db: AsyncSession = Depends(get_db)):\n"
        "    return await db.execute(text(f\"SELECT * FROM orders WHERE status = '{status}'\"))",
        safe='from sqlalchemy import text\n\n\n@app.get("/orders")\n'
        "async def orders(status: str, db: AsyncSession = Depends(get_db)):\n"
        '    return await db.execute(text("SELECT * FROM orders WHERE status = :s"), {"s": status})',
        family="sql",
    ),
    StaticRule(
        "ARCH122",
        _C.SECURITY,
        _S.HIGH,
        "Request data chooses the host this service connects to (SSRF)",
        "The server fetches whatever the client names: cloud metadata (`169.254.169.254`), admin ports on "
        "localhost and services behind the firewall answer it with this service's network position and "
        "credentials.",
        "Fix scheme and host in code and let the data fill in only the path or query (quoted), or check "
        "`urlparse(url).hostname` against an allow-list before the call and do not follow redirects.",
        name="ssrf",
        catches="Untrusted data in the URL or host of `requests`/`httpx`/`aiohttp` calls (module functions and "
        "client or session methods), `urllib.request.urlopen`/`Request`, `http.client.HTTP(S)Connection`, "
        "unless scheme and host are constants before it or the host was checked against an allow-list.",
        unsafe='@app.get("/preview")\ndef preview(url: str) -> str:\n    return requests.get(url, timeout=5).text',
        safe='@app.get("/preview")\ndef preview(url: str) -> str:\n'
        "    if urlparse(url).hostname not in ALLOWED_HOSTS:\n        raise HTTPException(400)\n"
        "    return requests.get(url, timeout=5, allow_redirects=False).text",
        family="ssrf",
    ),
    StaticRule(
        "ARCH123",
        _C.SECURITY,
        _S.HIGH,
        "Request data chooses a file path (path traversal)",
        "`../` or an absolute path in the value leaves the intended folder: the client reads, overwrites or "
        "deletes any file the process can reach (keys, configuration, other users' uploads).",
        "Keep only the name (`secure_filename`, `os.path.basename`), or resolve the joined path and check "
        "`path.is_relative_to(base)` before using it; Flask's `send_from_directory(BASE, name)` does this.",
        name="path-traversal",
        catches="Untrusted data in the path of `open`/`aiofiles.open`, `Path(...)` reads and writes, `os.remove`/"
        "`unlink`/`rename`, `shutil.*`, `send_file`, the directory of `send_from_directory`, `FileResponse`, "
        "an upload's `.save(dest)`, unless reduced to a name or checked for containment first.",
        unsafe='from flask import request\n\n\n@app.get("/docs/raw")\ndef raw():\n'
        '    return open(os.path.join(UPLOADS, request.args["name"]), "rb").read()',
        safe='from flask import request\n\n\n@app.get("/docs/raw")\ndef raw():\n'
        '    name = secure_filename(request.args["name"])\n'
        '    return open(os.path.join(UPLOADS, name), "rb").read()',
        family="path",
    ),
    StaticRule(
        "ARCH124",
        _C.SECURITY,
        _S.HIGH,
        "Untrusted tar archive extracted without a filter",
        "Member names such as `../../etc/cron.d/x`, absolute paths and links in a tar file write outside "
        "the target folder; `tarfile` before Python 3.14 extracts them as they are.",
        'Pass `filter="data"` (Python 3.12+, backported to 3.8.17+), or check every member\'s resolved '
        "path and type before extracting.",
        name="unsafe-archive-extraction",
        catches="`extractall`/`extract` on a `tarfile` archive opened from an upload, a request value or a "
        "task argument, without `filter=` or `members=` and without a loop that rejects members first; "
        "`zipfile` extraction (which strips `..`) is silent.",
        unsafe='@app.post("/plugins")\ndef install(bundle: UploadFile):\n'
        "    with tarfile.open(fileobj=bundle.file) as tar:\n        tar.extractall(PLUGINS)",
        safe='@app.post("/plugins")\ndef install(bundle: UploadFile):\n'
        '    with tarfile.open(fileobj=bundle.file) as tar:\n        tar.extractall(PLUGINS, filter="data")',
        family="path",
    ),
    StaticRule(
        "ARCH125",
        _C.SECURITY,
        _S.HIGH,
        "Untrusted XML parsed with entity expansion",
        "A document from the client can declare entities: external ones read local files or reach internal "
        "URLs (XXE), nested ones expand to gigabytes (billion laughs).",
        "Parse untrusted XML with `defusedxml` (same API), or with an lxml parser built with "
        "`resolve_entities=False, no_network=True`.",
        name="xxe",
        catches="Untrusted data (request body, uploads, queue messages) parsed by `lxml.etree` without a "
        "parser that turns entities off, `xml.etree`, `xml.dom.minidom`/`pulldom` or `xml.sax`; `defusedxml` "
        "and XML the service produced itself (model output, its own files) are silent.",
        unsafe='from lxml import etree\n\n\n@app.post("/invoices")\nasync def invoices(request: Request):\n'
        "    root = etree.fromstring(await request.body())",
        safe='import defusedxml.ElementTree\n\n\n@app.post("/invoices")\nasync def invoices(request: Request):\n'
        "    root = defusedxml.ElementTree.fromstring(await request.body())",
        family="xxe",
    ),
    StaticRule(
        "ARCH126",
        _C.SECURITY,
        _S.MEDIUM,
        "Request data written into a log message as it is",
        "A value with a line break forges whole log lines (a fake `login ok for admin`), and control "
        "characters can hide entries from whoever reads the log in a terminal.",
        'Log it with `%r`, escape line breaks (`value.encode("unicode_escape")`), or use structured '
        "logging (`extra=` or key-value fields) that the formatter escapes.",
        name="log-injection",
        catches="Untrusted data in the message of a `logger.*`/`logging.*` call (f-string, `%`, `+`, "
        "`.format`), or passed for a `%s` placeholder (`%s` does not escape line breaks); `%r`, numeric "
        "placeholders, `extra=` and keyword fields are silent.",
        unsafe='from flask import request\n\n\n@app.post("/login")\ndef login():\n'
        "    logger.warning(f\"failed login for {request.form['username']}\")",
        safe='from flask import request\n\n\n@app.post("/login")\ndef login():\n'
        '    logger.warning("failed login for %r", request.form["username"])',
        family="log-injection",
    ),
    StaticRule(
        "ARCH150",
        _C.RELIABILITY,
        _S.LOW,
        "Broad exception handler drops the error without a trace",
        "Every failure of the `try` block, including the bugs nobody expected, ends here and leaves "
        "nothing behind: no log line, no metric, no re-raise, not even the exception object, so the "
        "caller carries on with an empty or default value and the cause is invisible when it surfaces later.",
        "Catch the exceptions you expect (`except ValueError:`), and for anything broader log it "
        "(`log.warning(..., exc_info=True)`), report it, or re-raise it as your own error.",
        name="swallowed-error",
        catches="A bare `except:`, `except Exception` or `except BaseException` whose body is only `pass`, "
        "`...`, `continue` or a `return` of nothing, `None`, a constant, an empty container or a default "
        "the `try` did not work on, with no call, no `raise` and no use of the exception; not a fallback "
        "to the raw input, a `pass` the next statements make up for, a retry loop that raises at the end, "
        "or optional imports.",
        unsafe="try:\n    prefs = json.loads(raw)\nexcept Exception:\n    pass",
        safe='try:\n    prefs = json.loads(raw)\nexcept ValueError:\n    log.warning("bad payload, using defaults")\n'
        "    prefs = {}",
        family="errors",
    ),
)

RULES: tuple[StaticRule, ...] = tuple(sorted(_UNSORTED, key=lambda rule: rule.id))

RULES_BY_ID: dict[str, StaticRule] = {rule.id: rule for rule in RULES}
