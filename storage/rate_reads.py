"""The 三率 counts `/stats`, the weekly digest and the exports show, read from the judgement
stored per ticket (storage/stats_marks.py, migration 0030) rather than by judging every ticket
of the period again (storage/stats.py, which stays the definition and the reference the tests
hold these to). Same signatures and results as stats.rates, stats.grid_breakdown and
stats.community_breakdown; each folds the new events in first, as those do."""

from __future__ import annotations

from datetime import datetime

from storage import stats_marks
from storage.engine import Connection
from storage.periods import Period
from storage.rate_facts import refresh_facts
from storage.stats import SUBDISTRICT, CategoryHours, GroupRates, Rates, Scope


async def rates(conn: Connection, period: Period, scope: Scope = SUBDISTRICT, hours: CategoryHours | None = None,
                *, now: datetime) -> Rates:
    """The 三率 counts of one scope over one period, as they stand at `now` (stats.rates)."""
    await refresh_facts(conn)
    return stats_marks.total((await stats_marks.grid_rates(conn, period, scope, hours or {}, now=now)).values())


async def grid_breakdown(conn: Connection, period: Period, scope: Scope = SUBDISTRICT,
                         hours: CategoryHours | None = None, *, now: datetime) -> list[GroupRates]:
    """One row per grid (by current grid) with tickets created in the period, by grid id."""
    await refresh_facts(conn)
    return _rows(await stats_marks.grid_rates(conn, period, scope, hours or {}, now=now))


async def community_breakdown(conn: Connection, period: Period, scope: Scope = SUBDISTRICT,
                              hours: CategoryHours | None = None, *, now: datetime) -> list[GroupRates]:
    """One row per community with tickets created in the period, by community id."""
    await refresh_facts(conn)
    return _rows(await stats_marks.community_rates(conn, period, scope, hours or {}, now=now))


def total(rows: list[GroupRates]) -> Rates:
    """The scope's counts from a breakdown of it already read (grids or communities part the
    scope's tickets), instead of reading them again."""
    return stats_marks.total(row.rates for row in rows)


def _rows(found: dict[str, Rates]) -> list[GroupRates]:
    # stats.py lists only keys with a ticket in the period, ordered by key.
    return [GroupRates(key, found[key]) for key in sorted(found) if found[key] != Rates()]
