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

RULES: tuple[StaticRule, ...] = (
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
        "Blocking I/O inside async def",
        "A synchronous HTTP, database, subprocess or file call inside a coroutine blocks the event loop "
        "thread; latency of every concurrent request on this worker grows with it.",
        "Use the async library (httpx.AsyncClient, asyncpg/psycopg async, aiosqlite, "
        "asyncio.create_subprocess_exec, aiofiles/anyio), or move the call off the loop with "
        "`await asyncio.to_thread(...)`.",
        name="blocking-io-in-async",
        catches="A known blocking call inside an `async def`: synchronous HTTP (`requests`, `httpx.Client`, "
        "`urlopen`), database and cache drivers (`sqlite3`, `psycopg2`, `redis`, `pymongo`), cloud SDK "
        "clients (`boto3`), subprocess calls and file I/O.",
        unsafe='async def load(key: str) -> bytes:\n    return s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()',
        safe="async def load(key: str) -> bytes:\n"
        "    obj = await asyncio.to_thread(s3.get_object, Bucket=BUCKET, Key=key)\n"
        '    return await asyncio.to_thread(obj["Body"].read)',
    ),
    StaticRule(
        "ARCH109",
        _C.CONCURRENCY,
        _S.HIGH,
        "Async FastAPI route does blocking I/O",
        "FastAPI runs `async def` routes on the event loop itself, so this blocking call stalls every "
        "in-flight request on the worker, health checks included.",
        "Use an async client here, move the call to `await asyncio.to_thread(...)`, or declare the route "
        "with plain `def` so FastAPI runs it in its threadpool.",
        name="blocking-io-in-async-route",
        catches="The same blocking calls as ARCH108, but inside an `async def` function registered as a FastAPI (or "
        "similar) route, where it stalls the server itself.",
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
        catches='JWT decoding with the signature check turned off (`verify=False`, `options={"verify_signature": '
        "False}`) or with the `none` algorithm allowed.",
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

RULES_BY_ID: dict[str, StaticRule] = {rule.id: rule for rule in RULES}
