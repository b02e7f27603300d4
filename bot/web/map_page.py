"""The grid map (/staff/map): each grid of the person's scope drawn from its outline
(grids[].boundary) and coloured by its open and overdue tickets, labelled with the counts (so it
reads without colour), and the open tickets that carry a location as pins that open the ticket.

The page holds the legend and the grids without an outline (with their counts); the map itself
is drawn by static/map-grids.js from /staff/map/data (the CSP allows no inline script). Tiles
only when http.map_tiles is set: without them the outlines are drawn on a blank map and nothing
is fetched from elsewhere. A pin carries what the board shows (number, category, state), never
the resident's name, phone or words."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from bot.web.keys import STAFF, WORKPLACE, Staff
from bot.web.views import render
from handlers.domain.model import Config, Grid
from handlers.staff_scope import scope_of
from storage.map_reads import GridLoad, grid_loads, located_tickets
from storage.staff_board import TicketScope

DATA_PATH = "/staff/map/data"


def grids_in_scope(config: Config, scope: TicketScope) -> list[Grid]:
    """The grids whose tickets the person may see: all, their grid, their community's, or for a
    responder the communities they answer in (every grid when they answer everywhere)."""
    if scope.everything:
        return list(config.grids)
    if scope.grid_id is not None:
        return [g for g in config.grids if g.id == scope.grid_id]
    if scope.community_id is not None:
        return [g for g in config.grids if g.community == scope.community_id]
    communities = {community for _, community in scope.responder_of}
    if None in communities:
        return list(config.grids)
    return [g for g in config.grids if g.community in communities]


def _state(load: GridLoad) -> str:
    return "overdue" if load.overdue else "open" if load.open else "clear"


async def map_data(request: web.Request) -> dict[str, Any]:
    """The grids of the person's scope with their counts and outlines, and the pins."""
    app = request.app[WORKPLACE].app
    staff: Staff = request[STAFF]
    config, t = app.services.config, app.services.texts.t
    scope = scope_of(config, staff.person)
    now = app.clock.now()
    grids = grids_in_scope(config, scope)
    async with app.db.read() as conn:
        loads = await grid_loads(conn, scope, now) if grids else {}
        pins = await located_tickets(conn, scope, now)
    shown = []
    for grid in grids:
        load = loads.get(grid.id, GridLoad())
        counts = {"id": grid.id, "name": grid.name, "open": load.open, "overdue": load.overdue}
        shown.append({**counts, "state": _state(load),
                      "label": t("web_map_label" if load.open else "web_map_label_clear", **counts),
                      "short": t("web_map_label_short", **counts) if load.open else grid.id,
                      "boundary": grid.boundary.geojson() if grid.boundary else None})
    pin_rows = []
    for pin in pins:
        category = config.category(pin.category_id)
        fields = {"id": pin.ticket_id, "category": category.name if category else pin.category_id,
                  "status": t(f"status_{pin.status.value}")}
        pin_rows.append({"id": pin.ticket_id, "lat": pin.latitude, "lon": pin.longitude, "overdue": pin.overdue,
                         "title": t("web_map_pin_overdue" if pin.overdue else "web_map_pin", **fields),
                         "url": f"/staff/tickets/{pin.ticket_id}"})
    return {"grids": shown, "pins": pin_rows}


async def map_page(request: web.Request) -> web.Response:
    data = await map_data(request)
    grids = data["grids"]
    http = request.app[WORKPLACE].http
    return render(request, "map.html", {
        "grids": grids, "unbounded": [g for g in grids if g["boundary"] is None],
        "drawn": any(g["boundary"] for g in grids) or bool(data["pins"]), "pins": len(data["pins"]),
        "open": sum(g["open"] for g in grids), "overdue": sum(g["overdue"] for g in grids),
        "data_path": DATA_PATH, "tiles": http.map_tiles, "attribution": http.map_attribution})


async def map_json(request: web.Request) -> web.Response:
    return web.json_response(await map_data(request))
