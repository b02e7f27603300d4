"""When something runs: 「明天 09:00」「2026-12-06 09:00」「每周六 08:00」「每月1日 09:00」 or cron."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger

from handlers.domain.spoken_time import Problem, SpokenError, parse_spoken

WEEKDAYS = {"一": "mon", "二": "tue", "三": "wed", "四": "thu", "五": "fri", "六": "sat", "日": "sun", "天": "sun"}
_TIME = r"(\d{1,2})[:：](\d{2})"
_DATE_TIME = re.compile(rf"^(?:(\d{{4}})[-/年])?(\d{{1,2}})[-/月](\d{{1,2}})日?\s*{_TIME}$")
_RELATIVE = re.compile(rf"^(今天|明天|后天)?\s*{_TIME}$")
_DAILY = re.compile(rf"^每天\s*{_TIME}$")
_WEEKLY = re.compile(rf"^每(?:周|星期)([一二三四五六日天])\s*{_TIME}$")
_MONTHLY = re.compile(rf"^每月(\d{{1,2}})[日号]\s*{_TIME}$")
NOW_WORDS = {"立即", "现在", "马上", "now"}
MAX_AHEAD = timedelta(days=366)


class RuleError(ValueError):
    """The text is not a time we understand, or it is in the past: `problem` says which."""

    def __init__(self, message: str, problem: Problem = Problem.UNKNOWN) -> None:
        super().__init__(message)
        self.problem = problem


@dataclass(frozen=True)
class When:
    first_run_at: datetime
    cron: str = ""  # "" for a one-off

    @property
    def repeating(self) -> bool:
        return bool(self.cron)


def cron_trigger(cron: str, timezone: str) -> CronTrigger:
    fields = cron.split()
    if len(fields) == 5 and any(ch.isdigit() for ch in fields[4]):
        # APScheduler counts weekdays from Monday = 0, classic cron from Sunday = 0: names are unambiguous.
        raise RuleError("use day names (mon … sun) for the day of the week")
    try:
        return CronTrigger.from_crontab(cron, timezone=ZoneInfo(timezone))
    except (ValueError, TypeError) as exc:
        raise RuleError(f"bad cron rule {cron!r}: {exc}") from None


def next_fire(cron: str, after: datetime, timezone: str) -> datetime | None:
    """The first run strictly after `after`."""
    fire = cron_trigger(cron, timezone).get_next_fire_time(None, after + timedelta(seconds=1))
    return fire if fire is None else fire.astimezone(after.tzinfo)


def _clock(hour: str, minute: str) -> tuple[int, int]:
    h, m = int(hour), int(minute)
    if h > 23 or m > 59:
        raise RuleError("no such time of day")
    return h, m


def parse_when(text: str, now: datetime, timezone: str) -> When:
    """A one-off time (future, within a year) or a repeating rule, read in local time."""
    rule = " ".join(unicodedata.normalize("NFKC", text).strip().split())
    tz = ZoneInfo(timezone)
    local = now.astimezone(tz)
    if rule.lower() in NOW_WORDS:
        return When(now)
    if found := _DAILY.match(rule):
        h, m = _clock(*found.groups())
        return _repeating(f"{m} {h} * * *", now, timezone)
    if found := _WEEKLY.match(rule):
        h, m = _clock(found[2], found[3])
        return _repeating(f"{m} {h} * * {WEEKDAYS[found[1]]}", now, timezone)
    if found := _MONTHLY.match(rule):
        day = int(found[1])
        if not 1 <= day <= 31:
            raise RuleError("no such day of the month")
        h, m = _clock(found[2], found[3])
        return _repeating(f"{m} {h} {day} * *", now, timezone)
    if found := _RELATIVE.match(rule):
        h, m = _clock(found[2], found[3])
        days = {"今天": 0, "明天": 1, "后天": 2}.get(found[1] or "", 0)
        moment = (local + timedelta(days=days)).replace(hour=h, minute=m, second=0, microsecond=0)
        if not found[1] and moment <= local:
            moment += timedelta(days=1)  # a bare time already past today means tomorrow
        return _once(moment, now)
    if found := _DATE_TIME.match(rule):
        year = int(found[1]) if found[1] else local.year
        h, m = _clock(found[4], found[5])
        try:
            moment = datetime(year, int(found[2]), int(found[3]), h, m, tzinfo=tz)
        except ValueError:
            raise RuleError("no such date") from None
        if not found[1] and moment <= local:
            moment = moment.replace(year=year + 1)
        return _once(moment, now)
    if len(rule.split()) == 5:
        return _repeating(rule, now, timezone)
    return _spoken(rule, now, timezone)


def _spoken(rule: str, now: datetime, timezone: str) -> When:
    """「周六上午九点」「下周六 9:00」「12月6日下午3点」「每周六早上8点」: as people type them."""
    try:
        spoken = parse_spoken(rule, now.astimezone(ZoneInfo(timezone)))
    except SpokenError as exc:
        raise RuleError(f"{exc} ({rule!r})", exc.problem) from None
    if spoken.cron:
        return _repeating(spoken.cron, now, timezone)
    assert spoken.moment is not None
    return _once(spoken.moment, now)


def _once(moment: datetime, now: datetime) -> When:
    if moment <= now:
        raise RuleError("that time has passed", Problem.PAST)
    if moment - now > MAX_AHEAD:
        raise RuleError("more than a year ahead")
    return When(moment.astimezone(now.tzinfo))


def _repeating(cron: str, now: datetime, timezone: str) -> When:
    first = next_fire(cron, now, timezone)
    if first is None:
        raise RuleError(f"the rule {cron!r} never runs")
    return When(first, cron)
