"""The database: SQLite (one writer connection, durable pragmas) or, with `storage.url`,
PostgreSQL (storage/pg.py); numbered migrations, one file per engine for each."""

from __future__ import annotations

import asyncio
import contextlib
import re
import sqlite3
from collections.abc import AsyncIterator, Iterable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from importlib import resources
from pathlib import Path

import aiosqlite

from storage.clock import Clock
from storage.engine import Connection, Engine, Row
from storage.pipeline import Pipeline

BUSY_TIMEOUT_MS = 5000


def _split_statements(script: str) -> list[str]:
    """Split a SQL script into complete statements (triggers contain semicolons)."""
    statements: list[str] = []
    pending = ""
    for line in script.splitlines(keepends=True):
        if not pending and (not line.strip() or line.lstrip().startswith("--")):
            continue
        pending += line
        if sqlite3.complete_statement(pending):
            statements.append(pending.strip())
            pending = ""
    if pending.strip():
        raise ValueError(f"incomplete SQL statement in migration: {pending[:60]!r}")
    return statements


# A write transaction on PostgreSQL, as SQLite's BEGIN IMMEDIATE: one writer at a time on the
# whole database, across every connection and instance (the repositories were written for that:
# check, then write). In one trip: the simple query protocol takes both statements.
PG_BEGIN_WRITE = f"BEGIN; SELECT pg_advisory_xact_lock({0x0F3A_5A18})"
# A write transaction that takes no such lock: for work that locks the rows it changes and so is
# safe beside other instances by itself — outbox claims (FOR UPDATE SKIP LOCKED) and leases (one
# guarded upsert). It does not wait for, nor hold up, the handlers' check-then-write transactions.
PG_BEGIN_ROWS = "BEGIN"
PG_BEGIN_READ = "BEGIN ISOLATION LEVEL REPEATABLE READ"
_PG_URL = re.compile(r"^(postgres(?:ql)?):/+")


def postgresql_url(target: str) -> str | None:
    """The PostgreSQL URL a target names, or None (a SQLite path). A URL that went through
    pathlib (`Path(db.path)`: one slash) is still one, never a folder named `postgresql:`."""
    found = _PG_URL.match(target)
    return None if found is None else f"{found.group(1)}://{target[found.end():]}"


def optional_equals(**columns: object) -> tuple[str, list[object]]:
    """The clause ' AND col = ?' for each column given a value; names come from our code only."""
    present = [(name, value) for name, value in columns.items() if value is not None]
    return "".join(f" AND {name} = ?" for name, _ in present), [value for _, value in present]


async def fetch_one(conn: Connection, sql: str, params: Iterable[object] = ()) -> Row | None:
    """The first row of a query in one trip to the database thread (execute, fetch and close
    with a cursor are three; each trip is a thread hand-off costing more than the query)."""
    rows = await conn.execute_fetchall(sql, tuple(params))
    return next(iter(rows), None)


async def fetch_all(conn: Connection, sql: str, params: Iterable[object] = ()) -> list[Row]:
    """All rows of a query in one trip to the database thread."""
    return list(await conn.execute_fetchall(sql, tuple(params)))


async def insert_id(conn: Connection, sql: str, params: Iterable[object] = ()) -> int | None:
    """The id an `INSERT … RETURNING id` made, or None when it inserted nothing (ON CONFLICT DO
    NOTHING). One trip, like execute; portable where lastrowid is SQLite's alone."""
    rows = await conn.execute_fetchall(sql, tuple(params))
    first = next(iter(rows), None)
    return None if first is None else int(first[0])


def bundled_migrations(engine: Engine = Engine.SQLITE) -> list[tuple[int, str]]:
    """(number, sql) of every migrations/NNNN_name.sql (PostgreSQL: migrations/pg/), in order."""
    folder = resources.files("storage") / "migrations"
    if engine is Engine.POSTGRESQL:
        folder = folder / "pg"
    found = []
    for entry in folder.iterdir():
        name = entry.name
        if name.endswith(".sql") and name[:4].isdigit():
            found.append((int(name[:4]), entry.read_text(encoding="utf-8")))
    return sorted(found)


class Database:
    """Serialises all access through one connection; writes run in BEGIN IMMEDIATE (SQLite)."""

    def __init__(self, conn: Connection, clock: Clock, path: str, engine: Engine = Engine.SQLITE) -> None:
        self._conn = conn
        self._lock = asyncio.Lock()
        self.clock = clock
        self.path = path  # for people: a file path, or the PostgreSQL URL without a password
        self.engine = engine
        self._url = ""  # PostgreSQL: the URL it was opened with (no password: that is in the environment)
        # PostgreSQL has no IMMEDIATE: a transaction-level advisory lock stands in for it.
        self._begin = "BEGIN IMMEDIATE" if engine is Engine.SQLITE else PG_BEGIN_WRITE
        self._begin_rows = "BEGIN IMMEDIATE" if engine is Engine.SQLITE else PG_BEGIN_ROWS
        # A read sees one snapshot throughout, as a SQLite read transaction does.
        self._begin_read = "BEGIN" if engine is Engine.SQLITE else PG_BEGIN_READ

    @classmethod
    async def open(cls, path: str | Path, clock: Clock) -> Database:
        """A file path (or ":memory:") opens SQLite; a postgresql:// URL opens PostgreSQL."""
        target = str(path)
        url = postgresql_url(target)
        if url is not None:
            return await cls._open_postgresql(url, clock)
        if target != ":memory:":
            Path(target).parent.mkdir(parents=True, exist_ok=True)
        conn = await aiosqlite.connect(target, isolation_level=None)
        conn.row_factory = aiosqlite.Row
        await conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        await conn.execute("PRAGMA journal_mode = WAL")
        # We tell platforms "received" right after a commit, so the commit must be on disk.
        await conn.execute("PRAGMA synchronous = FULL")
        await conn.execute("PRAGMA foreign_keys = ON")
        db = cls(conn, clock, target)
        try:
            await db.migrate()
        except BaseException:
            await conn.close()
            raise
        return db

    @classmethod
    async def _open_postgresql(cls, url: str, clock: Clock) -> Database:
        from storage import pg  # only here: the SQLite path never loads asyncpg or sqlglot

        conn = await pg.connect(url)
        db = cls(conn, clock, pg.shown_url(url), Engine.POSTGRESQL)
        db._url = url
        try:
            await db.migrate()
        except BaseException:
            await conn.close()
            raise
        return db

    async def companion(self) -> Database:
        """PostgreSQL: one more connection to the same database, for leases and claim renewals,
        so a heartbeat never queues behind the work on the main connection (a renewal that came
        late would hand the lease to another instance while this one still works). SQLite (one
        process, no leases to keep): the database itself."""
        if self.engine is Engine.SQLITE:
            return self
        from storage import pg

        return Database(await pg.connect(self._url), self.clock, self.path, Engine.POSTGRESQL)

    async def migrate(self) -> int:
        """Apply pending migrations, each in its own transaction; returns the schema version."""
        if self.engine is Engine.POSTGRESQL:
            from storage import pg

            async with self._lock:
                return await pg.migrate(self._conn, bundled_migrations(Engine.POSTGRESQL))
        async with self._lock:
            version = await self._user_version()
            for number, sql in bundled_migrations():
                if number <= version:
                    continue
                await self._conn.execute("BEGIN IMMEDIATE")
                try:
                    for statement in _split_statements(sql):
                        await self._conn.execute(statement)
                    await self._conn.execute(f"PRAGMA user_version = {int(number)}")
                    await self._conn.execute("COMMIT")
                except BaseException:
                    await self._conn.execute("ROLLBACK")
                    raise
                version = number
            return version

    async def _user_version(self) -> int:
        if self.engine is Engine.POSTGRESQL:
            from storage import pg

            return await pg.schema_version(self._conn)
        async with self._conn.execute("PRAGMA user_version") as cursor:
            row = await cursor.fetchone()
        return int(row[0]) if row else 0

    async def schema_version(self) -> int:
        async with self._lock:
            return await self._user_version()

    @asynccontextmanager
    async def transaction(self, *, exclusive: bool = True) -> AsyncIterator[Connection]:
        """A write transaction: committed on success, rolled back on any exception.

        `exclusive=False` (PostgreSQL): without the database-wide write lock, for statements that
        lock the rows they touch (outbox claims, leases); on SQLite every write is exclusive."""
        async with self._lock:
            await self._open(self._begin if exclusive else self._begin_rows)
            try:
                yield self._conn
            except BaseException:
                await self._conn.execute("ROLLBACK")
                raise
            await self._conn.execute("COMMIT")

    @asynccontextmanager
    async def held_transaction(self) -> AsyncIterator[Pipeline]:
        """SQLite: a write transaction on a Pipeline (storage/pipeline.py), its BEGIN held to go
        out with the first statement and its COMMIT with the last held writes: two trips to
        the database thread fewer. Committed on success, rolled back on any exception — unless
        the BEGIN never went out, when there is nothing to roll back."""
        if self.engine is not Engine.SQLITE:
            raise TypeError("held_transaction is SQLite's: PostgreSQL sends each statement itself")
        async with self._lock:
            pipeline = Pipeline(self._conn)  # type: ignore[arg-type]  # on SQLite: aiosqlite's own
            pipeline.hold(self._begin)
            try:
                yield pipeline
                pipeline.owner = None
                await pipeline.execute("COMMIT")
            except BaseException:
                # A cancelled trip still runs in the database thread, before this ROLLBACK.
                if not any(held.sql == self._begin for held in pipeline.drop(None)):
                    with contextlib.suppress(Exception):
                        await self._conn.execute("ROLLBACK")
                raise

    def writes(self) -> AbstractAsyncContextManager[Connection]:
        """A write transaction whose held writes (storage.pipeline.write) go out with its next
        statement or its COMMIT: `held_transaction` on SQLite, `transaction` on PostgreSQL."""
        if self.engine is Engine.SQLITE:
            return self.held_transaction()
        return self.transaction()

    @asynccontextmanager
    async def read(self) -> AsyncIterator[Connection]:
        """A consistent read; also serialised so it never sees another task's open write."""
        async with self._lock:
            await self._open(self._begin_read)
            try:
                yield self._conn
            finally:
                await self._conn.execute("COMMIT")

    async def _open(self, begin: str) -> None:
        """BEGIN. A caller cancelled while it waits has its BEGIN run all the same (the database
        thread takes statements in order), which would leave the one connection inside a
        transaction every later BEGIN fails on: so it is rolled back before the lock is let go."""
        try:
            await self._conn.execute(begin)
        except BaseException:
            # Whatever the clean-up meets (no transaction if the BEGIN itself failed), the caller
            # gets the first error: that is what happened.
            with contextlib.suppress(Exception):
                await self._conn.execute("ROLLBACK")
            raise

    async def close(self) -> None:
        await self._conn.close()
