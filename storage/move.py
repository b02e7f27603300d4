"""Moving a SQLite database to an empty PostgreSQL database (`fengshan-bot move-to-postgres`).

The source is held with an exclusive lock for the whole move: a running bot (which keeps its
connection open) makes taking it fail, so the move is refused rather than copying a database
that is still changing, and a bot started meanwhile waits instead of writing behind our back.
An older schema is brought up to date on a private copy (the source file itself is only read).
The target gets the bundled PostgreSQL migrations, then every table in foreign-key order with
COPY, in one transaction: a failed move leaves the target's tables empty and can be run again.
"""

from __future__ import annotations

import sqlite3
import tempfile
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from graphlib import TopologicalSorter
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import asyncpg

from storage import pg
from storage.backup import BackupError, check_file
from storage.clock import SystemClock
from storage.db import Database, bundled_migrations
from storage.engine import Engine

BATCH_ROWS = 5000
_SKIPPED = ("sqlite_",)  # SQLite's own tables (sqlite_sequence, sqlite_stat1)
_VERSION_TABLE = "schema_version"  # PostgreSQL's record of migrations; SQLite's is user_version


class MoveError(Exception):
    """A move that was refused or failed; the message is for the operator (no password in it)."""


@dataclass(frozen=True)
class TableCount:
    table: str
    source: int
    target: int


@dataclass(frozen=True)
class MoveReport:
    schema_version: int
    counts: tuple[TableCount, ...]

    @property
    def mismatched(self) -> tuple[TableCount, ...]:
        return tuple(count for count in self.counts if count.source != count.target)


@contextmanager
def _held(path: Path) -> Iterator[sqlite3.Connection]:
    """The source, opened read-write only to hold SQLite's exclusive lock until we are done."""
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=rw", uri=True, isolation_level=None, timeout=0)
    except sqlite3.Error as exc:
        raise MoveError(f"cannot open {path}: {exc}") from exc
    with closing(conn):
        try:
            # Exclusive locking mode keeps the lock after the transaction; a WAL database that
            # another process has open (the bot) refuses it at once (timeout 0).
            conn.execute("PRAGMA locking_mode = EXCLUSIVE")
            conn.execute("BEGIN EXCLUSIVE")
            conn.execute("COMMIT")
        except sqlite3.OperationalError as exc:
            raise MoveError(f"{path} is in use (is the bot running?): stop the bot first, then move "
                            f"请先停止机器人再迁移 ({exc})") from exc
        yield conn


def _tables(conn: sqlite3.Connection) -> list[str]:
    """Every table, parents before the tables that reference them."""
    names = [row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
             if not row[0].startswith(_SKIPPED)]
    graph = {name: {row[2] for row in conn.execute(f'PRAGMA foreign_key_list("{name}")')} - {name}
             for name in names}
    return list(TopologicalSorter(graph).static_order())


def _schema_version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


async def _migrated_copy(source: sqlite3.Connection, folder: Path) -> Path:
    """An up-to-date private copy of an older source (the source file itself is never changed)."""
    copy = folder / "source.db"
    with closing(sqlite3.connect(copy, isolation_level=None)) as target:
        source.backup(target, pages=-1)
    db = await Database.open(copy, SystemClock())
    await db.close()
    return copy


async def _connect(url: str) -> pg.PgConnection:
    try:
        return await pg.connect(url)
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        # asyncpg's messages name the user and host, never the password; the URL is shown without one.
        raise MoveError(f"cannot connect to {pg.shown_url(url)}: {exc}") from exc


async def _existing_tables(raw: asyncpg.Connection) -> list[str]:
    """Tables already in the target's schema: any at all makes it a database in use."""
    records = await raw.fetch("SELECT table_name FROM information_schema.tables "
                              "WHERE table_schema = current_schema() ORDER BY table_name")
    return [r["table_name"] for r in records]


async def _target_columns(raw: asyncpg.Connection, table: str) -> dict[str, str]:
    records = await raw.fetch("SELECT column_name, udt_name FROM information_schema.columns "
                              "WHERE table_schema = current_schema() AND table_name = $1", table)
    return {r["column_name"]: r["udt_name"] for r in records}


def _batches(source: sqlite3.Connection, table: str, columns: list[str],
             types: list[str]) -> Iterator[list[tuple[Any, ...]]]:
    quoted = ", ".join(f'"{c}"' for c in columns)
    # In rowid order: the order the rows were written in, so a row's parents come first.
    cursor = source.execute(f'SELECT {quoted} FROM "{table}" ORDER BY rowid')
    while rows := cursor.fetchmany(BATCH_ROWS):
        yield [tuple(pg._coerce(v, t) for v, t in zip(row, types, strict=True)) for row in rows]


async def _copy_table(raw: asyncpg.Connection, source: sqlite3.Connection, table: str) -> None:
    columns = [row[1] for row in source.execute(f'PRAGMA table_info("{table}")')]
    target = await _target_columns(raw, table)
    missing = [c for c in columns if c not in target]
    if not target or missing:
        raise MoveError(f"table {table}: the target has no column {', '.join(missing) or '(no table)'}; "
                        "the target's schema is not this bot's")
    types = [target[c] for c in columns]
    for batch in _batches(source, table, columns, types):
        await raw.copy_records_to_table(table, records=batch, columns=columns)


async def _reset_identities(raw: asyncpg.Connection) -> None:
    """Identity columns continue after the highest id copied (COPY does not advance them)."""
    identities = await raw.fetch("SELECT table_name, column_name FROM information_schema.columns "
                                 "WHERE table_schema = current_schema() AND is_identity = 'YES'")
    for record in identities:
        table, column = record["table_name"], record["column_name"]
        await raw.execute(
            f"SELECT setval(pg_get_serial_sequence('\"{table}\"', '{column}'), "
            f'COALESCE((SELECT MAX("{column}") FROM "{table}"), 0) + 1, false)')


async def _count(raw: asyncpg.Connection, table: str) -> int:
    return int(await raw.fetchval(f'SELECT COUNT(*) FROM "{table}"'))


async def _copy_all(raw: asyncpg.Connection, source: sqlite3.Connection, tables: list[str]) -> None:
    for table in tables:
        # Our own triggers would rewrite what they watch (tickets.watch_at on insert); the rows
        # go in as they are. Foreign keys (internal triggers) are still checked.
        await raw.execute(f'ALTER TABLE "{table}" DISABLE TRIGGER USER')
        # Rows a migration seeded (channel_state's stats:facts_through) come from the source.
        await raw.execute(f'DELETE FROM "{table}"')
        await _copy_table(raw, source, table)
        await raw.execute(f'ALTER TABLE "{table}" ENABLE TRIGGER USER')
    await _reset_identities(raw)


async def move(source_path: Path, url: str) -> MoveReport:
    """Copy every table of the SQLite file `source_path` into the empty PostgreSQL database `url`."""
    try:
        checked = check_file(source_path)  # a readable 微丰山 database, not newer than this bot
    except BackupError as exc:
        raise MoveError(str(exc)) from exc
    with _held(source_path) as held, tempfile.TemporaryDirectory(prefix="fengshan-move-") as scratch:
        conn = await _connect(url)
        try:
            existing = await _existing_tables(conn.raw)
            if existing:
                raise MoveError(f"{pg.shown_url(url)} is not empty (it has tables: {', '.join(existing[:5])}"
                                f"{', …' if len(existing) > 5 else ''}): give a new, empty database "
                                "目标数据库不是空的，请新建一个空数据库; nothing was changed")
            if checked.schema_version < _latest():
                source_file = await _migrated_copy(held, Path(scratch))
            else:
                source_file = source_path
            with _reader(source_file, held, source_file == source_path) as source:
                tables = _tables(source)
                # One transaction (each migration a savepoint in it): a failed move leaves the
                # target as empty as it was, so it can simply be run again.
                async with conn.raw.transaction():
                    version = await pg.migrate(conn, bundled_migrations(Engine.POSTGRESQL))
                    await _copy_all(conn.raw, source, tables)
                counts = tuple([TableCount(t, int(source.execute(f'SELECT COUNT(*) FROM "{t}"').fetchone()[0]),
                                           await _count(conn.raw, t)) for t in tables])
        except asyncpg.PostgresError as exc:
            raise MoveError(f"the move failed and was rolled back: {exc}") from exc
        finally:
            await conn.close()
    return MoveReport(version, counts)


@contextmanager
def _reader(path: Path, held: sqlite3.Connection, is_held: bool) -> Iterator[sqlite3.Connection]:
    if is_held:
        yield held
        return
    with closing(sqlite3.connect(path, isolation_level=None)) as conn:
        yield conn


def _latest() -> int:
    return max(number for number, _ in bundled_migrations())


def password_in(url: str) -> bool:
    """A URL with a password typed into it (shell history keeps it): refused, as storage.url is."""
    return urlsplit(url).password is not None
