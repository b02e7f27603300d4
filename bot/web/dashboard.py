"""The 三率 dashboard (/staff/dashboard): the rates of a scope and period with their counts, a
trend by month, the grids ranked (small samples apart), response and resolution times, the
不满意 reasons and the overdue tickets per level. Every number comes from handlers/dashboard.py,
that is from storage/stats.py, as /stats and `fengshan-bot stats` do, and is printed with their
wording (handlers/stats.py). A GET form chooses scope and period; the numbers are HTML tables
(the page works without JavaScript) and dashboard.js draws the charts from a JSON block."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from aiohttp import web

from bot.web.keys import STAFF, WORKPLACE, Staff
from bot.web.views import level_name, message_page, quoted, render, when
from handlers.context import Services
from handlers.dashboard import (
    Dashboard,
    Durations,
    build_dashboard,
    dashboard_scope,
    visible_scopes,
)
from handlers.stats import (
    duration_text,
    parse_period,
    parse_scope,
    percent,
    period_text,
    rate_text,
    scope_text,
)
from storage import periods
from storage.periods import Period
from storage.stats import Rates, Scope

PERIOD_CHOICES = ("week", "month", "quarter", "year", "custom")


def scope_value(scope: Scope) -> str:
    """A scope as the form's value: a grid id, a community id or all."""
    return scope.grid_id or scope.community_id or "all"


def _period(query: dict[str, str], services: Services, now: Any) -> Period | None:
    """The chosen period: week / month / quarter / year (the current one), any word /stats takes
    (上月, 2026-10, 2026), or custom with from and to (YYYY-MM-DD); None when it does not parse."""
    tz = services.timezone
    chosen = query.get("period", "month").strip()[:20]
    if chosen != "custom":
        return parse_period(chosen, now, tz)
    try:
        first, last = date.fromisoformat(query.get("from", "")), date.fromisoformat(query.get("to", ""))
        return periods.custom_period(first, last, tz)
    except ValueError:
        return None


def _rate(rates: Rates, which: str) -> tuple[int, int]:
    return {"response": (rates.acknowledged_in_time, rates.response_base),
            "resolution": (rates.resolved_in_time, rates.resolution_base),
            "satisfaction": (rates.satisfied, rates.rated)}[which]


def _percents(rates: Rates) -> dict[str, int | None]:
    """Whole percentages as /stats rounds them, None where there is nothing to divide by."""
    shown: dict[str, int | None] = {}
    for which in ("response", "resolution", "satisfaction"):
        part, whole = _rate(rates, which)
        shown[which] = percent(part, whole) if whole else None
    return shown


def _row(services: Services, name: str, rates: Rates) -> dict[str, Any]:
    return {"name": name, "tickets": rates.tickets, **{
        which: rate_text(services, *_rate(rates, which)) for which in ("response", "resolution", "satisfaction")}}


def _times(services: Services, found: Durations) -> dict[str, Any]:
    def text(delta: timedelta | None) -> str:
        return duration_text(services, delta) if delta is not None else services.texts.t("stats_no_data")
    return {"count": found.count, "median": text(found.median), "p90": text(found.p90)}


def _context(request: web.Request, board: Dashboard, choices: list[Scope], query: dict[str, str]) -> dict[str, Any]:
    services = request.app[WORKPLACE].app.services
    config = services.config

    def grid_name(grid_id: str) -> str:
        grid = config.grid(grid_id)
        return f"{grid_id} {grid.name}" if grid else grid_id

    trend = [{**_row(services, period_text(services, month), rates), "percents": _percents(rates)}
             for month, rates in board.trend]
    ranked = [{**_row(services, grid_name(row.key), row.rates), "percents": _percents(row.rates)}
              for row in board.ranked]
    chart = {"labels": [m["name"] for m in trend],
             "series": {which: [m["percents"][which] for m in trend] for which in ("response", "resolution",
                                                                                    "satisfaction")},
             "grids": {"labels": [g["name"] for g in ranked],
                       "resolution": [g["percents"]["resolution"] for g in ranked]}}
    return {
        "title": services.texts.t("stats_title", scope=scope_text(services, board.scope),
                                  period=period_text(services, board.period), as_of=""),
        "updated": when(request, board.now), "rates": board.rates,
        "summary": _row(services, scope_text(services, board.scope), board.rates),
        "overdue_now": board.overdue_now, "trend": trend, "ranked": ranked,
        "small": [_row(services, grid_name(row.key), row.rates) for row in board.small],
        "quiet_grids": board.quiet_grids, "min_sample": board.min_sample,
        "response_times": _times(services, board.response), "resolution_times": _times(services, board.resolution),
        "reasons": [{"id": r.ticket_id, "at": when(request, r.at), "text": quoted(r.reason)} for r in board.reasons],
        "reasons_total": board.reasons_total, "reasons_blank": board.reasons_blank,
        "levels": [{"name": level_name(request, row.level), "ack": row.ack, "resolve": row.resolve}
                   for row in board.overdue_levels],
        "chart": chart,
        "scopes": [(scope_value(s), scope_text(services, s)) for s in choices],
        "chosen": {"scope": scope_value(board.scope), "period": query.get("period", "month"),
                   "from": query.get("from", ""), "to": query.get("to", "")},
        # A period typed into the address (上月, 2026-10) is offered as it is, first.
        "period_choices": [(p, services.texts.t(f"web_dash_period_{p}")) for p in PERIOD_CHOICES]
        if query.get("period", "month") in PERIOD_CHOICES
        else [(query["period"], period_text(services, board.period)),
              *((p, services.texts.t(f"web_dash_period_{p}")) for p in PERIOD_CHOICES)],
    }


async def dashboard_page(request: web.Request) -> web.Response:
    workplace = request.app[WORKPLACE]
    app, staff = workplace.app, request[STAFF]
    assert isinstance(staff, Staff)
    services, config = app.services, app.services.config
    query = {key: value for key, value in request.query.items()}
    choices = visible_scopes(staff.person, config)
    if not choices:  # responders: their work is by category, which the 三率 do not split
        return message_page(request, "web_dash_unavailable_title", "web_dash_unavailable_body", status=403)
    wanted_text = query.get("scope", "").strip()[:40]
    wanted = parse_scope(config, wanted_text) if wanted_text else None
    scope = dashboard_scope(staff.person, wanted, config) if wanted_text == "" or wanted is not None else None
    if scope is None:  # another area, or one that does not exist: as a missing page
        return message_page(request, "web_dash_no_scope_title", "web_dash_no_scope_body", status=404)
    now = app.clock.now()
    period = _period(query, services, now)
    if period is None:
        return message_page(request, "web_dash_bad_period_title", "web_dash_bad_period_body", status=400)
    async with app.db.transaction() as conn:  # a write: the rates first fold new events in
        board = await build_dashboard(conn, services, now, scope, period, app.config.stats.min_sample)
    return render(request, "dashboard.html", _context(request, board, choices, query))

