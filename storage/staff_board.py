"""Reads for the staff workplace's boards: tickets in a person's scope, filtered and sorted by
urgency, counts per state, and the overdue board (what is about to miss, what missed, 吹哨).

The scope is given as data (TicketScope, built by handlers/staff_scope.py from the same rules as
handlers.domain.actors.may_act); every value reaches SQL as a parameter.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from storage.clock import parse_stamp, stamp
from storage.db import fetch_all
from storage.engine import Connection
from storage.tickets import _COLUMNS, OPEN_STATUSES, Ticket, TicketStatus, _ticket

# Which deadline an open ticket is working towards, by state (as DUE below says in SQL).
DUE_STATES = {"ack": (TicketStatus.NEW, TicketStatus.ROUTED, TicketStatus.REOPENED),
              "resolve": (TicketStatus.ACKNOWLEDGED,)}
# The deadline an open ticket is working towards: 受理 until acknowledged, then 办结.
DUE = ("CASE WHEN t.status IN ('new', 'routed', 'reopened') THEN t.ack_due_at"
       " WHEN t.status = 'acknowledged' THEN t.resolve_due_at END")


@dataclass(frozen=True)
class TicketScope:
    """Which tickets a person may see: everything, one grid, one community, or the categories
    they respond to (category, community or None for everywhere)."""

    everything: bool = False
    grid_id: str | None = None
    community_id: str | None = None
    responder_of: tuple[tuple[str, str | None], ...] = ()

    def sql(self) -> tuple[str, list[object]]:
        if self.everything:
            return "1 = 1", []  # true on both engines (PostgreSQL has no integer truth)
        if self.grid_id is not None:
            return "t.grid_id = ?", [self.grid_id]
        if self.community_id is not None:
            return "t.community_id = ?", [self.community_id]
        parts: list[str] = []
        values: list[object] = []
        for category, community in self.responder_of:
            if community is None:
                parts.append("t.category_id = ?")
                values.append(category)
            else:
                parts.append("(t.category_id = ? AND t.community_id = ?)")
                values += [category, community]
        return (f"({' OR '.join(parts)})" if parts else "1 = 0"), values


@dataclass(frozen=True)
class BoardFilter:
    """The board's filters; `status` None means every open state."""

    status: TicketStatus | None = None
    community_id: str | None = None
    grid_id: str | None = None
    category_id: str | None = None
    overdue: bool = False
    created_from: datetime | None = None
    created_before: datetime | None = None
    text: str = ""  # a ticket number (#12 or 12), or words in the description or address
    limit: int = 200


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _where(scope: TicketScope, board: BoardFilter, now: datetime, *, with_status: bool) -> tuple[str, list]:
    clause, values = scope.sql()
    parts, params = [clause], list(values)
    if with_status and board.status is not None:
        parts.append("t.status = ?")
        params.append(board.status)
    elif with_status:
        parts.append(f"t.status IN ({', '.join('?' for _ in OPEN_STATUSES)})")
        params += list(OPEN_STATUSES)
    for column, value in (("community_id", board.community_id), ("grid_id", board.grid_id),
                          ("category_id", board.category_id)):
        if value:
            parts.append(f"t.{column} = ?")  # names from this fixed list only
            params.append(value)
    if board.overdue:
        parts.append(f"{DUE} < ?")
        params.append(stamp(now))
    if board.created_from is not None:
        parts.append("t.created_at >= ?")
        params.append(stamp(board.created_from))
    if board.created_before is not None:
        parts.append("t.created_at < ?")
        params.append(stamp(board.created_before))
    text = board.text.strip().lstrip("#")
    if text.isdigit():
        parts.append("t.id = ?")
        params.append(int(text))
    elif text:
        like = f"%{_escape_like(text)}%"
        parts.append("(t.description LIKE ? ESCAPE '\\' OR (t.compound || t.building || t.detail) LIKE ? ESCAPE '\\')")
        params += [like, like]
    return " AND ".join(parts), params


def _columns() -> str:
    return ", ".join(f"t.{c.strip()}" for c in _COLUMNS.split(","))


async def board_tickets(conn: Connection, scope: TicketScope, board: BoardFilter, now: datetime
                        ) -> list[Ticket]:
    """Tickets matching the filters, the soonest due first (closed ones last, newest first)."""
    where, params = _where(scope, board, now, with_status=True)
    sql = (f"SELECT {_columns()} FROM tickets AS t WHERE {where}"
           f" ORDER BY ({DUE}) IS NULL, {DUE}, t.id DESC LIMIT ?")
    return [_ticket(row) for row in await fetch_all(conn, sql, [*params, board.limit])]


async def board_ids(conn: Connection, scope: TicketScope, board: BoardFilter, now: datetime) -> list[int]:
    """The ids board_tickets would list (same filter, same order, up to board.limit): an export
    reads these first, then the tickets in batches (tickets_in_batch), never the whole list at once."""
    where, params = _where(scope, board, now, with_status=True)
    sql = (f"SELECT t.id FROM tickets AS t WHERE {where}"
           f" ORDER BY ({DUE}) IS NULL, {DUE}, t.id DESC LIMIT ?")
    return [int(row[0]) for row in await fetch_all(conn, sql, [*params, board.limit])]


async def tickets_in_batch(conn: Connection, scope: TicketScope, ids: list[int]) -> list[Ticket]:
    """The tickets of `ids` still in the scope (one moved out since the ids were read is left
    out), in the order of `ids`."""
    if not ids:
        return []
    clause, values = scope.sql()
    marks = ", ".join("?" for _ in ids)
    rows = await fetch_all(conn, f"SELECT {_columns()} FROM tickets AS t WHERE {clause} AND t.id IN ({marks})",
                           [*values, *ids])
    found = {ticket.id: ticket for ticket in map(_ticket, rows)}
    return [found[i] for i in ids if i in found]


async def state_counts(conn: Connection, scope: TicketScope, board: BoardFilter, now: datetime
                       ) -> dict[str, int]:
    """Tickets per state under every filter but the state itself."""
    where, params = _where(scope, board, now, with_status=False)
    if board.overdue or board.created_from or board.created_before or board.text.strip().lstrip("#"):
        sql = f"SELECT t.status, COUNT(*) FROM tickets AS t WHERE {where} GROUP BY t.status"
    else:
        # Scope, grid, community and category only: the counts kept per (grid, community,
        # category, state) by migration 0028's triggers, whose columns are named as the
        # tickets' — a few thousand rows summed instead of every ticket counted.
        sql = (f"SELECT t.status, SUM(t.n) FROM ticket_state_counts AS t WHERE {where}"
               " GROUP BY t.status HAVING SUM(t.n) > 0")
    rows = await fetch_all(conn, sql, params)
    return {str(r[0]): int(r[1]) for r in rows}


@dataclass(frozen=True)
class Escalation:
    ticket_id: int
    at: datetime
    action: str  # escalated (吹哨 one level up) or overdue (missed at the top)
    deadline: str
    level: int  # the level it reached
    grid_id: str


async def open_due(conn: Connection, scope: TicketScope, until: datetime) -> list[Ticket]:
    """Open tickets in scope whose current deadline falls before `until` (missed ones included)."""
    clause, values = scope.sql()
    marks = ", ".join("?" for _ in OPEN_STATUSES)
    sql = (f"SELECT {_columns()} FROM tickets AS t WHERE {clause} AND t.status IN ({marks})"
           f" AND {DUE} < ? ORDER BY {DUE}, t.id")
    return [_ticket(row) for row in await fetch_all(conn, sql, [*values, *OPEN_STATUSES, stamp(until)])]


async def escalations(conn: Connection, scope: TicketScope, limit: int = 100) -> list[Escalation]:
    """Each 吹哨 and each miss at the top level of tickets in scope, newest first."""
    clause, values = scope.sql()
    rows = await fetch_all(
        conn, "SELECT e.ticket_id, e.at, e.action, e.data, t.grid_id FROM ticket_events AS e"
        f" JOIN tickets AS t ON t.id = e.ticket_id WHERE {clause} AND e.action IN ('escalated', 'overdue')"
        " ORDER BY e.id DESC LIMIT ?", [*values, limit])
    found = []
    for ticket_id, at, action, data, grid_id in rows:
        detail = json.loads(data)
        level = detail.get("to", detail.get("level", 0))
        found.append(Escalation(int(ticket_id), parse_stamp(at), str(action), str(detail.get("deadline", "")),
                                int(level or 0), str(grid_id)))
    return found
