"""Group commit (bot/group_commit.py) on a real SQLite file: shared transactions, isolated failures."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import aiosqlite
import pytest

from bot.group_commit import GroupCommit
from storage.db import Database, fetch_all


@pytest.fixture
async def db(db: Database) -> Database:
    """The shared migrated database, plus a table of marks to write."""
    async with db.transaction() as conn:
        await conn.execute("CREATE TABLE marks (value INTEGER NOT NULL)")
    return db


def insert(value: int, fail: bool = False) -> Callable[[aiosqlite.Connection], Awaitable[int]]:
    async def work(conn: aiosqlite.Connection) -> int:
        await conn.execute("INSERT INTO marks (value) VALUES (?)", (value,))
        if fail:
            raise ValueError(f"unit {value} failed")
        return value * 10
    return work


async def marks(db: Database) -> list[int]:
    async with db.read() as conn:
        return sorted(row[0] for row in await fetch_all(conn, "SELECT value FROM marks"))


async def test_work_submitted_meanwhile_shares_one_commit_and_returns_after_it(db: Database) -> None:
    commits: list[int] = []
    group = GroupCommit(db, before_commit=lambda: commits.append(1))
    async with db.transaction():  # someone else holds the connection meanwhile
        tasks = [asyncio.create_task(group.run(insert(v))) for v in range(10)]
        await asyncio.sleep(0.05)
        assert not any(task.done() for task in tasks)  # nothing returns before its commit
    assert await asyncio.gather(*tasks) == [v * 10 for v in range(10)]
    assert await marks(db) == list(range(10))
    assert len(commits) <= 2  # one transaction for all (two if the first raced ahead)


async def test_a_failing_unit_is_rolled_back_alone(db: Database) -> None:
    group = GroupCommit(db)
    async with db.transaction():
        tasks = [asyncio.create_task(group.run(insert(v, fail=v == 2))) for v in range(4)]
        await asyncio.sleep(0.02)
    results = await asyncio.gather(*tasks, return_exceptions=True)
    assert [type(r).__name__ for r in results] == ["int", "int", "ValueError", "int"]
    assert await marks(db) == [0, 1, 3]


async def test_a_failed_commit_reaches_every_submitter_and_stores_nothing(db: Database) -> None:
    def crash() -> None:
        raise RuntimeError("disk on fire")

    group = GroupCommit(db, before_commit=crash)
    async with db.transaction():
        tasks = [asyncio.create_task(group.run(insert(v))) for v in range(3)]
        await asyncio.sleep(0.02)
    results = await asyncio.gather(*tasks, return_exceptions=True)
    assert all(isinstance(r, RuntimeError) for r in results)
    assert await marks(db) == []


async def test_a_unit_alone_that_fails_rolls_back_its_transaction(db: Database) -> None:
    group = GroupCommit(db)
    with pytest.raises(ValueError):
        await group.run(insert(7, fail=True))
    assert await group.run(insert(8)) == 80
    assert await marks(db) == [8]


async def test_a_cancelled_submitter_is_withdrawn(db: Database) -> None:
    group = GroupCommit(db)
    async with db.transaction():
        leader = asyncio.create_task(group.run(insert(1)))
        await asyncio.sleep(0.01)
        waiting = asyncio.create_task(group.run(insert(2)))
        await asyncio.sleep(0.01)
        waiting.cancel()
        leader.cancel()
    await asyncio.gather(leader, waiting, return_exceptions=True)
    assert await group.run(insert(3)) == 30
    assert await marks(db) == [3]  # neither cancelled unit was stored later by someone else


@pytest.mark.sqlite_only  # PostgreSQL aborts a transaction on any error: there every shared unit has its savepoint
async def test_single_statement_units_share_a_commit_without_savepoints(db: Database) -> None:
    """A unit of one statement is atomic by itself (SQLite backs out a failed statement alone):
    it runs without a savepoint of its own — two fewer trips to the database thread — and its
    failure (here a NOT NULL constraint) still leaves the others committed."""
    group = GroupCommit(db)
    statements: list[str] = []
    await db._conn.set_trace_callback(statements.append)

    def one(value: int | None) -> Callable[[aiosqlite.Connection], Awaitable[None]]:
        async def work(conn: aiosqlite.Connection) -> None:
            await conn.execute("INSERT INTO marks (value) VALUES (?)", (value,))
        return work

    async with db.transaction():
        tasks = [asyncio.create_task(group.run(one(None if v == 2 else v), atomic=True)) for v in range(4)]
        await asyncio.sleep(0.02)
    results = await asyncio.gather(*tasks, return_exceptions=True)
    await db._conn.set_trace_callback(None)
    assert [type(r).__name__ for r in results] == ["NoneType", "NoneType", "IntegrityError", "NoneType"]
    assert await marks(db) == [0, 1, 3]
    assert not [s for s in statements if s.startswith(("SAVEPOINT", "RELEASE", "ROLLBACK TO"))]


async def test_a_failing_single_statement_unit_leaves_the_others_committed(db: Database) -> None:
    """On both engines: one `atomic` unit's failure (a NOT NULL constraint) in a shared
    transaction leaves the units beside it committed (PostgreSQL, which aborts a transaction on
    any error, gives each its savepoint)."""
    group = GroupCommit(db)

    def one(value: int | None) -> Callable[[aiosqlite.Connection], Awaitable[None]]:
        async def work(conn: aiosqlite.Connection) -> None:
            await conn.execute("INSERT INTO marks (value) VALUES (?)", (value,))
        return work

    async with db.transaction():  # held, so the four units queue up and share the next one
        tasks = [asyncio.create_task(group.run(one(None if v == 2 else v), atomic=True)) for v in range(4)]
        await asyncio.sleep(0.02)
    results = await asyncio.gather(*tasks, return_exceptions=True)
    assert [isinstance(r, Exception) for r in results] == [False, False, True, False]
    assert await marks(db) == [0, 1, 3]


@pytest.mark.sqlite_only  # PostgreSQL keeps releasing each: deep nests of subtransactions cost it
async def test_shared_units_are_not_released_one_by_one(db: Database) -> None:
    """On SQLite a unit's savepoint is left for the COMMIT to release (one trip fewer per unit):
    a unit that fails is still rolled back alone, to its own (the latest) savepoint, and the
    units after it in the same transaction are committed."""
    group = GroupCommit(db)
    statements: list[str] = []
    await db._conn.set_trace_callback(statements.append)
    async with db.transaction():
        tasks = [asyncio.create_task(group.run(insert(v, fail=v in (1, 3)))) for v in range(5)]
        await asyncio.sleep(0.02)
    results = await asyncio.gather(*tasks, return_exceptions=True)
    await db._conn.set_trace_callback(None)
    assert [type(r).__name__ for r in results] == ["int", "ValueError", "int", "ValueError", "int"]
    assert await marks(db) == [0, 2, 4]
    assert not [s for s in statements if s.startswith("RELEASE")], statements
