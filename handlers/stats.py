"""/stats: the 三率 for staff (the weekly digest is in handlers/digest.py).

Who may read the figures (checked here, server-side):
- 街道管理员 (Role.ADMIN): any scope — the subdistrict, any community, any grid.
- 社区工作人员 (Role.STAFF): their own community and its grids; a bare /stats shows their
  community. Another community or a grid outside it is refused.
- Everyone else (residents, grid leaders, guides, workers, responders): a polite refusal and
  no figures at all.

Arguments, in any order: a scope (a grid id like G07, a community id like longchi or its name
龙池 / 龙池社区, or 街道 / all) and a period (day / week / month / quarter / year, 今天 / 本周 /
本月 / 本季度 / 今年 and the ones before, 昨天 / 上周 / 上月 / 上季度 / 去年; 2026-10 for a month,
2026 for a year), in the subdistrict's local calendar. Staff also type them after 统计 or 三率
(「统计 上月」, routed in handlers/router.py). A word that looks like a mistyped period is
answered with the period forms. Defaults: this month, the caller's widest scope.
How the rates are counted is documented in storage/stats.py.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from handlers.context import Context, Services
from handlers.domain.model import Config, Role
from handlers.formatting import local_time
from handlers.stats_args import (  # noqa: F401 (parse_* and typed_arguments: imported from here too)
    StatsRequest,
    parse_period,
    parse_request,
    parse_scope,
    typed_arguments,
)
from storage import rate_reads, stats
from storage.accounts import PersonRow
from storage.engine import Connection
from storage.stats import (
    SUBDISTRICT,
    CategoryHours,
    GroupRates,
    Period,
    Rates,
    Scope,
)


def category_hours(config: Config) -> CategoryHours:
    """The deadlines the rates are judged by: each category's hours as configured now."""
    return {c.id: (c.ack_hours, c.resolve_hours) for c in config.categories}


# ---------------------------------------------------------------------------------------------
# Texts


def percent(part: int, whole: int) -> int:
    """part/whole as a whole percentage, halves rounded up (2/3 → 67, 1/8 → 13)."""
    return (part * 200 + whole) // (2 * whole)


def rate_text(services: Services, part: int, whole: int) -> str:
    """「90%（9/10）」, or 「—」 when there is nothing to divide by."""
    t = services.texts.t
    if whole == 0:
        return t("stats_no_data")
    return t("stats_rate", percent=percent(part, whole), part=part, whole=whole)


def duration_text(services: Services, delta: timedelta) -> str:
    t = services.texts.t
    minutes = max(int(delta.total_seconds() // 60), 1)
    if minutes < 60:
        return t("duration_minutes", minutes=minutes)
    hours = minutes // 60
    if hours < 24:
        return t("duration_hours", hours=hours)
    days, hours = divmod(hours, 24)
    return t("duration_days", days=days) if hours == 0 else t("duration_days_hours", days=days, hours=hours)


def _date(services: Services, moment: datetime) -> str:
    return services.texts.t("stats_date", month=moment.month, day=moment.day)


def period_text(services: Services, period: Period) -> str:
    t, start = services.texts.t, period.start
    if period.kind == "day":
        return t("stats_period_day", year=start.year, month=start.month, day=start.day)
    if period.kind == "week":
        return t("stats_period_week", start=_date(services, start),
                 end=_date(services, period.end - timedelta(days=1)))
    if period.kind == "month":
        return t("stats_period_month", year=start.year, month=start.month)
    if period.kind == "quarter":
        return t("stats_period_quarter", year=start.year, quarter=(start.month - 1) // 3 + 1)
    if period.kind == "custom":
        last = period.end - timedelta(days=1)
        return t("stats_period_custom", start=t("stats_day", year=start.year, month=start.month, day=start.day),
                 end=t("stats_day", year=last.year, month=last.month, day=last.day))
    return t("stats_period_year", year=start.year)


def grid_label(services: Services, grid_id: str) -> str:
    grid = services.config.grid(grid_id)
    return services.texts.t("stats_grid", id=grid_id, name=grid.name) if grid else grid_id


def community_label(services: Services, community_id: str) -> str:
    community = services.config.community(community_id)
    return community.name if community else community_id


def scope_text(services: Services, scope: Scope) -> str:
    if scope.grid_id is not None:
        return grid_label(services, scope.grid_id)
    if scope.community_id is not None:
        return community_label(services, scope.community_id)
    return services.config.subdistrict.name


def rates_lines(services: Services, rates: Rates) -> list[str]:
    t = services.texts.t
    head = t("stats_tickets", count=rates.tickets)
    if rates.withdrawn:
        head += t("stats_withdrawn", count=rates.withdrawn)
    return [
        head,
        t("stats_response", rate=rate_text(services, rates.acknowledged_in_time, rates.response_base)),
        t("stats_resolution", rate=rate_text(services, rates.resolved_in_time, rates.resolution_base)),
        t("stats_satisfaction", rate=rate_text(services, rates.satisfied, rates.rated)),
        # What still has time is not judged yet: counted apart, only when there is some.
        *([t("stats_pending", count=rates.pending)] if rates.pending else []),
    ]


def row_line(services: Services, name: str, rates: Rates) -> str:
    t = services.texts.t
    if rates.tickets == 0:
        return t("stats_row_empty", name=name)
    return t("stats_row", name=name, count=rates.tickets,
             response=rate_text(services, rates.acknowledged_in_time, rates.response_base),
             resolution=rate_text(services, rates.resolved_in_time, rates.resolution_base),
             satisfaction=rate_text(services, rates.satisfied, rates.rated))


def community_rows(services: Services, rows: list[GroupRates]) -> list[str]:
    """Every configured community in config order (an empty one says so), then any unknown id."""
    found = {row.key: row.rates for row in rows}
    known = [c.id for c in services.config.communities]
    order = known + [key for key in found if key not in known]
    return [row_line(services, community_label(services, key), found.get(key, Rates())) for key in order]


def _grid_rows(services: Services, community_id: str, rows: list[GroupRates]) -> list[str]:
    """The grids of a community that have tickets; the others are only counted."""
    lines = [row_line(services, grid_label(services, row.key), row.rates) for row in rows if row.rates.tickets]
    quiet = sum(1 for g in services.config.grids
                if g.community == community_id and g.id not in {r.key for r in rows if r.rates.tickets})
    if quiet:
        lines.append(services.texts.t("stats_other_grids_empty", count=quiet))
    return lines


async def stats_text(
    conn: Connection, services: Services, now: datetime, scope: Scope, period: Period
) -> str:
    """The /stats answer: the scope's three rates, current overdue count, and a breakdown."""
    t, hours = services.texts.t, category_hours(services.config)
    as_of = t("stats_as_of", at=local_time(now, services.timezone)) if period.contains(now) else ""
    lines = [t("stats_title", scope=scope_text(services, scope), period=period_text(services, period),
               as_of=as_of)]
    # One read: the scope's own counts are the sum of the breakdown shown under them.
    communities = grids = None
    if scope.grid_id is None and scope.community_id is None:
        communities = await rate_reads.community_breakdown(conn, period, scope, hours, now=now)
    elif scope.grid_id is None:
        grids = await rate_reads.grid_breakdown(conn, period, scope, hours, now=now)
    parts = communities if communities is not None else grids
    lines += rates_lines(services, rate_reads.total(parts) if parts is not None
                         else await rate_reads.rates(conn, period, scope, hours, now=now))
    lines.append(t("stats_overdue_now", count=len(await stats.overdue_tickets(conn, now, scope))))
    if communities is not None:
        lines.append(t("stats_by_community"))
        lines += community_rows(services, communities)
    elif grids is not None and scope.community_id is not None:
        lines.append(t("stats_by_grid"))
        lines += _grid_rows(services, scope.community_id, grids)
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# /stats


def allowed_scope(person: PersonRow | None, wanted: Scope | None, config: Config) -> Scope | None:
    """The scope this person may read for what they asked; None when they may not."""
    if person is None:
        return None
    if person.role == Role.ADMIN:
        return wanted or SUBDISTRICT
    if person.role != Role.STAFF or person.community_id is None:
        return None
    own = Scope(community_id=person.community_id)
    if wanted is None or wanted == SUBDISTRICT:
        return own if wanted is None else None
    if wanted.community_id == person.community_id:
        return wanted
    grid = config.grid(wanted.grid_id) if wanted.grid_id else None
    return wanted if grid is not None and grid.community == person.community_id else None


async def handle_stats(ctx: Context, arg: str) -> None:
    """/stats [scope] [period], private chat only (the dispatcher keeps it out of groups)."""
    person = ctx.person
    if person is None or person.role not in (Role.ADMIN, Role.STAFF):
        ctx.say(ctx.t("stats_not_allowed"))
        return
    config = ctx.services.config
    request = parse_request(config, arg, ctx.now)
    if request.bad_period:
        ctx.say(ctx.t("stats_bad_period", text=request.unknown, periods=ctx.t("stats_periods")))
        return
    if request.unknown:
        ctx.say(ctx.t("stats_unknown_arg", text=request.unknown, usage=ctx.t("stats_usage")))
        return
    scope = allowed_scope(person, request.scope, config)
    if scope is None:
        own = community_label(ctx.services, person.community_id or "")
        ctx.say(ctx.t("stats_own_community_only", community=own))
        return
    ctx.say(await stats_text(ctx.conn, ctx.services, ctx.now, scope, request.period))


# ---------------------------------------------------------------------------------------------
# The weekly digest
