"""A fresh PostgreSQL database per test, on the server the machine runs (``ARCHBOT_TEST_DATABASE_URL``,
default ``postgresql://postgres@127.0.0.1:5432/test``).

Without a reachable server the tests that need it skip with a one-line reason, unless
``ARCHBOT_REQUIRE_POSTGRES=1`` (``.ci/run`` sets it): then they fail.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/test"


def server_url() -> str:
    return os.environ.get("ARCHBOT_TEST_DATABASE_URL") or DEFAULT_URL


def _unreachable(reason: str) -> None:
    message = f"PostgreSQL not reachable at {_where()} ({reason})"
    if os.environ.get("ARCHBOT_REQUIRE_POSTGRES") == "1":
        pytest.fail(message + " and ARCHBOT_REQUIRE_POSTGRES=1", pytrace=False)
    pytest.skip(message)


def _where() -> str:
    params = conninfo_to_dict(server_url())
    return f"{params.get('host', 'localhost')}:{params.get('port', 5432)}"


def database_url(name: str) -> str:
    """The server URL pointed at database ``name``."""
    return urlsplit(server_url())._replace(path=f"/{name}").geturl()


@contextmanager
def fresh_database() -> Iterator[str]:
    """Create an empty database, yield its URL, drop it afterwards."""
    name = f"archbot_t_{uuid.uuid4().hex[:16]}"
    try:
        admin = psycopg.connect(server_url(), autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        _unreachable(" ".join(str(exc).split())[:160])
        raise AssertionError("unreachable") from exc
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield database_url(name)
    finally:
        with psycopg.connect(server_url(), autocommit=True, connect_timeout=3) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
