"""``archbot db migrate`` on PostgreSQL: procrastinate's schema plus archbot's own tables, under an advisory lock.

The migration takes a session-level advisory lock first, so two processes migrating at once (two pods
starting, a Job and a pod) run one after the other; the second finds everything in place and changes
nothing. procrastinate's schema is applied once (when ``procrastinate_jobs`` does not exist yet); archbot's
tables use ``CREATE ... IF NOT EXISTS`` and the applied version is stamped in ``archbot_schema``. A
database stamped with a newer version than this archbot knows is refused.

psycopg and procrastinate are imported only here and in the other PostgreSQL modules (start-up cost).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import psycopg

from app.pg_url import conninfo

if TYPE_CHECKING:
    from psycopg_pool import AsyncConnectionPool

SCHEMA_VERSION = 1
MIGRATE_LOCK = 0x61726368_626F7431 & 0x7FFFFFFFFFFFFFFF  # "archbot1": one bigint advisory lock key
QUEUE_NAME = "archbot"
TASK_NAME = "archbot.run_job"

ARCHBOT_TABLES = (
    """
    CREATE TABLE IF NOT EXISTS archbot_schema (
        id integer PRIMARY KEY CHECK (id = 1),
        version integer NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now()
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS archbot_jobs (
        job_id bigint PRIMARY KEY REFERENCES procrastinate_jobs (id) ON DELETE CASCADE,
        idempotency_key text NOT NULL UNIQUE,
        serial_key text NOT NULL,
        supersedes boolean NOT NULL,
        kind text NOT NULL,
        repo text NOT NULL,
        number integer NOT NULL,
        attempts integer NOT NULL DEFAULT 0,
        run_after double precision NOT NULL,
        lease_owner text,
        lease_token text,
        lease_expires double precision,
        last_error text,
        created_at double precision NOT NULL,
        updated_at double precision NOT NULL
    )
    """,
    "CREATE INDEX IF NOT EXISTS archbot_jobs_lease ON archbot_jobs (lease_expires) WHERE lease_token IS NOT NULL",
    "CREATE INDEX IF NOT EXISTS archbot_jobs_updated ON archbot_jobs (updated_at)",
    """
    CREATE TABLE IF NOT EXISTS archbot_deliveries (
        delivery_id text PRIMARY KEY,
        received_at double precision NOT NULL,
        jobs integer NOT NULL
    )
    """,
    "CREATE INDEX IF NOT EXISTS archbot_deliveries_received ON archbot_deliveries (received_at)",
    """
    CREATE TABLE IF NOT EXISTS archbot_usage_tokens (
        scope text NOT NULL,
        day text NOT NULL,
        tokens bigint NOT NULL,
        updated_at double precision NOT NULL,
        PRIMARY KEY (scope, day)
    )
    """,
    "CREATE INDEX IF NOT EXISTS archbot_usage_tokens_day ON archbot_usage_tokens (day)",
    """
    CREATE TABLE IF NOT EXISTS archbot_usage_events (
        id bigserial PRIMARY KEY,
        key text NOT NULL,
        at double precision NOT NULL
    )
    """,
    "CREATE INDEX IF NOT EXISTS archbot_usage_events_key_at ON archbot_usage_events (key, at)",
    "CREATE INDEX IF NOT EXISTS archbot_usage_events_at ON archbot_usage_events (at)",
)


class SchemaError(Exception):
    """The database's schema is missing (run ``archbot db migrate``) or newer than this archbot."""


@dataclass(frozen=True, slots=True)
class MigrationResult:
    """What one ``migrate`` run did."""

    procrastinate_applied: bool  # False: procrastinate's schema was already there
    version_before: int | None  # None: archbot's tables were not there
    version: int

    @property
    def changed(self) -> bool:
        return self.procrastinate_applied or self.version_before != self.version


async def _version(conn: psycopg.AsyncConnection[tuple[object, ...]]) -> int | None:
    cur = await conn.execute("SELECT to_regclass('archbot_schema') IS NOT NULL")
    row = await cur.fetchone()
    if row is None or not row[0]:
        return None
    cur = await conn.execute("SELECT version FROM archbot_schema WHERE id = 1")
    row = await cur.fetchone()
    return None if row is None else int(str(row[0]))


async def migrate(url: str, *, connect_timeout: float = 10.0) -> MigrationResult:
    """Apply procrastinate's schema and archbot's tables to the database at ``url``; idempotent and safe to
    run from several processes at once (an advisory lock serialises them)."""
    from procrastinate.schema import SchemaManager

    async with await psycopg.AsyncConnection.connect(
        conninfo(url), autocommit=True, connect_timeout=int(connect_timeout)
    ) as conn:
        await conn.execute("SELECT pg_advisory_lock(%s)", (MIGRATE_LOCK,))
        try:
            before = await _version(conn)
            if before is not None and before > SCHEMA_VERSION:
                raise SchemaError(
                    f"the database has archbot schema version {before}; this archbot knows {SCHEMA_VERSION}"
                )
            async with conn.transaction():
                cur = await conn.execute("SELECT to_regclass('procrastinate_jobs') IS NULL")
                row = await cur.fetchone()
                apply_procrastinate = bool(row and row[0])
                if apply_procrastinate:
                    await conn.execute(SchemaManager.get_schema())  # no parameters: '%' is not a placeholder
                for statement in ARCHBOT_TABLES:
                    await conn.execute(statement)  # constants of this module
                await conn.execute(
                    "INSERT INTO archbot_schema (id, version) VALUES (1, %s)"
                    " ON CONFLICT (id) DO UPDATE SET version = excluded.version, applied_at = now()"
                    " WHERE archbot_schema.version <> excluded.version",
                    (SCHEMA_VERSION,),
                )
        finally:
            await conn.execute("SELECT pg_advisory_unlock(%s)", (MIGRATE_LOCK,))
    return MigrationResult(procrastinate_applied=apply_procrastinate, version_before=before, version=SCHEMA_VERSION)


async def check_schema(conn: psycopg.AsyncConnection[tuple[object, ...]]) -> None:
    """Raise ``SchemaError`` unless ``archbot db migrate`` has run with this archbot's version."""
    version = await _version(conn)
    if version is None:
        raise SchemaError("the database has no archbot schema; run `archbot db migrate` first")
    if version != SCHEMA_VERSION:
        raise SchemaError(f"the database has archbot schema version {version}; this archbot needs {SCHEMA_VERSION}")


async def check_database(url: str, *, connect_timeout: float = 5.0) -> None:
    """Connect once and ``check_schema``: an unreachable server or a missing schema fails here, fast and
    with libpq's own reason, before a pool starts retrying in the background."""
    async with await psycopg.AsyncConnection.connect(
        conninfo(url), autocommit=True, connect_timeout=max(int(connect_timeout), 1)
    ) as conn:
        await check_schema(conn)


async def open_checked_pool(url: str, *, min_size: int, max_size: int, name: str) -> AsyncConnectionPool[Any]:
    """``check_database``, then an autocommit pool opened and checked once more on a pooled connection
    (closed again when that fails): what the queue and the usage ledger each open lazily."""
    from psycopg_pool import AsyncConnectionPool

    await check_database(url)  # fail fast, in one line, instead of a pool retrying
    pool: AsyncConnectionPool[Any] = AsyncConnectionPool(
        conninfo(url), min_size=min_size, max_size=max_size, open=False, kwargs={"autocommit": True}, name=name
    )
    await pool.open(wait=True, timeout=10.0)
    try:
        async with pool.connection() as conn:
            await check_schema(conn)
    except BaseException:
        await pool.close()
        raise
    return pool
