"""Writes nobody reads the outcome of, sent with the next statement: several, one trip.

On SQLite every statement is a trip to aiosqlite's thread and back, and in a busy process each
trip waits a turn of the event loop (docs/benchmarks.md, row 2): a handling's last writes (its
dialog, its numbered list, its outbox rows, its inbox item's done-mark) cost more in trips than
in SQL. Inside the engine's group commit (bot/group_commit.py) the transaction's connection is
a `Pipeline`: `write()` holds such a statement, and the next statement that needs an answer (the
same unit's, or the next unit's first) takes every held one along, in order, in the same trip;
what is still held at the end goes out in one trip before the COMMIT. The same statements run
on the same connection in the same order, inside the same transaction: only fewer hand-offs
carry them. A statement whose rows are wanted only after the commit (WeChat's store, an INSERT …
RETURNING its id) is held the same way (`read_later`); its rows come back with the trip that
carried it.

A held write that fails fails the trip that carries it, as `HeldWriteFailed`, never as the
database error a later statement's caller may be catching for itself (a duplicate it expects).
Its owner fails, and is rolled back, as it would have been; when the trip was another owner's,
that owner's statements go out again once the failed owner is undone. A failed statement, held
or not, with which SQLite rolled back the whole transaction fails every later trip: nothing may
run outside it.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Awaitable, Callable, Generator, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import aiosqlite

from storage.engine import Connection, Cursor, Row


class Later:
    """The rows of a statement held to go out with the next trip (`read_later`): there once
    that trip is back; inside a group commit, at the latest once the unit's transaction
    committed. Written in aiosqlite's thread, read on the loop only after the trip's future
    resolved (which happens after the write)."""

    def __init__(self, rows: list[Row] | None = None) -> None:
        self._rows = rows

    @property
    def ready(self) -> bool:
        return self._rows is not None

    def rows(self) -> list[Row]:
        if self._rows is None:
            raise RuntimeError("held statement not sent yet: its rows come with the next trip")
        return self._rows


@dataclass(frozen=True)
class Held:
    sql: str
    params: tuple[Any, ...]
    owner: object  # who held it (a group commit's unit), to whom its failure belongs
    answer: Later | None = None  # where its rows go (a held read); None for a write


class HeldWriteFailed(Exception):
    """A held write failed when a trip carried it (its database error is the cause); `index`:
    its place among the statements that trip carried (those after it did not run)."""

    def __init__(self, message: str, index: int) -> None:
        super().__init__(message)
        self.index = index


class TransactionLost(Exception):
    """A statement failed with an error on which SQLite rolls the whole transaction back (a full
    disk, an I/O error, a trigger's RAISE(ROLLBACK)); its database error is the cause."""


# Told when a trip for one owner met the failure of a write another owner held: it undoes that
# owner's work (the statements after the failed one did not run) or raises to fail them all.
EarlierFailed = Callable[[object, HeldWriteFailed], Awaitable[None]]


async def write(conn: Connection, sql: str, params: Iterable[Any] = ()) -> None:
    """A write whose outcome (rows changed, an id) nobody reads: held on a `Pipeline`, executed
    at once on any other connection (PostgreSQL, a transaction of its own)."""
    if isinstance(conn, Pipeline):
        conn.hold(sql, params)
    else:
        await conn.execute(sql, tuple(params))


async def read_later(conn: Connection, sql: str, params: Iterable[Any] = ()) -> Later:
    """A statement whose rows are needed only after its transaction commits (an INSERT …
    RETURNING whose id the caller reads afterwards): held on a `Pipeline`, so it goes out with
    the next trip; executed at once on any other connection."""
    if isinstance(conn, Pipeline):
        return conn.hold_read(sql, params)
    return Later(list(await conn.execute_fetchall(sql, tuple(params))))


class _Carried:
    """`await` it for the cursor, or `async with` it (closed at the end), as aiosqlite's own."""

    def __init__(self, pipeline: Pipeline, sql: str, params: tuple[Any, ...]) -> None:
        self._sent = pipeline._carry(sql, params)
        self._cursor: aiosqlite.Cursor | None = None

    def __await__(self) -> Generator[Any, None, aiosqlite.Cursor]:
        return self._sent.__await__()

    async def __aenter__(self) -> aiosqlite.Cursor:
        self._cursor = await self._sent
        return self._cursor

    async def __aexit__(self, *exc: object) -> None:
        if self._cursor is not None:
            await self._cursor.close()


class Pipeline:
    """An aiosqlite connection that holds writes until the next statement (the `Connection`
    protocol, so repositories take it as they take the connection itself).

    Several owners may share one (the units of a group commit, one after another): `owner` is
    whose statements are sent now. A held write of an earlier owner that fails on a later
    owner's trip goes to `earlier_failed`, and the later owner's statements go out again."""

    def __init__(self, conn: aiosqlite.Connection, earlier_failed: EarlierFailed | None = None) -> None:
        self._conn = conn
        self._held: list[Held] = []
        self.earlier_failed = earlier_failed
        self.owner: object = None
        # The transaction's own BEGIN failed, or SQLite rolled the transaction back with a failed
        # statement: nothing may run after it (it would run, and commit, outside any
        # transaction), so every later trip fails with it, the COMMIT's too.
        self._broken: Exception | None = None

    def hold(self, sql: str, params: Iterable[Any] = ()) -> None:
        self._held.append(Held(sql, tuple(params), self.owner))

    def hold_read(self, sql: str, params: Iterable[Any] = ()) -> Later:
        answer = Later()
        self._held.append(Held(sql, tuple(params), self.owner, answer))
        return answer

    def drop(self, owner: object) -> list[Held]:
        """Forget what `owner` holds (it failed before that went out); what it was."""
        dropped = [held for held in self._held if held.owner is owner]
        self._held = [held for held in self._held if held.owner is not owner]
        return dropped

    async def rollback_to(self, savepoint: str) -> None:
        """Undo to `savepoint` now, past anything held (called when nothing is: a failed trip
        took it all)."""
        await self._conn.execute(f"ROLLBACK TO {savepoint}")

    async def flush(self) -> None:
        """Send what is held now, in one trip."""
        if self._held:
            await self._carry(None, ())

    def execute(self, sql: str, parameters: Iterable[Any] | None = None, /) -> Any:
        return _Carried(self, sql, tuple(parameters or ()))

    async def execute_fetchall(self, sql: str, parameters: Iterable[Any] | None = None, /) -> Iterable[Row]:
        return await self._carry(sql, tuple(parameters or ()), fetch=True)

    async def executemany(self, sql: str, parameters: Iterable[Iterable[Any]], /) -> Cursor:
        await self.flush()
        if self._broken is not None:
            raise self._broken
        try:
            return await self._conn.executemany(sql, parameters)
        except sqlite3.Error as error:
            self._check_lost(error)
            raise

    def _check_lost(self, error: Exception) -> None:
        """After a failed statement: if SQLite rolled the transaction back with it, the pipeline
        is broken. (The BEGIN went out with the first trip, so no transaction means a lost one.)"""
        if self._broken is None and not self._conn.in_transaction:
            lost = TransactionLost(f"the transaction was rolled back: {error}")
            lost.__cause__ = error
            self._broken = lost

    async def _carry(self, sql: str | None, params: tuple[Any, ...], *, fetch: bool = False) -> Any:
        while True:
            if self._broken is not None:
                raise self._broken
            held, self._held = self._held, []
            try:
                # aiosqlite runs a function in its thread with `_execute`: the one way to send
                # several statements in one hand-off (its public calls send one each). Pinned in
                # pyproject.toml.
                found = await self._conn._execute(_run, self._conn, held, sql, params, fetch)
            except HeldWriteFailed as failure:
                culprit = held[failure.index].owner
                # Nothing after the failed write ran: the culprit's other writes are forgotten,
                # the others' go out again (after the culprit is undone).
                self._held = [h for h in held[failure.index + 1:] if h.owner is not culprit] + self._held
                if culprit is None or not self._conn.in_transaction:
                    self._broken = failure
                    raise
                if culprit is self.owner or self.earlier_failed is None:
                    raise
                await self.earlier_failed(culprit, failure)
                continue
            except sqlite3.Error as error:  # the statement itself failed
                self._check_lost(error)
                raise
            return found if fetch or sql is None else aiosqlite.Cursor(self._conn, found)


def _run(conn: aiosqlite.Connection, held: Sequence[Held], sql: str | None, params: tuple[Any, ...],
         fetch: bool) -> Any:
    """In aiosqlite's thread: the held statements in order (a held read's rows into its
    `Later`), then the statement (if any); its cursor, or (`fetch`) its rows, read in the same
    hand-off."""
    raw = conn._conn
    for index, write_ in enumerate(held):
        try:
            cursor = raw.execute(write_.sql, write_.params)
            if write_.answer is not None:
                write_.answer._rows = cursor.fetchall()
        except sqlite3.Error as exc:
            raise HeldWriteFailed(f"held write failed: {write_.sql[:60]}", index) from exc
    if sql is None:
        return None
    cursor = raw.execute(sql, params)
    return cursor.fetchall() if fetch else cursor
