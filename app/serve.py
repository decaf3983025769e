"""``archbot serve`` and ``archbot worker``: wire settings, store, GitHub, model and worker together.

Start-up is checked before the server listens, and every failure there is one clear line on stderr:

- a missing setting names the variable (serve: App id, key, webhook secret; worker: App id and key);
- a private key that does not load (cryptography) says "cannot read the private key (<variable>)",
  exit 2, before any request;
- a bad ``ARCHBOT_DATABASE_URL`` (not ``sqlite:///<path>`` or ``postgresql://…``) is a settings error (exit 2);
- a store that cannot be opened (unwritable directory, not a database) exits 1;
- ``GET /app`` failing (wrong key or App id, GitHub unreachable) exits 1.

Before it listens, ``app.warmup`` does the work the first job would otherwise do on the event loop (githubkit's
models), shortens the GIL switch interval and freezes the start-up heap. Then uvicorn serves the webhook
receiver; its lifespan runs the worker (on SQLite on its own thread and event loop, so a job's CPU work never
holds up a webhook answer; on PostgreSQL only with ``--with-worker``: receivers and ``archbot worker``
processes scale apart) and an hourly prune of the store (finished jobs and delivery records older than
``JOB_RETENTION``, usage rows past the ledger's window).
SIGTERM (or Ctrl+C) stops accepting, lets open requests finish, stops the worker (running jobs get
``ARCHBOT_WORKER_SHUTDOWN_GRACE`` seconds, default 15, then are cancelled and their leases released),
closes the store and exits 0.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import signal
import sqlite3
import sys
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from types import FrameType
from typing import TYPE_CHECKING, Any

import httpx
import structlog
from githubkit.exception import GitHubException
from structlog.typing import FilteringBoundLogger

from app.github.client import GitHubFactory, SharedTransport
from app.github.errors import GitHubError
from app.github.models import AppIdentity
from app.handlers import build_router
from app.metrics import Metrics
from app.pg_url import is_postgres_url, redacted
from app.pipeline.deps import Deps
from app.pipeline.model_provider import build_model_provider
from app.pipeline.runner import JobRunner
from app.queue import owner
from app.queue.base import JobQueue
from app.queue.sqlite import SQLiteJobQueue, sqlite_path_from_url
from app.sample_deliveries import NO_COMMIT, PING, pull_request_opened
from app.settings import Settings, SettingsError
from app.tracing import build_tracer
from app.usage import SQLiteUsageLedger, UsageLedger
from app.webhooks import sign
from app.worker import Worker

if TYPE_CHECKING:  # the web stack is imported by the code that serves (not by worker, send-test-delivery)
    from fastapi import FastAPI

    from app.status.collect import SpendLedger, StatusQueue

DAY_SECONDS = 86_400.0
JOB_RETENTION = 7 * DAY_SECONDS  # finished jobs and delivery ids (GitHub redelivers for 3 days)
PRUNE_INTERVAL = 3600.0
PRUNE_FIRST_DELAY = 60.0  # not at start-up: a restart loop must not prune in a tight loop
HTTP_SHUTDOWN_GRACE = 10.0
KEEP_ALIVE_SECONDS = 5  # an idle keep-alive connection is closed after this
BACKLOG = 2048  # connections the kernel queues while the loop is busy
MAX_HEADER_BYTES = 64 * 1024  # request line + headers; larger is refused with 400 before the app runs
RECLAIM_INTERVAL = 15.0  # leases of dead local workers are taken back within this (plus the start-up pass)
STARTUP_FAILED = 1
HANDLED_SIGNALS = (signal.SIGTERM, signal.SIGINT)


_Handler = Callable[[int, FrameType | None], Any] | int | signal.Handlers


class StartupError(Exception):
    """Start-up could not complete; the message is one line that says what to check (exit 1)."""


def github_factory(
    settings: Settings, transport: httpx.AsyncBaseTransport | None = None, metrics: Metrics | None = None
) -> GitHubFactory:
    """The one GitHub client factory of the process, from settings."""
    return GitHubFactory(
        api_url=settings.github_api_url,
        timeout=settings.archbot_github_timeout,
        app_id=settings.github_app_id,
        private_key=settings.private_key(),
        token=settings.github_token.get_secret_value() if settings.github_token else None,
        async_transport=transport,
        metrics=metrics,
    )


def build_stores(settings: Settings, *, listen: bool = False) -> tuple[JobQueue, UsageLedger]:
    """The job queue and the usage ledger on ``ARCHBOT_DATABASE_URL`` (no I/O yet). On PostgreSQL a process
    that runs jobs ``listen``s for other processes' new jobs (``LISTEN/NOTIFY``)."""
    url = settings.archbot_database_url
    if is_postgres_url(url):
        from app.pg_usage import PostgresUsageLedger
        from app.queue.postgres import PostgresJobQueue

        return PostgresJobQueue(url, listen=listen), PostgresUsageLedger(url)
    try:
        sqlite_path_from_url(url)
    except ValueError as exc:
        raise SettingsError(f"ARCHBOT_DATABASE_URL: {exc}") from None
    return SQLiteJobQueue(url), SQLiteUsageLedger(url)


async def open_stores(queue: JobQueue, ledger: UsageLedger) -> None:
    """Open the store now so a bad file (or an unreachable or unmigrated database) fails start-up, not the
    first webhook."""
    if not isinstance(queue, SQLiteJobQueue):
        await _open_postgres(queue, ledger)
        return
    try:
        await queue.open()
        await ledger.open()  # type: ignore[attr-defined]  # both backends' ledgers have open()
    except (sqlite3.Error, OSError) as exc:
        where = sqlite_path_from_url(queue.url)
        raise StartupError(f"cannot open the store {where} (ARCHBOT_DATABASE_URL): {_one_line(exc)}") from None


async def _open_postgres(queue: JobQueue, ledger: UsageLedger) -> None:
    import psycopg
    import psycopg_pool

    from app.pg_schema import SchemaError
    from app.pg_usage import PostgresUsageLedger
    from app.queue.postgres import PostgresJobQueue

    if not isinstance(queue, PostgresJobQueue) or not isinstance(ledger, PostgresUsageLedger):
        raise TypeError("open_stores: unknown store backends")
    try:
        await queue.open()
        await ledger.open()
    except (psycopg.Error, psycopg_pool.PoolTimeout, OSError, SchemaError) as exc:
        where = redacted(queue.url)
        raise StartupError(f"cannot open the store {where} (ARCHBOT_DATABASE_URL): {_one_line(exc)}") from None


async def identify(factory: GitHubFactory, *, key_variable: str = "GITHUB_PRIVATE_KEY") -> AppIdentity:
    """``GET /app`` once; any failure becomes a ``StartupError`` naming what to check (the key
    variable as the user set it: ``GITHUB_PRIVATE_KEY`` or ``GITHUB_PRIVATE_KEY_PATH``)."""
    hint = f"check GITHUB_APP_ID, {key_variable} and GITHUB_API_URL"
    try:
        return await factory.identify()
    except GitHubError as exc:
        status = f" (HTTP {exc.status})" if exc.status else ""
        reason = f"{_one_line(exc)}{status}"
    except (GitHubException, ValueError, KeyError, TypeError) as exc:  # bad key, unexpected answer
        reason = f"{type(exc).__name__}: {_one_line(exc)}" if str(exc) else type(exc).__name__
    raise StartupError(f"GET {factory.api_url.rstrip('/')}/app failed: {reason}; {hint}")


def _key_name(settings: Settings) -> str:
    return settings.private_key_variable().partition("=")[0]


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text[:300] or type(exc).__name__


async def prune_once(
    queue: JobQueue, ledger: UsageLedger, *, now: float, retention: float = JOB_RETENTION
) -> tuple[int, int]:
    """Delete finished jobs and delivery records older than ``retention`` and usage rows past the ledger's
    window; returns (queue rows, ledger rows) deleted."""
    jobs = await queue.prune(now - retention)
    usage = await ledger.prune()
    return jobs, usage


async def prune_forever(
    queue: JobQueue,
    ledger: UsageLedger,
    *,
    interval: float = PRUNE_INTERVAL,
    first_delay: float = PRUNE_FIRST_DELAY,
    clock: Callable[[], float] = time.time,
    log: FilteringBoundLogger | None = None,
) -> None:
    """Prune every ``interval`` seconds until cancelled; a failed prune is logged and tried again later."""
    logger: FilteringBoundLogger = log if log is not None else structlog.get_logger("archbot.prune")
    await asyncio.sleep(first_delay)
    while True:
        try:
            jobs, usage = await prune_once(queue, ledger, now=clock())
        except Exception:  # the store may be briefly unavailable; the next round tries again
            logger.error("store.prune_failed", exc_info=True)
        else:
            logger.info("store.pruned", jobs_and_deliveries=jobs, usage_rows=usage)
        await asyncio.sleep(interval)


async def reclaim_dead_leases(queue: SQLiteJobQueue, is_dead: Callable[[str], bool], log: FilteringBoundLogger) -> int:
    """Take back the leases of dead local processes (the embedded store knows nobody else holds them)."""
    try:
        gone = await queue.reclaim_dead_leases(is_dead)
    except Exception:  # the store may be briefly unavailable; leases still expire on their own
        log.error("store.reclaim_failed", exc_info=True)
        return 0
    for job_id, holder in gone:
        log.warning("job.reclaimed", job_id=job_id, dead_worker=holder)
    return len(gone)


async def reclaim_forever(
    queue: SQLiteJobQueue,
    is_dead: Callable[[str], bool],
    log: FilteringBoundLogger,
    *,
    interval: float = RECLAIM_INTERVAL,
) -> None:
    """Every ``interval`` seconds, take back leases of local workers that died (another ``archbot worker``)."""
    while True:
        await asyncio.sleep(interval)
        await reclaim_dead_leases(queue, is_dead, log)


class WorkerThread:
    """The worker on an event loop of its own, in a thread: a job's CPU work between two awaits (diff
    parsing, rendering, JSON) then delays only other jobs, never a webhook answer on the receiver's loop
    (with the 1 ms GIL switch interval of ``app.warmup``). The queue's wake-ups are thread-safe already."""

    def __init__(self, worker: Worker) -> None:
        self.worker = worker
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._main, name="archbot-worker", daemon=True)
        self.error: BaseException | None = None
        self.on_end: Callable[[BaseException | None], None] = lambda _: None

    def start(self) -> None:
        self._thread.start()
        self._ready.wait()

    def _main(self) -> None:
        try:
            asyncio.run(self._run())
        except BaseException as exc:  # noqa: BLE001 - reported to the serving thread, not lost with the thread
            self.error = exc
        self.on_end(self.error)

    async def _run(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        self._ready.set()
        await self.worker.run(self._stop)

    async def stop(self) -> None:
        """Ask the worker to stop gracefully and wait for its thread (running jobs get their grace)."""
        loop, stop = self._loop, self._stop
        if loop is not None and stop is not None:
            with contextlib.suppress(RuntimeError):  # its loop has ended already
                loop.call_soon_threadsafe(stop.set)
        await asyncio.to_thread(self._thread.join)


async def _worker_outcome(thread: WorkerThread | None, task: asyncio.Task[None] | None) -> BaseException | None:
    """Wait for the worker (its thread or its task) to end; what it ended with, if anything."""
    if thread is not None:
        await thread.stop()
        return thread.error
    if task is None:
        return None
    (result,) = await asyncio.gather(task, return_exceptions=True)
    return result if isinstance(result, BaseException) else None


@contextlib.asynccontextmanager
async def _prune_only(
    queue: JobQueue, ledger: UsageLedger, *, interval: float, first_delay: float
) -> AsyncIterator[None]:
    """A receiver without a worker (PostgreSQL): only the prune loop."""
    prune = asyncio.create_task(
        prune_forever(queue, ledger, interval=interval, first_delay=first_delay), name="archbot-prune"
    )
    try:
        yield
    finally:
        prune.cancel()
        await asyncio.gather(prune, return_exceptions=True)


@contextlib.asynccontextmanager
async def background(
    queue: JobQueue,
    ledger: UsageLedger,
    deps: Deps,
    *,
    prune_interval: float,
    prune_first_delay: float,
    run_worker: bool = True,
) -> AsyncIterator[Worker | None]:
    """Run the worker and the prune loop for the duration of the block; stop both gracefully on exit.
    ``run_worker=False`` (a PostgreSQL receiver): only the prune loop."""
    if not run_worker:
        async with _prune_only(queue, ledger, interval=prune_interval, first_delay=prune_first_delay):
            yield None
        return
    settings = deps.settings
    runner = JobRunner(deps)
    worker = Worker(
        queue,
        runner.run,
        concurrency=settings.archbot_worker_concurrency,
        on_give_up=runner.give_up,
        shutdown_grace=settings.archbot_worker_shutdown_grace,
        lease_seconds=settings.archbot_worker_lease_seconds,
        metrics=deps.metrics,
    )
    log = structlog.get_logger("archbot.serve")
    is_dead = owner.dead_holder_check()
    local = queue if isinstance(queue, SQLiteJobQueue) else None  # PostgreSQL: leases expire (other hosts)
    if local is not None:
        await reclaim_dead_leases(local, is_dead, log)  # a crashed predecessor's jobs run now, not after their lease
    # SQLite: the worker gets its own thread and loop; PostgreSQL's pools belong to this loop, so there it is a task
    thread = WorkerThread(worker) if local is not None else None
    stop = asyncio.Event()
    stopping = False

    def worker_ended(error: BaseException | None) -> None:
        if stopping:
            return
        deps.metrics.worker_up.set(0)  # webhooks are still accepted and queued; nothing runs them here
        log.error("worker.ended_unexpectedly", error=repr(error))

    worker_task: asyncio.Task[None] | None = None
    if thread is not None:
        thread.on_end = worker_ended
        thread.start()
    else:
        worker_task = asyncio.create_task(worker.run(stop), name="archbot-worker")
        worker_task.add_done_callback(lambda task: worker_ended(None if task.cancelled() else task.exception()))
    prune_task = asyncio.create_task(
        prune_forever(queue, ledger, interval=prune_interval, first_delay=prune_first_delay), name="archbot-prune"
    )
    reclaim_task = asyncio.create_task(
        reclaim_forever(local, is_dead, log) if local is not None else asyncio.sleep(0), name="archbot-reclaim"
    )
    deps.metrics.worker_up.set(1)
    try:
        yield worker
    finally:
        stopping = True
        stop.set()  # the worker leases nothing new, waits for running jobs, then releases the rest
        prune_task.cancel()
        reclaim_task.cancel()
        await asyncio.gather(prune_task, reclaim_task, return_exceptions=True)
        try:
            outcome = await _worker_outcome(thread, worker_task)
            if outcome is not None and not isinstance(outcome, asyncio.CancelledError):
                log.error("worker.stop_failed", error=repr(outcome))  # an earlier crash was logged already
        finally:
            deps.metrics.worker_up.set(0)


def build_web_app(
    settings: Settings,
    *,
    queue: JobQueue,
    ledger: UsageLedger,
    factory: GitHubFactory,
    identity: AppIdentity,
    metrics: Metrics,
    prune_interval: float = PRUNE_INTERVAL,
    prune_first_delay: float = PRUNE_FIRST_DELAY,
    run_worker: bool = True,
) -> FastAPI:
    """The App server: the webhook receiver plus, in its lifespan, the worker and the prune loop.

    The stores are opened and closed by the caller (they outlive the lifespan)."""
    from app.web import WebhookConfig, create_app

    deps = Deps(
        settings=settings,
        factory=factory,
        identity=identity,
        models=build_model_provider(settings, metrics=metrics),
        metrics=metrics,
        ledger=ledger,
    )

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        async with background(
            queue,
            ledger,
            deps,
            prune_interval=prune_interval,
            prune_first_delay=prune_first_delay,
            run_worker=run_worker,
        ):
            yield

    app = create_app(
        config=WebhookConfig(
            secrets=tuple(settings.webhook_secrets()),
            max_body_bytes=settings.archbot_max_body_bytes,
            body_timeout=settings.archbot_body_timeout,
        ),
        store=queue,
        router=build_router(),
        metrics=metrics,
        lifespan=lifespan,
    )
    add_status_page(app, settings, queue=queue, ledger=ledger, metrics=metrics)
    return app


def add_status_page(
    app: FastAPI, settings: Settings, *, queue: StatusQueue, ledger: SpendLedger | None, metrics: Metrics
) -> None:
    """``GET /``: the status page (its private part behind ``ARCHBOT_STATUS_TOKEN``); any store backend."""
    from app import __version__
    from app.status.auth import StatusAuth
    from app.status.collect import StatusSources
    from app.status.routes import add_status_routes

    token = settings.archbot_status_token.get_secret_value() if settings.archbot_status_token else None
    sources = StatusSources(
        version=__version__,
        queue=queue,
        metrics=metrics,
        api_url=settings.github_api_url,
        daily_budget=settings.archbot_daily_token_budget,
        ledger=ledger,
        secrets=tuple(settings.secret_values()),
    )
    add_status_routes(app, sources=sources, auth=StatusAuth(token))


class _StopSignals:
    """SIGTERM/SIGINT handlers for the whole life of the process.

    Before uvicorn runs they cancel start-up (``guard``). While it runs, uvicorn has its own handlers and
    restores ours afterwards, then re-raises the signal it caught "to trigger the expected behaviour";
    ours only records it, so a graceful stop ends with exit 0 instead of death by SIGTERM."""

    def __init__(self) -> None:
        self.received: list[int] = []
        self._task: asyncio.Task[object] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._previous: dict[int, _Handler] = {}

    def _handle(self, signum: int, _frame: FrameType | None) -> None:
        self.received.append(signum)
        if self._task is not None and self._loop is not None:
            self._loop.call_soon_threadsafe(self._task.cancel)

    @contextlib.contextmanager
    def installed(self) -> Iterator[_StopSignals]:
        for sig in HANDLED_SIGNALS:
            previous = signal.getsignal(sig)
            self._previous[sig] = signal.SIG_DFL if previous is None else previous
            signal.signal(sig, self._handle)
        try:
            yield self
        finally:
            for signum, handler in self._previous.items():
                signal.signal(signum, handler)

    @contextlib.contextmanager
    def guard(self) -> Iterator[None]:
        """While inside, a signal cancels the current task (start-up is abandoned)."""
        self._loop = asyncio.get_running_loop()
        self._task = asyncio.current_task()
        try:
            yield
        finally:
            self._task = None


async def _serve(
    settings: Settings,
    queue: JobQueue,
    ledger: UsageLedger,
    factory: GitHubFactory,
    *,
    host: str,
    port: int,
    signals: _StopSignals,
    transport: SharedTransport,
    run_worker: bool = True,
    metrics: Metrics,
) -> int:
    import uvicorn  # only the serving process loads the web server

    log = structlog.get_logger("archbot.serve")
    try:
        try:
            with signals.guard():
                await open_stores(queue, ledger)
                identity = await identify(factory, key_variable=_key_name(settings))  # GET /app once
                await transport.shutdown()  # that connection belongs to this loop; the worker runs on its own
        except asyncio.CancelledError:
            if signals.received:
                return 0  # stopped during start-up
            raise
        log.info("app_identified", app_id=identity.app_id, slug=identity.slug, bot_login=identity.bot_login)
        app = build_web_app(
            settings,
            queue=queue,
            ledger=ledger,
            factory=factory,
            identity=identity,
            metrics=metrics,
            run_worker=run_worker,
        )
        from app.warmup import warm_up  # only the serving process

        log.info("warmed_up", github_models=warm_up(factory.app_client()))
        config = uvicorn.Config(
            app,
            host=host,
            port=port,
            log_config=None,
            access_log=False,
            lifespan="on",
            server_header=False,
            timeout_graceful_shutdown=int(HTTP_SHUTDOWN_GRACE),
            # README "Limits": slow and idle clients cannot starve deliveries (the body deadline is the app's)
            timeout_keep_alive=KEEP_ALIVE_SECONDS,
            limit_concurrency=settings.archbot_max_connections,
            backlog=BACKLOG,
            h11_max_incomplete_event_size=MAX_HEADER_BYTES,
        )
        server = uvicorn.Server(config)
        try:
            await server.serve()
        except SystemExit as exc:  # uvicorn exits on a port in use or a failed lifespan (it logged why)
            log.error("server_failed", code=exc.code)
            return STARTUP_FAILED
        if not server.started:
            return STARTUP_FAILED
        log.info("server_stopped", signals=[signal.Signals(s).name for s in signals.received])
        return 0
    finally:
        await queue.close()
        await ledger.close()
        await transport.shutdown()
        if factory.metrics is not None:
            factory.metrics.tracer.shutdown()  # flush the spans still batched


def serve(
    settings: Settings,
    *,
    host: str,
    port: int,
    public_url: str | None = None,
    with_worker: bool = False,
    reload_settings: Callable[[], Settings] | None = None,
) -> int:
    """Run the App server until SIGTERM/SIGINT; the exit code (0 after a graceful stop). On SQLite it runs
    the worker too; on PostgreSQL only with ``with_worker`` (else ``archbot worker`` processes run jobs).

    Without any App setting it first serves the setup page (``app.setup``) on the same address until the
    App is registered, then reloads the settings (``reload_settings``: the environment and the new ``.env``)."""
    if not settings.has_app_settings():
        from app.setup.cli import set_up_for_serve

        try:
            registered = set_up_for_serve(settings, host=host, port=port, public_url=public_url)
        except OSError:
            return STARTUP_FAILED
        if registered is None or reload_settings is None:
            return 0
        settings = reload_settings()
    settings.require_serve()
    run_worker = with_worker or not is_postgres_url(settings.archbot_database_url)
    queue, ledger = build_stores(settings, listen=run_worker)
    metrics = Metrics(build_tracer(settings.otel_exporter_otlp_endpoint))
    transport = SharedTransport(observe=metrics.observe_github)
    factory = github_factory(settings, transport, metrics)
    signals = _StopSignals()
    with signals.installed():
        try:
            return asyncio.run(
                _serve(
                    settings,
                    queue,
                    ledger,
                    factory,
                    host=host,
                    port=port,
                    signals=signals,
                    transport=transport,
                    run_worker=run_worker,
                    metrics=metrics,
                )
            )
        except StartupError as exc:
            sys.stderr.write(f"archbot: {exc}\n")
            return STARTUP_FAILED


async def run_worker_only(settings: Settings) -> int:
    """A worker without the receiver (a second process on the same store): it needs the App's
    credentials, never the webhook secret."""
    settings.require_app_credentials()
    queue, ledger = build_stores(settings, listen=True)
    transport = SharedTransport()
    factory = github_factory(settings, transport, Metrics(build_tracer(settings.otel_exporter_otlp_endpoint)))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in HANDLED_SIGNALS:
        loop.add_signal_handler(sig, stop.set)
    try:
        await open_stores(queue, ledger)
        identity = await identify(factory, key_variable=_key_name(settings))
        await transport.shutdown()  # that connection belongs to this loop; the worker runs on its own
        deps = Deps(
            settings=settings,
            factory=factory,
            identity=identity,
            models=build_model_provider(settings, metrics=factory.metrics),
            metrics=factory.metrics or Metrics(),
            ledger=ledger,
        )
        async with background(queue, ledger, deps, prune_interval=PRUNE_INTERVAL, prune_first_delay=PRUNE_FIRST_DELAY):
            await stop.wait()
    except StartupError as exc:
        sys.stderr.write(f"archbot: {exc}\n")
        return STARTUP_FAILED
    finally:
        for sig in HANDLED_SIGNALS:
            loop.remove_signal_handler(sig)
        await queue.close()
        await ledger.close()
        await transport.shutdown()
        if factory.metrics is not None:
            factory.metrics.tracer.shutdown()
    return 0


TEST_EVENTS = ("ping", "pull_request")
_REPO_NAME = re.compile(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+")
_SHA = re.compile(r"[0-9a-f]{40}")


def delivery_body(
    settings: Settings,
    *,
    event: str,
    repo: str | None = None,
    pr: int | None = None,
    installation: int | None = None,
    head_sha: str | None = None,
) -> bytes:
    """The body of a test delivery; a ``SettingsError`` (exit 2) names what is missing or wrong."""
    if event == "ping":
        return json.dumps(PING).encode()
    if event != "pull_request":
        raise SettingsError(f"send-test-delivery --event: {event!r} is not one of {', '.join(TEST_EVENTS)}")
    if repo is None or pr is None or installation is None:
        given = (("--repo OWNER/NAME", repo), ("--pr NUMBER", pr), ("--installation ID", installation))
        missing = ", ".join(flag for flag, value in given if value is None)
        raise SettingsError(f"send-test-delivery --event pull_request needs {missing}")
    if not _REPO_NAME.fullmatch(repo):
        raise SettingsError(f"send-test-delivery --repo: {repo!r} is not OWNER/NAME")
    if pr < 1 or installation < 1:
        raise SettingsError("send-test-delivery: --pr and --installation must be positive numbers")
    sha = (head_sha or NO_COMMIT).lower()
    if not _SHA.fullmatch(sha):
        raise SettingsError(f"send-test-delivery --head-sha: {head_sha!r} is not a 40-character commit sha")
    payload = pull_request_opened(
        repo=repo,
        number=pr,
        installation_id=installation,
        head_sha=sha,
        api_url=settings.github_api_url,
        now=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    )
    return json.dumps(payload).encode()


async def send_test_delivery(
    settings: Settings,
    *,
    url: str,
    event: str,
    repo: str | None = None,
    pr: int | None = None,
    installation: int | None = None,
    head_sha: str | None = None,
) -> int:
    """Send one signed delivery (``ping``, or ``pull_request.opened`` for ``repo`` PR ``pr``) to a running
    ``archbot serve`` and print the answer (``202`` and the jobs queued for a pull request)."""
    secrets = settings.webhook_secrets()
    if not secrets:
        raise SettingsError("missing required setting: GITHUB_WEBHOOK_SECRET (the server's secret, to sign with)")
    body = delivery_body(settings, event=event, repo=repo, pr=pr, installation=installation, head_sha=head_sha)
    headers = {
        "content-type": "application/json",
        "x-github-event": event,
        "x-github-delivery": str(uuid.uuid4()),
        "x-hub-signature-256": sign(body, secrets[0]),
    }
    async with httpx.AsyncClient(timeout=10) as client:
        try:
            response = await client.post(url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            sys.stderr.write(f"archbot: could not reach {url}: {exc.__class__.__name__}\n")
            return 1
    sys.stdout.write(f"{response.status_code} {response.text}\n")
    return 0 if response.status_code < 300 else 1
