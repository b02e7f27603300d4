"""Reads for the workplace's grid map: open and overdue tickets per grid, and the open tickets
with a location (the map's pins), in a person's scope (TicketScope, as the board uses).

"Overdue" is the board's: the deadline an open ticket is working towards (受理, then 办结) has
passed. A pin carries what the board's row shows, never the resident's name, phone or words."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from storage.clock import stamp
from storage.db import fetch_all
from storage.engine import Connection
from storage.staff_board import DUE, TicketScope
from storage.tickets import OPEN_STATUSES, TicketStatus

PIN_LIMIT = 500  # the most urgent first; a map with more pins than this is unreadable anyway


@dataclass(frozen=True)
class GridLoad:
    open: int = 0
    overdue: int = 0


@dataclass(frozen=True)
class Pin:
    ticket_id: int
    grid_id: str
    category_id: str
    status: TicketStatus
    latitude: float
    longitude: float
    overdue: bool


def _open(scope: TicketScope) -> tuple[str, list[object]]:
    clause, values = scope.sql()
    marks = ", ".join("?" for _ in OPEN_STATUSES)
    return f"{clause} AND t.status IN ({marks})", [*values, *OPEN_STATUSES]


async def grid_loads(conn: Connection, scope: TicketScope, now: datetime) -> dict[str, GridLoad]:
    """Open tickets and, of those, the overdue ones, per grid (grids with none are absent)."""
    where, values = _open(scope)
    rows = await fetch_all(
        conn, f"SELECT t.grid_id, COUNT(*), SUM(CASE WHEN {DUE} < ? THEN 1 ELSE 0 END)"
        f" FROM tickets AS t WHERE {where} GROUP BY t.grid_id", [stamp(now), *values])
    return {str(grid): GridLoad(int(count), int(late or 0)) for grid, count, late in rows}


async def located_tickets(conn: Connection, scope: TicketScope, now: datetime,
                          limit: int = PIN_LIMIT) -> list[Pin]:
    """Open tickets in scope that carry a location, the overdue and soonest due first."""
    where, values = _open(scope)
    rows = await fetch_all(
        conn, "SELECT t.id, t.grid_id, t.category_id, t.status, t.latitude, t.longitude,"
        f" CASE WHEN {DUE} < ? THEN 1 ELSE 0 END AS late FROM tickets AS t"
        f" WHERE {where} AND t.latitude IS NOT NULL AND t.longitude IS NOT NULL"
        f" ORDER BY late DESC, ({DUE}) IS NULL, {DUE}, t.id LIMIT ?", [stamp(now), *values, limit])
    return [Pin(int(r[0]), str(r[1]), str(r[2]), TicketStatus(r[3]), float(r[4]), float(r[5]), bool(r[6]))
            for r in rows]
