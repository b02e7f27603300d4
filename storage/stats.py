"""三率 (response / resolution / satisfaction rate) from the audit log, for any period and scope.

Definitions (every count is over tickets whose `created` event falls in [start, end)):

- The population: those tickets, minus the ones the resident cancelled (a `cancelled` event
  with actor_kind 'resident') before any `acknowledged` event. It is the denominator of the
  响应率 and the 办结率 (`Rates.tickets`); the withdrawn ones are counted apart.
- 响应率: the ticket's first `acknowledged` (or, without one, `resolved`) event is at or before
  `created + ack_hours`.
- 办结率: the ticket's first `resolved` event is at or before `created + resolve_hours`.
  A late acknowledgement or resolution still happened: it is counted in `acknowledged` /
  `resolved` but not in the in-time numerators. A 办结 without a 受理 first answered the
  resident too, so it counts as the response.
- 满意率: (满意 + 基本满意) / rated, each ticket's *latest* `rated` event deciding (a ticket
  rated 不满意, reopened and rated 满意 counts once, as satisfied).

Deadlines: the ones recorded in the ticket's `created` event (data ack_due_at / resolve_due_at,
so working-time categories and later config changes are judged as they were set); for tickets
created before those were recorded, `created + hours` with the category's hours as configured
now (`CategoryHours`); never the ticket's ack_due_at / resolve_due_at columns, which a
reassignment or a reopening moves. Only a category that has left config falls back to the
ticket's stored span (due - created_at).

Scope is the ticket's *current* grid_id / community_id (a reassigned ticket counts where it
is now). Times are compared as whole microseconds, so an event exactly at the deadline is in
time. Periods are local calendar days / weeks (Monday-Sunday) / months / years.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

import aiosqlite

from storage.clock import parse_stamp, stamp
from storage.periods import Period
from storage.tickets import OPEN_STATUSES, EventAction, Rating, TicketStatus

# category id -> (ack_hours, resolve_hours)
CategoryHours = Mapping[str, tuple[float, float]]

MICROS_PER_HOUR = 3_600_000_000
SATISFIED = (Rating.SATISFIED.value, Rating.MOSTLY.value)


# ---------------------------------------------------------------------------------------------
# Scope and results


@dataclass(frozen=True)
class Scope:
    """The whole subdistrict (neither set), one community, or one grid."""

    grid_id: str | None = None
    community_id: str | None = None


SUBDISTRICT = Scope()


def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


@dataclass(frozen=True)
class Rates:
    """Counts for one period and scope; the rates are None when there is nothing to divide by."""

    tickets: int = 0  # denominator of 响应率 and 办结率
    withdrawn: int = 0  # created in the period, cancelled by the resident before 受理: not in `tickets`
    acknowledged: int = 0  # acknowledged at all (in time or late)
    acknowledged_in_time: int = 0  # numerator of 响应率
    resolved: int = 0  # resolved at all
    resolved_in_time: int = 0  # numerator of 办结率
    rated: int = 0  # denominator of 满意率 (latest rating of each ticket)
    satisfied: int = 0  # numerator of 满意率: 满意 + 基本满意

    @property
    def response_rate(self) -> float | None:
        return _ratio(self.acknowledged_in_time, self.tickets)

    @property
    def resolution_rate(self) -> float | None:
        return _ratio(self.resolved_in_time, self.tickets)

    @property
    def satisfaction_rate(self) -> float | None:
        return _ratio(self.satisfied, self.rated)


@dataclass(frozen=True)
class GroupRates:
    """One row of a breakdown: a grid id or a community id and its counts."""

    key: str
    rates: Rates = field(default_factory=Rates)


@dataclass(frozen=True)
class OverdueTicket:
    """An open ticket past a deadline it still has to meet."""

    id: int
    grid_id: str
    community_id: str
    category_id: str
    status: TicketStatus
    missed: Literal["ack", "resolve"]  # 未受理 (not yet acknowledged) or 未办结
    due_at: datetime

    def overdue_by(self, now: datetime) -> timedelta:
        return now - self.due_at


# ---------------------------------------------------------------------------------------------
# Queries


def _micros(column: str) -> str:
    """A stored stamp (YYYY-MM-DDTHH:MM:SS.ffffff+00:00) as integer microseconds since the epoch."""
    return (f"(CAST(strftime('%s', {column}) AS INTEGER) * 1000000"
            f" + CAST(substr({column}, 21, 6) AS INTEGER))")


_GROUP_COLUMNS = {None: "NULL", "grid": "grid_id", "community": "community_id"}


def _spans(hours: CategoryHours) -> tuple[str, list[object]]:
    """A CTE body listing (category_id, ack_us, resolve_us), all values as parameters."""
    if not hours:
        return "SELECT NULL, NULL, NULL WHERE 0", []
    values: list[object] = []
    for category_id, (ack_hours, resolve_hours) in hours.items():
        values += [category_id, round(ack_hours * MICROS_PER_HOUR), round(resolve_hours * MICROS_PER_HOUR)]
    return "VALUES " + ", ".join("(?, ?, ?)" for _ in hours), values


def _area(scope: Scope) -> tuple[str, list[object]]:
    clause, values = "", []
    if scope.grid_id is not None:
        clause += " AND t.grid_id = ?"
        values.append(scope.grid_id)
    if scope.community_id is not None:
        clause += " AND t.community_id = ?"
        values.append(scope.community_id)
    return clause, values


def _rates_sql(spans: str, area: str, group: str) -> str:
    created, acknowledged, resolved = (f"'{a.value}'" for a in (
        EventAction.CREATED, EventAction.ACKNOWLEDGED, EventAction.RESOLVED))
    cancelled, rated = f"'{EventAction.CANCELLED.value}'", f"'{EventAction.RATED.value}'"
    good = ", ".join(f"'{value}'" for value in SATISFIED)
    return f"""
WITH spans (category_id, ack_us, resolve_us) AS ({spans}),
born AS (
    SELECT ticket_id, MIN(at) AS created_at,
        MIN(json_extract(data, '$.ack_due_at')) AS ack_due,
        MIN(json_extract(data, '$.resolve_due_at')) AS resolve_due
    FROM ticket_events
    WHERE action = {created} AND at >= ? AND at < ?
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
        MIN(CASE WHEN e.action = {acknowledged} THEN e.id END) AS ack_id,
        -- 办结 without 受理 first is still a response to the resident.
        MIN(CASE WHEN e.action IN ({acknowledged}, {resolved}) THEN e.at END) AS ack_at,
        MIN(CASE WHEN e.action = {resolved} THEN e.at END) AS resolved_at,
        MIN(CASE WHEN e.action = {cancelled} AND e.actor_kind = 'resident' THEN e.id END) AS cancel_id,
        MAX(CASE WHEN e.action = {rated} THEN e.id END) AS rated_id
    FROM scoped AS s
    LEFT JOIN ticket_events AS e ON e.ticket_id = s.ticket_id
        AND e.action IN ({acknowledged}, {resolved}, {cancelled}, {rated})
    GROUP BY s.ticket_id
),
judged AS (
    SELECT m.grid_id, m.community_id,
        CASE WHEN m.cancel_id IS NOT NULL AND (m.ack_id IS NULL OR m.cancel_id < m.ack_id)
             THEN 1 ELSE 0 END AS withdrawn,
        CASE WHEN m.ack_at IS NOT NULL THEN 1 ELSE 0 END AS acked,
        CASE WHEN m.ack_at IS NOT NULL
              AND {_micros('m.ack_at')} <= {_micros('m.created_at')} + m.ack_us THEN 1 ELSE 0 END AS acked_in_time,
        CASE WHEN m.resolved_at IS NOT NULL THEN 1 ELSE 0 END AS done,
        CASE WHEN m.resolved_at IS NOT NULL
              AND {_micros('m.resolved_at')} <= {_micros('m.created_at')} + m.resolve_us
             THEN 1 ELSE 0 END AS done_in_time,
        json_extract(r.data, '$.rating') AS rating
    FROM marks AS m
    LEFT JOIN ticket_events AS r ON r.id = m.rated_id
)
SELECT {group} AS key,
    SUM(1 - withdrawn),
    SUM(withdrawn),
    SUM(acked * (1 - withdrawn)),
    SUM(acked_in_time * (1 - withdrawn)),
    SUM(done * (1 - withdrawn)),
    SUM(done_in_time * (1 - withdrawn)),
    SUM(CASE WHEN rating IS NOT NULL AND withdrawn = 0 THEN 1 ELSE 0 END),
    SUM(CASE WHEN rating IN ({good}) AND withdrawn = 0 THEN 1 ELSE 0 END)
FROM judged
GROUP BY key
ORDER BY key
"""


async def _grouped(
    conn: aiosqlite.Connection, period: Period, scope: Scope, hours: CategoryHours,
    by: Literal["grid", "community"] | None,
) -> list[GroupRates]:
    spans, span_values = _spans(hours)
    area, area_values = _area(scope)
    # Only fixed SQL fragments are formatted in; every value is a parameter.
    sql = _rates_sql(spans, area, _GROUP_COLUMNS[by])
    params = [*span_values, stamp(period.start), stamp(period.end), *area_values]
    async with conn.execute(sql, params) as cursor:
        rows = await cursor.fetchall()
    return [GroupRates(str(row[0]) if row[0] is not None else "", Rates(*(int(v or 0) for v in row[1:])))
            for row in rows]


async def rates(
    conn: aiosqlite.Connection, period: Period, scope: Scope = SUBDISTRICT, hours: CategoryHours | None = None
) -> Rates:
    """The 三率 counts of one scope over one period."""
    rows = await _grouped(conn, period, scope, hours or {}, None)
    return rows[0].rates if rows else Rates()


async def grid_breakdown(
    conn: aiosqlite.Connection, period: Period, scope: Scope = SUBDISTRICT, hours: CategoryHours | None = None
) -> list[GroupRates]:
    """One row per grid (by current grid) that has tickets created in the period, by grid id."""
    return await _grouped(conn, period, scope, hours or {}, "grid")


async def community_breakdown(
    conn: aiosqlite.Connection, period: Period, scope: Scope = SUBDISTRICT, hours: CategoryHours | None = None
) -> list[GroupRates]:
    """One row per community that has tickets created in the period, by community id."""
    return await _grouped(conn, period, scope, hours or {}, "community")


async def overdue_tickets(
    conn: aiosqlite.Connection, now: datetime, scope: Scope = SUBDISTRICT
) -> list[OverdueTicket]:
    """Open tickets past a deadline they still have to meet, most overdue first.

    Not yet acknowledged (new, routed, reopened) and past ack_due_at: missed "ack"; otherwise
    past resolve_due_at: missed "resolve". An acknowledged ticket is only late to resolve. These
    are the current deadlines from the ticket row (a reassignment or a reopening resets them).
    """
    marks = ", ".join("?" for _ in OPEN_STATUSES)
    area, area_values = _area(scope)
    acked = TicketStatus.ACKNOWLEDGED.value
    sql = (
        "SELECT id, grid_id, community_id, category_id, status, missed, due_at FROM ("
        " SELECT t.id, t.grid_id, t.community_id, t.category_id, t.status,"
        "  CASE WHEN t.status != ? AND t.ack_due_at < ? THEN 'ack' ELSE 'resolve' END AS missed,"
        "  CASE WHEN t.status != ? AND t.ack_due_at < ? THEN t.ack_due_at ELSE t.resolve_due_at END AS due_at"
        f" FROM tickets AS t WHERE t.status IN ({marks}){area}"
        " AND ((t.status != ? AND t.ack_due_at < ?) OR t.resolve_due_at < ?)"
        ") ORDER BY due_at, id"
    )
    now_text = stamp(now)
    params = [acked, now_text, acked, now_text, *OPEN_STATUSES, *area_values, acked, now_text, now_text]
    async with conn.execute(sql, params) as cursor:
        rows = await cursor.fetchall()
    return [OverdueTicket(int(r[0]), r[1], r[2], r[3], TicketStatus(r[4]), r[5], parse_stamp(r[6]))
            for r in rows]
