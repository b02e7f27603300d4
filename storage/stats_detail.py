"""The 三率 dashboard's detail, from the same query source as the rates (storage/stats.py): each
counted ticket's times (for first-response and resolution durations), the reasons residents gave
for 不满意, for one period and scope. The definitions are stats.py's: a withdrawn ticket is left
out, a ticket reopened by 不满意 has no 办结 time until it is resolved again."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from storage.clock import parse_stamp, stamp
from storage.db import fetch_all
from storage.engine import Connection
from storage.periods import Period
from storage.rate_facts import refresh_facts
from storage.stats import SUBDISTRICT, CategoryHours, Scope, _area, _judged_sql, judged_params
from storage.tickets import EventAction, Rating


@dataclass(frozen=True)
class TicketTimes:
    """A counted ticket's creation, first response (受理 or 办结) and current 办结, if any."""

    ticket_id: int
    category_id: str
    created_at: datetime
    responded_at: datetime | None
    done_at: datetime | None


@dataclass(frozen=True)
class UnsatisfiedReason:
    ticket_id: int
    at: datetime
    reason: str  # as typed (the page masks numbers); empty when she pressed 跳过


async def ticket_times(conn: Connection, period: Period, scope: Scope = SUBDISTRICT,
                       hours: CategoryHours | None = None, *, now: datetime, only: str = "") -> list[TicketTimes]:
    """Every ticket the rates count (not withdrawn), by id; `only`: a fixed condition on the
    facts `f` added to the WHERE (storage/stats_marks.LEGACY)."""
    spans, area, params = judged_params(hours or {}, scope, period, now)
    sql = (_judged_sql(spans, only + area, "t.category_id")
           + "\nSELECT ticket_id, key, created_at, ack_at, CASE WHEN done = 1 THEN resolved_last END"
             " FROM judged WHERE withdrawn = 0 ORDER BY ticket_id")
    await refresh_facts(conn)
    rows = await fetch_all(conn, sql, params)
    return [TicketTimes(int(r[0]), str(r[1]), parse_stamp(r[2]), parse_stamp(r[3]) if r[3] else None,
                        parse_stamp(r[4]) if r[4] else None) for r in rows]


async def unsatisfied_reasons(conn: Connection, period: Period, scope: Scope = SUBDISTRICT
                              ) -> list[UnsatisfiedReason]:
    """Each 不满意 given on a ticket created in the period (every time, a ticket may have had
    several), newest first; the reason is the rating event's note."""
    area, area_values = _area(scope)
    sql = ("SELECT e.ticket_id, e.at, e.note FROM ticket_rate_facts AS f"
           " JOIN tickets AS t ON t.id = f.ticket_id"
           " JOIN ticket_events AS e ON e.ticket_id = f.ticket_id AND e.action = ?"
           f" WHERE f.created_at >= ? AND f.created_at < ?{area}"
           " AND json_extract(e.data, '$.rating') = ?"
           " ORDER BY e.at DESC, e.id DESC")
    await refresh_facts(conn)
    params = [EventAction.RATED.value, stamp(period.start), stamp(period.end), *area_values,
              Rating.UNSATISFIED.value]
    rows = await fetch_all(conn, sql, params)
    return [UnsatisfiedReason(int(r[0]), parse_stamp(r[1]), r[2] or "") for r in rows]
