"""The arguments of /stats (and of 「统计 …」 typed, and of the dashboard's period): a scope (a grid
id like G07, a community id like longchi or its name 龙池 / 龙池社区, or 街道 / all) and a period
(day / week / month / quarter / year, 今天 / 本周 / 本月 / 本季度 / 今年 and the ones before, 昨天 /
上周 / 上月 / 上季度 / 去年; 2026-10 for a month, 2026 for a year), in the local calendar. Split
from handlers/stats.py, which re-exports these names."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime

from handlers.context import Context
from handlers.domain.model import Config
from storage import periods
from storage.periods import Period
from storage.stats import SUBDISTRICT, Scope

# A period word: the kind, and whether it is the current one (本月) or the one before (上月).
_PERIOD_WORDS: dict[str, tuple[periods.PeriodKind, bool]] = {
    "day": ("day", False), "today": ("day", False), "今天": ("day", False), "今日": ("day", False),
    "昨天": ("day", True), "yesterday": ("day", True),
    "week": ("week", False), "本周": ("week", False), "这周": ("week", False),
    "上周": ("week", True), "last-week": ("week", True),
    "month": ("month", False), "本月": ("month", False), "这个月": ("month", False),
    "上月": ("month", True), "上个月": ("month", True), "last-month": ("month", True),
    "quarter": ("quarter", False), "本季度": ("quarter", False), "上季度": ("quarter", True),
    "year": ("year", False), "今年": ("year", False), "本年": ("year", False),
    "去年": ("year", True), "last-year": ("year", True),
}
_SUBDISTRICT_WORDS = {"all", "subdistrict", "街道", "全街道"}
# 2026-10, 2026/10, 2026.10, 2026年10月 (a month); 2026, 2026年 (a year).
_MONTH = re.compile(r"^(\d{4})(?:[-/.]|年)(\d{1,2})月?$")
_YEAR = re.compile(r"^(\d{4})年?$")
# What a mistyped period looks like (「2026-13」「上上月」「11月份」), so the answer lists the
# period forms rather than saying no grid or community has that name.
_PERIODISH = re.compile(r"[周月年季天日]|^[\d\-/.]+$")


def parse_scope(config: Config, text: str) -> Scope | None:
    """A grid id, a community id or name, or a word for the whole subdistrict; else None."""
    word = text.strip()
    if word.lower() in _SUBDISTRICT_WORDS or word == config.subdistrict.name:
        return SUBDISTRICT
    grid = config.grid(word.upper())
    if grid is not None:
        return Scope(grid_id=grid.id)
    for community in config.communities:
        if word.lower() == community.id.lower() or word in (community.name, community.name.removesuffix("社区")):
            return Scope(community_id=community.id)
    return None


def parse_period(text: str, now: datetime, tz: str) -> Period | None:
    """day / week / month / quarter / year (今天 本周 本月 本季度 今年, and 昨天 上周 上月 上季度
    去年 for the one before), 2026-10 (or 2026年10月), 2026; else None. Local calendar."""
    word = unicodedata.normalize("NFKC", text).strip().lower()
    if word in _PERIOD_WORDS:
        kind, before = _PERIOD_WORDS[word]
        return periods.previous(kind, now, tz) if before else periods.period_for(kind, now, tz)
    month = _MONTH.match(word)
    if month and 1 <= int(month.group(2)) <= 12 and int(month.group(1)) >= 2000:
        return periods.month_period(int(month.group(1)), int(month.group(2)), tz)
    year = _YEAR.match(word)
    if year and int(year.group(1)) >= 2000:
        return periods.year_period(int(year.group(1)), tz)
    return None


# 「统计 上月」「三率：G07 2026-10」 (the word, a separator, /stats's arguments) or 「统计上月」 (a
# period glued on: 「统计一下人数」 is not one).
_TYPED = re.compile(r"(?:三率统计|统计|三率)(?:(?:\s+|\s*[：:，,]\s*)(?P<arg>\S.*)|(?P<glued>\S+))", re.DOTALL)


def typed_arguments(ctx: Context) -> str | None:
    """The /stats arguments in a typed 「统计 …」 message; None if it is not one."""
    found = _TYPED.fullmatch(ctx.incoming.text.strip())
    if found is None:
        return None
    if found["arg"] is not None:
        return found["arg"]
    glued = found["glued"]
    return glued if parse_period(glued, ctx.now, ctx.services.config.subdistrict.timezone) else None


@dataclass(frozen=True)
class StatsRequest:
    scope: Scope | None  # None: the caller's default
    period: Period
    unknown: str = ""  # the first argument that was neither a scope nor a period

    @property
    def bad_period(self) -> bool:
        """The unknown argument looks like a mistyped period, not a grid or community."""
        return bool(self.unknown) and _PERIODISH.search(self.unknown) is not None


def parse_request(config: Config, arg: str, now: datetime) -> StatsRequest:
    tz = config.subdistrict.timezone
    scope: Scope | None = None
    period: Period | None = None
    for word in arg.split():
        found_period = parse_period(word, now, tz) if period is None else None
        found_scope = parse_scope(config, word) if scope is None and found_period is None else None
        if found_period is not None:
            period = found_period
        elif found_scope is not None:
            scope = found_scope
        else:
            return StatsRequest(scope, period or periods.period_for("month", now, tz), word[:20])
    return StatsRequest(scope, period or periods.period_for("month", now, tz))
