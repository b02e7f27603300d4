"""Deadlines counted in working time: office hours on working days, holidays and 调休 honoured."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from handlers.domain.model import Category, Config
from handlers.domain.schedule_settings import WorkingTime

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MAX_DAYS = 800  # a deadline further than this many calendar days away is a config mistake


def is_working_day(day: date, hours: WorkingTime) -> bool:
    if day in hours.workdays:
        return True
    return WEEKDAYS[day.weekday()] in hours.weekdays and day not in hours.holidays


def add_working_hours(start: datetime, amount: timedelta, hours: WorkingTime, timezone: str) -> datetime:
    """The moment `amount` of office time after `start` (local days, returned in start's zone)."""
    zone = ZoneInfo(timezone)
    cursor = start.astimezone(zone)
    remaining = amount
    for _ in range(MAX_DAYS):
        day = cursor.date()
        if is_working_day(day, hours):
            opens = datetime.combine(day, hours.start, zone)
            closes = datetime.combine(day, hours.end, zone)
            cursor = max(cursor, opens)
            if cursor < closes:
                if remaining <= closes - cursor:
                    return (cursor + remaining).astimezone(start.tzinfo)
                remaining -= closes - cursor
        cursor = datetime.combine(day + timedelta(days=1), datetime.min.time(), zone)
    raise ValueError("deadline beyond the working calendar")


def due_after(config: Config, category: Category, start: datetime, hours: float) -> datetime:
    """`hours` after `start`: around the clock, or in working time for categories that say so."""
    if not category.working_hours:
        return start + timedelta(hours=hours)
    return add_working_hours(start, timedelta(hours=hours), config.working_time, config.subdistrict.timezone)


def deadlines(config: Config, category: Category, start: datetime) -> tuple[datetime, datetime]:
    """(ack_due_at, resolve_due_at) for a ticket handed over at `start`."""
    return (due_after(config, category, start, category.ack_hours),
            due_after(config, category, start, category.resolve_hours))
