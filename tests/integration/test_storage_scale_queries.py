"""The 三率 read from ticket_rate_facts (migration 0008) give exactly what the original query
over ticket_events gave, on a small random audit log with the awkward cases mixed in.

The reference below is the query storage/stats.py ran before 0008, over ticket_events directly,
with issue 15's definitions (windows judged at `now`, 办结 undone by a reopening, withdrawn before
the 办结 window ended) written into it; it is taken at two moments. The facts are folded in
steps (as /stats is used between events), by the migrations' backfill (0008, 0024), and from
scratch; all three agree. Also: the deadline sweep's optional per-category horizons only leave
out tickets due after their own category's horizon.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiosqlite
import pytest

from bot.config import Config
from storage import deadlines, periods, stats
from storage.accounts import ensure_account
from storage.clock import FakeClock, stamp
from storage.db import Database, _split_statements, bundled_migrations
from storage.deadlines import Deadline
from storage.stats import SUBDISTRICT, CategoryHours, Scope, _area, _spans
from storage.tickets import (
    EventAction,
    NewTicket,
    TicketStatus,
    add_event,
    create_ticket,
    update_ticket,
)

TZ = "Asia/Shanghai"
START = datetime(2025, 12, 20, tzinfo=UTC)
US = timedelta(microseconds=1)
# Moments the rates are taken at: amid the log (many windows still open), and long after it.
NOWS = (START + timedelta(days=40, hours=3, microseconds=17), START + timedelta(days=400))
ACKED, RESOLVED, REOPENED, CANCELLED, RATED = (f"'{a.value}'" for a in (
    EventAction.ACKNOWLEDGED, EventAction.RESOLVED, EventAction.REOPENED, EventAction.CANCELLED, EventAction.RATED))
CREATED = f"'{EventAction.CREATED.value}'"
SATISFIED = stats.SATISFIED
_micros = stats._micros




def _reference_sql(spans: str, area: str, group: str) -> str:
    """The rates' definitions (storage/stats.py, issue 15) over ticket_events directly."""
    good = ", ".join(f"'{value}'" for value in SATISFIED)
    return f"""
WITH spans (category_id, ack_us, resolve_us) AS ({spans}),
clock (now_at) AS (SELECT ?),
born AS (
    SELECT ticket_id, MIN(at) AS created_at,
        MIN(json_extract(data, '$.ack_due_at')) AS ack_due,
        MIN(json_extract(data, '$.resolve_due_at')) AS resolve_due
    FROM ticket_events
    WHERE action = {CREATED} AND at >= ? AND at < ?
    GROUP BY ticket_id
),
scoped AS (
    SELECT born.ticket_id, born.created_at, t.grid_id, t.community_id,
        -- The deadlines recorded at creation (working time included); else the category's hours.
        COALESCE({_micros('born.ack_due')} - {_micros('born.created_at')}, spans.ack_us,
                 {_micros('t.ack_due_at')} - {_micros('t.created_at')}) AS ack_us,
        COALESCE({_micros('born.resolve_due')} - {_micros('born.created_at')}, spans.resolve_us,
                 {_micros('t.resolve_due_at')} - {_micros('t.created_at')}) AS resolve_us
    FROM born JOIN tickets AS t ON t.id = born.ticket_id
    LEFT JOIN spans ON spans.category_id = t.category_id
    WHERE 1 = 1{area}
),
marks AS (
    -- LEFT JOIN keeps scoped as the outer loop: each ticket's events come by (ticket_id, id).
    SELECT s.ticket_id, s.created_at, s.grid_id, s.community_id, s.ack_us, s.resolve_us,
        -- 办结 without 受理 first is still a response to the resident.
        MIN(CASE WHEN e.action IN ({ACKED}, {RESOLVED}) THEN e.at END) AS ack_at,
        MAX(CASE WHEN e.action = {RESOLVED} THEN e.id END) AS last_resolved_id,
        MAX(CASE WHEN e.action = {REOPENED} THEN e.id END) AS reopened_id,
        MIN(CASE WHEN e.action = {CANCELLED} AND e.actor_kind = 'resident' THEN e.id END) AS cancel_id,
        MAX(CASE WHEN e.action = {RATED} THEN e.id END) AS rated_id
    FROM scoped AS s
    LEFT JOIN ticket_events AS e ON e.ticket_id = s.ticket_id
        AND e.action IN ({ACKED}, {RESOLVED}, {REOPENED}, {CANCELLED}, {RATED})
    GROUP BY s.ticket_id
),
timed AS (
    SELECT m.grid_id, m.community_id, m.ack_at,
        {_micros('m.created_at')} + m.ack_us AS ack_due_us,
        {_micros('m.created_at')} + m.resolve_us AS resolve_due_us,
        CASE WHEN m.last_resolved_id IS NOT NULL AND (m.reopened_id IS NULL OR m.last_resolved_id > m.reopened_id)
             THEN d.at END AS done_at,
        c.at AS cancel_at,
        {_micros('(SELECT now_at FROM clock)')} AS now_us,
        json_extract(r.data, '$.rating') AS rating
    FROM marks AS m
    LEFT JOIN ticket_events AS d ON d.id = m.last_resolved_id
    LEFT JOIN ticket_events AS c ON c.id = m.cancel_id
    LEFT JOIN ticket_events AS r ON r.id = m.rated_id
),
judged AS (
    SELECT grid_id, community_id, rating,
        CASE WHEN done_at IS NULL AND cancel_at IS NOT NULL AND {_micros('cancel_at')} <= resolve_due_us
             THEN 1 ELSE 0 END AS withdrawn,
        CASE WHEN ack_at IS NOT NULL OR now_us > ack_due_us THEN 1 ELSE 0 END AS in_response,
        CASE WHEN ack_at IS NOT NULL THEN 1 ELSE 0 END AS acked,
        CASE WHEN ack_at IS NOT NULL AND {_micros('ack_at')} <= ack_due_us THEN 1 ELSE 0 END AS acked_in_time,
        CASE WHEN done_at IS NOT NULL OR now_us > resolve_due_us THEN 1 ELSE 0 END AS in_resolution,
        CASE WHEN done_at IS NOT NULL THEN 1 ELSE 0 END AS done,
        CASE WHEN done_at IS NOT NULL AND {_micros('done_at')} <= resolve_due_us THEN 1 ELSE 0 END AS done_in_time
    FROM timed
)
SELECT {group} AS key,
    SUM(1 - withdrawn),
    SUM(withdrawn),
    SUM((1 - in_resolution) * (1 - withdrawn)),
    SUM(in_response * (1 - withdrawn)),
    SUM(acked * (1 - withdrawn)),
    SUM(acked_in_time * (1 - withdrawn)),
    SUM(in_resolution * (1 - withdrawn)),
    SUM(done * (1 - withdrawn)),
    SUM(done_in_time * (1 - withdrawn)),
    SUM(CASE WHEN rating IS NOT NULL AND withdrawn = 0 THEN 1 ELSE 0 END),
    SUM(CASE WHEN rating IN ({good}) AND withdrawn = 0 THEN 1 ELSE 0 END)
FROM judged
GROUP BY key
ORDER BY key
"""


async def reference(conn: aiosqlite.Connection, period: periods.Period, scope: Scope, hours: CategoryHours,
                    by: str | None, now: datetime) -> list[tuple]:
    spans, span_values = _spans(hours)
    area, area_values = _area(scope)
    group = {None: "NULL", "grid": "grid_id", "community": "community_id"}[by]
    params = [*span_values, stamp(now), stamp(period.start), stamp(period.end), *area_values]
    async with conn.execute(_reference_sql(spans, area, group), params) as cursor:
        return [(row[0] or "", *(int(v or 0) for v in row[1:])) for row in await cursor.fetchall()]


async def current(conn: aiosqlite.Connection, period: periods.Period, scope: Scope, hours: CategoryHours,
                  by: str | None, now: datetime) -> list[tuple]:
    if by is None:
        rows = [stats.GroupRates("", await stats.rates(conn, period, scope, hours, now=now))]
        if rows[0].rates == stats.Rates():
            rows = []
    else:
        breakdown = stats.grid_breakdown if by == "grid" else stats.community_breakdown
        rows = await breakdown(conn, period, scope, hours, now=now)
    return [(row.key, *vars(row.rates).values()) for row in rows]


class _History:
    """Appends one ticket's events at increasing times."""

    def __init__(self, conn: aiosqlite.Connection, ticket: int, created: datetime, rng: random.Random) -> None:
        self.conn, self.ticket, self.moment, self.rng = conn, ticket, created, rng

    async def event(self, action: EventAction, after: timedelta, kind: str = "person", **data: object) -> None:
        self.moment += after
        await add_event(self.conn, self.ticket, self.moment, kind, "p", action, data=dict(data))
        if self.rng.random() < 0.1:  # a /stats in between: the facts are folded in steps
            await stats.refresh_facts(self.conn)

    def towards(self, due: datetime) -> timedelta:
        """Just before, exactly at, just after, well before or well after a deadline."""
        offset = self.rng.choice([-US * 1000, timedelta(0), US, -timedelta(hours=1), timedelta(hours=2)])
        return max(due - self.moment + offset, timedelta(0))


async def _random_log(conn: aiosqlite.Connection, config: Config, rng: random.Random, count: int) -> None:
    """Tickets with every kind of history the rates look at, at times that hit the deadlines."""
    resident = (await ensure_account(conn, "console", "r1", "r1", "居民", START)).resident_id
    categories = [c for c in config.categories] + [None]  # None: a category that left config
    for _ in range(count):
        grid = rng.choice(config.grids)
        category = rng.choice(categories)
        cat_id = category.id if category else "retired"
        ack_h, res_h = (category.ack_hours, category.resolve_hours) if category else (5.0, 50.0)
        created = START + timedelta(minutes=rng.randrange(0, 60 * 24 * 80), microseconds=rng.randrange(10**6))
        ack_due, resolve_due = created + timedelta(hours=ack_h), created + timedelta(hours=res_h)
        ticket = await create_ticket(conn, NewTicket(
            resident, cat_id, "灯坏了", grid.community, "小区", "1栋", grid.id, "", None, None, "console",
            ack_due + timedelta(hours=rng.choice([0, 0, 3])), resolve_due), created)
        legacy = rng.random() < 0.25  # created before the deadlines were recorded
        data = {} if legacy else {"ack_due_at": stamp(ack_due), "resolve_due_at": stamp(resolve_due)}
        await add_event(conn, ticket, created, "resident", str(resident), EventAction.CREATED, data=data)
        history = _History(conn, ticket, created, rng)
        event, towards = history.event, history.towards
        if rng.random() < 0.1:
            await event(EventAction.CANCELLED, towards(ack_due), rng.choice(["resident", "person"]))
        if rng.random() < 0.8:
            await event(EventAction.ACKNOWLEDGED, towards(ack_due))
        if rng.random() < 0.1:
            await event(EventAction.CANCELLED, timedelta(minutes=5), "resident")
        if rng.random() < 0.75:
            await event(EventAction.RESOLVED, towards(resolve_due))
            for _ in range(rng.choice([0, 1, 1, 2])):
                rating = rng.choice(["satisfied", "mostly_satisfied", "unsatisfied"])
                await event(EventAction.RATED, timedelta(hours=1), "resident", rating=rating)
                if rating == "unsatisfied":  # reopened: at the same moment or a little later
                    await event(EventAction.REOPENED, rng.choice([timedelta(0), timedelta(minutes=1)]), "system")
                    if rng.random() < 0.2:
                        await event(EventAction.CANCELLED, timedelta(minutes=30), "resident")
                if rng.random() < 0.5:
                    await event(EventAction.ACKNOWLEDGED, timedelta(hours=1))
                    await event(EventAction.RESOLVED, timedelta(hours=2))
        if rng.random() < 0.1:  # reassigned: the rates count it where it is now
            other = rng.choice(config.grids)
            await update_ticket(conn, ticket, history.moment, grid_id=other.id, community_id=other.community,
                                status=TicketStatus.ROUTED)
    # Erasure may blank notes (0007): the facts do not change.
    await conn.execute("UPDATE ticket_events SET note = '' WHERE id % 7 = 0")


def _cases(config: Config) -> list[tuple[periods.Period, Scope, str | None]]:
    months = [periods.month_period(y, m, TZ) for y, m in ((2025, 12), (2026, 1), (2026, 2), (2026, 3))]
    spans = [*months, periods.year_period(2026, TZ), periods.year_period(2025, TZ),
             periods.period_for("week", START + timedelta(days=20), TZ),
             periods.period_for("day", START + timedelta(days=33), TZ)]
    scopes = [SUBDISTRICT, Scope(community_id=config.communities[0].id), Scope(grid_id=config.grids[3].id)]
    return [(p, s, by) for p in spans for s in scopes for by in (None, "grid", "community")]


async def _compare(conn: aiosqlite.Connection, config: Config, hours: CategoryHours) -> int:
    compared = 0
    for period, scope, by in _cases(config):
        for now in NOWS:
            expected = await reference(conn, period, scope, hours, by, now)
            assert await current(conn, period, scope, hours, by, now) == expected, (period, scope, by, now)
        compared += sum(row[1] + row[2] for row in expected)
    return compared


async def _facts(conn: aiosqlite.Connection) -> list[tuple]:
    async with conn.execute("SELECT * FROM ticket_rate_facts ORDER BY ticket_id") as cursor:
        return [tuple(row) for row in await cursor.fetchall()]


@pytest.mark.parametrize("seed", [1, 2])
async def test_facts_give_the_original_rates(config: Config, tmp_path: Path, seed: int) -> None:
    db = await Database.open(tmp_path / "rates.db", FakeClock(START))
    try:
        async with db.transaction() as conn:
            await _random_log(conn, config, random.Random(seed), 400)
        hours = {c.id: (c.ack_hours, c.resolve_hours) for c in config.categories}
        async with db.read() as conn:
            assert await _compare(conn, config, hours) > 400  # tickets counted over all cases
            assert await _compare(conn, config, {}) > 400  # every span from the ticket row
            folded = await _facts(conn)
        # The migration's backfill (a database with events already) builds the same facts, and so
        # does a fold from scratch when the mark is missing.
        backfill = [s for number, sql in bundled_migrations() if number in (8, 24) for s in _split_statements(sql)
                    if "ticket_rate_facts" in s and not s.startswith(("CREATE", "ALTER"))]
        assert len(backfill) == 3  # 0008's insert and rating, 0024's later facts
        for rebuild in (backfill, [*stats.FOLD_FACTS]):
            async with db.transaction() as conn:
                await conn.execute("DELETE FROM ticket_rate_facts")
                await conn.execute("DELETE FROM channel_state WHERE key = ?", (stats.FACTS_MARK,))
                for statement in rebuild:
                    await conn.execute(statement)
            async with db.read() as conn:
                assert await _facts(conn) == folded
                await _compare(conn, config, hours)
    finally:
        await db.close()


@pytest.mark.parametrize("deadline", list(Deadline))
async def test_per_category_horizons_only_drop_tickets_due_later(
    config: Config, tmp_path: Path, deadline: Deadline
) -> None:
    """candidates(..., horizons) is the overall result minus tickets due after their own
    category's horizon (unlisted categories keep the overall one)."""
    now = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
    rng = random.Random(5)
    db = await Database.open(tmp_path / "sweep.db", FakeClock(now))
    try:
        async with db.transaction() as conn:
            resident = (await ensure_account(conn, "console", "r1", "r1", "居民", now)).resident_id
            for _ in range(120):
                grid = rng.choice(config.grids)
                category = rng.choice(["repair", "elevator", "opinion", "retired"])
                created = now - timedelta(hours=rng.uniform(0, 200))
                due = now + timedelta(hours=rng.uniform(-5, 300))
                ticket = await create_ticket(conn, NewTicket(
                    resident, category, "灯坏了", grid.community, "小区", "1栋", grid.id, "", None, None,
                    "console", due, due), created)
                await add_event(conn, ticket, created, "resident", str(resident), EventAction.CREATED)
                status = TicketStatus.ACKNOWLEDGED if deadline is Deadline.RESOLVE else TicketStatus.ROUTED
                await update_ticket(conn, ticket, created, status=status)
        horizon = now + timedelta(hours=150)
        own = {"repair": now + timedelta(hours=10), "elevator": now + timedelta(hours=400),
               "opinion": now + timedelta(hours=30)}
        async with db.read() as conn:
            everything = await deadlines.candidates(conn, deadline, now, horizon)
            narrowed = await deadlines.candidates(conn, deadline, now, horizon, own)
            categories = dict(await (await conn.execute("SELECT id, category_id FROM tickets")).fetchall())
        expected = [c for c in everything
                    if c.due_at <= max(min(own.get(categories[c.ticket_id], horizon), horizon), now)]
        assert narrowed == expected
        assert 0 < len(narrowed) < len(everything)
    finally:
        await db.close()
