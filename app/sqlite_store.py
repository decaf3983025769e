"""One SQLite connection driven from one dedicated thread: the plumbing the job queue and the usage ledger share.

A :class:`SQLiteThread` owns a single-thread executor and the one connection that lives on it. Every
statement runs there (``await store.call(fn, ...)``), so the event loop never blocks on SQLite and all
writes through one store are serialised. The connection is opened lazily, on the thread, by the first
call (or by ``open()``): the parent directory is created, the file switched to WAL with
``synchronous=NORMAL`` (a power loss may lose the last transactions, never corrupt the file), and the
schema statements run in one write transaction, optionally guarded and stamped by ``PRAGMA user_version``.
``close()`` is idempotent; a call after it raises ``RuntimeError("the <what> is closed")``.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import sqlite3
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

MEMORY = ":memory:"

_P = ParamSpec("_P")
_T = TypeVar("_T")

RowFactory = Callable[[sqlite3.Cursor, tuple[Any, ...]], Any]


@contextlib.contextmanager
def write_transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """A short write transaction that takes the write lock up front (no upgrade deadlocks)."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


class SQLiteThread:
    """A SQLite file (or ``:memory:``) behind its own thread and connection. Construction does no I/O.

    ``what`` names the store in the "closed" error; ``thread_name`` prefixes its thread's name. ``schema``
    statements run at every open (make them idempotent). With ``user_version``, a file stamped with a
    higher version is refused with ``sqlite3.DatabaseError`` and the file is stamped with this one.
    """

    def __init__(
        self,
        path: str,
        *,
        what: str,
        thread_name: str,
        schema: Sequence[str],
        busy_timeout: float = 5.0,
        user_version: int | None = None,
        row_factory: RowFactory | None = None,
    ) -> None:
        self.path = path
        self._what = what
        self._schema = tuple(schema)
        self._busy_timeout = busy_timeout
        self._user_version = user_version
        self._row_factory = row_factory
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=thread_name)
        self._conn: sqlite3.Connection | None = None  # used only on the executor thread
        self._closed = False

    async def call(self, fn: Callable[_P, _T], /, *args: _P.args, **kwargs: _P.kwargs) -> _T:
        """Run ``fn`` on the store thread without blocking the loop; RuntimeError once closed."""
        if self._closed:
            raise RuntimeError(f"the {self._what} is closed")
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, functools.partial(fn, *args, **kwargs))

    def connection(self) -> sqlite3.Connection:
        """The store's connection, opened on first use. Call only on the store thread (inside ``call``)."""
        if self._conn is None:
            # Switching to WAL and creating the schema can meet another connection doing the same (the other
            # store on this file, another process starting at once); SQLite answers "locked" there without
            # calling its busy handler.
            deadline = time.monotonic() + self._busy_timeout
            while True:
                try:
                    self._conn = self._connect()
                    break
                except sqlite3.OperationalError as exc:
                    if "locked" not in str(exc) or time.monotonic() >= deadline:
                        raise
                    time.sleep(0.01)  # on the store thread, never the event loop
        return self._conn

    def _connect(self) -> sqlite3.Connection:
        if self.path != MEMORY:
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.path, timeout=self._busy_timeout, isolation_level=None)
        try:
            if self._row_factory is not None:
                conn.row_factory = self._row_factory
            mode = str(conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]).lower()
            if mode != "wal" and self.path != MEMORY:
                raise sqlite3.OperationalError(f"could not switch {self.path} to WAL (got {mode})")
            conn.execute("PRAGMA synchronous=NORMAL")
            with write_transaction(conn):
                if self._user_version is not None:
                    version = int(conn.execute("PRAGMA user_version").fetchone()[0])
                    if version > self._user_version:
                        raise sqlite3.DatabaseError(
                            f"{self.path} has schema version {version}; this archbot knows {self._user_version}"
                        )
                for statement in self._schema:
                    conn.execute(statement)
                if self._user_version is not None:
                    conn.execute(f"PRAGMA user_version = {self._user_version:d}")
        except BaseException:
            conn.close()
            raise
        return conn

    async def open(self) -> None:
        """Open the file and create the schema now (fail fast at start-up)."""
        await self.call(self.connection)

    async def close(self) -> None:
        """Close the connection and stop the store thread. Idempotent."""
        if self._closed:
            return
        try:
            await self.call(self._close_sync)
        finally:
            self._closed = True
            self._executor.shutdown(wait=False)

    def _close_sync(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
