"""What an export holds: the columns of the ticket list per role, and the rows of the 三率 table.

Personal columns follow the chat's rule for the resident's phone (handlers/cards.py, README
"Full phone numbers: only the ticket's handlers"): in full only for the people a ticket is routed
to — the levels of handlers/routing.people_at_level: the grid's leader and the category's
responders, the grid guide, community staff, subdistrict admins. A grid worker is never routed a
ticket: like a list in chat, their export has the phone masked and no flat or location. The
description is in every export as a list in chat shows it to every staff member: quoted, with
mobile and ID numbers masked (bot/web/views.quoted). No page shows a resident's name (tickets keep
none), so no export has one.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from aiohttp import web

from bot.web.exports_write import Cell
from bot.web.keys import WORKPLACE
from bot.web.views import level_name, quoted, when
from handlers.domain.model import Role
from handlers.formatting import mask_phone
from handlers.stats import category_hours, percent
from storage import rate_reads
from storage.engine import Connection
from storage.periods import Period
from storage.staff_board import DUE_STATES
from storage.stats import Rates, Scope
from storage.tickets import Ticket

# The roles handlers/routing.people_at_level routes tickets to (their cards carry the full phone).
ROUTED_ROLES = frozenset({Role.LEADER, Role.RESPONDER, Role.GUIDE, Role.STAFF, Role.ADMIN})

MASKED_PHONE = "web_export_col_phone_masked"  # the others' phone column: routed roles have it in full
RATING_KEYS = {"satisfied": "rate_satisfied", "mostly_satisfied": "rate_mostly", "unsatisfied": "rate_unsatisfied"}


@dataclass(frozen=True)
class Column:
    header_key: str  # in handlers/texts_web.py
    value: Callable[[web.Request, Ticket, datetime], Cell]
    personal: bool = False  # only for ROUTED_ROLES


def _due(ticket: Ticket) -> datetime | None:
    if ticket.status in DUE_STATES["ack"]:
        return ticket.ack_due_at
    return ticket.resolve_due_at if ticket.status in DUE_STATES["resolve"] else None


def _names(request: web.Request, ticket: Ticket) -> tuple[str, str, str]:
    config = request.app[WORKPLACE].app.services.config
    grid, category = config.grid(ticket.grid_id), config.category(ticket.category_id)
    community = config.community(ticket.community_id)
    return (category.name if category else ticket.category_id,
            community.name if community else ticket.community_id, grid.name if grid else ticket.grid_id)


def _t(request: web.Request, key: str) -> str:
    return request.app[WORKPLACE].app.services.texts.t(key)


def _location(ticket: Ticket) -> str:
    return "" if ticket.latitude is None or ticket.longitude is None else f"{ticket.latitude},{ticket.longitude}"


TICKET_COLUMNS: tuple[Column, ...] = (
    Column("web_col_id", lambda r, t, now: t.id),
    Column("web_col_status", lambda r, t, now: _t(r, f"status_{t.status.value}")),
    Column("web_col_category", lambda r, t, now: _names(r, t)[0]),
    Column("web_field_community", lambda r, t, now: _names(r, t)[1]),
    Column("web_col_grid", lambda r, t, now: _names(r, t)[2]),
    Column("web_col_address", lambda r, t, now: t.address),
    Column("web_export_col_detail", lambda r, t, now: t.detail, personal=True),
    Column("web_field_phone", lambda r, t, now: t.phone, personal=True),
    Column(MASKED_PHONE, lambda r, t, now: mask_phone(t.phone) if t.phone else ""),
    Column("web_field_location", lambda r, t, now: _location(t), personal=True),
    Column("web_field_description", lambda r, t, now: quoted(t.description)),
    Column("web_col_created", lambda r, t, now: when(r, t.created_at)),
    Column("web_field_ack_due", lambda r, t, now: when(r, t.ack_due_at)),
    Column("web_field_resolve_due", lambda r, t, now: when(r, t.resolve_due_at)),
    Column("web_export_col_overdue", lambda r, t, now: _t(r, "web_export_yes") if (
        (due := _due(t)) is not None and due < now) else ""),
    Column("web_field_level", lambda r, t, now: level_name(r, t.escalation_level)),
    Column("web_field_result", lambda r, t, now: quoted(t.result_note)),
    Column("web_field_rating", lambda r, t, now: _t(r, RATING_KEYS[t.rating]) if t.rating in RATING_KEYS else ""),
)


def sees_personal(role: Role) -> bool:
    return role in ROUTED_ROLES


def ticket_columns(role: Role) -> tuple[Column, ...]:
    """The columns this role's export has: the personal ones for the routed roles, and the masked
    phone only for the others (a routed role has the phone in full instead)."""
    if sees_personal(role):
        return tuple(c for c in TICKET_COLUMNS if c.header_key != MASKED_PHONE)
    return tuple(c for c in TICKET_COLUMNS if not c.personal)


def ticket_row(request: web.Request, columns: Sequence[Column], ticket: Ticket, now: datetime) -> list[Cell]:
    return [column.value(request, ticket, now) for column in columns]


# ---------------------------------------------------------------------------------------------
# The 三率 table


@dataclass(frozen=True)
class RatesRow:
    level_key: str  # web_export_level_subdistrict / _community / _grid
    community: str
    grid: str
    rates: Rates


async def rates_table(conn: Connection, request: web.Request, period: Period, scope: Scope) -> list[RatesRow]:
    """The 三率 of `scope` over `period`, then per community and per grid inside it (every
    configured one, an empty one with zeros), as they stand now: storage/rate_reads.py, the
    stored judgement `/stats`, `fengshan-bot stats` and the dashboard read too."""
    bot_app = request.app[WORKPLACE].app
    services, now = bot_app.services, bot_app.clock.now()
    config, hours = services.config, category_hours(services.config)
    grids = await rate_reads.grid_breakdown(conn, period, scope, hours, now=now)
    total = rate_reads.total(grids)  # the grids part the scope: no second read
    per_community = {g.key: g.rates for g in await rate_reads.community_breakdown(conn, period, scope, hours, now=now)}
    per_grid = {g.key: g.rates for g in grids}
    if scope.grid_id is not None:
        grid = config.grid(scope.grid_id)
        community = config.community(grid.community) if grid else None
        return [RatesRow("web_export_level_grid", community.name if community else "",
                         grid.name if grid else scope.grid_id, total)]
    communities = [c for c in config.communities if scope.community_id in (None, c.id)]
    rows = [] if scope.community_id else [RatesRow("web_export_level_subdistrict", "", "", total)]
    for community in communities:
        rows.append(RatesRow("web_export_level_community", community.name, "",
                             per_community.get(community.id, Rates())))
        rows += [RatesRow("web_export_level_grid", community.name, grid.name, per_grid.get(grid.id, Rates()))
                 for grid in config.grids if grid.community == community.id]
    return rows


RATES_HEADER_KEYS = ("web_export_col_level", "web_field_community", "web_col_grid", "web_export_col_tickets",
                     "web_export_col_withdrawn", "web_export_col_pending", "web_export_col_response_base",
                     "web_export_col_ack_in_time", "web_export_col_response", "web_export_col_resolution_base",
                     "web_export_col_resolved_in_time", "web_export_col_resolution", "web_export_col_rated",
                     "web_export_col_satisfied", "web_export_col_satisfaction")


def _rate(part: int, whole: int) -> Cell:
    return percent(part, whole) if whole else None


def rates_cells(request: web.Request, row: RatesRow) -> list[Cell]:
    r = row.rates
    # The denominators are the fair ones (storage/stats.py): what is still inside its window is
    # counted apart (时限内待处理), not as a miss.
    return [_t(request, row.level_key), row.community, row.grid, r.tickets, r.withdrawn, r.pending,
            r.response_base, r.acknowledged_in_time, _rate(r.acknowledged_in_time, r.response_base),
            r.resolution_base, r.resolved_in_time, _rate(r.resolved_in_time, r.resolution_base),
            r.rated, r.satisfied, _rate(r.satisfied, r.rated)]
