"""PostgreSQL behind the same connection protocol as SQLite (storage/engine.py).

Repository SQL is written once, in SQLite's dialect with `?` parameters. Here each statement is
translated once (storage/pg_sql.py, cached by its text), prepared once per connection (asyncpg),
and its parameters are coerced to the types the server inferred: SQLite's column affinity
stores 5 in a TEXT column as '5', PostgreSQL refuses an int for a text parameter, and the
repositories were written against the former.
"""

from __future__ import annotations

import json
import os
import re
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

import asyncpg

from storage.pg_sql import translate

PASSWORD_VARIABLE = "FENGSHAN_DB_PASSWORD"
_STATEMENT_CACHE = 512
_INTEGERS = frozenset({"int2", "int4", "int8"})
_TEXTS = frozenset({"text", "varchar", "bpchar", "name", "json", "jsonb"})
_FLOATS = frozenset({"float4", "float8"})


def shown_url(url: str) -> str:
    """The URL for people and logs: never a password, even if one was typed into it."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    user = f"{parts.username}@" if parts.username else ""
    return f"{parts.scheme}://{user}{host}{port}{parts.path}"


# --- parameters and results -----------------------------------------------------------------


def _coerce(value: Any, type_name: str) -> Any:
    """A parameter as the server's inferred type wants it, the way SQLite's affinity would."""
    if value is None:
        return None
    if type_name in _TEXTS and not isinstance(value, str):
        return str(int(value)) if isinstance(value, bool) else str(value)
    if type_name in _INTEGERS and not isinstance(value, int):
        return int(value)
    if type_name in _INTEGERS and isinstance(value, bool):
        return int(value)
    if type_name in _FLOATS and not isinstance(value, float):
        return float(value)
    if type_name == "bool" and not isinstance(value, bool):
        return bool(int(value))
    if type_name == "numeric" and not isinstance(value, Decimal):
        return Decimal(str(value))
    return value


# Transaction control goes to the server as it is (nothing to translate or prepare).
_CONTROL = re.compile(r"^(BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE)\b")
_STATUS_COUNT = re.compile(r"^(INSERT \d+|UPDATE|DELETE|MERGE|COPY) (\d+)$")


def _rowcount(status: str | None) -> int:
    """SQLite's rowcount: rows changed by INSERT/UPDATE/DELETE, -1 for anything else."""
    found = _STATUS_COUNT.match(status or "")
    return int(found.group(2)) if found else -1


class PgCursor:
    """The outcome of one statement, shaped like aiosqlite's cursor."""

    def __init__(self, rows: list[asyncpg.Record], rowcount: int, names: Sequence[str]) -> None:
        self._rows = rows
        self._next = 0
        self.rowcount = rowcount
        # Inserts that need an id say RETURNING id; lastrowid is that id when they do.
        self.lastrowid: int | None = rows[0][0] if rows and names and names[0] == "id" else None
        self.description = tuple((name, None, None, None, None, None, None) for name in names) or None

    async def fetchone(self) -> asyncpg.Record | None:
        if self._next >= len(self._rows):
            return None
        self._next += 1
        return self._rows[self._next - 1]

    async def fetchall(self) -> list[asyncpg.Record]:
        rest = self._rows[self._next:]
        self._next = len(self._rows)
        return rest

    async def close(self) -> None:
        return None


class _Executed:
    """Both `await conn.execute(...)` and `async with conn.execute(...) as cursor`."""

    def __init__(self, conn: PgConnection, sql: str, parameters: Iterable[Any] | None) -> None:
        self._run = conn._run(sql, tuple(parameters or ()))

    def __await__(self):  # type: ignore[no-untyped-def]
        return self._run.__await__()

    async def __aenter__(self) -> PgCursor:
        return await self._run

    async def __aexit__(self, *exc: object) -> None:
        return None


class PgConnection:
    """One asyncpg connection speaking the repositories' protocol (storage/engine.py)."""

    def __init__(self, raw: asyncpg.Connection) -> None:
        self.raw = raw
        self._statements: OrderedDict[str, Any] = OrderedDict()

    async def _prepared(self, sql: str) -> Any:
        statement = self._statements.get(sql)
        if statement is None:
            statement = await self.raw.prepare(translate(sql))
            self._statements[sql] = statement
            if len(self._statements) > _STATEMENT_CACHE:
                self._statements.popitem(last=False)
        else:
            self._statements.move_to_end(sql)
        return statement

    def forget_statements(self) -> None:
        """After a schema change, prepare afresh."""
        self._statements.clear()

    async def _run(self, sql: str, parameters: tuple[Any, ...]) -> PgCursor:
        if _CONTROL.match(sql):
            await self.raw.execute(sql)
            return PgCursor([], -1, [])
        statement = await self._prepared(sql)
        types = statement.get_parameters()
        arguments = [_coerce(value, kind.name) for value, kind in zip(parameters, types, strict=True)]
        rows = await statement.fetch(*arguments)
        names = [attribute.name for attribute in statement.get_attributes()]
        return PgCursor(rows, _rowcount(statement.get_statusmsg()), names)

    def execute(self, sql: str, parameters: Iterable[Any] | None = None) -> _Executed:
        return _Executed(self, sql, parameters)

    async def execute_fetchall(self, sql: str, parameters: Iterable[Any] | None = None) -> list[asyncpg.Record]:
        cursor = await self._run(sql, tuple(parameters or ()))
        return await cursor.fetchall()

    async def executemany(self, sql: str, parameters: Iterable[Iterable[Any]]) -> PgCursor:
        statement = await self._prepared(sql)
        types = [kind.name for kind in statement.get_parameters()]
        batch = [[_coerce(v, t) for v, t in zip(row, types, strict=True)] for row in parameters]
        await statement.executemany(batch)
        return PgCursor([], len(batch), [])

    async def close(self) -> None:
        await self.raw.close()


def _json_result(text: str) -> Any:
    """A json column as SQLite's json_extract gives it: scalars typed, objects and arrays as text."""
    value = json.loads(text)
    return text if isinstance(value, dict | list) else value


async def connect(url: str) -> PgConnection:
    """Connect; the password comes from FENGSHAN_DB_PASSWORD (or libpq's PGPASSWORD), never the URL."""
    password = os.environ.get(PASSWORD_VARIABLE) or None
    raw = await asyncpg.connect(url, password=password)
    await raw.set_type_codec("json", schema="pg_catalog", encoder=str, decoder=_json_result, format="text")
    return PgConnection(raw)


# --- migrations ------------------------------------------------------------------------------

# Any fixed number: instances starting together take turns, so each migration runs once.
_MIGRATION_LOCK = 0x0F3A_5A17


async def schema_version(conn: PgConnection) -> int:
    """The last migration applied (SQLite keeps it in PRAGMA user_version; here, a table)."""
    exists = await conn.raw.fetchval("SELECT to_regclass('schema_version') IS NOT NULL")
    if not exists:
        return 0
    return int(await conn.raw.fetchval("SELECT COALESCE(MAX(version), 0) FROM schema_version"))


async def migrate(conn: PgConnection, migrations: list[tuple[int, str]]) -> int:
    """Apply each pending migration (its PostgreSQL form) in its own transaction."""
    raw = conn.raw
    version = 0
    for number, sql in migrations:
        async with raw.transaction():
            await raw.execute("SELECT pg_advisory_xact_lock($1)", _MIGRATION_LOCK)
            await raw.execute("CREATE TABLE IF NOT EXISTS schema_version (version BIGINT PRIMARY KEY)")
            version = await schema_version(conn)
            if number <= version:
                continue
            await raw.execute(sql)
            await raw.execute("INSERT INTO schema_version (version) VALUES ($1)", number)
            version = number
    conn.forget_statements()
    return version
