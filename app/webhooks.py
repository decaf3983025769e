"""Webhook intake checks: capped body reading and X-Hub-Signature-256 verification."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import AsyncIterator, Sequence

SIGNATURE_PREFIX = "sha256="


class BodyTooLarge(Exception):
    """The request body is larger than the configured cap."""


async def read_capped(stream: AsyncIterator[bytes], content_length: str | None, limit: int) -> bytes:
    """Read a request body, refusing more than ``limit`` bytes without reading it whole.

    A declared ``Content-Length`` above the limit is refused before reading anything; a body that
    lies about its length (or is chunked) is refused as soon as the running total passes the limit.
    """
    if content_length is not None:
        try:
            declared = int(content_length)
        except ValueError:
            declared = -1
        if declared > limit:
            raise BodyTooLarge
    parts: list[bytes] = []
    total = 0
    async for part in stream:
        total += len(part)
        if total > limit:
            raise BodyTooLarge
        parts.append(part)
    return b"".join(parts)


def signature_valid(body: bytes, header: str | None, secrets: Sequence[str]) -> bool:
    """HMAC-SHA256 of the raw body against each secret (current, then previous), constant time.

    ``sha1=`` signatures, a missing header and non-ASCII headers are refused: GitHub sends
    ``X-Hub-Signature-256`` on every delivery, so accepting SHA-1 would only help a forger.
    """
    if not header or not header.isascii() or not header.startswith(SIGNATURE_PREFIX):
        return False
    given = header[len(SIGNATURE_PREFIX) :].strip().lower().encode("ascii")
    ok = False
    for secret in secrets:
        expected = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest().encode("ascii")
        # Compare against every secret so timing does not reveal which one matched.
        ok |= hmac.compare_digest(expected, given)
    return ok


def sign(body: bytes, secret: str) -> str:
    """The ``X-Hub-Signature-256`` value GitHub would send for ``body`` (used by tests and tools)."""
    return SIGNATURE_PREFIX + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
