"""Who may see the status page's private part: ARCHBOT_STATUS_TOKEN as a bearer header or a session cookie.

The cookie never holds the token: it holds ``HMAC(token, "archbot status session")``, so a leaked cookie
does not reveal the token and changing the token logs every browser out. Every comparison is constant
time (``hmac.compare_digest``). The login and logout forms are protected against cross-site posts three
ways: the cookie is ``SameSite=Strict``, a request whose ``Origin`` (or, without one, ``Referer``) is not
this server is refused, and the form carries a token signed with a per-process key that expires.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

COOKIE_NAME = "archbot_status"
COOKIE_MAX_AGE = 12 * 3600  # seconds
FORM_TOKEN_TTL = 3600.0  # seconds a login form stays valid
_SESSION_CONTEXT = b"archbot status session v1"


def _digest(key: bytes, message: bytes) -> str:
    return hmac.new(key, message, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class StatusAuth:
    """Checks for the private part. ``token`` None or empty: there is no private part (nobody logs in)."""

    token: str | None
    form_key: bytes = field(default_factory=lambda: secrets.token_bytes(32), repr=False)
    clock: Callable[[], float] = time.time

    def __repr__(self) -> str:  # never the token
        return f"StatusAuth(enabled={self.enabled})"

    @property
    def enabled(self) -> bool:
        """True when a status token is configured."""
        return bool(self.token)

    def session_value(self) -> str:
        """The cookie's value: derived from the token, never the token itself."""
        if not self.token:
            raise ValueError("no status token configured")
        return _digest(self.token.encode(), _SESSION_CONTEXT)

    def token_ok(self, offered: str | None) -> bool:
        """True when ``offered`` is the status token (constant time; False when none is configured)."""
        if not self.token or not offered:
            return False
        return hmac.compare_digest(offered.encode(), self.token.encode())

    def bearer_ok(self, authorization: str | None) -> bool:
        """An ``Authorization: Bearer <token>`` header carrying the status token."""
        if not authorization:
            return False
        scheme, _, value = authorization.partition(" ")
        return scheme.lower() == "bearer" and self.token_ok(value.strip())

    def cookie_ok(self, cookie: str | None) -> bool:
        """A session cookie set by a login with the current token."""
        if not self.token or not cookie:
            return False
        return hmac.compare_digest(cookie.encode(), self.session_value().encode())

    def allowed(self, headers: Mapping[str, str], cookies: Mapping[str, str]) -> bool:
        """The request may see the private part (bearer header or session cookie)."""
        return self.bearer_ok(headers.get("authorization")) or self.cookie_ok(cookies.get(COOKIE_NAME))

    # -- the forms' CSRF token -------------------------------------------------------------------------

    def form_token(self) -> str:
        """A token for a login/logout form: issue time, nonce and their HMAC under the process key."""
        issued = f"{int(self.clock())}.{secrets.token_hex(8)}"
        return f"{issued}.{_digest(self.form_key, issued.encode())}"

    def form_token_ok(self, offered: str | None) -> bool:
        """``offered`` was issued by this process within ``FORM_TOKEN_TTL`` seconds."""
        if not offered or offered.count(".") != 2:
            return False
        issued, _, mac = offered.rpartition(".")
        if not hmac.compare_digest(mac.encode(), _digest(self.form_key, issued.encode()).encode()):
            return False
        try:
            at = int(issued.partition(".")[0])
        except ValueError:
            return False
        return 0 <= self.clock() - at <= FORM_TOKEN_TTL


def same_origin(headers: Mapping[str, str], host: str) -> bool:
    """The form was posted from this server: its ``Origin`` (else ``Referer``) names ``host``.

    A browser sends ``Origin`` with every cross-site POST; a request with neither header is allowed (the
    form token and the SameSite cookie still apply)."""
    source = headers.get("origin") or headers.get("referer")
    if not source:
        return True
    if source == "null":
        return False
    return urlsplit(source).netloc.lower() == host.lower()
