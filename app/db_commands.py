"""``archbot db migrate``: create (or bring up to date) the store that ``ARCHBOT_DATABASE_URL`` names.

On PostgreSQL it applies procrastinate's schema and archbot's tables under an advisory lock (safe twice,
safe from two processes at once: ``app.pg_schema``); on SQLite it opens the file, which creates the
tables. One line on stdout says what was done; a store that cannot be reached is one line on stderr, exit 1.
"""

from __future__ import annotations

import sys

from app.pg_url import is_postgres_url, redacted
from app.settings import Settings, SettingsError

UNREACHABLE = 1


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:300] or type(exc).__name__


async def migrate_database(settings: Settings) -> int:
    """Migrate the store of ``ARCHBOT_DATABASE_URL``; the process exit code."""
    url = settings.archbot_database_url
    if is_postgres_url(url):
        import psycopg

        from app.pg_schema import SchemaError, migrate

        try:
            result = await migrate(url)
        except (psycopg.Error, OSError, SchemaError) as exc:
            sys.stderr.write(f"archbot: cannot migrate {redacted(url)}: {_one_line(exc)}\n")
            return UNREACHABLE
        done = "applied" if result.changed else "already up to date"
        sys.stdout.write(f"archbot db migrate: PostgreSQL schema version {result.version} {done}\n")
        return 0
    import sqlite3

    from app.queue.sqlite import SQLiteJobQueue, sqlite_path_from_url
    from app.usage import SQLiteUsageLedger

    try:
        path = sqlite_path_from_url(url)
    except ValueError as exc:
        raise SettingsError(f"ARCHBOT_DATABASE_URL: {exc}") from None
    queue, ledger = SQLiteJobQueue(url), SQLiteUsageLedger(url)
    try:
        await queue.open()
        await ledger.open()
    except (sqlite3.Error, OSError) as exc:
        sys.stderr.write(f"archbot: cannot open the store {path}: {_one_line(exc)}\n")
        return UNREACHABLE
    finally:
        await queue.close()
        await ledger.close()
    sys.stdout.write(f"archbot db migrate: SQLite store {path} ready\n")
    return 0
