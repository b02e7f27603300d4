"""Time the bot's own query functions on the storage-scale fixture and explain the SQL they run.

Part of `python -m bench.storage_scale`. Every measured call is the real function (the deadline
sweep, 我的工单, the 三率); the SQL it sends is captured with the connection's trace callback
and run again under EXPLAIN QUERY PLAN on a separate read-only connection.
"""

from __future__ import annotations

import random
import re
import sqlite3
import statistics
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import aiosqlite

from bot.bootstrap import build_services, open_storage
from bot.config import Config
from handlers.escalation import horizons, sweep_deadlines
from handlers.stats import category_hours
from storage import deadlines, periods, rate_reads, stats, tickets
from storage.clock import FakeClock
from storage.db import Database, fetch_one

Call = Callable[[aiosqlite.Connection], Awaitable[object]]
_LITERAL = re.compile(r"'(?:[^']|'')*'|\b\d+(?:\.\d+)?\b")


class _Rollback(Exception):
    """Raised to discard whatever a measured call wrote."""


@dataclass
class Measured:
    name: str
    target_ms: float
    times_ms: list[float]
    statements: dict[str, tuple[str, int]] = field(default_factory=dict)  # shape -> (example sql, count)
    note: str = ""

    @property
    def median_ms(self) -> float:
        return statistics.median(self.times_ms)


def shape(sql: str) -> str:
    """A statement with its literals blanked, to group the same query run with other values."""
    return " ".join(_LITERAL.sub("?", sql).split())


async def _timed(db: Database, call: Call, write: bool) -> float:
    """One call in its own transaction (rolled back for `write`), in milliseconds."""
    if write:
        try:
            async with db.transaction() as conn:
                began = time.perf_counter()
                await call(conn)
                elapsed = time.perf_counter() - began
                raise _Rollback
        except _Rollback:
            return elapsed * 1000
    async with db.read() as conn:
        began = time.perf_counter()
        await call(conn)
        return (time.perf_counter() - began) * 1000


async def _rolled_back(db: Database, call: Call) -> list:
    """What one call returns, in a transaction that is then discarded."""
    found: list = []
    try:
        async with db.transaction() as conn:
            found = list(await call(conn))  # type: ignore[call-overload]
            raise _Rollback
    except _Rollback:
        return found


async def measure(db: Database, name: str, target_ms: float, calls: list[Call], write: bool = False,
                  note: str = "") -> Measured:
    """Run each call once under the trace callback (kept as a warm-up), then time every call."""
    seen: dict[str, tuple[str, int]] = {}

    def trace(sql: str) -> None:
        if sql.split(None, 1)[0].upper() in {"BEGIN", "COMMIT", "ROLLBACK"}:
            return
        key = shape(sql)
        example, count = seen.get(key, (sql, 0))
        seen[key] = (example, count + 1)

    conn = db._conn  # the bot's one connection; the callback runs in aiosqlite's thread
    await conn.set_trace_callback(trace)
    await _timed(db, calls[0], write)
    await conn.set_trace_callback(None)
    times = [await _timed(db, call, write) for call in calls]
    return Measured(name, target_ms, times, seen, note)


def explain(path: str, sql: str) -> list[str]:
    """EXPLAIN QUERY PLAN of one captured statement, as indented lines."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        rows = conn.execute(f"EXPLAIN QUERY PLAN {sql}").fetchall()
    finally:
        conn.close()
    depth: dict[int, int] = {0: 0}
    lines = []
    for node, parent, _, detail in rows:
        depth[node] = depth.get(parent, 0) + 1
        lines.append("  " * depth[node] + detail)
    return lines


async def heaviest_resident(db: Database) -> int:
    async with db.read() as conn, conn.execute(
            "SELECT resident_id FROM tickets GROUP BY resident_id ORDER BY count(*) DESC LIMIT 1") as cursor:
        row = await cursor.fetchone()
    return int(row[0])


def last_full_month(now: datetime, tz: str) -> periods.Period:
    this = periods.period_for("month", now, tz)
    return periods.period_for("month", this.start - timedelta(days=1), tz)


def last_full_year(now: datetime, tz: str) -> periods.Period:
    this = periods.period_for("year", now, tz)
    return periods.period_for("year", this.start - timedelta(days=1), tz)


async def run_all(db: Database, config: Config, now: datetime, residents: int, reps: int) -> list[Measured]:
    services = build_services(config)
    tz = config.subdistrict.timezone
    hours = category_hours(config)
    rng = random.Random(1)
    results: list[Measured] = []

    tick = now + timedelta(minutes=1)  # the scheduler's next tick after the catch-up at `now`

    async def sweep(conn: aiosqlite.Connection) -> object:
        return await sweep_deadlines(conn, services, tick)

    notes: list[str] = []
    async with db.read() as conn:
        for deadline in deadlines.Deadline:
            own = horizons(services, deadline, tick)
            watched = await fetch_one(conn, f"SELECT count(*) FROM tickets INDEXED BY {deadlines.WATCH_INDEX[deadline]}"
                                      f" WHERE status IN ({', '.join(repr(str(s)) for s in deadlines.WATCHED[deadline][0])})"
                                      f" AND settled_due IS NOT {deadlines.WATCHED[deadline][1]}")
            wide = await deadlines.candidates(conn, deadline, tick, max([tick, *own.values()]), own)
            looked = await deadlines.due_for_look(conn, deadline, tick)
            notes.append(f"{deadline.value}: {watched[0] if watched else 0} tickets still watched (not settled),"
                         f" {len(looked)} due for a look (read by the tick),"
                         f" {len(wide)} within their category's horizon (the read before 0022)")
    acted = await _rolled_back(db, sweep)
    results.append(await measure(
        db, "deadline sweep (sweep_deadlines, the tick 1 min after the fixture's now)", 5, [sweep] * reps,
        write=True, note="; ".join(notes) + f"; notifications written: {len(acted)}"))
    for deadline in deadlines.Deadline:
        async def look(conn: aiosqlite.Connection, d: deadlines.Deadline = deadline) -> object:
            return await deadlines.due_for_look(conn, d, tick)

        async def query(conn: aiosqlite.Connection, d: deadlines.Deadline = deadline) -> object:
            own = horizons(services, d, tick)
            return await deadlines.candidates(conn, d, tick, max([tick, *own.values()]), own)
        results.append(await measure(db, f"  of which deadlines.due_for_look({deadline.value})", 5, [look] * reps))
        results.append(await measure(db, f"  for comparison, the read before 0022: candidates({deadline.value})",
                                     5, [query] * reps))

    heavy = await heaviest_resident(db)
    people = [heavy] + [rng.randint(1, residents) for _ in range(max(reps * 4, 20))]
    mine: list[Call] = [lambda conn, r=r: tickets.tickets_of_resident(conn, r) for r in people]
    results.append(await measure(db, "我的工单 (tickets_of_resident)", 2, mine,
                                 note=f"{len(people)} residents incl. the heaviest reporter #{heavy}"))

    month = last_full_month(now, tz)
    biggest = max(config.communities, key=lambda c: sum(g.community == c.id for g in config.grids)).id
    scope = stats.Scope(community_id=biggest)
    # What /stats, the digest and exports read (storage/rate_reads.py: the stored judgement).
    results.append(await measure(
        db, f"三率 community {biggest} {month.start:%Y-%m}", 100,
        [lambda conn: rate_reads.rates(conn, month, scope, hours, now=now)] * reps))
    year = last_full_year(now, tz)
    results.append(await measure(
        db, f"三率 subdistrict {year.start:%Y}", 1000,
        [lambda conn: rate_reads.rates(conn, year, stats.SUBDISTRICT, hours, now=now)] * max(3, reps // 2)))
    results.append(await measure(
        db, f"  for comparison, every ticket judged again (stats.rates, before stop 13): subdistrict {year.start:%Y}",
        1000, [lambda conn: stats.rates(conn, year, stats.SUBDISTRICT, hours, now=now)] * max(3, reps // 2)))
    return results


async def catch_up(path: str, config: Config, now: datetime) -> int:
    """One committed sweep at the fixture's `now`, so later sweeps see the steady state."""
    db = await open_storage(path, FakeClock(now))
    try:
        async with db.transaction() as conn:
            return len(await sweep_deadlines(conn, build_services(config), now))
    finally:
        await db.close()
