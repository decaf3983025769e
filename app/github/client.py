"""Builds the githubkit clients archbot uses: App (JWT), installation, and plain-token clients.

Built once at startup from explicit arguments (it never reads the environment).  Every client:
* has a timeout (githubkit's default is none at all);
* has githubkit's ``auto_retry`` OFF: the one retry layer is ``app.github.pacing.ReadRetry``,
  which retries reads only (DESIGN Decision 2);
* has its OWN ``MemCacheStrategy()`` (githubkit's default token cache is process-wide and its keys
  ignore the base URL) and no HTTP cache;
* is kept referenced here: githubkit's namespaces hold only a weak reference to their client.

The App key is parsed once and concurrent jobs of one installation share one token exchange
(``app.github.app_auth``). A 401 gets a fresh cache (so a fresh token) and one more try: see
``refresh_installation`` and ``RepoAPI``.

``SharedTransport`` gives every client of the process one connection pool (``archbot serve`` and
``archbot action`` build one and close it on the way out).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import httpx
from githubkit import GitHub, TokenAuthStrategy
from githubkit.cache import MemCacheStrategy

from app import __version__
from app.github.api import VERSION_HEADERS, RepoAPI
from app.github.app_auth import KeyedAppStrategy, load_private_key
from app.github.errors import GitHubError
from app.github.metered import MeteredTransport
from app.github.models import AppIdentity
from app.github.pacing import WRITE_INTERVAL, Clock, PacedTransport, ReadRetry, RetryPolicy, Sleep, WritePacer

if TYPE_CHECKING:
    from app.metrics import Metrics

__all__ = ["ACTIONS_BOT_LOGIN", "AppIdentity", "GitHubFactory", "SharedTransport"]

LOG = logging.getLogger(__name__)

ACTIONS_BOT_LOGIN = "github-actions[bot]"
MAX_CACHED_INSTALLATIONS = 512
_TOKEN_PACER_KEY = -1


def request_outcome(status: int) -> str:
    """A GitHub answer's class for the error-rate metric."""
    if status == 429:
        return "rate_limited"
    if status >= 500:
        return "server_error"
    if status >= 400:
        return "client_error"
    return "ok"


class SharedTransport(httpx.AsyncBaseTransport):
    """One connection pool, and one TLS context, for every GitHub request of the process.

    githubkit builds a new ``httpx.AsyncClient`` for each request made outside ``async with``, and without a
    transport every such client builds its own TLS context (loading the CA bundle: tens of milliseconds
    of CPU on the event loop, which delayed webhook answers) and opens a new connection. Given this
    transport it does neither. githubkit closes each client's transport when the request is done, so
    ``aclose`` does nothing here; ``shutdown`` closes the pool when the process stops."""

    def __init__(
        self, inner: httpx.AsyncBaseTransport | None = None, *, observe: Callable[[str], None] | None = None
    ) -> None:
        self._inner = inner if inner is not None else httpx.AsyncHTTPTransport(retries=0)
        self._observe = observe  # told each request's outcome (``request_outcome``): the metrics' error rate

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self._observe is None:
            return await self._inner.handle_async_request(request)
        try:
            response = await self._inner.handle_async_request(request)
        except httpx.TransportError:
            self._observe("transport_error")
            raise
        self._observe(request_outcome(response.status_code))
        return response

    async def aclose(self) -> None:
        """Kept open: it is shared by every client (see ``shutdown``)."""

    async def shutdown(self) -> None:
        """Close the pooled connections (process shutdown; or after start-up's ``GET /app``, so the worker's
        own loop opens its own). A connection of a loop that has ended already is left to the OS."""
        with contextlib.suppress(RuntimeError):
            await self._inner.aclose()


class GitHubFactory:
    """One per process: hands out clients, ``RepoAPI`` objects and archbot's identity."""

    def __init__(
        self,
        *,
        api_url: str,
        timeout: float = 10.0,
        app_id: int | None = None,
        private_key: str | None = None,
        token: str | None = None,
        async_transport: httpx.AsyncBaseTransport | None = None,
        sleep: Sleep = asyncio.sleep,
        clock: Clock = time.monotonic,
        wall_clock: Clock = time.time,
        retry_policy: RetryPolicy | None = None,
        write_interval: float = WRITE_INTERVAL,
        metrics: Metrics | None = None,
    ) -> None:
        if (app_id is None) != (private_key is None):
            raise ValueError("App mode needs both app_id and private_key")
        self.api_url = api_url
        self.metrics = metrics  # the process's metrics, measured by every client built here (None: none)
        self._timeout = httpx.Timeout(timeout)
        self._app_id = app_id
        self._private_key = private_key
        # parsed once here (not at every JWT); a key that does not parse is left to fail at GET /app
        self._parsed_key = _parse_or_none(private_key)
        self._exchange_locks: dict[int, asyncio.Lock] = {}  # one token exchange at a time per installation
        self._token = token
        # Writes are paced where they go on the wire (after a token exchange), when there is a transport
        # to wrap; githubkit's own per-request transports are paced when the write starts instead.
        # With metrics, every request on the wire is measured (route template, status, quota).
        if async_transport is not None and metrics is not None:
            async_transport = MeteredTransport(async_transport, metrics, api_url=api_url)
        self._transport = PacedTransport(async_transport) if async_transport is not None else None
        self._sleep = sleep
        self._clock = clock
        self._write_interval = write_interval
        self.read_retry = ReadRetry(
            retry_policy,
            sleep=sleep,
            wall_clock=wall_clock,
            on_rate_limit_wait=metrics.rate_limit_wait if metrics is not None else None,
        )
        self._app_client: GitHub[Any] | None = None
        self._token_client: GitHub[Any] | None = None
        self._installations: OrderedDict[int, GitHub[Any]] = OrderedDict()
        self._pacers: dict[int, WritePacer] = {}
        self._identity: AppIdentity | None = None

    @property
    def app_mode(self) -> bool:
        """True with App credentials, False with a plain token (Action / CLI)."""
        return self._app_id is not None

    def _build(self, auth: Any) -> GitHub[Any]:
        return GitHub(
            auth,
            base_url=self.api_url,
            timeout=self._timeout,
            async_transport=self._transport,
            cache_strategy=MemCacheStrategy(),
            http_cache=False,
            auto_retry=False,
            user_agent=f"archbot/{__version__}",
        )

    def _app_auth(self) -> KeyedAppStrategy:
        if self._app_id is None or self._private_key is None:
            raise GitHubError("no GitHub App credentials configured")
        return KeyedAppStrategy(self._app_id, self._private_key, parsed_key=self._parsed_key)

    def _exchange_lock(self, installation_id: int) -> asyncio.Lock:
        lock = self._exchange_locks.get(installation_id)
        if lock is None:
            lock = self._exchange_locks[installation_id] = asyncio.Lock()
        return lock

    def app_client(self) -> GitHub[Any]:
        """The App itself (JWT): ``GET /app``, installations."""
        if self._app_client is None:
            self._app_client = self._build(self._app_auth())
        return self._app_client

    def installation_client(self, installation_id: int) -> GitHub[Any]:
        """A client acting as one installation; its token is exchanged on first use and cached."""
        client = self._installations.get(installation_id)
        if client is None:
            return self.refresh_installation(installation_id)
        self._installations.move_to_end(installation_id)
        return client

    def refresh_installation(self, installation_id: int) -> GitHub[Any]:
        """A new installation client with a FRESH cache: the next call exchanges a new token."""
        client = self._build(self._app_auth().installation(installation_id, self._exchange_lock(installation_id)))
        self._installations[installation_id] = client
        self._installations.move_to_end(installation_id)
        while len(self._installations) > MAX_CACHED_INSTALLATIONS:
            self._installations.popitem(last=False)
        return client

    def token_client(self) -> GitHub[Any]:
        """A client with the plain token (``GITHUB_TOKEN`` in an Action)."""
        if self._token is None:
            raise GitHubError("no GitHub token configured")
        if self._token_client is None:
            self._token_client = self._build(TokenAuthStrategy(self._token))
        return self._token_client

    def pacer(self, installation_id: int | None) -> WritePacer:
        """The write pacer shared by every ``RepoAPI`` of one installation (or of the token)."""
        key = _TOKEN_PACER_KEY if installation_id is None else installation_id
        pacer = self._pacers.get(key)
        if pacer is None:
            pacer = WritePacer(self._write_interval, clock=self._clock, sleep=self._sleep)
            self._pacers[key] = pacer
        return pacer

    def repo_api(
        self, owner: str, repo: str, *, installation_id: int | None = None, graphql_enabled: bool = True
    ) -> RepoAPI:
        """A ``RepoAPI`` wired with retry, pacing and (App mode) token refresh.

        Without App credentials, or with ``installation_id=None``, it uses the plain token.
        """
        if installation_id is None or not self.app_mode:
            return RepoAPI(
                self.token_client(),
                owner,
                repo,
                pacer=self.pacer(None),
                graphql_enabled=graphql_enabled,
                retry=self.read_retry,
                paced_at_send=self._transport is not None,
            )
        inst = installation_id
        client = self.installation_client(inst)
        return RepoAPI(
            client,
            owner,
            repo,
            pacer=self.pacer(inst),
            graphql_enabled=graphql_enabled,
            retry=self.read_retry,
            refresh=self._refresher(inst, client),
            paced_at_send=self._transport is not None,
        )

    def _refresher(self, installation_id: int, client: GitHub[Any]) -> Callable[[], GitHub[Any]]:
        """The 401 refresh of one ``RepoAPI`` that starts with ``client``: when another job already
        replaced the client this one holds (the same revoked token), it takes that one instead of
        exchanging yet another token."""
        held = [client]

        def refresh() -> GitHub[Any]:
            current = self._installations.get(installation_id)
            if current is None or current is held[0]:
                current = self.refresh_installation(installation_id)
            held[0] = current
            return current

        return refresh

    async def identify(self) -> AppIdentity:
        """Who archbot is: ``GET /app`` once in App mode; ``github-actions[bot]`` with a token."""
        if self._identity is not None:
            return self._identity
        if not self.app_mode:
            self._identity = AppIdentity(app_id=None, slug=None, bot_login=ACTIONS_BOT_LOGIN)
            return self._identity
        gh = self.app_client()
        response = await self.read_retry.run(
            lambda: gh.arequest("GET", "/app", headers=VERSION_HEADERS), what="identify"
        )
        payload = response.json()
        slug = str(payload["slug"])
        self._identity = AppIdentity(app_id=int(payload["id"]), slug=slug, bot_login=f"{slug}[bot]")
        LOG.info("github app identified as %s", self._identity.bot_login)
        return self._identity


def _parse_or_none(private_key: str | None) -> object | None:
    if private_key is None:
        return None
    try:
        return load_private_key(private_key)
    except (ValueError, TypeError):
        return None
