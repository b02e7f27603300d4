"""Group commit: units of work submitted at the same time share one transaction (one fsync).

With one connection and `synchronous=FULL`, every commit waits its turn and pays a flush of its
own; work that arrives while a transaction holds the connection joins the next one instead.
Each unit runs in its own savepoint, so one that fails is rolled back alone and its submitter
gets its exception; the others commit. A unit submitted as `atomic` (one statement: SQLite
backs out a failed statement by itself) needs no savepoint: two trips to the database thread
fewer, which is most of the cost of a small unit (an inbox store, a send's mark). On SQLite a
unit's savepoint is not released on its own either: the COMMIT releases them all. A submitter returns only after the commit that holds its
work, exactly as with a transaction of its own.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from storage.db import Database
from storage.engine import Connection, Engine

Work = Callable[[Connection], Awaitable[Any]]


@dataclass
class _Unit:
    work: Work
    future: asyncio.Future[Any] = field(default_factory=lambda: asyncio.get_running_loop().create_future())
    result: Any = None
    error: Exception | None = None
    atomic: bool = False


class GroupCommit:
    def __init__(self, db: Database, before_commit: Callable[[], None] | None = None) -> None:
        self._db = db
        # SQLite backs out a failed statement alone; PostgreSQL aborts the whole transaction on
        # any error, so there every unit sharing one needs its savepoint.
        self._alone_is_atomic = db.engine is Engine.SQLITE
        self._before_commit = before_commit
        self._pending: list[_Unit] = []
        self._leader = asyncio.Lock()

    async def run(self, work: Work, *, atomic: bool = False) -> Any:
        """Run `work` in a transaction (shared with concurrent submitters); its result once
        committed. `atomic`: the work writes with a single statement (or not at all), so a
        failure leaves nothing of it behind without a savepoint."""
        unit: _Unit = _Unit(work, atomic=atomic)
        self._pending.append(unit)
        try:
            async with self._leader:
                if not unit.future.done():  # not yet taken by the previous leader's transaction
                    await self._flush()
        except asyncio.CancelledError:
            if unit in self._pending:  # cancelled before any transaction took it: withdrawn
                self._pending.remove(unit)
            unit.future.cancel()
            raise
        return unit.future.result()

    async def _flush(self) -> None:
        batch: list[_Unit] = []
        try:
            async with self._db.transaction() as conn:
                batch, self._pending = self._pending, []
                for unit in batch:
                    await _run_unit(conn, unit, savepoint=len(batch) > 1, alone_is_atomic=self._alone_is_atomic,
                                    release=not self._alone_is_atomic)
                if self._before_commit is not None:
                    self._before_commit()
        except asyncio.CancelledError:
            # Rolled back (shutting down): the whole batch is as if never submitted.
            for unit in batch:
                unit.future.cancel()
            raise
        except Exception as exc:  # the transaction itself failed: nothing of the batch is stored
            for unit in batch:
                if not unit.future.done():
                    unit.future.set_exception(exc)
            return
        for unit in batch:
            if unit.future.done():
                continue
            if unit.error is not None:
                unit.future.set_exception(unit.error)
            else:
                unit.future.set_result(unit.result)


async def _run_unit(conn: Connection, unit: _Unit, *, savepoint: bool, alone_is_atomic: bool,
                    release: bool) -> None:
    if not savepoint:
        # Alone in its transaction: a failure rolls the whole transaction back, as before.
        unit.result = await unit.work(conn)
        return
    if unit.atomic and alone_is_atomic:
        try:
            unit.result = await unit.work(conn)
        except Exception as exc:  # its one statement was backed out by SQLite itself
            unit.error = exc
        return
    await conn.execute("SAVEPOINT unit")
    try:
        unit.result = await unit.work(conn)
    except Exception as exc:
        # To the latest savepoint named `unit`: this unit's own, whatever was left unreleased.
        await conn.execute("ROLLBACK TO unit")
        unit.error = exc
    finally:
        # On SQLite the COMMIT releases every savepoint left open, so releasing each unit's
        # would be a trip to the database thread for nothing; PostgreSQL keeps each
        # subtransaction until released, and past 64 open ones it slows down.
        if release:
            await conn.execute("RELEASE unit")
