"""The workplace's 三率 dashboard, channel-neutral: who may see which scope, and the figures of
one scope and period, every count from storage/stats.py (the one query source of /stats and
`fengshan-bot stats`), the durations counted as the deadlines count time (handlers/domain/
durations.py). bot/web/dashboard.py renders it."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from handlers.context import Services
from handlers.domain.durations import elapsed, percentile
from handlers.domain.model import Config, Role
from handlers.stats import allowed_scope, category_hours
from storage import periods, stats, stats_detail
from storage.accounts import PersonRow
from storage.engine import Connection
from storage.periods import Period
from storage.stats import SUBDISTRICT, GroupRates, Rates, Scope
from storage.stats_detail import UnsatisfiedReason

GRID_ROLES = (Role.LEADER, Role.GUIDE, Role.WORKER)
TREND_MONTHS = 6  # the trend shows at least this many months, ending with the period's last
LEVELS = 4  # escalation levels: grid, guide, community, subdistrict


def dashboard_scope(person: PersonRow, wanted: Scope | None, config: Config) -> Scope | None:
    """What this person may read: /stats's rule (admins anything, community staff their
    community and its grids), and grid people their own grid; None when they may not."""
    if person.role in GRID_ROLES and person.grid_id:
        own = Scope(grid_id=person.grid_id)
        return own if wanted in (None, own) else None
    return allowed_scope(person, wanted, config)


def visible_scopes(person: PersonRow, config: Config) -> list[Scope]:
    """The scopes offered to this person, widest first."""
    every = [SUBDISTRICT, *(Scope(community_id=c.id) for c in config.communities),
             *(Scope(grid_id=g.id) for g in config.grids)]
    return [scope for scope in every if dashboard_scope(person, scope, config) == scope]


@dataclass(frozen=True)
class Durations:
    """Median and 90th percentile of a duration over `count` tickets (None without any)."""

    count: int = 0
    median: timedelta | None = None
    p90: timedelta | None = None


def durations(values: list[timedelta]) -> Durations:
    return Durations(len(values), percentile(values, 0.5), percentile(values, 0.9))


@dataclass(frozen=True)
class OverdueLevel:
    level: int
    ack: int  # 未受理
    resolve: int  # 未办结


@dataclass(frozen=True)
class Dashboard:
    scope: Scope
    period: Period
    now: datetime
    rates: Rates
    overdue_now: int
    trend: tuple[tuple[Period, Rates], ...]
    ranked: tuple[GroupRates, ...]  # grids with at least min_sample tickets, best first
    small: tuple[GroupRates, ...]  # grids with tickets, fewer than min_sample: 样本不足
    quiet_grids: int  # grids of the scope without a ticket in the period
    min_sample: int
    response: Durations
    resolution: Durations
    reasons: tuple[UnsatisfiedReason, ...]
    overdue_levels: tuple[OverdueLevel, ...]


def _rank_key(row: GroupRates) -> tuple[float, float, float, str]:
    """Best first: 办结率, then 响应率, then 满意率 (a rate with no base counts as lowest)."""
    r = row.rates
    return (-(r.resolution_rate if r.resolution_rate is not None else -1),
            -(r.response_rate if r.response_rate is not None else -1),
            -(r.satisfaction_rate if r.satisfaction_rate is not None else -1), row.key)


def _grids_of(config: Config, scope: Scope) -> list[str]:
    if scope.grid_id is not None:
        return [scope.grid_id]
    return [g.id for g in config.grids if scope.community_id in (None, g.community)]


async def build_dashboard(conn: Connection, services: Services, now: datetime, scope: Scope, period: Period,
                          min_sample: int) -> Dashboard:
    config, hours = services.config, category_hours(services.config)
    rates = await stats.rates(conn, period, scope, hours, now=now)
    trend = [(month, await stats.rates(conn, month, scope, hours, now=now))
             for month in periods.months_of(period, services.timezone, TREND_MONTHS)]
    grids = [row for row in await stats.grid_breakdown(conn, period, scope, hours, now=now) if row.rates.tickets]
    ranked = sorted((row for row in grids if row.rates.tickets >= min_sample), key=_rank_key)
    small = [row for row in grids if row.rates.tickets < min_sample]
    times = await stats_detail.ticket_times(conn, period, scope, hours, now=now)
    categories = {c.id: c for c in config.categories}
    response = [elapsed(config, categories.get(t.category_id), t.created_at, t.responded_at)
                for t in times if t.responded_at is not None]
    resolution = [elapsed(config, categories.get(t.category_id), t.created_at, t.done_at)
                  for t in times if t.done_at is not None]
    overdue = await stats.overdue_tickets(conn, now, scope)
    missed = Counter((min(t.level, LEVELS - 1), t.missed) for t in overdue)
    return Dashboard(
        scope=scope, period=period, now=now, rates=rates, overdue_now=len(overdue), trend=tuple(trend),
        ranked=tuple(ranked), small=tuple(small),
        quiet_grids=len(set(_grids_of(config, scope)) - {row.key for row in grids}), min_sample=min_sample,
        response=durations(response), resolution=durations(resolution),
        reasons=tuple(await stats_detail.unsatisfied_reasons(conn, period, scope)),
        overdue_levels=tuple(OverdueLevel(level, missed[(level, "ack")], missed[(level, "resolve")])
                             for level in range(LEVELS)))
