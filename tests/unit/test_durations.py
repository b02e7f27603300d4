"""Durations as the deadlines count time (handlers/domain/durations.py): office hours only for
working-time categories, holidays and 调休 honoured; and the dashboard's percentiles."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from handlers.domain.durations import elapsed, percentile, working_elapsed
from handlers.domain.schedule_settings import WorkingTime
from handlers.domain.working_time import add_working_hours

TZ = "Asia/Shanghai"
HOURS = WorkingTime(start=time(8, 30), end=time(17, 30), holidays=[date(2026, 10, 1)],
                    workdays=[date(2026, 10, 11)])
MIN = timedelta(minutes=1)


def local(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC) - timedelta(hours=8)  # type: ignore[misc]


def test_office_hours_only() -> None:
    # Friday 6 Nov 17:00 → Monday 9 Nov 09:30 local: 30 + 60 minutes of office time.
    assert working_elapsed(local(2026, 11, 6, 17), local(2026, 11, 9, 9, 30), HOURS, TZ) == 90 * MIN
    # Within one day; before opening and after closing count nothing.
    assert working_elapsed(local(2026, 11, 9, 7), local(2026, 11, 9, 8, 30), HOURS, TZ) == timedelta(0)
    assert working_elapsed(local(2026, 11, 9, 7), local(2026, 11, 9, 20), HOURS, TZ) == timedelta(hours=9)
    assert working_elapsed(local(2026, 11, 9, 12), local(2026, 11, 9, 11), HOURS, TZ) == timedelta(0)


def test_holidays_and_worked_weekend_days() -> None:
    # 1 Oct 2026 (Thursday) is a holiday; Sunday 11 Oct is worked (调休).
    assert working_elapsed(local(2026, 9, 30, 17), local(2026, 10, 2, 9, 30), HOURS, TZ) == 90 * MIN
    assert working_elapsed(local(2026, 10, 10, 12), local(2026, 10, 12, 8, 30), HOURS, TZ) == timedelta(hours=9)


def test_the_inverse_of_the_deadline() -> None:
    """What add_working_hours adds, working_elapsed measures back, across nights and weekends."""
    start = local(2026, 11, 6, 16, 45)
    for hours in (0.25, 1, 4, 9, 20, 72):
        due = add_working_hours(start, timedelta(hours=hours), HOURS, TZ)
        assert working_elapsed(start, due, HOURS, TZ) == timedelta(hours=hours), hours


def test_clock_time_for_other_categories(sample_config) -> None:  # noqa: ANN001
    config = sample_config
    repair, policy = config.category("repair"), config.category("policy")
    start, end = local(2026, 11, 6, 17), local(2026, 11, 9, 9, 30)
    assert elapsed(config, repair, start, end) == timedelta(hours=64, minutes=30)
    assert elapsed(config, None, start, end) == timedelta(hours=64, minutes=30)  # a category that left config
    assert elapsed(config, policy, start, end) == 90 * MIN


def test_percentiles() -> None:
    values = [timedelta(minutes=m) for m in (60, 10, 30, 20, 40, 50, 90)]
    assert percentile(values, 0.5) == 40 * MIN
    assert percentile(values, 0.9) == 72 * MIN  # 60 + 0.4 × (90 − 60)
    assert percentile(values[:2], 0.5) == 35 * MIN  # an even count: halfway between the middle two
    assert percentile([5 * MIN], 0.9) == 5 * MIN
    assert percentile([], 0.5) is None
    assert percentile(values, 0.0) == 10 * MIN and percentile(values, 1.0) == 90 * MIN
