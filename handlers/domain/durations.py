"""How long things took, as the deadlines count time: around the clock, or only office hours for
categories with `working_hours` (the inverse of working_time.add_working_hours), and the
percentiles the dashboard shows of them."""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Sequence
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from handlers.domain.model import Category, Config
from handlers.domain.schedule_settings import WorkingTime
from handlers.domain.working_time import is_working_day


def working_elapsed(start: datetime, end: datetime, hours: WorkingTime, timezone: str) -> timedelta:
    """The office time between `start` and `end` (local working days, their opening hours)."""
    if end <= start:
        return timedelta(0)
    zone = ZoneInfo(timezone)
    first, last = start.astimezone(zone), end.astimezone(zone)
    total = timedelta(0)
    day = first.date()
    while day <= last.date():
        if is_working_day(day, hours):
            opens = max(datetime.combine(day, hours.start, zone), first)
            closes = min(datetime.combine(day, hours.end, zone), last)
            if closes > opens:
                total += closes - opens
        day += timedelta(days=1)
    return total


def elapsed(config: Config, category: Category | None, start: datetime, end: datetime) -> timedelta:
    """`end - start` as the category's deadlines count it (a category that left config: clock time)."""
    if category is None or not category.working_hours:
        return max(end - start, timedelta(0))
    return working_elapsed(start, end, config.working_time, config.subdistrict.timezone)


def percentile(values: Sequence[timedelta], fraction: float) -> timedelta | None:
    """The `fraction` quantile (0.5: the median, 0.9: the 90th percentile) by linear
    interpolation between the closest ranks (as numpy's default); None without values."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * fraction
    below, above = math.floor(position), math.ceil(position)
    low, high = ordered[below], ordered[above]
    return low + (high - low) * (position - below)


def kth_smallest(runs: Sequence[Sequence[int]], k: int) -> int:
    """The k-th smallest (0-based) value of ascending runs together, without merging them: the
    least x with more than k values at or below it (a binary search over the values)."""
    low = min(run[0] for run in runs if run)
    high = max(run[-1] for run in runs if run)
    while low < high:
        middle = (low + high) // 2
        if sum(bisect_right(run, middle) for run in runs) > k:
            high = middle
        else:
            low = middle + 1
    return low
