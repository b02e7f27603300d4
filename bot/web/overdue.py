"""The overdue board (预警/吹哨): open tickets about to miss their deadline and those that missed
it, each 吹哨 with the level it reached, and a count per grid; in the person's scope only."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from aiohttp import web

from bot.web.board import row
from bot.web.keys import STAFF, WORKPLACE, Staff
from bot.web.views import level_name, render, when
from handlers.staff_scope import scope_of
from storage.staff_board import escalations, open_due

SOON = timedelta(hours=4)  # "about to miss": due within this time


async def overdue_page(request: web.Request) -> web.Response:
    app = request.app[WORKPLACE].app
    staff: Staff = request[STAFF]
    config, t = app.services.config, app.services.texts.t
    scope = scope_of(config, staff.person)
    now = app.clock.now()
    async with app.db.read() as conn:
        due = await open_due(conn, scope, now + SOON)
        whistles = await escalations(conn, scope)
    rows = [(ticket.grid_id, row(request, ticket, now)) for ticket in due]
    missed = [shown for _, shown in rows if shown["overdue"]]
    soon = [shown for _, shown in rows if not shown["overdue"]]
    names = {g.id: g.name for g in config.grids}
    soon_per_grid = Counter(grid for grid, shown in rows if not shown["overdue"])
    missed_per_grid = Counter(grid for grid, shown in rows if shown["overdue"])
    grids = [{"name": names.get(grid, grid), "soon": soon_per_grid[grid], "missed": missed_per_grid[grid]}
             for grid in sorted({grid for grid, _ in rows})]
    shown_whistles = [{"id": w.ticket_id, "at": when(request, w.at), "grid": names.get(w.grid_id, w.grid_id),
                       "kind": t(f"web_whistle_{w.action}"), "deadline": t(f"web_deadline_{w.deadline}")
                       if w.deadline in ("ack", "resolve") else "",
                       "level": level_name(request, w.level)}
                      for w in whistles]
    return render(request, "overdue.html", {"missed": missed, "soon": soon, "grids": grids,
                                            "whistles": shown_whistles, "soon_hours": int(SOON.total_seconds() // 3600),
                                            "updated": when(request, now)})
