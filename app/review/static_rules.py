"""archbot's own deterministic rules: the catalogue (id, category, severity, message, fix) of ARCH1xx."""

from __future__ import annotations

from dataclasses import dataclass

from app.review.models import Category, Severity


@dataclass(frozen=True)
class StaticRule:
    """One deterministic rule: what it flags, how bad it is, and what to do about it."""

    id: str
    category: Category
    severity: Severity
    title: str
    message: str
    fix: str


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
    ),
    StaticRule(
        "ARCH106",
        _C.CONCURRENCY,
        _S.HIGH,
        "`await` while holding a threading lock",
        "A threading lock held across an `await` is held while the event loop runs other tasks; any of "
        "them that takes the same lock blocks the whole loop thread, which is a deadlock.",
        "Use an `asyncio.Lock` with `async with`, or release the threading lock before awaiting.",
    ),
    StaticRule(
        "ARCH107",
        _C.CONCURRENCY,
        _S.HIGH,
        "time.sleep() inside async def blocks the event loop",
        "time.sleep() stops the whole event loop thread: every other request and task on this worker waits for it.",
        "Use `await asyncio.sleep(...)`.",
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
    ),
)

RULES_BY_ID: dict[str, StaticRule] = {rule.id: rule for rule in RULES}
