"""Group commit: units of work submitted at the same time share one transaction (one fsync).

With one connection and `synchronous=FULL`, every commit waits its turn and pays a flush of its
own; work that arrives while a transaction holds the connection joins the next one instead.
Each unit runs in its own savepoint, so one that fails is rolled back alone and its submitter
gets its exception; the others commit. A submitter returns only after the commit that holds its
work, exactly as with a transaction of its own.

On SQLite the trips to the database thread are most of a small unit's cost, so: a unit submitted
as `atomic` (one statement, which SQLite backs out by itself) has no savepoint; a unit's savepoint
is never released on its own (the COMMIT releases them all); and the transaction's connection
is a `storage.pipeline.Pipeline` (Database.held_transaction): the BEGIN, each unit's savepoint and
the writes it holds ride with the next statement that needs an answer, its own or the next
unit's, and what is left with the COMMIT.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from storage.db import Database
from storage.engine import Connection, Engine
from storage.pipeline import HeldWriteFailed, Pipeline

Work = Callable[[Connection], Awaitable[Any]]
SAVEPOINT = "SAVEPOINT unit"


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
        # SQLite backs out a failed statement alone and releases every savepoint at COMMIT;
        # PostgreSQL aborts the whole transaction on any error, so there every unit sharing one
        # needs its savepoint, released at its end.
        self._sqlite = db.engine is Engine.SQLITE
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
            if self._sqlite:
                # BEGIN and COMMIT ride with the statements next to them (storage/pipeline.py).
                async with self._db.held_transaction() as pipeline:
                    batch, self._pending = self._pending, []
                    await _run_held(pipeline, batch)
                    if self._before_commit is not None:
                        self._before_commit()
            else:
                async with self._db.transaction() as conn:
                    batch, self._pending = self._pending, []
                    for unit in batch:
                        await _run_unit(conn, unit, savepoint=len(batch) > 1)
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


async def _run_held(pipeline: Pipeline, batch: list[_Unit]) -> None:
    """The batch on SQLite, on the transaction's Pipeline: a unit's savepoint and held writes go
    out with its next statement, or with the next unit's first, or (the last's) with the COMMIT.
    A held write that fails on a later unit's trip undoes its own unit, to that unit's savepoint
    (nothing after the write ran); alone in the transaction, the unit fails it all."""
    shared = len(batch) > 1

    async def earlier_failed(culprit: object, failure: HeldWriteFailed) -> None:
        if not shared or not isinstance(culprit, _Unit):
            raise failure
        if not culprit.atomic:  # an atomic unit's one statement was backed out by SQLite itself
            await pipeline.rollback_to("unit")
        culprit.error = failure

    pipeline.earlier_failed = earlier_failed
    for unit in batch:
        pipeline.owner = unit
        await _run_unit_held(pipeline, unit, savepoint=shared)
    pipeline.owner = None


async def _run_unit_held(pipeline: Pipeline, unit: _Unit, *, savepoint: bool) -> None:
    """A unit that fails before anything of it went out (its savepoint still held) has nothing
    to roll back: rolling back to `unit` then would reach the previous unit's savepoint, never
    released on SQLite."""
    if not savepoint or unit.atomic:
        # Alone in its transaction (a failure rolls it all back) or one statement (backed out by
        # SQLite itself): no savepoint. An `atomic` unit's statement, held, goes out with the
        # next trip; failing there, it fails this unit alone and needs no undoing (SQLite backed
        # it out; a failure that lost the whole transaction fails the whole batch).
        try:
            unit.result = await unit.work(pipeline)
        except Exception as exc:
            pipeline.drop(unit)
            if not savepoint:
                raise
            unit.error = exc
        return
    pipeline.hold(SAVEPOINT)
    try:
        unit.result = await unit.work(pipeline)
    except Exception as exc:
        unsent = pipeline.drop(unit)
        if not (unsent and unsent[0].sql == SAVEPOINT):
            await pipeline.execute("ROLLBACK TO unit")
        unit.error = exc


async def _run_unit(conn: Connection, unit: _Unit, *, savepoint: bool) -> None:
    """A unit on PostgreSQL, which aborts a whole transaction on any error: every unit sharing
    one has its savepoint, released at its end (PostgreSQL keeps each subtransaction until
    released, and past 64 open ones it slows down)."""
    if not savepoint:
        # Alone in its transaction: a failure rolls the whole transaction back, as before.
        unit.result = await unit.work(conn)
        return
    await conn.execute(SAVEPOINT)
    try:
        unit.result = await unit.work(conn)
    except Exception as exc:
        await conn.execute("ROLLBACK TO unit")
        unit.error = exc
    finally:
        await conn.execute("RELEASE unit")
