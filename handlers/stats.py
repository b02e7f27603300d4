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

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta

from handlers.context import Context, Services
from handlers.domain.model import Config, Role
from handlers.formatting import local_time
from storage import periods, stats
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

# A period word: the kind, and whether it is the current one (本月) or the one before (上月).
_PERIOD_WORDS: dict[str, tuple[periods.PeriodKind, bool]] = {
    "day": ("day", False), "today": ("day", False), "今天": ("day", False), "今日": ("day", False),
    "昨天": ("day", True), "yesterday": ("day", True),
    "week": ("week", False), "本周": ("week", False), "这周": ("week", False),
    "上周": ("week", True), "last-week": ("week", True),
    "month": ("month", False), "本月": ("month", False), "这个月": ("month", False),
    "上月": ("month", True), "上个月": ("month", True), "last-month": ("month", True),
    "quarter": ("quarter", False), "本季度": ("quarter", False), "上季度": ("quarter", True),
    "year": ("year", False), "今年": ("year", False), "本年": ("year", False),
    "去年": ("year", True), "last-year": ("year", True),
}
_SUBDISTRICT_WORDS = {"all", "subdistrict", "街道", "全街道"}
# 2026-10, 2026/10, 2026.10, 2026年10月 (a month); 2026, 2026年 (a year).
_MONTH = re.compile(r"^(\d{4})(?:[-/.]|年)(\d{1,2})月?$")
_YEAR = re.compile(r"^(\d{4})年?$")
# What a mistyped period looks like (「2026-13」「上上月」「11月份」), so the answer lists the
# period forms rather than saying no grid or community has that name.
_PERIODISH = re.compile(r"[周月年季天日]|^[\d\-/.]+$")


def category_hours(config: Config) -> CategoryHours:
    """The deadlines the rates are judged by: each category's hours as configured now."""
    return {c.id: (c.ack_hours, c.resolve_hours) for c in config.categories}


def parse_scope(config: Config, text: str) -> Scope | None:
    """A grid id, a community id or name, or a word for the whole subdistrict; else None."""
    word = text.strip()
    if word.lower() in _SUBDISTRICT_WORDS or word == config.subdistrict.name:
        return SUBDISTRICT
    grid = config.grid(word.upper())
    if grid is not None:
        return Scope(grid_id=grid.id)
    for community in config.communities:
        if word.lower() == community.id.lower() or word in (community.name, community.name.removesuffix("社区")):
            return Scope(community_id=community.id)
    return None


def parse_period(text: str, now: datetime, tz: str) -> Period | None:
    """day / week / month / quarter / year (今天 本周 本月 本季度 今年, and 昨天 上周 上月 上季度
    去年 for the one before), 2026-10 (or 2026年10月), 2026; else None. Local calendar."""
    word = unicodedata.normalize("NFKC", text).strip().lower()
    if word in _PERIOD_WORDS:
        kind, before = _PERIOD_WORDS[word]
        return periods.previous(kind, now, tz) if before else periods.period_for(kind, now, tz)
    month = _MONTH.match(word)
    if month and 1 <= int(month.group(2)) <= 12 and int(month.group(1)) >= 2000:
        return periods.month_period(int(month.group(1)), int(month.group(2)), tz)
    year = _YEAR.match(word)
    if year and int(year.group(1)) >= 2000:
        return periods.year_period(int(year.group(1)), tz)
    return None


# 「统计 上月」「三率：G07 2026-10」 (the word, a separator, /stats's arguments) or 「统计上月」 (a
# period glued on: 「统计一下人数」 is not one).
_TYPED = re.compile(r"(?:三率统计|统计|三率)(?:(?:\s+|\s*[：:，,]\s*)(?P<arg>\S.*)|(?P<glued>\S+))", re.DOTALL)


def typed_arguments(ctx: Context) -> str | None:
    """The /stats arguments in a typed 「统计 …」 message; None if it is not one."""
    found = _TYPED.fullmatch(ctx.incoming.text.strip())
    if found is None:
        return None
    if found["arg"] is not None:
        return found["arg"]
    glued = found["glued"]
    return glued if parse_period(glued, ctx.now, ctx.services.config.subdistrict.timezone) else None


@dataclass(frozen=True)
class StatsRequest:
    scope: Scope | None  # None: the caller's default
    period: Period
    unknown: str = ""  # the first argument that was neither a scope nor a period

    @property
    def bad_period(self) -> bool:
        """The unknown argument looks like a mistyped period, not a grid or community."""
        return bool(self.unknown) and _PERIODISH.search(self.unknown) is not None


def parse_request(config: Config, arg: str, now: datetime) -> StatsRequest:
    tz = config.subdistrict.timezone
    scope: Scope | None = None
    period: Period | None = None
    for word in arg.split():
        found_period = parse_period(word, now, tz) if period is None else None
        found_scope = parse_scope(config, word) if scope is None and found_period is None else None
        if found_period is not None:
            period = found_period
        elif found_scope is not None:
            scope = found_scope
        else:
            return StatsRequest(scope, period or periods.period_for("month", now, tz), word[:20])
    return StatsRequest(scope, period or periods.period_for("month", now, tz))


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
    lines += rates_lines(services, await stats.rates(conn, period, scope, hours, now=now))
    lines.append(t("stats_overdue_now", count=len(await stats.overdue_tickets(conn, now, scope))))
    if scope.grid_id is None and scope.community_id is None:
        lines.append(t("stats_by_community"))
        lines += community_rows(services, await stats.community_breakdown(conn, period, scope, hours, now=now))
    elif scope.grid_id is None and scope.community_id is not None:
        lines.append(t("stats_by_grid"))
        lines += _grid_rows(services, scope.community_id,
                            await stats.grid_breakdown(conn, period, scope, hours, now=now))
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
