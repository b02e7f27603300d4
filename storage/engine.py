"""What repository functions may ask of a connection, whichever engine is behind it.

SQLite hands out its `aiosqlite.Connection` itself (it already has this shape, so the embedded
path costs nothing extra); PostgreSQL hands out `storage.pg.PgConnection`, which takes the same
SQLite-dialect SQL with `?` parameters and translates it. Repository functions are written once,
against this protocol, in the SQL both engines accept (see README, "PostgreSQL").
"""

from __future__ import annotations

import sqlite3
import sys
from collections.abc import Awaitable, Iterable, Iterator, Sequence
from enum import Enum
from typing import Any, Protocol


# What either engine raises, for the few places that catch a database error by kind. asyncpg's
# errors count once it is loaded (by storage.pg, only for a PostgreSQL URL): the SQLite path
# never imports it, nor sqlglot (a third of a second at every start of a command).
def database_errors() -> tuple[type[Exception], ...]:
    driver = sys.modules.get("asyncpg")
    return (sqlite3.Error,) if driver is None else (sqlite3.Error, driver.PostgresError)


def integrity_errors() -> tuple[type[Exception], ...]:
    driver = sys.modules.get("asyncpg")
    if driver is None:
        return (sqlite3.IntegrityError,)
    return (sqlite3.IntegrityError, driver.IntegrityConstraintViolationError)


class Engine(Enum):
    SQLITE = "sqlite"
    POSTGRESQL = "postgresql"


class Row(Protocol):
    """A result row: by position or by column name (sqlite3.Row and asyncpg.Record both are)."""

    def __getitem__(self, key: int | str, /) -> Any: ...
    def keys(self) -> Iterable[str]: ...
    def __len__(self) -> int: ...
    def __iter__(self) -> Iterator[Any]: ...


class Cursor(Protocol):
    """The outcome of one statement: rows changed, the id it inserted, and its rows."""

    @property
    def rowcount(self) -> int: ...
    @property
    def lastrowid(self) -> int | None: ...
    @property
    def description(self) -> Sequence[Sequence[Any]] | None: ...
    async def fetchone(self) -> Row | None: ...
    async def fetchall(self) -> Iterable[Row]: ...


class Executed(Awaitable[Cursor], Protocol):
    """`await conn.execute(...)` gives the cursor; `async with conn.execute(...) as cursor` too."""

    async def __aenter__(self) -> Cursor: ...
    async def __aexit__(self, *exc: object) -> bool | None: ...


class Connection(Protocol):
    """The connection a transaction hands out (`Database.transaction()` / `Database.read()`)."""

    def execute(self, sql: str, parameters: Iterable[Any] | None = None, /) -> Executed: ...
    async def execute_fetchall(self, sql: str, parameters: Iterable[Any] | None = None, /) -> Iterable[Row]: ...
    async def executemany(self, sql: str, parameters: Iterable[Iterable[Any]], /) -> Cursor: ...

