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

The per-ticket facts these definitions need (first created event and its recorded deadlines,
first 受理, first 受理-or-办结, first 办结, first resident cancel, latest rating) are kept in
ticket_rate_facts (migration 0008), folded in from the append-only log before each query, so a
year of the whole subdistrict reads one row per ticket.

Scope is the ticket's *current* grid_id / community_id (a reassigned ticket counts where it
is now). Times are compared as whole microseconds, so an event exactly at the deadline is in
time. Periods are local calendar days / weeks (Monday-Sunday) / months / years.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from storage.clock import parse_stamp, stamp
from storage.db import fetch_all
from storage.engine import Connection
from storage.periods import Period
from storage.tickets import OPEN_STATUSES, Rating, TicketStatus

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


_GROUP_COLUMNS = {None: "NULL", "grid": "t.grid_id", "community": "t.community_id"}


def _spans(hours: CategoryHours) -> tuple[str, list[object]]:
    """A CTE body listing (category_id, ack_us, resolve_us), all values as parameters."""
    if not hours:
        return "SELECT NULL, CAST(NULL AS INTEGER), CAST(NULL AS INTEGER) WHERE 0", []
    values: list[object] = []
    for category_id, (ack_hours, resolve_hours) in hours.items():
        values += [category_id, round(ack_hours * MICROS_PER_HOUR), round(resolve_hours * MICROS_PER_HOUR)]
    # The spans are typed where they are written: PostgreSQL would read bare ? in VALUES as text.
    return "VALUES " + ", ".join("(?, CAST(? AS INTEGER), CAST(? AS INTEGER))" for _ in hours), values


def _area(scope: Scope) -> tuple[str, list[object]]:
    clause, values = "", []
    if scope.grid_id is not None:
        clause += " AND t.grid_id = ?"
        values.append(scope.grid_id)
    if scope.community_id is not None:
        clause += " AND t.community_id = ?"
        values.append(scope.community_id)
    return clause, values


def _in_time(moment: str, recorded: str, span: str) -> str:
    """1 when `moment` (an event's at) is at or before the ticket's deadline, else 0.

    With the deadline recorded at creation the stamps are compared as text: storage.clock.stamp
    writes one fixed-width UTC format, so text order is time order (exact to the microsecond).
    Otherwise created + the category's hours now (`span` of the spans CTE), or else the
    ticket's stored span; only this rare case reads the ticket row and does date arithmetic.
    """
    fallback = (f"(SELECT COALESCE((SELECT s.{span} FROM spans AS s WHERE s.category_id = o.category_id),"
                f" {_micros(f'o.{span[:-3]}_due_at')} - {_micros('o.created_at')})"
                " FROM tickets AS o WHERE o.id = f.ticket_id)")
    return (f"CASE WHEN {moment} IS NULL THEN 0"
            f" WHEN {recorded} IS NOT NULL THEN {moment} <= {recorded}"
            f" WHEN {_micros(moment)} <= {_micros('f.created_at')} + {fallback} THEN 1 ELSE 0 END")


def _rates_sql(spans: str, area: str, group: str) -> str:
    """One row per ticket of ticket_rate_facts (0008) created in [?, ?), joined to its ticket
    only when the scope or the grouping needs the ticket's current grid / community."""
    good = ", ".join(f"'{value}'" for value in SATISFIED)
    join = "JOIN tickets AS t ON t.id = f.ticket_id" if area or group != "NULL" else ""
    # One total: no GROUP BY, which would sort every row on a constant key (a third of the time).
    grouping = "GROUP BY key\nORDER BY key" if group != "NULL" else ""
    return f"""
WITH spans (category_id, ack_us, resolve_us) AS ({spans}),
judged AS (
    SELECT {group} AS key,
        CASE WHEN f.cancel_id IS NOT NULL AND (f.ack_id IS NULL OR f.cancel_id < f.ack_id)
             THEN 1 ELSE 0 END AS withdrawn,
        -- 办结 without 受理 first is still a response to the resident (ack_at covers both).
        CASE WHEN f.ack_at IS NOT NULL THEN 1 ELSE 0 END AS acked,
        {_in_time('f.ack_at', 'f.ack_due', 'ack_us')} AS acked_in_time,
        CASE WHEN f.resolved_at IS NOT NULL THEN 1 ELSE 0 END AS done,
        {_in_time('f.resolved_at', 'f.resolve_due', 'resolve_us')} AS done_in_time,
        f.rating
    FROM ticket_rate_facts AS f {join}
    WHERE f.created_at >= ? AND f.created_at < ?{area}
)
SELECT {"key" if group != "NULL" else "NULL"},
    SUM(1 - withdrawn),
    SUM(withdrawn),
    SUM(acked * (1 - withdrawn)),
    SUM(acked_in_time * (1 - withdrawn)),
    SUM(done * (1 - withdrawn)),
    SUM(done_in_time * (1 - withdrawn)),
    SUM(CASE WHEN rating IS NOT NULL AND withdrawn = 0 THEN 1 ELSE 0 END),
    SUM(CASE WHEN rating IN ({good}) AND withdrawn = 0 THEN 1 ELSE 0 END)
FROM judged
{grouping}
"""


FACTS_MARK = "stats:facts_through"  # channel_state: the last ticket_events id folded into the facts
_MERGE = ", ".join(f"{c} = COALESCE({f}({c}, excluded.{c}), {c}, excluded.{c})" for c, f in (
    ("created_at", "min"), ("ack_due", "min"), ("resolve_due", "min"), ("ack_id", "min"), ("ack_at", "min"),
    ("resolved_at", "min"), ("cancel_id", "min"), ("rated_id", "max")))
_NEW_EVENTS = (f"e.id > COALESCE((SELECT CAST(value AS INTEGER) FROM channel_state WHERE key = '{FACTS_MARK}'), 0)")
# The fold of migration 0008 over the events after the mark, read by id range: `+e.action` keeps
# the planner off ticket_events_action_at and `+e.ticket_id` off a sort-free walk of
# ticket_events_ticket (both would visit every such event ever logged). The first statement
# writes, so another process (the CLI) takes the write lock before it reads anything.
FOLD_FACTS = (
    f"""INSERT INTO ticket_rate_facts (ticket_id, created_at, ack_due, resolve_due, ack_id, ack_at,
    resolved_at, cancel_id, rated_id)
SELECT e.ticket_id,
    MIN(CASE WHEN e.action = 'created' THEN e.at END),
    MIN(CASE WHEN e.action = 'created' THEN json_extract(e.data, '$.ack_due_at') END),
    MIN(CASE WHEN e.action = 'created' THEN json_extract(e.data, '$.resolve_due_at') END),
    MIN(CASE WHEN e.action = 'acknowledged' THEN e.id END),
    MIN(CASE WHEN e.action IN ('acknowledged', 'resolved') THEN e.at END),
    MIN(CASE WHEN e.action = 'resolved' THEN e.at END),
    MIN(CASE WHEN e.action = 'cancelled' AND e.actor_kind = 'resident' THEN e.id END),
    MAX(CASE WHEN e.action = 'rated' THEN e.id END)
FROM ticket_events AS e
WHERE {_NEW_EVENTS} AND +e.action IN ('created', 'acknowledged', 'resolved', 'cancelled', 'rated')
GROUP BY +e.ticket_id
ON CONFLICT (ticket_id) DO UPDATE SET {_MERGE}""",
    f"""UPDATE ticket_rate_facts
SET rating = (SELECT json_extract(r.data, '$.rating') FROM ticket_events AS r WHERE r.id = rated_id)
WHERE ticket_id IN (SELECT e.ticket_id FROM ticket_events AS e WHERE {_NEW_EVENTS} AND +e.action = 'rated')""",
    f"""INSERT INTO channel_state (key, value)
VALUES ('{FACTS_MARK}', (SELECT COALESCE(MAX(id), 0) FROM ticket_events))
ON CONFLICT (key) DO UPDATE SET value = excluded.value""",
)


async def refresh_facts(conn: Connection) -> None:
    """Fold the events appended since the last call into ticket_rate_facts (cheap when few)."""
    for statement in FOLD_FACTS:
        await conn.execute(statement)


async def _grouped(
    conn: Connection, period: Period, scope: Scope, hours: CategoryHours,
    by: Literal["grid", "community"] | None,
) -> list[GroupRates]:
    spans, span_values = _spans(hours)
    area, area_values = _area(scope)
    # Only fixed SQL fragments are formatted in; every value is a parameter.
    sql = _rates_sql(spans, area, _GROUP_COLUMNS[by])
    await refresh_facts(conn)
    params = [*span_values, stamp(period.start), stamp(period.end), *area_values]
    rows = await fetch_all(conn, sql, params)
    return [GroupRates(str(row[0]) if row[0] is not None else "", Rates(*(int(v or 0) for v in row[1:])))
            for row in rows]


async def rates(
    conn: Connection, period: Period, scope: Scope = SUBDISTRICT, hours: CategoryHours | None = None
) -> Rates:
    """The 三率 counts of one scope over one period."""
    rows = await _grouped(conn, period, scope, hours or {}, None)
    return rows[0].rates if rows else Rates()


async def grid_breakdown(
    conn: Connection, period: Period, scope: Scope = SUBDISTRICT, hours: CategoryHours | None = None
) -> list[GroupRates]:
    """One row per grid (by current grid) that has tickets created in the period, by grid id."""
    return await _grouped(conn, period, scope, hours or {}, "grid")


async def community_breakdown(
    conn: Connection, period: Period, scope: Scope = SUBDISTRICT, hours: CategoryHours | None = None
) -> list[GroupRates]:
    """One row per community that has tickets created in the period, by community id."""
    return await _grouped(conn, period, scope, hours or {}, "community")


async def overdue_tickets(
    conn: Connection, now: datetime, scope: Scope = SUBDISTRICT
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
    rows = await fetch_all(conn, sql, params)
    return [OverdueTicket(int(r[0]), r[1], r[2], r[3], TicketStatus(r[4]), r[5], parse_stamp(r[6]))
            for r in rows]
