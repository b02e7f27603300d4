"""The ticket board: open tickets in the person's scope, the soonest due first, with filters (a
plain GET form, so it works without JavaScript) and counts per state; htmx polls the rows
fragment to keep it live."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web

from bot.web.keys import STAFF, WORKPLACE, Staff
from bot.web.views import level_name, render, when
from handlers.staff_scope import scope_of
from storage.staff_board import DUE_STATES, BoardFilter, TicketScope, board_tickets, state_counts
from storage.tickets import Ticket, TicketStatus

REFRESH_SECONDS = 10
FILTER_KEYS = ("status", "community", "grid", "category", "overdue", "from", "to", "q")


def _day(text: str, tz: str) -> datetime | None:
    try:
        return datetime.combine(date.fromisoformat(text), time(), ZoneInfo(tz))
    except ValueError:
        return None


def parse_filter(query: dict[str, str], tz: str) -> BoardFilter:
    """The board's filters from the query string; a value that does not parse is ignored."""
    status = query.get("status", "")
    start = _day(query.get("from", ""), tz)
    end = _day(query.get("to", ""), tz)
    return BoardFilter(
        status=TicketStatus(status) if status in TicketStatus.__members__.values() else None,
        community_id=query.get("community") or None, grid_id=query.get("grid") or None,
        category_id=query.get("category") or None, overdue=query.get("overdue") == "1",
        created_from=start, created_before=end + timedelta(days=1) if end else None,
        text=query.get("q", "")[:50])


def _choices(request: web.Request, scope: TicketScope) -> dict[str, list[tuple[str, str]]]:
    """The filter lists, narrowed to what the person can see."""
    config = request.app[WORKPLACE].app.services.config
    grids = [g for g in config.grids if scope.everything or scope.responder_of
             or g.id == scope.grid_id or g.community == scope.community_id]
    communities = [c for c in config.communities if any(g.community == c.id for g in grids)]
    return {"communities": [(c.id, c.name) for c in communities], "grids": [(g.id, g.name) for g in grids],
            "categories": [(c.id, c.name) for c in config.categories]}


def row(request: web.Request, ticket: Ticket, now: datetime) -> dict[str, Any]:
    services = request.app[WORKPLACE].app.services
    config, t = services.config, services.texts.t
    grid, category = config.grid(ticket.grid_id), config.category(ticket.category_id)
    due = ticket.ack_due_at if ticket.status in DUE_STATES["ack"] else (
        ticket.resolve_due_at if ticket.status in DUE_STATES["resolve"] else None)
    return {"id": ticket.id, "status": ticket.status.value, "status_name": t(f"status_{ticket.status.value}"),
            "category": category.name if category else ticket.category_id,
            "grid": grid.name if grid else ticket.grid_id, "address": ticket.address,
            "created": when(request, ticket.created_at), "due": when(request, due),
            "overdue": due is not None and due < now, "level": level_name(request, ticket.escalation_level)}


async def _board(request: web.Request) -> dict[str, Any]:
    app = request.app[WORKPLACE].app
    staff: Staff = request[STAFF]
    scope = scope_of(app.services.config, staff.person)
    board = parse_filter(dict(request.query), app.services.timezone)
    now = app.clock.now()
    async with app.db.read() as conn:
        found = await board_tickets(conn, scope, board, now)
        counts = await state_counts(conn, scope, board, now)
    query = {key: request.query.get(key, "") for key in FILTER_KEYS}
    return {"rows": [row(request, ticket, now) for ticket in found], "counts": counts, "query": query,
            "query_string": request.query_string, "statuses": [s.value for s in TicketStatus],
            "refresh": REFRESH_SECONDS, "updated": when(request, now), **_choices(request, scope)}


async def board_page(request: web.Request) -> web.Response:
    return render(request, "board.html", await _board(request))


async def board_rows(request: web.Request) -> web.Response:
    """The rows and counts alone, for htmx's polling."""
    return render(request, "board_rows.html", await _board(request))
