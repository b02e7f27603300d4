"""The times admins type: one-offs, repeating rules and cron, read in Beijing time."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from handlers.domain.schedule_rules import RuleError, next_fire, parse_when
from handlers.domain.spoken_time import Problem

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


# -- times as people type them (issue 13); NOW is Thursday 26 November, 10:00 in Beijing ------

@pytest.mark.parametrize(("text", "first", "cron"), [
    ("周六上午九点", "2026-11-28 Sat 09:00", ""),
    ("下周六 9:00", "2026-12-05 Sat 09:00", ""),  # Saturday of next week, not the coming one
    ("明天9点", "2026-11-27 Fri 09:00", ""),
    ("12月6日下午3点", "2026-12-06 Sun 15:00", ""),
    ("每周六早上8点", "2026-11-28 Sat 08:00", "0 8 * * sat"),
    ("１２月６日 下午３点", "2026-12-06 Sun 15:00", ""),  # full-width, with a space
    ("十二月六号下午三点半", "2026-12-06 Sun 15:30", ""),
    ("今天下午三点一刻", "2026-11-26 Thu 15:15", ""),
    ("星期天晚上7点", "2026-11-29 Sun 19:00", ""),
    ("礼拜四上午11点", "2026-11-26 Thu 11:00", ""),  # today, still ahead
    ("周四上午9点", "2026-12-03 Thu 09:00", ""),  # 「周四」 said on a Thursday after 9: next week's
    ("后天中午12点", "2026-11-28 Sat 12:00", ""),
    ("中午1点", "2026-11-26 Thu 13:00", ""),
    ("上午九点", "2026-11-27 Fri 09:00", ""),  # a bare time already past today: tomorrow
    ("下下周一上午9点", "2026-12-07 Mon 09:00", ""),
    ("2027年1月5日上午9点", "2027-01-05 Tue 09:00", ""),
    ("1月5日上午9点", "2027-01-05 Tue 09:00", ""),
    ("明天10点05分", "2026-11-27 Fri 10:05", ""),
    ("每天早上七点半", "2026-11-27 Fri 07:30", "30 7 * * *"),
    ("每星期日晚上8点", "2026-11-29 Sun 20:00", "0 20 * * sun"),
    ("每月1号上午9点", "2026-12-01 Tue 09:00", "0 9 1 * *"),
    ("明早8点", "2026-11-27 Fri 08:00", ""),
    ("今晚7点半", "2026-11-26 Thu 19:30", ""),
    ("明天上午9点整", "2026-11-27 Fri 09:00", ""),
    ("明天下午两点钟", "2026-11-27 Fri 14:00", ""),
    ("下周日上午十点", "2026-12-06 Sun 10:00", ""),
])
def test_spoken_times(text: str, first: str, cron: str) -> None:
    when = parse_when(text, NOW, TZ)
    assert (local(when.first_run_at), when.cron) == (first, cron)


@pytest.mark.parametrize(("text", "problem"), [
    ("今天上午9点", Problem.PAST),
    ("本周三下午3点", Problem.PAST),
    ("11月26日上午9点", Problem.PAST),  # today's date, passed: said, not moved a year on
    ("昨天 09:00", Problem.PAST),
    ("2020-01-01 09:00", Problem.PAST),
    ("明天3点", Problem.AMBIGUOUS),  # 03:00 or 15:00?
    ("每周六3点", Problem.AMBIGUOUS),
    ("晚上12点", Problem.AMBIGUOUS),
    ("周六", Problem.NO_TIME),
    ("明天上午", Problem.NO_TIME),
    ("上午15点", Problem.UNKNOWN),
    ("下周", Problem.UNKNOWN),
    ("周八上午9点", Problem.UNKNOWN),
    ("2月30日上午9点", Problem.UNKNOWN),
    ("每月32号上午9点", Problem.UNKNOWN),
])
def test_spoken_refusals_say_why(text: str, problem: Problem) -> None:
    with pytest.raises(RuleError) as refused:
        parse_when(text, NOW, TZ)
    assert refused.value.problem is problem
