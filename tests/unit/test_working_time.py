"""Deadlines counted in working time: nights, weekends, holidays and 调休 are skipped."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.app import App
from bot.bootstrap import build_app
from bot.config import Config
from handlers.domain.schedule_settings import WorkingTime
from handlers.domain.working_time import add_working_hours
from handlers.escalation import sweep_deadlines
from handlers.stats import category_hours
from storage import stats
from storage.clock import FakeClock
from storage.periods import month_period
from tests.chat import ChatUser, audit, bind, file_report, ticket_row

TZ = "Asia/Shanghai"
HOURS = WorkingTime(holidays=[date(2026, 12, 1)], workdays=[date(2026, 12, 5)])


def beijing(day: int, hour: int, minute: int = 0, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=ZoneInfo(TZ)).astimezone(UTC)


@pytest.mark.parametrize(("start", "hours", "due"), [
    (beijing(26, 10), 2, beijing(26, 12)),  # Thursday morning: plain
    (beijing(26, 20), 1, beijing(27, 9, 30)),  # Thursday evening → Friday from 08:30
    (beijing(27, 16), 2, beijing(30, 9)),  # Friday 16:00: 1.5 h, the weekend, 0.5 h on Monday
    (beijing(30, 17), 2, beijing(2, 10, month=12)),  # Tuesday 1 Dec is a holiday
    (beijing(4, 17, month=12), 2, beijing(5, 10, month=12)),  # Saturday 5 Dec is a 调休 working day
    (beijing(26, 7), 9, beijing(26, 17, 30)),  # before opening: the whole day
])
def test_add_working_hours(start: datetime, hours: float, due: datetime) -> None:
    assert add_working_hours(start, timedelta(hours=hours), HOURS, TZ) == due


def test_the_office_day_must_make_sense() -> None:
    with pytest.raises(ValueError, match="end must be after start"):
        WorkingTime(start=time(18, 0), end=time(9, 0))


@pytest.fixture
async def office_app(config: Config, tmp_path: Path) -> AsyncIterator[tuple[App, FakeClock]]:
    repair = next(c for c in config.categories if c.id == "repair")
    categories = [c.model_copy(update={"working_hours": True}) if c.id == "repair" else c
                  for c in config.categories]
    assert repair.ack_hours == 2
    clock = FakeClock(beijing(27, 16))  # Friday 16:00
    app = await build_app(config.model_copy(update={"categories": categories, "working_time": HOURS}),
                          clock, tmp_path / "office.db")
    yield app, clock
    await app.close()


async def test_a_friday_report_is_due_on_monday_and_warned_on_monday(office_app: tuple[App, FakeClock]) -> None:
    app, clock = office_app
    leader, resident = ChatUser(app, "leader-g01"), ChatUser(app, "resident-1")
    await bind(app, leader, "g01-leader")
    await file_report(resident)
    assert "预计 工作时间 2 小时内响应" in resident.text
    ticket = await ticket_row(app, 1)
    assert ticket.ack_due_at == beijing(30, 9)
    assert [e.data["ack_due_at"] for e in await audit(app, "created")] == ["2026-11-30T01:00:00.000000+00:00"]

    async def sweep() -> list[str]:
        async with app.db.transaction() as conn:
            return [n.reply.text for n in await sweep_deadlines(conn, app.services, clock.now())]

    clock.advance(hours=2)  # Friday 18:00: past the wall-clock 80 %, not the working-time 80 %
    assert await sweep() == []
    clock.advance(days=2, hours=14, minutes=35)  # Monday 08:35
    assert await sweep() == []
    clock.advance(minutes=1)  # 08:36: 1.5 h on Friday + 0.1 h = 80 % of 2 working hours
    assert [t for t in await sweep() if "预警提醒" in t]
    await leader.say("受理 1")  # 08:36 on Monday: within the working-time deadline
    async with app.db.read() as conn:
        found = await stats.rates(conn, month_period(2026, 11, TZ), hours=category_hours(app.config),
                                  now=clock.now())
    assert (found.acknowledged_in_time, found.tickets, found.response_base) == (1, 1, 1)
