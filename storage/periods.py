"""Reporting periods: [start, end) in the subdistrict's local calendar (weeks run Monday to Monday)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

PeriodKind = Literal["day", "week", "month", "quarter", "year", "custom"]
PERIOD_KINDS: tuple[PeriodKind, ...] = ("day", "week", "month", "quarter", "year")  # the calendar ones
MAX_CUSTOM_DAYS = 731  # a custom range longer than two years is a typing mistake


@dataclass(frozen=True)
class Period:
    """[start, end) as aware datetimes in the subdistrict's time zone."""

    kind: PeriodKind
    start: datetime
    end: datetime

    def contains(self, moment: datetime) -> bool:
        return self.start <= moment < self.end


def _zone(tz: str | ZoneInfo) -> ZoneInfo:
    return tz if isinstance(tz, ZoneInfo) else ZoneInfo(tz)


def _midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=zone)


def _next_month(year: int, month: int) -> tuple[int, int]:
    return (year + 1, 1) if month == 12 else (year, month + 1)


def period_for(kind: PeriodKind, now: datetime, tz: str | ZoneInfo) -> Period:
    """The local day, week (Monday 00:00 to the next Monday), month, quarter or year containing `now`."""
    zone = _zone(tz)
    today = now.astimezone(zone).date()
    if kind == "day":
        return Period(kind, _midnight(today, zone), _midnight(today + timedelta(days=1), zone))
    if kind == "week":
        monday = today - timedelta(days=today.weekday())
        return Period(kind, _midnight(monday, zone), _midnight(monday + timedelta(days=7), zone))
    if kind == "month":
        return month_period(today.year, today.month, zone)
    if kind == "quarter":
        return quarter_period(today.year, (today.month - 1) // 3 + 1, zone)
    if kind == "year":
        return year_period(today.year, zone)
    raise ValueError(f"unknown period kind {kind!r}")


def month_period(year: int, month: int, tz: str | ZoneInfo) -> Period:
    zone = _zone(tz)
    following = _next_month(year, month)
    return Period("month", _midnight(date(year, month, 1), zone),
                  _midnight(date(following[0], following[1], 1), zone))


def quarter_period(year: int, quarter: int, tz: str | ZoneInfo) -> Period:
    """Quarter 1 is January to March, local time."""
    zone = _zone(tz)
    first = 3 * (quarter - 1) + 1
    following = (year + 1, 1) if quarter == 4 else (year, first + 3)
    return Period("quarter", _midnight(date(year, first, 1), zone),
                  _midnight(date(following[0], following[1], 1), zone))


def year_period(year: int, tz: str | ZoneInfo) -> Period:
    zone = _zone(tz)
    return Period("year", _midnight(date(year, 1, 1), zone), _midnight(date(year + 1, 1, 1), zone))


def custom_period(first: date, last: date, tz: str | ZoneInfo) -> Period:
    """The local days `first` to `last`, both included; ValueError when `last` is before `first`
    or the range is longer than MAX_CUSTOM_DAYS."""
    if last < first:
        raise ValueError("the range ends before it starts")
    if (last - first).days + 1 > MAX_CUSTOM_DAYS:
        raise ValueError("the range is too long")
    zone = _zone(tz)
    return Period("custom", _midnight(first, zone), _midnight(last + timedelta(days=1), zone))


def months_of(period: Period, tz: str | ZoneInfo, at_least: int = 1) -> list[Period]:
    """The local calendar months that overlap `period`, oldest first; at least `at_least` of
    them, ending with the period's last month (a trend needs a few months to show a line)."""
    zone = _zone(tz)
    last_day = (period.end - timedelta(microseconds=1)).astimezone(zone).date()
    first_day = period.start.astimezone(zone).date()
    year, month = last_day.year, last_day.month
    found: list[Period] = []
    while True:
        found.append(month_period(year, month, zone))
        if (year, month) <= (first_day.year, first_day.month) and len(found) >= at_least:
            break
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    return found[::-1]


def previous(kind: PeriodKind, now: datetime, tz: str | ZoneInfo) -> Period:
    """The local day, week, month, quarter or year before the one containing `now` (上周, 上月 …):
    the period holding the last local day before the current one starts."""
    current = period_for(kind, now, tz)
    return period_for(kind, current.start - timedelta(days=1), tz)


def previous_week(now: datetime, tz: str | ZoneInfo) -> Period:
    """Last week, Monday to Sunday local: what the Monday digest reports."""
    return previous("week", now, tz)
