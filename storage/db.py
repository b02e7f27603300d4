"""The SQLite database: one writer connection, durable pragmas, numbered migrations."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from importlib import resources
from pathlib import Path

import aiosqlite

from storage.clock import Clock

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


def optional_equals(**columns: object) -> tuple[str, list[object]]:
    """The clause ' AND col = ?' for each column given a value; names come from our code only."""
    present = [(name, value) for name, value in columns.items() if value is not None]
    return "".join(f" AND {name} = ?" for name, _ in present), [value for _, value in present]


async def fetch_one(conn: aiosqlite.Connection, sql: str, params: Iterable[object] = ()) -> aiosqlite.Row | None:
    """The first row of a query in one trip to the database thread (execute, fetch and close
    with a cursor are three; each trip is a thread hand-off costing more than the query)."""
    rows = await conn.execute_fetchall(sql, tuple(params))
    return next(iter(rows), None)


async def fetch_all(conn: aiosqlite.Connection, sql: str, params: Iterable[object] = ()) -> list[aiosqlite.Row]:
    """All rows of a query in one trip to the database thread."""
    return list(await conn.execute_fetchall(sql, tuple(params)))


def bundled_migrations() -> list[tuple[int, str]]:
    """(number, sql) of every migrations/NNNN_name.sql, in order."""
    folder = resources.files("storage") / "migrations"
    found = []
    for entry in folder.iterdir():
        name = entry.name
        if name.endswith(".sql") and name[:4].isdigit():
            found.append((int(name[:4]), entry.read_text(encoding="utf-8")))
    return sorted(found)


class Database:
    """Serialises all access through one connection; writes run in BEGIN IMMEDIATE."""

    def __init__(self, conn: aiosqlite.Connection, clock: Clock, path: str) -> None:
        self._conn = conn
        self._lock = asyncio.Lock()
        self.clock = clock
        self.path = path

    @classmethod
    async def open(cls, path: str | Path, clock: Clock) -> Database:
        target = str(path)
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

    async def migrate(self) -> int:
        """Apply pending migrations, each in its own transaction; returns the schema version."""
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
        async with self._conn.execute("PRAGMA user_version") as cursor:
            row = await cursor.fetchone()
        return int(row[0]) if row else 0

    async def schema_version(self) -> int:
        async with self._lock:
            return await self._user_version()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """A write transaction: committed on success, rolled back on any exception."""
        async with self._lock:
            await self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                await self._conn.execute("ROLLBACK")
                raise
            await self._conn.execute("COMMIT")

    @asynccontextmanager
    async def read(self) -> AsyncIterator[aiosqlite.Connection]:
        """A consistent read; also serialised so it never sees another task's open write."""
        async with self._lock:
            await self._conn.execute("BEGIN")
            try:
                yield self._conn
            finally:
                await self._conn.execute("COMMIT")

    async def close(self) -> None:
        await self._conn.close()
