"""Exports from the workplace: the board's filtered ticket list and the 三率 table, as CSV or XLSX.

Both are POST forms with the session's CSRF token (the middleware checks it): the board's search
words can be a name or a phone number, so the filter travels in the body, never in a URL, and a
link on another site cannot make an export. The ticket list is the board's own query
(bot/web/board.parse_filter, storage/staff_board's filter and the person's scope from
handlers/staff_scope), read as ids first and then in batches of BATCH tickets, each in its own
short read (a read holds the database's one lock: a long one would stall the channels). The 三率
table may be exported by whoever may read /stats for that scope (handlers/stats.allowed_scope).

Every export is recorded (storage/exports.py) before it is sent; admins see the newest on
/staff/exports.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Sequence
from dataclasses import replace
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web

from bot.web.board import FILTER_KEYS, parse_filter
from bot.web.exports_columns import (
    RATES_HEADER_KEYS,
    Cell,
    rates_cells,
    rates_table,
    ticket_columns,
    ticket_row,
)
from bot.web.exports_write import start, write_csv, write_xlsx
from bot.web.keys import STAFF, WORKPLACE
from bot.web.views import message_page, render, when
from handlers.domain.model import Role
from handlers.formatting import mask_numbers
from handlers.staff_scope import scope_of
from handlers.stats import allowed_scope, parse_period, parse_scope, period_text, scope_text
from storage.exports import ExportFormat, ExportKind, recent_exports, record_export
from storage.staff_board import board_ids, tickets_in_batch

log = logging.getLogger(__name__)

BATCH = 200
EXPORT_LIMIT = 100_000  # the board shows 200; an export takes every matching ticket up to this
# handlers/stats.parse_period's words; each shown by its label web_export_period_<word>.
PERIOD_CHOICES = ("week", "last-week", "month", "last-month", "quarter", "year", "last-year")


def _format(form: Any) -> ExportFormat | None:
    value = form.get("format")
    return ExportFormat(value) if value in ExportFormat.__members__.values() else None


def _stamp_name(request: web.Request) -> str:
    """The local date and time for a file name: 20261130-1305."""
    app = request.app[WORKPLACE].app
    return app.clock.now().astimezone(ZoneInfo(app.services.timezone)).strftime("%Y%m%d-%H%M")


async def export_tickets(request: web.Request) -> web.StreamResponse:
    workplace = request.app[WORKPLACE]
    app, staff = workplace.app, request[STAFF]
    form = await request.post()
    fmt = _format(form)
    if fmt is None:
        return message_page(request, "web_export_bad_title", "web_export_bad_body", status=400)
    values = {key: str(form.get(key, "")) for key in FILTER_KEYS}
    scope = scope_of(app.services.config, staff.person)
    board = replace(parse_filter(values, app.services.timezone), limit=EXPORT_LIMIT)
    now = app.clock.now()
    async with app.db.read() as conn:
        ids = await board_ids(conn, scope, board, now)
    # The search words may hold a phone number: the record keeps them masked, like a log would.
    recorded = {key: mask_numbers(value) if key == "q" else value for key, value in values.items() if value}
    async with app.db.transaction() as conn:
        await record_export(conn, staff.person.id, now, ExportKind.TICKETS, fmt, recorded, len(ids))
    log.info("export: tickets as %s, %d rows, by %s", fmt.value, len(ids), staff.person.id)
    columns = ticket_columns(staff.person.role)
    t = app.services.texts.t

    async def batches() -> AsyncIterator[Sequence[Sequence[Cell]]]:
        for first in range(0, len(ids), BATCH):
            async with app.db.read() as conn:
                found = await tickets_in_batch(conn, scope, ids[first:first + BATCH])
            yield [ticket_row(request, columns, ticket, now) for ticket in found]

    header = [t(column.header_key) for column in columns]
    stamp = _stamp_name(request)
    return await _send(request, fmt, f"tickets-{stamp}", t("web_export_file_tickets", at=stamp),
                       t("web_export_sheet_tickets"), header, batches())


async def export_rates(request: web.Request) -> web.StreamResponse:
    workplace = request.app[WORKPLACE]
    app, staff = workplace.app, request[STAFF]
    config, t = app.services.config, app.services.texts.t
    form = await request.post()
    fmt = _format(form)
    wanted_text = str(form.get("scope", "")).strip()
    # A month picked (2026-10) wins over the list's period; neither: this month, as /stats.
    period_word = str(form.get("month", "")).strip() or str(form.get("period", "")).strip() or "month"
    wanted = parse_scope(config, wanted_text) if wanted_text else None
    period = parse_period(period_word, app.clock.now(), app.services.timezone)
    if fmt is None or period is None or (wanted_text and wanted is None):
        return message_page(request, "web_export_bad_title", "web_export_bad_body", status=400)
    scope = allowed_scope(staff.person, wanted, config)
    if scope is None:
        return message_page(request, "web_export_denied_title", "web_export_denied_body", status=403)
    async with app.db.transaction() as conn:  # the rates fold new events into their facts table
        rows = await rates_table(conn, request, period, scope)
        await record_export(conn, staff.person.id, app.clock.now(), ExportKind.RATES, fmt,
                            {"scope": scope.grid_id or scope.community_id or "subdistrict",
                             "period": period_word[:20], "start": period.start.date().isoformat(),
                             "end": period.end.date().isoformat()}, len(rows))
    log.info("export: rates as %s, %d rows, by %s", fmt.value, len(rows), staff.person.id)

    async def batches() -> AsyncIterator[Sequence[Sequence[Cell]]]:
        yield [rates_cells(request, row) for row in rows]  # a few dozen rows: one batch

    label = f"{scope_text(app.services, scope)}-{period_text(app.services, period)}"
    return await _send(request, fmt, f"rates-{period.start.date().isoformat()}",
                       t("web_export_file_rates", label=label), t("web_export_sheet_rates"),
                       [t(key) for key in RATES_HEADER_KEYS], batches())


async def _send(request: web.Request, fmt: ExportFormat, ascii_stem: str, stem: str, sheet: str,
                header: list[str], batches: AsyncIterator[Sequence[Sequence[Cell]]]) -> web.StreamResponse:
    tiles = request.app[WORKPLACE].http.map_tiles
    response = await start(request, fmt, f"{ascii_stem}.{fmt.value}", f"{stem}.{fmt.value}", tiles)
    if fmt is ExportFormat.CSV:
        await write_csv(response, header, batches)
    else:
        await write_xlsx(response, sheet, header, batches)
    return response


def may_export_rates(role: str) -> bool:
    return role in (Role.ADMIN, Role.STAFF)


async def exports_page(request: web.Request) -> web.Response:
    """The 三率 export form (for those who may read the 三率), a pointer to the board's buttons,
    and for admins the newest exports."""
    app, staff = request.app[WORKPLACE].app, request[STAFF]
    config, t = app.services.config, app.services.texts.t
    person = staff.person
    scopes: list[tuple[str, str]] = []
    if person.role == Role.ADMIN:
        scopes = [("", config.subdistrict.name)] + [(c.id, c.name) for c in config.communities]
        scopes += [(g.id, g.name) for g in config.grids]
    elif person.role == Role.STAFF and person.community_id:
        community = config.community(person.community_id)
        scopes = [("", community.name if community else person.community_id)]
        scopes += [(g.id, g.name) for g in config.grids if g.community == person.community_id]
    records: list[dict[str, Any]] = []
    if person.role == Role.ADMIN:
        names = {p.id: p.name for p, _, _, _ in app.config.all_people()}
        async with app.db.read() as conn:
            found = await recent_exports(conn)
        records = [{"at": when(request, r.at), "who": names.get(r.person_id, r.person_id),
                    "kind": t(f"web_export_kind_{r.kind.value}"), "format": r.format.value.upper(),
                    "filter": "，".join(f"{k}={v}" for k, v in sorted(r.filter.items())), "rows": r.row_count}
                   for r in found]
    return render(request, "exports.html", {
        "may_rates": may_export_rates(person.role), "scopes": scopes, "periods": PERIOD_CHOICES,
        "records": records, "is_admin": person.role == Role.ADMIN})
