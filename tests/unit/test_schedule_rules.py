"""The times admins type: one-offs, repeating rules and cron, read in Beijing time."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from handlers.domain.schedule_rules import RuleError, next_fire, parse_when

TZ = "Asia/Shanghai"
NOW = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)  # Thursday 10:00 in Beijing


def local(moment: datetime) -> str:
    return moment.astimezone(ZoneInfo(TZ)).strftime("%Y-%m-%d %a %H:%M")


@pytest.mark.parametrize(("text", "first", "cron"), [
    ("立即", "2026-11-26 Thu 10:00", ""),
    ("10:02", "2026-11-26 Thu 10:02", ""),
    ("09:30", "2026-11-27 Fri 09:30", ""),  # already past today
    ("明天 09:00", "2026-11-27 Fri 09:00", ""),
    ("12-06 09:00", "2026-12-06 Sun 09:00", ""),
    ("2027年1月2日 08：30", "2027-01-02 Sat 08:30", ""),
    ("11-01 09:00", "2027-11-01 Mon 09:00", ""),  # already past this year
    ("每天 07:30", "2026-11-27 Fri 07:30", "30 7 * * *"),
    ("每周六 08:00", "2026-11-28 Sat 08:00", "0 8 * * sat"),
    ("每星期日 08:00", "2026-11-29 Sun 08:00", "0 8 * * sun"),
    ("每月1日 09:00", "2026-12-01 Tue 09:00", "0 9 1 * *"),
    ("0 18 * * fri", "2026-11-27 Fri 18:00", "0 18 * * fri"),
])
def test_rules(text: str, first: str, cron: str) -> None:
    when = parse_when(text, NOW, TZ)
    assert (local(when.first_run_at), when.cron) == (first, cron)


@pytest.mark.parametrize("text", ["昨天 09:00", "2020-01-01 09:00", "25:00", "02-30 09:00", "每月32日 09:00",
                                  "下周", "0 9 * * 1", "2028-01-01 09:00", ""])
def test_refused(text: str) -> None:
    with pytest.raises(RuleError):
        parse_when(text, NOW, TZ)


def test_next_fire_is_strictly_after() -> None:
    saturday = parse_when("每周六 08:00", NOW, TZ).first_run_at
    following = next_fire("0 8 * * sat", saturday, TZ)
    assert following is not None and local(following) == "2026-12-05 Sat 08:00"
