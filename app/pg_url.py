"""Which ``ARCHBOT_DATABASE_URL`` selects PostgreSQL, and its libpq form (no psycopg import: start-up cost)."""

from __future__ import annotations

POSTGRES_SCHEMES = ("postgresql://", "postgres://", "postgresql+psycopg://")


def is_postgres_url(url: str) -> bool:
    """True for the URLs that select the PostgreSQL backend."""
    return url.startswith(POSTGRES_SCHEMES)


def conninfo(url: str) -> str:
    """The libpq connection string for ``url`` (an SQLAlchemy-style ``+psycopg`` suffix is accepted)."""
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def redacted(url: str) -> str:
    """``url`` without its password, for messages and logs."""
    scheme, sep, rest = url.partition("://")
    if not sep or "@" not in rest:
        return url
    userinfo, _, host = rest.rpartition("@")
    user = userinfo.split(":", 1)[0]
    return f"{scheme}://{user}:***@{host}" if ":" in userinfo else f"{scheme}://{user}@{host}"
