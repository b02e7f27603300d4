"""Times as people type them in Chinese: 「周六上午九点」「下周六 9:00」「明天9点」「12月6日下午3点」
「每周六早上8点」. Pure: the caller gives the local now and gets a moment or a weekly/daily/monthly rule.

No maintained library reads these well: the Time-NLP ports (ChineseTimeNLP, nlp-time, time-convert)
return hour ranges, guess silently (「3点」 becomes tomorrow's 03:00) and know no repeating rules. An
ambiguous hour is asked back here instead of guessed: a wrong guess posts to every group at 03:00.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum

WEEKDAY_INDEX = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6,
                 "1": 0, "2": 1, "3": 2, "4": 3, "5": 4, "6": 5, "7": 6}
CRON_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_NUM = r"\d{1,2}|[零〇一二两三四五六七八九十]{1,3}"
_WD = r"[一二三四五六日天1-7]"
_WEEK = r"(?:周|星期|礼拜)"
_RECUR = (rf"(?P<daily>每天|每日)|每{_WEEK}(?P<rwd>{_WD})|每个?月(?P<rday>{_NUM})[日号]")
_DAY = (rf"(?P<rel>前天|昨天|今天|明天|后天|大后天)|(?P<wpre>本|这|下下|下)?个?{_WEEK}(?P<wd>{_WD})"
        rf"|(?:(?P<y>\d{{4}})年)?(?P<mo>{_NUM})月(?P<d>{_NUM})[日号]")
_PERIOD = r"(?P<period>凌晨|早上|早晨|清晨|上午|中午|下午|傍晚|晚上|夜里|夜间)"
_CLOCK = (rf"(?P<h>\d{{1,2}}):(?P<mi>\d{{2}})"
          rf"|(?P<hz>{_NUM})[点时](?:(?P<half>半)|(?P<quarter>一刻|三刻)|(?P<mz>{_NUM})分?)?(?:钟|整)?")
SPOKEN = re.compile(rf"^(?:{_RECUR}|{_DAY})?{_PERIOD}?(?:{_CLOCK})?$")
AFTERNOON = {"下午", "傍晚", "晚上", "夜里", "夜间"}
MORNING = {"凌晨", "早上", "早晨", "清晨", "上午"}


class Problem(StrEnum):
    UNKNOWN = "unknown"  # not a time we read
    PAST = "past"
    AMBIGUOUS = "ambiguous"  # 「3点」: morning or afternoon?
    NO_TIME = "no_time"  # a day without an hour: 「周六」


class SpokenError(ValueError):
    def __init__(self, problem: Problem, detail: str = "") -> None:
        super().__init__(f"{problem.value}: {detail}" if detail else problem.value)
        self.problem = problem


@dataclass(frozen=True)
class Spoken:
    """A one-off local moment, or a repeating rule as a cron line (then `moment` is None)."""

    moment: datetime | None = None
    cron: str = ""


SHORT_FORMS = {"明早": "明天早上", "明晚": "明天晚上", "今早": "今天早上", "今晚": "今天晚上", "礼拜日": "礼拜天"}


def normalise(text: str) -> str:
    """Full-width digits and colons to ASCII; spaces dropped (「下周六 9:00」 = 「下周六9:00」);
    the short spoken forms 明早 / 今晚 … written out."""
    plain = "".join(unicodedata.normalize("NFKC", text).split()).replace("：", ":")
    for short, full in SHORT_FORMS.items():
        plain = plain.replace(short, full)
    return plain


def number(text: str) -> int:
    """12, 〇, 九, 十, 十二, 二十三, 两 — the numbers of a date or a clock."""
    if text.isdigit():
        return int(text)
    if "十" in text:
        tens, _, units = text.partition("十")
        return (_DIGITS[tens] if tens else 1) * 10 + (_DIGITS[units] if units else 0)
    if len(text) == 1:
        return _DIGITS[text]
    raise SpokenError(Problem.UNKNOWN, text)


def _clock(found: re.Match[str]) -> tuple[int, int] | None:
    """(hour, minute) on the 24-hour clock, from the period word and the hour typed."""
    period = found["period"]
    if found["h"] is not None:
        hour, minute, spoken = int(found["h"]), int(found["mi"]), False
    elif found["hz"] is not None:
        hour, spoken = number(found["hz"]), True
        minute = 30 if found["half"] else {"一刻": 15, "三刻": 45}.get(found["quarter"] or "", 0)
        if found["mz"] is not None:
            minute = number(found["mz"])
    else:
        if period:
            raise SpokenError(Problem.NO_TIME, period)
        return None
    if hour > 23 or minute > 59:
        raise SpokenError(Problem.UNKNOWN, "no such time of day")
    if period in AFTERNOON:
        if hour == 12 and period != "下午":
            raise SpokenError(Problem.AMBIGUOUS, "12 at night")
        hour = hour + 12 if hour < 12 else hour
    elif period == "中午":
        hour = hour + 12 if 1 <= hour <= 2 else hour
        if hour not in (11, 12, 13, 14):
            raise SpokenError(Problem.UNKNOWN, "not around noon")
    elif period in MORNING:
        if hour > 12 or (hour == 12 and period != "凌晨"):
            raise SpokenError(Problem.UNKNOWN, "not in the morning")
        hour = 0 if hour == 12 else hour
    elif spoken and 1 <= hour <= 6:
        # 「3点」 with no 上午/下午: an activity at 03:00 is unlikely, 15:00 is a guess. Ask.
        raise SpokenError(Problem.AMBIGUOUS, f"{hour}点")
    return hour, minute


def _day(found: re.Match[str], today: date) -> tuple[date | None, bool]:
    """(the day named, or None for a bare time; whether a passed day rolls to the next year)."""
    if found["rel"]:
        return today + timedelta(days={"前天": -2, "昨天": -1, "今天": 0, "明天": 1, "后天": 2, "大后天": 3}[found["rel"]]), False
    if found["wd"]:
        wanted, weekday = WEEKDAY_INDEX[found["wd"]], today.weekday()
        prefix = found["wpre"] or ""
        if prefix in ("本", "这"):
            return today + timedelta(days=wanted - weekday), False
        if prefix:  # 下周六: Saturday of next week (weeks start on Monday); 下下周 one more
            return today + timedelta(days=7 * len(prefix) - weekday + wanted), False
        return today + timedelta(days=(wanted - weekday) % 7), False  # the coming one (or today)
    if found["mo"]:
        year = int(found["y"]) if found["y"] else today.year
        try:
            return date(year, number(found["mo"]), number(found["d"])), not found["y"]
        except ValueError:
            raise SpokenError(Problem.UNKNOWN, "no such date") from None
    return None, False


def parse_spoken(text: str, now: datetime) -> Spoken:
    """`now` is aware and in the local timezone; the moment returned is in the same timezone."""
    found = SPOKEN.match(normalise(text))
    if found is None or not any(found.groupdict().values()):
        raise SpokenError(Problem.UNKNOWN, text)
    clock = _clock(found)
    if clock is None:
        raise SpokenError(Problem.NO_TIME, text)
    hour, minute = clock
    if found["daily"]:
        return Spoken(cron=f"{minute} {hour} * * *")
    if found["rwd"]:
        return Spoken(cron=f"{minute} {hour} * * {CRON_DAYS[WEEKDAY_INDEX[found['rwd']]]}")
    if found["rday"]:
        day = number(found["rday"])
        if not 1 <= day <= 31:
            raise SpokenError(Problem.UNKNOWN, "no such day of the month")
        return Spoken(cron=f"{minute} {hour} {day} * *")
    today = now.date()
    day, rolls = _day(found, today)
    at = time(hour, minute)
    if day is None:  # a bare time: today, or tomorrow once today's has passed
        moment = datetime.combine(today, at, now.tzinfo)
        return Spoken(moment if moment > now else moment + timedelta(days=1))
    if day == today and found["wd"] and not found["wpre"]:
        moment = datetime.combine(day, at, now.tzinfo)
        return Spoken(moment if moment > now else moment + timedelta(days=7))  # 「周六」 said on a Saturday
    moment = datetime.combine(day, at, now.tzinfo)
    if moment <= now and rolls and day != today:
        moment = moment.replace(year=moment.year + 1)  # 「1月5日」 said in December: next January
    if moment <= now:
        raise SpokenError(Problem.PAST, text)
    return Spoken(moment)
