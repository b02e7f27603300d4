"""The workplace's 三率 dashboard, channel-neutral: who may see which scope, and the figures of
one scope and period, every count from storage/stats.py (the one query source of /stats and
`fengshan-bot stats`), the durations counted as the deadlines count time (handlers/domain/
durations.py). bot/web/dashboard.py renders it."""

from __future__ import annotations

import math
from bisect import bisect_left
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from handlers.context import Services
from handlers.domain.durations import elapsed, kth_smallest, percentile
from handlers.domain.model import Config, Role
from handlers.stats import allowed_scope, category_hours
from storage import periods, stats, stats_marks
from storage.accounts import PersonRow
from storage.engine import Connection
from storage.periods import Period
from storage.stats import SUBDISTRICT, GroupRates, Rates, Scope
from storage.stats_detail import UnsatisfiedReason

GRID_ROLES = (Role.LEADER, Role.GUIDE, Role.WORKER)
TREND_MONTHS = 6  # the trend shows at least this many months, ending with the period's last
LEVELS = 4  # escalation levels: grid, guide, community, subdistrict
REASONS_SHOWN = 20  # the newest 不满意 reasons listed (all are counted)


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
    reasons: tuple[UnsatisfiedReason, ...]  # the newest REASONS_SHOWN
    reasons_total: int  # every 不满意 given on the period's tickets
    reasons_blank: int  # of those, without a reason (跳过)
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


def _whole_months(period: Period, months: list[Period]) -> list[int] | None:
    """The indexes of `months` that make up `period` exactly, or None when it cuts a month."""
    inside = [i for i, m in enumerate(months) if period.start <= m.start and m.end <= period.end]
    if inside and months[inside[0]].start == period.start and months[inside[-1]].end == period.end:
        return inside
    return None


async def write_work_at_start(conn: Connection, config: Config) -> int:
    """At start, before anything is served: the fold, and the office-hours durations it leaves to
    write. After an upgrade (migration 0030) or a change of office hours that is every row of the
    working-time categories, seconds at a million tickets: paid here once rather than by the first
    dashboard request. Returns the rows written."""
    await stats_marks.refresh_facts(conn)
    return await _write_work(conn, config)


async def _write_work(conn: Connection, config: Config) -> int:
    """Durations in office hours for the working-time categories' rows the fold changed (storage
    cannot count working time: the calendar is config's; another calendar, or a category that
    starts or stops counting office hours, writes all their rows again). Returns the rows written."""
    working = frozenset(c.id for c in config.categories if c.working_hours)
    calendar = repr((config.working_time, config.subdistrict.timezone))
    categories = {c.id: c for c in config.categories}
    us = timedelta(microseconds=1)
    written = [(row.ticket_id,
                elapsed(config, categories.get(row.category_id), row.created_at, row.responded_at) // us
                if row.responded_at else None,
                elapsed(config, categories.get(row.category_id), row.created_at, row.done_at) // us
                if row.done_at else None)
               for row in await stats_marks.work_due(conn, calendar, working)]
    await stats_marks.write_work(conn, written)
    return len(written)


async def _durations(conn: Connection, period: Period, scope: Scope, column: stats_marks.Span, extra: list[int]) -> Durations:
    """durations() of the stored durations (µs) of `column` and the `extra` ones: the ranks are
    found among whole seconds (each month's ascending run, read as one text), then only the
    values within the seconds found are read exactly."""
    extra.sort()
    second = stats_marks.SECOND
    runs = [*await stats_marks.span_seconds(conn, period, scope, column), [v // second for v in extra]]
    count = sum(len(run) for run in runs)
    if not count:
        return Durations()
    exact: dict[int, list[int]] = {}

    async def kth(k: int) -> int:
        at = kth_smallest(runs, k)  # the second holding the k-th value; `before` values lie below it
        before = sum(bisect_left(run, at) for run in runs)
        if at not in exact:
            exact[at] = sorted([*await stats_marks.spans_within(conn, period, scope, column, at),
                                *(v for v in extra if v // second == at)])
        return exact[at][k - before]

    async def percentile(fraction: float) -> timedelta:
        # durations.percentile's interpolation, between the same two values.
        position = (count - 1) * fraction
        below, above = math.floor(position), math.ceil(position)
        low, high = timedelta(microseconds=await kth(below)), timedelta(microseconds=await kth(above))
        return low + (high - low) * (position - below)

    return Durations(count, await percentile(0.5), await percentile(0.9))


async def build_dashboard(conn: Connection, services: Services, now: datetime, scope: Scope, period: Period,
                          min_sample: int) -> Dashboard:
    """Every figure from the stored judgement (storage/stats_marks.py): the trend one read over
    its months grouped by (month, grid), the period's grids the sum of its months (or one read
    when it cuts a month), its counts the sum of its grids; the percentiles of the durations
    ranked among whole seconds, then read exactly (_durations)."""
    config, hours = services.config, category_hours(services.config)
    await stats_marks.refresh_facts(conn)
    await _write_work(conn, config)
    months = periods.months_of(period, services.timezone, TREND_MONTHS)
    per_month = await stats_marks.monthly_grid_rates(conn, months, scope, hours, now=now)
    trend = [(month, stats_marks.total(list(found.values()))) for month, found in zip(months, per_month, strict=True)]
    inside = _whole_months(period, months)
    if inside is None:
        by_grid = await stats_marks.grid_rates(conn, period, scope, hours, now=now)
    else:
        by_grid = {}
        for i in inside:
            for key, counts in per_month[i].items():
                by_grid[key] = stats_marks.total([by_grid.get(key, Rates()), counts])
    rates = stats_marks.total(list(by_grid.values()))
    grids = [GroupRates(key, by_grid[key]) for key in sorted(by_grid) if by_grid[key].tickets]
    ranked = sorted((row for row in grids if row.rates.tickets >= min_sample), key=_rank_key)
    small = [row for row in grids if row.rates.tickets < min_sample]
    legacy = await stats_marks.legacy_times(conn, period, scope, hours, now=now)
    categories = {c.id: c for c in config.categories}
    us = timedelta(microseconds=1)
    response = await _durations(conn, period, scope, stats_marks.Span.RESPONSE, [
        elapsed(config, categories.get(t.category_id), t.created_at, t.responded_at) // us
        for t in legacy if t.responded_at])
    resolution = await _durations(conn, period, scope, stats_marks.Span.RESOLUTION, [
        elapsed(config, categories.get(t.category_id), t.created_at, t.done_at) // us for t in legacy if t.done_at])
    reasons = await stats_marks.unsatisfied_reasons(conn, period, scope, REASONS_SHOWN)
    overdue = await stats.overdue_tickets(conn, now, scope)
    missed = Counter((min(t.level, LEVELS - 1), t.missed) for t in overdue)
    return Dashboard(
        scope=scope, period=period, now=now, rates=rates, overdue_now=len(overdue), trend=tuple(trend),
        ranked=tuple(ranked), small=tuple(small),
        quiet_grids=len(set(_grids_of(config, scope)) - {row.key for row in grids}), min_sample=min_sample,
        response=response, resolution=resolution,
        reasons=tuple(stats_marks.reason(row) for row in reasons.newest), reasons_total=reasons.total,
        reasons_blank=reasons.blank,
        overdue_levels=tuple(OverdueLevel(level, missed[(level, "ack")], missed[(level, "resolve")])
                             for level in range(LEVELS)))
