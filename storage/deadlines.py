"""Tickets near or past a deadline: the candidates of the deadline sweep (预警提醒 / 吹哨).

A ticket's current *window* starts when its current holder got it: the ticket's creation, or
the latest `escalated`, `reassigned` or `reopened` event. Each of those events also sets fresh
due times, so within one window the holder and the due times do not change. The sweep warns
once per window and deadline, escalates at the miss (which starts a new window), and at the
top level records a single `overdue` per window and deadline.

The sweep reads a ticket only when it is due for a look (`due_for_look`, migration 0022):
`watch_at` is '' after any write of its state or due times and is then set by the sweep to the
next moment it must act (the warning, then the due time; NULL once settled). `candidates`
(through the due-time watch indexes of 0009, up to a horizon) is the older, wider read, kept for
tools and tests that look ahead. The window start and whether a warning or a miss was noted
since come from the small partial indexes of 0008 (one seek each); holder level and 受理 from
the ticket's (ticket_id, id) index.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from storage.clock import parse_stamp, stamp
from storage.db import fetch_all
from storage.engine import Connection
from storage.tickets import EventAction, TicketStatus


class Deadline(StrEnum):
    ACK = "ack"  # 受理 by ack_due_at
    RESOLVE = "resolve"  # 办结 by resolve_due_at


# Events after which the ticket is someone else's (or again someone's) with fresh due times.
WINDOW_STARTS: tuple[str, ...] = (
    EventAction.ESCALATED, EventAction.REASSIGNED, EventAction.REOPENED,
)
# Statuses whose deadline is watched, and the column holding it.
WATCHED: dict[Deadline, tuple[tuple[TicketStatus, ...], str]] = {
    Deadline.ACK: ((TicketStatus.NEW, TicketStatus.ROUTED, TicketStatus.REOPENED), "ack_due_at"),
    Deadline.RESOLVE: ((TicketStatus.ACKNOWLEDGED,), "resolve_due_at"),
}
# The partial indexes (0009) of the tickets still watched for each deadline; named in the query
# because without statistics SQLite prefers the wider (status, due) index, which also holds the
# settled tickets.
WATCH_INDEX = {Deadline.ACK: "tickets_ack_watch", Deadline.RESOLVE: "tickets_resolve_watch"}
# send_card logs who got the card as notified/unreachable by this actor, with data.level.
ROUTER_ACTOR = "router"


@dataclass(frozen=True)
class Candidate:
    ticket_id: int
    deadline: Deadline
    due_at: datetime
    window_start: datetime
    level: int | None  # the level the last card went to (None: no card logged)
    warned: bool  # a warning for this deadline was already sent in this window
    acknowledged_by: str | None  # person id of the latest 受理, if any
    acknowledged_in_window: bool  # that 受理 happened in this window
    overdue: bool = False  # the miss at the top level was already noted in this window
    fresh: bool = False  # watch_at was '': nobody has looked since the state was written


def _literals(values: tuple[str, ...]) -> str:
    """Our own constants written into the SQL, so the partial indexes of 0008 apply."""
    return ", ".join(f"'{value}'" for value in values)


def candidate_sql(deadline: Deadline, categories: int = 0, watch: bool = False) -> str:
    """The candidate query; parameters: (*(category_id, horizon) × categories, horizon,
    [horizon if categories], deadline, deadline, now). With `watch`: the tickets due for a
    look (parameters: now, deadline, deadline), every one returned, overdue or not."""
    statuses, column = WATCHED[deadline]
    own = ""
    if categories:
        # A ticket is read only up to its own category's horizon (others: the overall one).
        own = (f" AND t.{column} <= COALESCE((SELECT h.until FROM h WHERE h.category_id = t.category_id), ?)")
    # `column` comes from the fixed WATCHED mapping, never from input.
    return (
        "WITH "
        + (f"h (category_id, until) AS (VALUES {', '.join('(?, ?)' for _ in range(categories))}), "
           if categories else "")
        + "c AS MATERIALIZED ("
        f" SELECT t.id AS ticket_id, t.{column} AS due_at, t.created_at,"
        "  COALESCE((SELECT e.id FROM ticket_events AS e WHERE e.ticket_id = t.id"
        f"   AND e.action IN ({_literals(WINDOW_STARTS)}) ORDER BY e.id DESC LIMIT 1), 0)"
        "   AS start_id"
        # Literal statuses and the settled test, so the partial watch indexes of 0009 apply.
        + ("  , t.watch_at = '' AS fresh"
           f" FROM tickets AS t INDEXED BY tickets_watch WHERE t.watch_at <= ?"
           # Literal statuses: the partial index of 0022 applies. A settled ticket has no
           # watch_at unless its state was written since; it comes back overdue and is settled
           # again, so it is read once, not every tick.
           f" AND t.status IN ({_literals(statuses)})"
           if watch else
           f" FROM tickets AS t INDEXED BY {WATCH_INDEX[deadline]} WHERE t.status IN ({_literals(statuses)})"
           f" AND t.settled_due IS NOT t.{column} AND t.{column} <= ?{own}")
        + "),"
        " d AS ("
        " SELECT c.*,"
        "  EXISTS (SELECT 1 FROM ticket_events AS w WHERE w.ticket_id = c.ticket_id"
        f"   AND w.id > c.start_id AND w.action = '{EventAction.WARNED}'"
        "   AND json_extract(w.data, '$.deadline') = ?) AS warned,"
        "  EXISTS (SELECT 1 FROM ticket_events AS o WHERE o.ticket_id = c.ticket_id"
        f"   AND o.id > c.start_id AND o.action = '{EventAction.OVERDUE}'"
        "   AND json_extract(o.data, '$.deadline') = ?) AS overdue"
        " FROM c"
        ")"
        " SELECT d.ticket_id, d.due_at,"
        "  COALESCE((SELECT s.at FROM ticket_events AS s WHERE s.id = d.start_id), d.created_at),"
        "  (SELECT json_extract(h.data, '$.level') FROM ticket_events AS h"
        "   WHERE h.ticket_id = d.ticket_id"
        f"   AND h.action IN ('{EventAction.NOTIFIED}', '{EventAction.UNREACHABLE}')"
        f"   AND h.actor_id = '{ROUTER_ACTOR}' ORDER BY h.id DESC LIMIT 1),"
        "  d.warned,"
        "  d.start_id, a.id, a.actor_id"
        + (", d.overdue, d.fresh" if watch else "")
        + " FROM d LEFT JOIN ticket_events AS a ON a.id = ("
        "  SELECT l.id FROM ticket_events AS l WHERE l.ticket_id = d.ticket_id"
        f"   AND l.action = '{EventAction.ACKNOWLEDGED}' AND l.actor_kind = 'person'"
        "   ORDER BY l.id DESC LIMIT 1)"
        # Missed at the top already noted: nothing more this window. Warned: only the miss is left.
        + ("" if watch else " WHERE NOT d.overdue AND (d.due_at <= ? OR NOT d.warned)")
        + " ORDER BY d.ticket_id"
    )


async def candidates(
    conn: Connection, deadline: Deadline, now: datetime, horizon: datetime,
    horizons: Mapping[str, datetime] | None = None,
) -> list[Candidate]:
    """Tickets watched for `deadline` that are due by `horizon` and may need a warning or a miss.

    With `horizons` (category id → that category's own horizon, each at most `horizon`), a
    ticket of a listed category is read only if due by its category's horizon: at 1,000,000
    tickets the overall horizon (the longest category's) returns ~1,200 tickets a minute that
    need nothing yet, the per-category one none (bench/storage_scale.py).

    Excluded in SQL: tickets already warned in this window whose deadline is still ahead, and
    tickets whose miss at the top level was already recorded in this window.
    """
    limit = stamp(max(horizon, now))
    own = [value for category_id, until in (horizons or {}).items()
           for value in (category_id, stamp(max(min(until, horizon), now)))]
    params = (*own, limit, *([limit] if own else []), deadline, deadline, stamp(now))
    rows = await fetch_all(conn, candidate_sql(deadline, len(own) // 2), params)
    return [_candidate(row, deadline) for row in rows]


async def due_for_look(conn: Connection, deadline: Deadline, now: datetime,
                       fresh_only: bool = False) -> list[Candidate]:
    """Tickets watched for `deadline` whose watch_at has come (or, with `fresh_only`, is '');
    each with its overdue mark, as the sweep must also reschedule those needing nothing now."""
    rows = await fetch_all(conn, candidate_sql(deadline, watch=True),
                           ("" if fresh_only else stamp(now), deadline, deadline))
    return [_candidate(row, deadline) for row in rows]


def _candidate(row: tuple, deadline: Deadline) -> Candidate:
    return Candidate(
        ticket_id=int(row[0]), deadline=deadline, due_at=parse_stamp(row[1]),
        window_start=parse_stamp(row[2]),
        level=int(row[3]) if isinstance(row[3], int | float) else None,
        warned=bool(row[4]), acknowledged_by=row[7],
        acknowledged_in_window=row[6] is not None and row[6] > row[5],
        overdue=bool(row[8]) if len(row) > 8 else False,
        fresh=bool(row[9]) if len(row) > 9 else False,
    )


async def watch_from(conn: Connection, ticket_id: int, moment: datetime) -> None:
    """The sweep need not look at the ticket before `moment` (unless its state is written)."""
    await conn.execute("UPDATE tickets SET watch_at = ? WHERE id = ?", (stamp(moment), ticket_id))


async def look_again_at_watched(conn: Connection) -> None:
    """At start: every watched ticket is looked at by the first tick. Its watch_at was computed
    from the config it was written under (working hours, holidays, windows); a changed config may
    need it earlier, and watch_at may only ever make the sweep look earlier, never later."""
    await conn.execute("UPDATE tickets SET watch_at = '' WHERE watch_at IS NOT NULL AND watch_at <> ''")


async def settle(conn: Connection, ticket_id: int, deadline: Deadline) -> None:
    """The miss of the ticket's current due time is noted: the sweep passes it by until a new
    window sets a new due time."""
    sql = {Deadline.ACK: "UPDATE tickets SET settled_due = ack_due_at, watch_at = NULL WHERE id = ?",
           Deadline.RESOLVE: "UPDATE tickets SET settled_due = resolve_due_at, watch_at = NULL"
                             " WHERE id = ?"}[deadline]
    await conn.execute(sql, (ticket_id,))
