"""GitHub App authentication for githubkit: the key parsed once, one token exchange per installation.

githubkit's ``AppAuth`` signs each new JWT from the PEM text, so the RSA key is parsed (and checked: a
few milliseconds of CPU on the event loop) every time a client signs one; here the key is parsed once,
at start-up, and the parsed key signs. The JWT itself stays githubkit's: ``iat`` 60 s in the past (clock
drift), ``exp`` 10 minutes after that, cached 8 minutes. Installation tokens are cached until one minute
before their ``expires_at`` (githubkit), so a token is renewed before it runs out; a 401 gets a fresh
client (``GitHubFactory.refresh_installation``).

Concurrent jobs of one installation share its client, and on an empty cache every one of them would
exchange its own token; a per-installation lock makes the first exchange and the others wait for it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import httpx
from githubkit import AppAuthStrategy, AppInstallationAuthStrategy
from githubkit.auth._url import require_app_auth, require_basic_auth, require_bypass
from githubkit.auth.app import AppAuth

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
    from githubkit import GitHubCore

__all__ = ["KeyedAppStrategy", "KeyedInstallationStrategy", "load_private_key"]

TOKEN_EXPIRY_MARGIN = timedelta(minutes=1)  # as githubkit: a cached token is dropped a minute before it expires


def load_private_key(pem: str) -> RSAPrivateKey:
    """Parse the App's PEM once (``ValueError`` when it is not an RSA private key)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

    key = serialization.load_pem_private_key(pem.encode(), password=None)
    if not isinstance(key, RSAPrivateKey):
        raise ValueError("the GitHub App private key is not an RSA key")
    return key


@dataclass
class _KeyedAuth(AppAuth):
    """githubkit's hook, signing with the parsed key and exchanging one token at a time."""

    parsed_key: Any = None
    exchange_lock: asyncio.Lock | None = None

    def _create_jwt(self) -> str:
        import jwt

        issued = datetime.now(UTC) - timedelta(minutes=1)
        claims = {"iss": self.issuer, "iat": issued, "exp": issued + timedelta(minutes=10)}
        key = self.parsed_key if self.parsed_key is not None else self.private_key
        return jwt.encode(claims, key, algorithm="RS256")

    def _installation_request(self, request: httpx.Request) -> bool:
        if require_bypass(request.url) or require_basic_auth(request.url):
            return False
        return not require_app_auth(self._get_api_route(request.url))

    async def async_auth_flow(self, request: httpx.Request) -> AsyncGenerator[httpx.Request, httpx.Response]:
        if self.exchange_lock is not None and self._installation_request(request):
            cache = await self.github.config.cache_strategy.get_async_cache_storage()
            key = self._get_installation_cache_key()
            if not await cache.aget(key):
                async with self.exchange_lock:
                    if not await cache.aget(key):  # another job may have exchanged it meanwhile
                        token_request = self._build_installation_auth_request()
                        token_request.headers["Authorization"] = f"Bearer {await self.aget_jwt()}"
                        response = yield token_request
                        await response.aread()
                        parsed = self._parse_installation_auth_response(response).parsed_data
                        expires = datetime.strptime(parsed.expires_at, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
                        await cache.aset(key, parsed.token, expires - datetime.now(UTC) - TOKEN_EXPIRY_MARGIN)
        flow = super().async_auth_flow(request)  # finds the token in the cache (or exchanges, without a lock)
        outgoing = await flow.__anext__()
        while True:
            response = yield outgoing
            try:
                outgoing = await flow.asend(response)
            except StopAsyncIteration:
                return


@dataclass
class KeyedAppStrategy(AppAuthStrategy):
    """``AppAuthStrategy`` with the key parsed once."""

    parsed_key: Any = field(default=None, repr=False)

    def get_auth_flow(self, github: GitHubCore[Any]) -> httpx.Auth:
        return _KeyedAuth(
            github, self.app_id, self.private_key, self.client_id, self.client_secret, parsed_key=self.parsed_key
        )

    def installation(self, installation_id: int, lock: asyncio.Lock) -> KeyedInstallationStrategy:
        """The same App acting as ``installation_id``; ``lock`` is shared by that installation's clients."""
        return KeyedInstallationStrategy(
            self.app_id, self.private_key, installation_id, parsed_key=self.parsed_key, exchange_lock=lock
        )


@dataclass
class KeyedInstallationStrategy(AppInstallationAuthStrategy):
    """``AppInstallationAuthStrategy`` with the key parsed once and one token exchange at a time."""

    parsed_key: Any = field(default=None, repr=False)
    exchange_lock: asyncio.Lock | None = field(default=None, repr=False)

    def get_auth_flow(self, github: GitHubCore[Any]) -> httpx.Auth:
        return _KeyedAuth(
            github,
            self.app_id,
            self.private_key,
            self.client_id,
            self.client_secret,
            self.installation_id,
            self.repositories,
            self.repository_ids,
            self.permissions,
            parsed_key=self.parsed_key,
            exchange_lock=self.exchange_lock,
        )
