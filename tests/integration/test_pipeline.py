"""Held writes (storage/pipeline.py) inside the group commit: what a unit stores, and what a
failing unit leaves of the others, on both engines (PostgreSQL runs `write` at once)."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from bot.group_commit import GroupCommit
from storage.db import Database, fetch_all
from storage.engine import Connection, Engine, integrity_errors
from storage.pipeline import HeldWriteFailed, Later, read_later, write

Work = Callable[[Connection], Awaitable[Any]]


@pytest.fixture
async def db(db: Database) -> Database:
    async with db.transaction() as conn:
        await conn.execute("CREATE TABLE marks (value INTEGER NOT NULL UNIQUE)")
    return db


async def marks(db: Database) -> list[int]:
    async with db.read() as conn:
        return sorted(row[0] for row in await fetch_all(conn, "SELECT value FROM marks"))


async def together(db: Database, group: GroupCommit, works: list[Work]) -> list[Any]:
    """Run the units in one shared transaction (the connection is held while they queue up)."""
    async with db.transaction():
        tasks = [asyncio.create_task(group.run(work)) for work in works]
        await asyncio.sleep(0.02)
    return await asyncio.gather(*tasks, return_exceptions=True)


def held(value: int | None, fail: bool = False) -> Work:
    async def work(conn: Connection) -> str:
        await write(conn, "INSERT INTO marks (value) VALUES (?)", (value,))
        if fail:
            raise ValueError(f"unit {value} failed")
        return f"stored {value}"
    return work


async def test_a_unit_failing_before_anything_of_it_went_out_leaves_the_unit_before_it(db: Database) -> None:
    """The failing unit's savepoint and write were still held: nothing of it reached the
    database, so nothing is rolled back — rolling back to `unit` would reach the savepoint of
    the unit before it (never released on SQLite) and undo that unit's committed answer."""
    results = await together(db, GroupCommit(db), [held(1), held(2, fail=True), held(3)])
    assert results[0] == "stored 1" and results[2] == "stored 3"
    assert isinstance(results[1], ValueError)
    assert await marks(db) == [1, 3]


async def test_a_unit_alone_failing_with_held_writes_stores_none_of_them(db: Database) -> None:
    group = GroupCommit(db)
    with pytest.raises(ValueError):
        await group.run(held(4, fail=True))
    assert await group.run(held(5)) == "stored 5"
    assert await marks(db) == [5]  # the failed unit's held write did not ride with the next one


async def test_a_held_write_that_fails_fails_its_unit_not_the_catch_of_a_later_statement(db: Database) -> None:
    """The unit expects a duplicate from its own later INSERT and catches it; the held write's
    failure (a NOT NULL constraint) must not pass for that duplicate: the unit fails, is rolled
    back alone, and the units beside it commit."""
    async def expects_a_duplicate(conn: Connection) -> str:
        await write(conn, "INSERT INTO marks (value) VALUES (?)", (None,))
        try:
            await conn.execute("INSERT INTO marks (value) VALUES (?)", (7,))
        except integrity_errors():
            return "duplicate, as expected"
        return "inserted"

    results = await together(db, GroupCommit(db), [held(6), expects_a_duplicate, held(8)])
    assert results[0] == "stored 6" and results[2] == "stored 8"
    assert isinstance(results[1], Exception), results[1]
    if db.engine is Engine.SQLITE:
        assert isinstance(results[1], HeldWriteFailed)
        assert isinstance(results[1].__cause__, sqlite3.IntegrityError)
    assert await marks(db) == [6, 8]


async def test_a_unit_reads_its_held_writes_back_every_way_it_can_ask(db: Database) -> None:
    async def reads(conn: Connection) -> tuple[int, list[int], int, int]:
        await write(conn, "INSERT INTO marks (value) VALUES (?)", (10,))
        rows = [row[0] for row in await conn.execute_fetchall("SELECT value FROM marks ORDER BY value")]
        await write(conn, "INSERT INTO marks (value) VALUES (?)", (11,))
        async with conn.execute("SELECT COUNT(*) FROM marks") as cursor:
            counted = (await cursor.fetchone())[0]
        await write(conn, "INSERT INTO marks (value) VALUES (?)", (12,))
        changed = (await conn.execute("UPDATE marks SET value = value + 100 WHERE value >= ?", (11,))).rowcount
        await write(conn, "INSERT INTO marks (value) VALUES (?)", (13,))
        await conn.executemany("INSERT INTO marks (value) VALUES (?)", [(14,), (15,)])
        return len(rows), rows, counted, changed

    assert await GroupCommit(db).run(reads) == (1, [10], 2, 2)
    assert await marks(db) == [10, 13, 14, 15, 111, 112]


def failing_then(value: int) -> Work:
    """Writes `value` + 100 at once, then holds a write that fails (NOT NULL) and one that
    would succeed; reads nothing after them."""
    async def work(conn: Connection) -> str:
        await conn.execute("INSERT INTO marks (value) VALUES (?)", (value + 100,))
        await write(conn, "INSERT INTO marks (value) VALUES (?)", (None,))
        await write(conn, "INSERT INTO marks (value) VALUES (?)", (value,))
        return "returned before its writes went out"
    return work


def held_then_read(value: int) -> Work:
    async def work(conn: Connection) -> list[int]:
        await write(conn, "INSERT INTO marks (value) VALUES (?)", (value,))
        return [row[0] for row in await conn.execute_fetchall("SELECT value FROM marks ORDER BY value")]
    return work


async def test_a_held_write_failing_on_the_next_units_trip_fails_its_own_unit_only(db: Database) -> None:
    """A's writes are still held when B reads: they fail on B's trip. A is undone (its other
    write too) and gets the failure; B's read goes out again and sees B's write, not A's."""
    results = await together(db, GroupCommit(db), [held(1), failing_then(2), held_then_read(3), held(4)])
    assert results[0] == "stored 1" and results[3] == "stored 4"
    assert isinstance(results[1], Exception), results[1]
    assert results[2] == [1, 3]
    if db.engine is Engine.SQLITE:
        assert isinstance(results[1], HeldWriteFailed)
    assert await marks(db) == [1, 3, 4]


async def test_the_last_units_held_write_failing_before_the_commit_fails_that_unit_only(db: Database) -> None:
    results = await together(db, GroupCommit(db), [held(5), held(6), failing_then(7)])
    assert results[:2] == ["stored 5", "stored 6"]
    assert isinstance(results[2], Exception), results[2]
    assert await marks(db) == [5, 6]


async def test_a_unit_alone_whose_held_write_fails_before_the_commit_stores_nothing(db: Database) -> None:
    group = GroupCommit(db)
    with pytest.raises(Exception) as failed:
        await group.run(failing_then(8))
    if db.engine is Engine.SQLITE:
        assert failed.type is HeldWriteFailed
    assert await group.run(held(9)) == "stored 9"
    assert await marks(db) == [9]


@pytest.mark.sqlite_only  # the held BEGIN is SQLite's (PostgreSQL sends its own at once)
async def test_a_begin_that_fails_fails_the_whole_batch_and_nothing_runs_outside_it(db: Database) -> None:
    """The BEGIN rides with the first unit's first statement. Another process holding the write
    lock makes it fail: every unit of the batch gets the failure and none of their statements
    runs (it would run outside any transaction, committed on its own)."""
    group = GroupCommit(db)
    await db._conn.execute("PRAGMA busy_timeout = 50")
    other = sqlite3.connect(db.path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    statements: list[str] = []
    await db._conn.set_trace_callback(statements.append)
    try:
        async with db._lock:  # the connection is busy meanwhile: the three share the next batch
            tasks = [asyncio.create_task(group.run(work)) for work in (held_then_read(1), held(2), held_then_read(3))]
            await asyncio.sleep(0.02)
        results = await asyncio.gather(*tasks, return_exceptions=True)
    finally:
        await db._conn.set_trace_callback(None)
        other.execute("ROLLBACK")
        other.close()
    assert [s for s in statements if not s.startswith(("BEGIN", "ROLLBACK"))] == []
    assert all(isinstance(r, HeldWriteFailed) for r in results), results
    assert all("locked" in str(r.__cause__) for r in results), [r.__cause__ for r in results]
    assert await marks(db) == []
    assert await group.run(held_then_read(4)) == [4]  # the next batch has its transaction
    assert await marks(db) == [4]


async def test_a_writes_transaction_commits_its_held_writes_or_none_of_them(db: Database) -> None:
    """`Database.writes` (the sender's claims, WeChat's window slot): a read sees the writes held
    before it, the COMMIT carries the rest, and a failing write (or an error after it) leaves
    nothing of the transaction."""
    async with db.writes() as conn:
        await write(conn, "INSERT INTO marks (value) VALUES (?)", (1,))
        assert [tuple(row) for row in await fetch_all(conn, "SELECT value FROM marks")] == [(1,)]
        await write(conn, "INSERT INTO marks (value) VALUES (?)", (2,))
    assert await marks(db) == [1, 2]
    with pytest.raises((HeldWriteFailed, *integrity_errors())):
        async with db.writes() as conn:
            await write(conn, "INSERT INTO marks (value) VALUES (?)", (3,))
            await write(conn, "INSERT INTO marks (value) VALUES (?)", (1,))  # a duplicate
    with pytest.raises(LookupError):
        async with db.writes() as conn:
            await write(conn, "INSERT INTO marks (value) VALUES (?)", (4,))
            await fetch_all(conn, "SELECT value FROM marks")
            raise LookupError("after the write went out")
    assert await marks(db) == [1, 2]


def stored_later(value: int | None, box: dict[str, Later] | None = None) -> Work:
    """WeChat's store (inbox.store_later): one INSERT … RETURNING, held; run `atomic`."""
    async def work(conn: Connection) -> Later:
        later = await read_later(conn, "INSERT INTO marks (value) VALUES (?) RETURNING value", (value,))
        if box is not None:
            box["later"] = later
        return later
    return work


async def atomic_beside(db: Database, group: GroupCommit, works: list[tuple[Work, bool]]) -> list[Any]:
    """`together`, with each unit `atomic` or not."""
    async with db.transaction():
        tasks = [asyncio.create_task(group.run(work, atomic=atomic)) for work, atomic in works]
        await asyncio.sleep(0.02)
    return await asyncio.gather(*tasks, return_exceptions=True)


async def test_a_held_read_goes_out_with_the_next_units_trip_and_answers_after_the_commit(db: Database) -> None:
    box: dict[str, Later] = {}

    async def next_unit(conn: Connection) -> tuple[bool, list[int], bool]:
        sent_before = box["later"].ready  # SQLite: still held, no trip of its own
        values = [row[0] for row in await conn.execute_fetchall("SELECT value FROM marks")]
        return sent_before, values, box["later"].ready

    results = await atomic_beside(db, GroupCommit(db), [(stored_later(1, box), True), (next_unit, False)])
    assert results[1] == (db.engine is Engine.POSTGRESQL, [1], True)
    assert [tuple(row) for row in results[0].rows()] == [(1,)]
    assert await marks(db) == [1]


async def test_a_held_read_failing_on_the_next_trip_fails_its_unit_and_undoes_no_other(db: Database) -> None:
    """The atomic unit has no savepoint: its failed INSERT (NOT NULL) was backed out by SQLite,
    and rolling back to `unit` would undo the unit before it instead."""
    results = await atomic_beside(db, GroupCommit(db), [(held(1), False), (stored_later(None), True),
                                                        (held_then_read(3), False)])
    assert results[0] == "stored 1" and results[2] == [1, 3]
    assert isinstance(results[1], Exception), results[1]
    assert await marks(db) == [1, 3]


@pytest.mark.sqlite_only  # RAISE(ROLLBACK) is SQLite's; PostgreSQL aborts the transaction on any error
async def test_a_held_statement_that_loses_the_transaction_fails_the_whole_batch(db: Database) -> None:
    """SQLite rolls the whole transaction back on some errors (a full disk; here a trigger's
    RAISE(ROLLBACK)): nothing may run after it, or the next unit's statements would commit on
    their own while the unit before was told it was stored."""
    async with db.transaction() as conn:
        await conn.execute("CREATE TRIGGER lose BEFORE INSERT ON marks WHEN NEW.value = 99"
                           " BEGIN SELECT RAISE(ROLLBACK, 'transaction lost'); END")
    group = GroupCommit(db)
    results = await atomic_beside(db, group, [(held(1), False), (stored_later(99), True),
                                              (held_then_read(3), False)])
    assert all(isinstance(r, HeldWriteFailed) for r in results), results
    assert await marks(db) == []
    assert await group.run(held_then_read(4)) == [4]


@pytest.mark.sqlite_only  # RAISE(ROLLBACK) is SQLite's
async def test_a_units_own_statement_that_loses_the_transaction_fails_the_whole_batch(db: Database) -> None:
    """The same for a statement a unit sends itself (the sender's `mark_sending`, run `atomic`):
    an atomic unit's failure rolls nothing back, so only the lost transaction can stop the rest."""
    async with db.transaction() as conn:
        await conn.execute("CREATE TRIGGER lose BEFORE INSERT ON marks WHEN NEW.value = 99"
                           " BEGIN SELECT RAISE(ROLLBACK, 'transaction lost'); END")

    async def sent_at_once(conn: Connection) -> None:
        await conn.execute("INSERT INTO marks (value) VALUES (?)", (99,))

    group = GroupCommit(db)
    results = await atomic_beside(db, group, [(held_then_read(1), False), (sent_at_once, True),
                                              (held_then_read(3), False)])
    assert all(isinstance(r, Exception) for r in results), results
    assert await marks(db) == []
    assert await group.run(held_then_read(4)) == [4]
