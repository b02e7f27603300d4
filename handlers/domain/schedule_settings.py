"""Config of what runs on time: the scheduler, announcements declared in config.yaml, office hours
and how long personal data is kept."""

from __future__ import annotations

from datetime import date, time
from typing import Literal

from pydantic import Field, model_validator

from handlers.domain.base import Strict

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


class SchedulerSettings(Strict):
    # A run missed while the bot was down is still sent if at most this late; else admins are told.
    grace_minutes: int = Field(default=60, ge=0, le=1440)
    # The weekly digest to subdistrict admins (cron, local time): Mondays 09:00.
    digest: str = "0 9 * * mon"
    # Activities with sign-up: reminder before the start, sign-up closes before the start.
    reminder_minutes: int = Field(default=120, ge=0, le=10080)
    signup_closes_minutes: int = Field(default=60, ge=0, le=10080)


class ConfiguredAnnouncement(Strict):
    """A standing announcement, e.g. the weekly 太极拳 class or the monthly 主题党日."""

    key: str = Field(pattern=r"^[a-z0-9_-]{1,40}$")
    text: str = Field(min_length=1, max_length=2000)
    target: str = "all"  # all, a community id or a grid id
    when: str  # 「每周六 08:00」, 「每月1日 09:00」, 「每天 07:30」 or a cron rule "0 8 * * 6"
    organiser: str = ""


class WorkingTime(Strict):
    """Office hours (工作时间), for categories whose deadlines count in working hours."""

    start: time = time(8, 30)
    end: time = time(17, 30)
    weekdays: list[Weekday] = ["mon", "tue", "wed", "thu", "fri"]
    holidays: list[date] = []  # 法定节假日 on what would be a working day
    workdays: list[date] = []  # 调休: a weekend day that is worked

    @model_validator(mode="after")
    def _start_before_end(self) -> WorkingTime:
        if self.end <= self.start:
            raise ValueError("end must be after start")
        if not self.weekdays and not self.workdays:
            raise ValueError("no working day at all")
        return self


class PrivacySettings(Strict):
    """How long closed tickets keep personal fields (description, phone, location, photos) and
    raw messages are kept; afterwards they are blanked, the counts for the 三率 stay."""

    retention_days: int = Field(default=365, ge=1, le=3650)
    # 联系网格 shows the leader's and guide's numbers: public service numbers by default; a
    # subdistrict that prefers can mask them.
    contact_full_phone: bool = True
    # 重点人群: the care tags a grid may record for a resident (imported in the workplace,
    # 人员 → 导入); an import naming any other tag is refused row by row.
    care_tags: list[str] = ["独居老人", "空巢老人", "残疾人", "低保", "社区矫正", "精神障碍"]
