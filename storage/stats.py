"""三率 (响应率 / 办结率 / 满意率): the one query source of /stats, the weekly digest, the
workplace's dashboard and `fengshan-bot stats`, for any period, scope and moment `now` (the
injected clock's: what has happened by then, and which windows have ended by then).

The tickets counted are those whose `created` event falls in [start, end). As in 接诉即办
practice, a ticket is judged once it can be judged, never while it still has time:

- 响应率 = acknowledged in time / tickets that entered it. A ticket enters 响应率 once it is
  acknowledged (a 办结 without 受理 first answered the resident too, so it counts as the
  response) or once its 受理 window has ended unanswered. In time: the first 受理-or-办结 at or
  before the 受理 deadline.
- 办结率 = 办结 in time / tickets that entered it. A ticket enters 办结率 once it is 办结 or
  once its 办结 window has ended. A ticket reopened by 不满意 is not 办结 until it is resolved
  again; then its 办结 is that latest resolution, judged by the same deadline (see below).
- Withdrawn (`withdrawn`): cancelled by the resident (a `cancelled` event with actor_kind
  'resident') before the ticket entered 办结率, i.e. while not 办结 and at or before its 办结
  deadline. It leaves both rates (acknowledged first or not: the issue's #4) and 满意率, and is
  counted apart. Withdrawn after its 办结 window ended unresolved, it stays in both, as missed.
- 时限内待处理 (`pending`): not withdrawn, not 办结 and its 办结 window not yet ended; shown as
  its own count. (Such a ticket may already be in 响应率: acknowledged, or its 受理 window over.)
- 满意率: (满意 + 基本满意) / rated, each ticket's *latest* rating deciding (不满意, reopened
  and then 满意 counts once, as satisfied); withdrawn tickets are left out.

A window "has ended" once `now` is past the deadline: at the deadline itself the ticket can
still be answered in time, so it waits. Times are compared to the microsecond.

Deadlines: the ones recorded in the ticket's `created` event (data ack_due_at / resolve_due_at,
so working-time categories and later config changes are judged as they were set); for tickets
created before those were recorded, `created + hours` with the category's hours as configured
now (`CategoryHours`); never the ticket's ack_due_at / resolve_due_at columns, which a
reassignment or a reopening moves. Only a category that has left config falls back to the
ticket's stored span (due - created_at).

The per-ticket facts are kept in ticket_rate_facts (storage/rate_facts.py, migrations 0008 and
0024), folded in from the append-only log before each query, so a year of the whole subdistrict
reads one row per ticket. The same fold stores each ticket's judgement by these definitions in
ticket_rate_marks (migration 0030, rate_facts.MARKS_SELECT: one bit per count above, the
deadlines of windows still open, the durations), which the dashboard sums instead of judging
every row (storage/stats_marks.py); a ticket without recorded deadlines is judged here. Scope is the ticket's *current* grid_id / community_id (a reassigned
ticket counts where it is now). Periods are local calendar days / weeks (Monday-Sunday) /
months / quarters / years or a custom range of days (storage/periods.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Literal

from storage.clock import parse_stamp, stamp
from storage.db import fetch_all
from storage.engine import Connection
from storage.periods import Period
from storage.rate_facts import FACTS_MARK, FOLD_FACTS, refresh_facts
from storage.tickets import OPEN_STATUSES, Rating, TicketStatus

__all__ = ["FACTS_MARK", "FOLD_FACTS", "refresh_facts"]  # kept importable from here

# category id -> (ack_hours, resolve_hours)
CategoryHours = Mapping[str, tuple[float, float]]

MICROS_PER_HOUR = 3_600_000_000
SATISFIED = (Rating.SATISFIED.value, Rating.MOSTLY.value)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


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

    tickets: int = 0  # created in the period, not withdrawn
    withdrawn: int = 0  # cancelled by the resident before entering 办结率: in no rate
    pending: int = 0  # 时限内待处理: not 办结, 办结 window not ended (in no 办结率 yet)
    response_base: int = 0  # denominator of 响应率: acknowledged, or 受理 window ended
    acknowledged: int = 0  # acknowledged at all (in time or late)
    acknowledged_in_time: int = 0  # numerator of 响应率
    resolution_base: int = 0  # denominator of 办结率: 办结 now, or 办结 window ended
    resolved: int = 0  # 办结 now (a reopened ticket only once resolved again)
    resolved_in_time: int = 0  # numerator of 办结率
    rated: int = 0  # denominator of 满意率 (latest rating of each ticket)
    satisfied: int = 0  # numerator of 满意率: 满意 + 基本满意

    @property
    def response_rate(self) -> float | None:
        return _ratio(self.acknowledged_in_time, self.response_base)

    @property
    def resolution_rate(self) -> float | None:
        return _ratio(self.resolved_in_time, self.resolution_base)

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
    level: int = 0  # the escalation level it has reached (0: the grid)

    def overdue_by(self, now: datetime) -> timedelta:
        return now - self.due_at


# ---------------------------------------------------------------------------------------------
# Queries


def _micros(column: str) -> str:
    """A stored stamp (YYYY-MM-DDTHH:MM:SS.ffffff+00:00) as integer microseconds since the epoch."""
    return (f"(CAST(strftime('%s', {column}) AS INTEGER) * 1000000"
            f" + CAST(substr({column}, 21, 6) AS INTEGER))")


def micros(moment: datetime) -> int:
    """`moment` as _micros reads its stamp: whole microseconds since the epoch."""
    return (moment - _EPOCH) // timedelta(microseconds=1)


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


def _in_time(moment: str, recorded: str, span: str, moment_us: str | None = None) -> str:
    """1 when `moment` (an event's at, or the clock's now) is at or before the ticket's deadline,
    else 0 (and 0 when there is no moment).

    With the deadline recorded at creation the stamps are compared as text: storage.clock.stamp
    writes one fixed-width UTC format, so text order is time order (exact to the microsecond).
    Otherwise created + the category's hours now (`span` of the spans CTE), or else the
    ticket's stored span; only this rare case reads the ticket row and does date arithmetic.
    """
    fallback = (f"(SELECT COALESCE((SELECT s.{span} FROM spans AS s WHERE s.category_id = o.category_id),"
                f" {_micros(f'o.{span[:-3]}_due_at')} - {_micros('o.created_at')})"
                " FROM tickets AS o WHERE o.id = f.ticket_id)")
    return (f"CASE WHEN {moment} IS NULL THEN 0"
            f" WHEN {recorded} IS NOT NULL THEN CASE WHEN {moment} <= {recorded} THEN 1 ELSE 0 END"
            f" WHEN {moment_us or _micros(moment)} <= {_micros('f.created_at')} + {fallback} THEN 1 ELSE 0 END")


def _judged_sql(spans: str, area: str, group: str) -> str:
    """The CTEs up to `judged`: one row per ticket of ticket_rate_facts created in [?, ?), with
    its key, times and flags; joined to its ticket only when the scope or the key needs the
    ticket's current grid / community / category. Parameters: the spans, the clock (now as a
    stamp and in microseconds), the period, the area."""
    join = "JOIN tickets AS t ON t.id = f.ticket_id" if area or group != "NULL" else ""
    return f"""
WITH spans (category_id, ack_us, resolve_us) AS ({spans}),
clock (now_at, now_us) AS (SELECT CAST(? AS TEXT), CAST(? AS INTEGER)),
marks AS (
    SELECT {group} AS key, f.rating, f.ticket_id, f.created_at, f.ack_at, f.resolved_last,
        -- 办结 without 受理 first is still a response to the resident (ack_at covers both).
        CASE WHEN f.ack_at IS NOT NULL THEN 1 ELSE 0 END AS acked,
        {_in_time('f.ack_at', 'f.ack_due', 'ack_us')} AS acked_in_time,
        1 - {_in_time('c.now_at', 'f.ack_due', 'ack_us', 'c.now_us')} AS ack_ended,
        -- 办结 now: resolved, and not reopened (by 不满意) since.
        CASE WHEN f.resolved_last IS NOT NULL
              AND (f.reopened_id IS NULL OR f.resolved_last_id > f.reopened_id) THEN 1 ELSE 0 END AS done,
        {_in_time('f.resolved_last', 'f.resolve_due', 'resolve_us')} AS last_in_time,
        1 - {_in_time('c.now_at', 'f.resolve_due', 'resolve_us', 'c.now_us')} AS resolve_ended,
        {_in_time('f.cancel_at', 'f.resolve_due', 'resolve_us')} AS cancelled_in_window
    FROM ticket_rate_facts AS f CROSS JOIN clock AS c {join}
    WHERE f.created_at >= ? AND f.created_at < ?{area}
),
judged AS (
    SELECT key, rating, ticket_id, created_at, ack_at, resolved_last, acked, acked_in_time, ack_ended, done,
        done * last_in_time AS done_in_time, resolve_ended,
        CASE WHEN done = 0 AND cancelled_in_window = 1 THEN 1 ELSE 0 END AS withdrawn
    FROM marks
)"""


def _rates_sql(spans: str, area: str, group: str) -> str:
    """The counts of `judged`, in total or per key."""
    good = ", ".join(f"'{value}'" for value in SATISFIED)
    # One total: no GROUP BY, which would sort every row on a constant key (a third of the time).
    grouping = "GROUP BY key\nORDER BY key" if group != "NULL" else ""
    return f"""{_judged_sql(spans, area, group)}
SELECT {"key" if group != "NULL" else "NULL"},
    SUM(1 - withdrawn),
    SUM(withdrawn),
    SUM(CASE WHEN withdrawn = 0 AND done = 0 AND resolve_ended = 0 THEN 1 ELSE 0 END),
    SUM(CASE WHEN withdrawn = 0 AND (acked = 1 OR ack_ended = 1) THEN 1 ELSE 0 END),
    SUM(acked * (1 - withdrawn)),
    SUM(acked_in_time * (1 - withdrawn)),
    SUM(CASE WHEN withdrawn = 0 AND (done = 1 OR resolve_ended = 1) THEN 1 ELSE 0 END),
    SUM(done * (1 - withdrawn)),
    SUM(done_in_time * (1 - withdrawn)),
    SUM(CASE WHEN rating IS NOT NULL AND withdrawn = 0 THEN 1 ELSE 0 END),
    SUM(CASE WHEN rating IN ({good}) AND withdrawn = 0 THEN 1 ELSE 0 END)
FROM judged
{grouping}
"""


def judged_params(hours: CategoryHours, scope: Scope, period: Period, now: datetime
                  ) -> tuple[str, str, list[object]]:
    """(spans, area, parameters) for a statement over _judged_sql."""
    spans, span_values = _spans(hours)
    area, area_values = _area(scope)
    return spans, area, [*span_values, stamp(now), micros(now), stamp(period.start), stamp(period.end),
                         *area_values]


async def _grouped(
    conn: Connection, period: Period, scope: Scope, hours: CategoryHours, now: datetime,
    by: Literal["grid", "community"] | None,
) -> list[GroupRates]:
    spans, area, params = judged_params(hours, scope, period, now)
    # Only fixed SQL fragments are formatted in; every value is a parameter.
    sql = _rates_sql(spans, area, _GROUP_COLUMNS[by])
    await refresh_facts(conn)
    rows = await fetch_all(conn, sql, params)
    return [GroupRates(str(row[0]) if row[0] is not None else "", Rates(*(int(v or 0) for v in row[1:])))
            for row in rows]


async def rates(
    conn: Connection, period: Period, scope: Scope = SUBDISTRICT, hours: CategoryHours | None = None, *,
    now: datetime,
) -> Rates:
    """The 三率 counts of one scope over one period, as they stand at `now`."""
    rows = await _grouped(conn, period, scope, hours or {}, now, None)
    return rows[0].rates if rows else Rates()


async def grid_breakdown(
    conn: Connection, period: Period, scope: Scope = SUBDISTRICT, hours: CategoryHours | None = None, *,
    now: datetime,
) -> list[GroupRates]:
    """One row per grid (by current grid) that has tickets created in the period, by grid id."""
    return await _grouped(conn, period, scope, hours or {}, now, "grid")


async def community_breakdown(
    conn: Connection, period: Period, scope: Scope = SUBDISTRICT, hours: CategoryHours | None = None, *,
    now: datetime,
) -> list[GroupRates]:
    """One row per community that has tickets created in the period, by community id."""
    return await _grouped(conn, period, scope, hours or {}, now, "community")


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
        "SELECT id, grid_id, community_id, category_id, status, missed, due_at, escalation_level FROM ("
        " SELECT t.id, t.grid_id, t.community_id, t.category_id, t.status, t.escalation_level,"
        "  CASE WHEN t.status != ? AND t.ack_due_at < ? THEN 'ack' ELSE 'resolve' END AS missed,"
        "  CASE WHEN t.status != ? AND t.ack_due_at < ? THEN t.ack_due_at ELSE t.resolve_due_at END AS due_at"
        f" FROM tickets AS t WHERE t.status IN ({marks}){area}"
        " AND ((t.status != ? AND t.ack_due_at < ?) OR t.resolve_due_at < ?)"
        ") ORDER BY due_at, id"
    )
    now_text = stamp(now)
    params = [acked, now_text, acked, now_text, *OPEN_STATUSES, *area_values, acked, now_text, now_text]
    rows = await fetch_all(conn, sql, params)
    return [OverdueTicket(int(r[0]), r[1], r[2], r[3], TicketStatus(r[4]), r[5], parse_stamp(r[6]),
                          int(r[7] or 0))
            for r in rows]
