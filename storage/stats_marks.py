"""The 三率 dashboard's reads from the stored judgement (ticket_rate_marks, migration 0030, folded
by storage/rate_facts.py): the counts of a period per grid, the durations in order, the 不满意
reasons. The definitions are storage/stats.py's, applied once per ticket when its events are
folded; only what depends on `now` (a window still open at now) is compared here, one CASE on a
stored deadline. A ticket whose deadlines were not recorded at creation (`legacy`) is judged by
stats.py's own query at read time (the category's hours as configured now), through a partial
index of such tickets, and added in.

Each read takes one period and bounds both the month (the index's prefix: in Asia/Shanghai, a
local month of the subdistrict is one key) and created_at (exact in any zone)."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime, timedelta

from storage.clock import parse_stamp, stamp
from storage.db import fetch_all
from storage.engine import Connection
from storage.periods import Period
from storage.rate_facts import month_key, refresh_facts
from storage.stats import CategoryHours, Rates, Scope, _rates_sql, judged_params, micros
from storage.stats_detail import TicketTimes, UnsatisfiedReason, ticket_times

# Appended to stats.py's WHERE (after the period): only tickets without both recorded deadlines.
LEGACY = " AND (f.ack_due IS NULL OR f.resolve_due IS NULL)"
_COUNTS = """SELECT m.grid_id, SUM(m.counted), SUM(m.withdrawn),
    SUM(CASE WHEN m.resolve_wait_us >= ? THEN 1 ELSE 0 END),
    SUM(m.acked) + SUM(CASE WHEN m.ack_wait_us < ? THEN 1 ELSE 0 END),
    SUM(m.acked), SUM(m.acked_in_time),
    SUM(m.done) + SUM(CASE WHEN m.resolve_wait_us < ? THEN 1 ELSE 0 END),
    SUM(m.done), SUM(m.done_in_time), SUM(m.rated), SUM(m.satisfied)
FROM ticket_rate_marks AS m
WHERE {months} AND m.created_at >= ? AND m.created_at < ?{area}
GROUP BY m.grid_id"""


def total(parts: list[Rates]) -> Rates:
    """The counts of disjoint sets of tickets together (every Rates field is a count)."""
    names = [f.name for f in fields(Rates)]
    return Rates(**{name: sum(getattr(part, name) for part in parts) for name in names})


def _where(period: Period, scope: Scope) -> tuple[str, str, list[object]]:
    """(months clause, area clause, their values in that order with the period between)."""
    first, last = month_key(stamp(period.start)), month_key(stamp(period.end - timedelta(microseconds=1)))
    # One key: an equality, so the month's rows come from the index in grid order (no sort).
    months, keys = ("m.month = ?", [first]) if first == last else ("m.month >= ? AND m.month <= ?", [first, last])
    area, values = "", []
    if scope.grid_id is not None:
        area += " AND m.grid_id = ?"
        values.append(scope.grid_id)
    if scope.community_id is not None:
        area += " AND m.community_id = ?"
        values.append(scope.community_id)
    return months, area, [*keys, stamp(period.start), stamp(period.end), *values]


async def grid_rates(conn: Connection, period: Period, scope: Scope, hours: CategoryHours, *,
                     now: datetime) -> dict[str, Rates]:
    """stats.grid_breakdown's counts (by current grid) of one period as they stand at `now`, from
    the stored judgement. The caller folds first (refresh_facts)."""
    months, area, values = _where(period, scope)
    now_us = micros(now)
    rows = await fetch_all(conn, _COUNTS.format(months=months, area=area), [now_us, now_us, now_us, *values])
    found = {str(r[0]): Rates(*(int(v or 0) for v in r[1:])) for r in rows}
    spans, legacy_area, params = judged_params(hours, scope, period, now)
    for r in await fetch_all(conn, _rates_sql(spans, LEGACY + legacy_area, "t.grid_id"), params):
        key = str(r[0])
        found[key] = total([found.get(key, Rates()), Rates(*(int(v or 0) for v in r[1:]))])
    return found


@dataclass(frozen=True)
class Spans:
    """The counted tickets' durations from the report, as the deadlines count time: microseconds
    in ascending order (stored tickets), and the legacy tickets' times for the caller to count."""

    response_us: list[int]
    resolution_us: list[int]
    legacy: list[TicketTimes]


async def spans(conn: Connection, period: Period, scope: Scope, hours: CategoryHours, working: frozenset[str],
                *, now: datetime) -> Spans:
    """First-response and 办结 durations of the tickets the rates count (stats_detail.ticket_times'
    tickets); `working`: the categories counting office hours (their durations written by
    fill_work first)."""
    months, area, values = _where(period, scope)
    marks = ", ".join("?" for _ in working) or "NULL"
    found: list[list[int]] = []
    for column in ("response", "resolution"):
        sql = (f"SELECT v FROM (SELECT CASE WHEN m.category_id IN ({marks}) THEN m.{column}_work_us"
               f" ELSE m.{column}_us END AS v FROM ticket_rate_marks AS m"
               f" WHERE {months} AND m.created_at >= ? AND m.created_at < ?{area} AND m.counted = 1) AS d"
               " WHERE v IS NOT NULL ORDER BY v")
        found.append([int(r[0]) for r in await fetch_all(conn, sql, [*sorted(working), *values])])
    legacy = await ticket_times(conn, period, scope, hours, now=now, only=LEGACY)
    return Spans(found[0], found[1], legacy)


@dataclass(frozen=True)
class WorkDue:
    """A changed row whose office-hours durations are to be written (times None: not counted)."""

    ticket_id: int
    category_id: str
    created_at: datetime
    responded_at: datetime | None
    done_at: datetime | None


async def work_due(conn: Connection) -> list[WorkDue]:
    """The rows the fold changed since the durations were last written (a partial index)."""
    rows = await fetch_all(conn, "SELECT m.ticket_id, m.category_id, f.created_at,"
                           " CASE WHEN m.response_us IS NOT NULL THEN f.ack_at END,"
                           " CASE WHEN m.resolution_us IS NOT NULL THEN f.resolved_last END"
                           " FROM ticket_rate_marks AS m JOIN ticket_rate_facts AS f ON f.ticket_id = m.ticket_id"
                           " WHERE m.work_due = 1", [])
    return [WorkDue(int(r[0]), str(r[1]), parse_stamp(r[2]), parse_stamp(r[3]) if r[3] else None,
                    parse_stamp(r[4]) if r[4] else None) for r in rows]


async def write_work(conn: Connection, written: list[tuple[int, int | None, int | None]]) -> None:
    """(ticket id, response µs, resolution µs) in office hours; every due row is then done."""
    if written:
        await conn.executemany("UPDATE ticket_rate_marks SET response_work_us = ?, resolution_work_us = ?,"
                               " work_due = 0 WHERE ticket_id = ?", [(a, b, t) for t, a, b in written])
    await conn.execute("UPDATE ticket_rate_marks SET work_due = 0 WHERE work_due = 1")


async def unsatisfied_reasons(conn: Connection, period: Period, scope: Scope) -> list[UnsatisfiedReason]:
    """stats_detail.unsatisfied_reasons from the list of 不满意 events: each given on a ticket
    created in the period, newest first; the reason is the rating event's note."""
    months, area, values = _where(period, scope)
    sql = ("SELECT u.ticket_id, e.at, e.note FROM ticket_unsatisfied AS u"
           " JOIN ticket_rate_marks AS m ON m.ticket_id = u.ticket_id"
           " JOIN ticket_events AS e ON e.id = u.event_id"
           f" WHERE {months} AND m.created_at >= ? AND m.created_at < ?{area}"
           " ORDER BY e.at DESC, e.id DESC")
    rows = await fetch_all(conn, sql, values)
    return [UnsatisfiedReason(int(r[0]), parse_stamp(r[1]), r[2] or "") for r in rows]


__all__ = ["Spans", "WorkDue", "grid_rates", "refresh_facts", "spans", "total", "unsatisfied_reasons",
           "work_due", "write_work"]
