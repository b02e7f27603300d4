"""三率, /stats and the weekly digest, checked against figures worked out by hand.

Tickets are written straight through storage/tickets.py with chosen timestamps (the audit log
is append-only: rows are only ever added), or filed through the chat harness. All stored
times are UTC; the subdistrict's periods are Asia/Shanghai local (UTC+8).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import aiosqlite
import pytest

from bot.app import App
from bot.bootstrap import staff_seeds
from bot.config import Config
from handlers.digest import weekly_digest
from handlers.stats import category_hours, parse_period, percent
from handlers.types import Channel, Recipient
from storage import accounts, outbox, periods, stats, tickets
from storage.accounts import sync_people
from storage.clock import FakeClock, stamp
from storage.periods import Period
from storage.stats import Rates, Scope
from storage.tickets import EventAction, NewTicket, TicketStatus
from tests.chat import ChatUser, audit, bind, file_report, pause
from tests.e2e.test_cli import run_cli, write_config

TZ = "Asia/Shanghai"
NOVEMBER = periods.month_period(2026, 11, TZ)  # [2026-10-31T16:00Z, 2026-11-30T16:00Z)
US = timedelta(microseconds=1)

_STATUS_AFTER = {
    EventAction.ACKNOWLEDGED: TicketStatus.ACKNOWLEDGED,
    EventAction.RESOLVED: TicketStatus.RESOLVED,
    EventAction.CANCELLED: TicketStatus.CANCELLED,
    EventAction.CLOSED: TicketStatus.CLOSED,
}


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


class Log:
    """Writes tickets and their events with chosen times, as the handlers would."""

    def __init__(self, conn: aiosqlite.Connection, config: Config) -> None:
        self.conn = conn
        self.config = config
        self.resident = 0

    async def ticket(self, created: datetime, grid_id: str = "G01", category: str = "repair",
                     ack_hours: float | None = None, resolve_hours: float | None = None) -> int:
        if not self.resident:
            account = await accounts.ensure_account(self.conn, "console", "resident-log", "resident-log",
                                                    "居民", created)
            self.resident = account.resident_id
        grid = self.config.grid(grid_id)
        assert grid is not None
        found = self.config.category(category)
        ack = ack_hours if ack_hours is not None else (found.ack_hours if found else 1)
        resolve = resolve_hours if resolve_hours is not None else (found.resolve_hours if found else 1)
        ticket_id = await tickets.create_ticket(self.conn, NewTicket(
            resident_id=self.resident, category_id=category, description="测试工单", community_id=grid.community,
            compound="测试小区", building="1栋", grid_id=grid.id, phone="", latitude=None, longitude=None,
            source_channel="console", ack_due_at=created + timedelta(hours=ack),
            resolve_due_at=created + timedelta(hours=resolve),
        ), created)
        await tickets.add_event(self.conn, ticket_id, created, "resident", str(self.resident), EventAction.CREATED)
        await tickets.update_ticket(self.conn, ticket_id, created, status=TicketStatus.ROUTED)
        return ticket_id

    async def event(self, ticket_id: int, at: datetime, action: EventAction, *, actor_kind: str = "person",
                    data: dict | None = None) -> None:
        actor = str(self.resident) if actor_kind == "resident" else "g01-leader"
        await tickets.add_event(self.conn, ticket_id, at, actor_kind, actor, action, data=data)
        if action in _STATUS_AFTER:
            await tickets.update_ticket(self.conn, ticket_id, at, status=_STATUS_AFTER[action])

    async def rate(self, ticket_id: int, at: datetime, rating: str) -> None:
        await self.event(ticket_id, at, EventAction.RATED, actor_kind="resident", data={"rating": rating})
        if rating != "unsatisfied":
            await self.event(ticket_id, at, EventAction.CLOSED, actor_kind="system")


async def rates_of(app: App, period: Period = NOVEMBER, scope: Scope = stats.SUBDISTRICT,
                   hours: stats.CategoryHours | None = None) -> Rates:
    async with app.db.read() as conn:
        return await stats.rates(conn, period, scope, category_hours(app.config) if hours is None else hours,
                                 now=app.clock.now())


# ---------------------------------------------------------------------------------------------
# Periods


def test_periods_are_local_calendar_units() -> None:
    # 2026-11-29T17:00Z is Monday 30 November, 01:00 in Shanghai.
    now = utc(2026, 11, 29, 17)
    day = periods.period_for("day", now, TZ)
    week = periods.period_for("week", now, TZ)
    month = periods.period_for("month", now, TZ)
    year = periods.period_for("year", now, TZ)
    assert (day.start, day.end) == (utc(2026, 11, 29, 16), utc(2026, 11, 30, 16))
    assert (week.start, week.end) == (utc(2026, 11, 29, 16), utc(2026, 12, 6, 16))  # Monday to Monday
    assert (month.start, month.end) == (utc(2026, 10, 31, 16), utc(2026, 11, 30, 16))
    assert (year.start, year.end) == (utc(2025, 12, 31, 16), utc(2026, 12, 31, 16))
    last = periods.previous_week(now, TZ)
    assert (last.start, last.end) == (utc(2026, 11, 22, 16), utc(2026, 11, 29, 16))  # Mon 23 – Sun 29
    december = periods.month_period(2026, 12, TZ)
    assert (december.start, december.end) == (utc(2026, 11, 30, 16), utc(2026, 12, 31, 16))
    assert month.contains(utc(2026, 10, 31, 16)) and not month.contains(utc(2026, 11, 30, 16))


def test_period_words_and_percentages() -> None:
    now = utc(2026, 11, 26, 2)
    assert parse_period("2026-10", now, TZ) == periods.month_period(2026, 10, TZ)
    assert parse_period("本周", now, TZ) == periods.period_for("week", now, TZ)
    assert parse_period("2026", now, TZ) == periods.year_period(2026, TZ)
    assert parse_period("2026-13", now, TZ) is None and parse_period("G07", now, TZ) is None
    # Halves round up: 2/3 → 67, 1/8 → 13, 5/8 → 63.
    assert [percent(2, 3), percent(1, 8), percent(5, 8), percent(0, 4), percent(9, 10)] == [67, 13, 63, 0, 90]


# ---------------------------------------------------------------------------------------------
# The rates from the audit log


async def test_response_and_resolution_rates(app: App) -> None:
    start = utc(2026, 11, 10, 2)  # repair: acknowledge within 2 h, resolve within 48 h
    async with app.db.transaction() as conn:
        log = Log(conn, app.config)
        ids = [await log.ticket(start) for _ in range(10)]
        for ticket_id in ids[:6]:  # 1–6: acknowledged after 1 h
            await log.event(ticket_id, start + timedelta(hours=1), EventAction.ACKNOWLEDGED)
        for ticket_id in ids[:5]:  # 1–5: resolved after 24 h
            await log.event(ticket_id, start + timedelta(hours=24), EventAction.RESOLVED)
        await log.event(ids[5], start + timedelta(hours=48) + US, EventAction.RESOLVED)  # 6: 1 µs late
        await log.event(ids[6], start + timedelta(hours=2), EventAction.ACKNOWLEDGED)  # 7: exactly at the deadline
        await log.event(ids[6], start + timedelta(hours=48), EventAction.RESOLVED)  # … and exactly at this one
        await log.event(ids[7], start + timedelta(hours=2) + US, EventAction.ACKNOWLEDGED)  # 8: 1 µs late
        await log.event(ids[7], start + timedelta(hours=10), EventAction.RESOLVED)
        await log.event(ids[8], start + timedelta(hours=5), EventAction.ACKNOWLEDGED)  # 9: late, never resolved
        await log.event(ids[9], start + timedelta(hours=1), EventAction.RESOLVED)  # 10: 办结 at once, no 受理
        # A second 受理 (after a reopening) does not replace the first.
        await log.event(ids[8], start + timedelta(hours=30), EventAction.ACKNOWLEDGED)
        # Created a microsecond before November began in Shanghai: another month's ticket.
        october = await log.ticket(utc(2026, 10, 31, 16) - US)
        await log.event(october, utc(2026, 10, 31, 16), EventAction.ACKNOWLEDGED)

    found = await rates_of(app)
    # 响应: 1–7 in time (7 at the deadline counts), and 10, whose 办结 after 1 h answered it = 8;
    # 8 and 9 late.
    # 办结: 1–5, 7, 8 and 10 in time = 8; 6 late; 9 never.
    assert found == Rates(tickets=10, withdrawn=0, response_base=10, acknowledged=10, acknowledged_in_time=8,
                          resolution_base=10, resolved=9, resolved_in_time=8, rated=0, satisfied=0)
    assert (found.response_rate, found.resolution_rate, found.satisfaction_rate) == (0.8, 0.8, None)
    # (its 办结 window has ended unresolved: in 办结率, missed)
    assert await rates_of(app, periods.month_period(2026, 10, TZ)) == Rates(
        tickets=1, response_base=1, acknowledged=1, acknowledged_in_time=1, resolution_base=1)


async def test_period_boundaries_are_local_and_half_open(app: App) -> None:
    async with app.db.transaction() as conn:
        log = Log(conn, app.config)
        await log.ticket(utc(2026, 10, 31, 16))  # 1 Nov 00:00 local: in November
        await log.ticket(utc(2026, 10, 31, 17))  # still 31 Oct in UTC, 1 Nov 01:00 local: November
        await log.ticket(utc(2026, 10, 31, 15, 59))  # 31 Oct 23:59 local: October
        await log.ticket(utc(2026, 11, 30, 16))  # 1 Dec 00:00 local: December
    assert (await rates_of(app)).tickets == 2
    assert (await rates_of(app, periods.month_period(2026, 10, TZ))).tickets == 1
    assert (await rates_of(app, periods.month_period(2026, 12, TZ))).tickets == 1
    assert (await rates_of(app, periods.year_period(2026, TZ))).tickets == 4


async def test_cancelled_before_acknowledgement_is_left_out(app: App) -> None:
    start = utc(2026, 11, 10, 2)
    async with app.db.transaction() as conn:
        log = Log(conn, app.config)
        withdrawn = await log.ticket(start)
        await log.event(withdrawn, start + timedelta(minutes=10), EventAction.CANCELLED, actor_kind="resident")
        after_ack = await log.ticket(start)
        await log.event(after_ack, start + timedelta(hours=1), EventAction.ACKNOWLEDGED)
        await log.event(after_ack, start + timedelta(hours=3), EventAction.CANCELLED, actor_kind="resident")
        # Cancelled by someone other than the resident: still counted.
        by_staff = await log.ticket(start)
        await log.event(by_staff, start + timedelta(minutes=10), EventAction.CANCELLED)
    # Issue 15: after_ack was withdrawn inside its 办结 window, so it leaves both rates too.
    # Denominator: by_staff (never acknowledged, both windows over) = 1.
    assert await rates_of(app) == Rates(tickets=1, withdrawn=2, response_base=1, resolution_base=1)
    assert (await rates_of(app)).response_rate == 0.0


async def test_deadlines_come_from_the_category_in_config(app: App) -> None:
    start = utc(2026, 11, 10, 2)
    async with app.db.transaction() as conn:
        log = Log(conn, app.config)
        elevator = await log.ticket(start, category="elevator")  # 24 h to acknowledge
        await log.event(elevator, start + timedelta(hours=20), EventAction.ACKNOWLEDGED)
        repair = await log.ticket(start)  # 2 h
        await log.event(repair, start + timedelta(hours=20), EventAction.ACKNOWLEDGED)
        # Reassigned at once with fresh (later) deadlines: judged from creation all the same.
        moved = await log.ticket(start)
        await tickets.update_ticket(conn, moved, start, ack_due_at=start + timedelta(hours=30))
        await log.event(moved, start + timedelta(hours=20), EventAction.ACKNOWLEDGED)
        # A category no longer in config: the ticket's own stored span (3 h) is used.
        retired = await log.ticket(start, category="retired", ack_hours=3, resolve_hours=6)
        await log.event(retired, start + timedelta(hours=3), EventAction.ACKNOWLEDGED)
    found = await rates_of(app)
    assert (found.tickets, found.acknowledged_in_time) == (4, 2)  # elevator and retired
    # Hours are passed in: half an hour for repair makes every repair ticket late.
    custom = await rates_of(app, hours={"elevator": (0.5, 1.0), "repair": (20, 40)})
    assert custom.acknowledged_in_time == 3  # repair ×2 (exactly 20 h) and retired; elevator late


async def test_latest_rating_wins_after_a_reopening(app: App, resident: ChatUser, leader: ChatUser) -> None:
    guide = ChatUser(app, "guide-g01")
    await bind(app, leader, "g01-leader")
    await bind(app, guide, "g01-guide")
    first = await file_report(resident, category="水电维修")
    pause(app)  # a minute between reports, within the flood guard's 20 messages a minute
    second = await file_report(resident, category="矛盾化解")
    pause(app)
    third = await file_report(resident, category="环境卫生")
    pause(app)
    fourth = await file_report(resident, category="其他")
    pause(app)
    await file_report(resident, category="政策咨询")  # still open: not rated
    for ticket_id in (first, second, third, fourth):
        await leader.say(f"受理 {ticket_id}")
        await leader.say(f"办结 {ticket_id} 已处理")
    await resident.press_data(f"rate:{first}:unsatisfied")  # reopened to the grid guide …
    await resident.press("跳过")  # (no reason given)
    await guide.say(f"受理 {first}")
    await guide.say(f"办结 {first} 已重新处理")
    await resident.press_data(f"rate:{first}:satisfied")  # … and then satisfied: this one counts
    await resident.press_data(f"rate:{second}:satisfied")
    await resident.press_data(f"rate:{third}:mostly_satisfied")
    await resident.press_data(f"rate:{fourth}:unsatisfied")
    await resident.press("跳过")
    assert len(await audit(app, "rated")) == 5

    found = await rates_of(app)
    # Latest ratings: 满意, 满意, 基本满意, 不满意 → 3/4. (The first rating would give 2/4.)
    assert (found.rated, found.satisfied, found.satisfaction_rate) == (4, 3, 0.75)
    # Issue 15: the fourth, reopened by 不满意, is not 办结 and is inside its 120 h again; the
    # fifth is inside its windows: both wait (时限内待处理), in neither denominator yet.
    assert (found.tickets, found.response_base, found.acknowledged_in_time) == (5, 4, 4)
    assert (found.resolution_base, found.resolved_in_time, found.pending) == (3, 3, 2)


async def test_scopes_grids_and_communities(app: App) -> None:
    start = utc(2026, 11, 10, 2)
    async with app.db.transaction() as conn:
        log = Log(conn, app.config)
        g01 = [await log.ticket(start, "G01") for _ in range(2)]
        g07 = await log.ticket(start, "G07")
        g11 = await log.ticket(start, "G11")
        await log.event(g01[0], start + timedelta(hours=1), EventAction.ACKNOWLEDGED)
        await log.event(g07, start + timedelta(hours=1), EventAction.ACKNOWLEDGED)
        # Reassigned from G01 (龙池) to G12 (南桥): it counts where it is now.
        await tickets.update_ticket(conn, g01[1], start, grid_id="G12", community_id="nanqiao")
        await log.event(g01[1], start + timedelta(minutes=5), EventAction.REASSIGNED)
        await log.event(g11, start + timedelta(hours=9), EventAction.ACKNOWLEDGED)

    assert (await rates_of(app, scope=Scope(grid_id="G01"))) == Rates(
        tickets=1, response_base=1, acknowledged=1, acknowledged_in_time=1, resolution_base=1)
    longchi = await rates_of(app, scope=Scope(community_id="longchi"))
    assert (longchi.tickets, longchi.acknowledged_in_time) == (2, 2)
    nanqiao = await rates_of(app, scope=Scope(community_id="nanqiao"))
    assert (nanqiao.tickets, nanqiao.acknowledged, nanqiao.acknowledged_in_time) == (2, 1, 0)
    hours = category_hours(app.config)
    async with app.db.read() as conn:
        now = app.clock.now()
        grids = await stats.grid_breakdown(conn, NOVEMBER, stats.SUBDISTRICT, hours, now=now)
        in_longchi = await stats.grid_breakdown(conn, NOVEMBER, Scope(community_id="longchi"), hours, now=now)
        communities = await stats.community_breakdown(conn, NOVEMBER, stats.SUBDISTRICT, hours, now=now)
        hostile = await stats.rates(conn, NOVEMBER, Scope(grid_id="G01' OR '1'='1"), hours, now=now)
    assert [(row.key, row.rates.tickets, row.rates.acknowledged_in_time) for row in grids] == [
        ("G01", 1, 1), ("G07", 1, 1), ("G11", 1, 0), ("G12", 1, 0)]
    assert [row.key for row in in_longchi] == ["G01", "G07"]
    assert [(row.key, row.rates.tickets) for row in communities] == [("longchi", 2), ("nanqiao", 2)]
    assert hostile == Rates()  # values are parameters, never SQL


async def test_overdue_open_tickets(app: App) -> None:
    start = utc(2026, 11, 20, 2)
    now = utc(2026, 11, 26, 2)
    async with app.db.transaction() as conn:
        log = Log(conn, app.config)
        not_acked = await log.ticket(start, "G11", category="sanitation")  # ack due 11-20 06:00
        acked_in_time = await log.ticket(utc(2026, 11, 25, 2))  # ack due passed, resolve due 11-27
        await log.event(acked_in_time, utc(2026, 11, 25, 3), EventAction.ACKNOWLEDGED)
        acked_late = await log.ticket(start)  # resolve due 11-22 02:00
        await log.event(acked_late, start + timedelta(hours=1), EventAction.ACKNOWLEDGED)
        closed = await log.ticket(start)
        await log.event(closed, start + timedelta(hours=100), EventAction.RESOLVED)
        await log.rate(closed, start + timedelta(hours=101), "satisfied")
        await log.ticket(utc(2026, 11, 26, 1))  # ack due 03:00: not yet
    async with app.db.read() as conn:
        overdue = await stats.overdue_tickets(conn, now)
        nanqiao = await stats.overdue_tickets(conn, now, Scope(community_id="nanqiao"))
    assert [(t.id, t.grid_id, t.missed) for t in overdue] == [(not_acked, "G11", "ack"), (acked_late, "G01", "resolve")]
    assert overdue[0].overdue_by(now) == timedelta(days=5, hours=20)
    assert overdue[1].overdue_by(now) == timedelta(days=4)
    assert [t.id for t in nanqiao] == [not_acked]


# ---------------------------------------------------------------------------------------------
# /stats


@pytest.fixture
async def november(app: App) -> None:
    """#1–#5 in November, #6 in October; now (FakeClock) is 2026-11-26 10:00 in Shanghai.

    November: #1–#4 counted (#5 withdrawn); in time 受理 #1 #3 → 2/4; in time 办结 #1 #3 → 2/4;
    rated #1 满意, #3 基本满意 → 2/2. Overdue now: #4 (未受理) and #6 (reopened, 未受理).
    """
    async with app.db.transaction() as conn:
        log = Log(conn, app.config)
        one = await log.ticket(utc(2026, 11, 10, 2), "G01")
        await log.event(one, utc(2026, 11, 10, 3), EventAction.ACKNOWLEDGED)
        await log.event(one, utc(2026, 11, 11, 2), EventAction.RESOLVED)
        await log.rate(one, utc(2026, 11, 11, 3), "satisfied")
        two = await log.ticket(utc(2026, 11, 10, 2), "G01")
        await log.event(two, utc(2026, 11, 10, 5), EventAction.ACKNOWLEDGED)  # 3 h: late
        await log.event(two, utc(2026, 11, 13, 2), EventAction.RESOLVED)  # 72 h: late
        three = await log.ticket(utc(2026, 11, 12, 2), "G07", category="dispute")  # 4 h / 72 h
        await log.event(three, utc(2026, 11, 12, 6), EventAction.ACKNOWLEDGED)  # exactly 4 h
        await log.event(three, utc(2026, 11, 13, 2), EventAction.RESOLVED)
        await log.rate(three, utc(2026, 11, 13, 3), "mostly_satisfied")
        await log.ticket(utc(2026, 11, 20, 2), "G11", category="sanitation")
        five = await log.ticket(utc(2026, 11, 25, 2), "G01")
        await log.event(five, utc(2026, 11, 25, 2, 30), EventAction.CANCELLED, actor_kind="resident")
        six = await log.ticket(utc(2026, 10, 20, 2), "G07")
        await log.event(six, utc(2026, 10, 20, 3), EventAction.ACKNOWLEDGED)
        await log.event(six, utc(2026, 10, 21, 2), EventAction.RESOLVED)
        await log.rate(six, utc(2026, 10, 22, 2), "unsatisfied")
        await tickets.update_ticket(conn, six, utc(2026, 10, 22, 2), status=TicketStatus.REOPENED,
                                    ack_due_at=utc(2026, 10, 22, 4), resolve_due_at=utc(2026, 10, 24, 2))
        await log.event(six, utc(2026, 10, 22, 2), EventAction.REOPENED, actor_kind="system")


@pytest.fixture
async def admin(app: App) -> ChatUser:
    user = ChatUser(app, "admin-1")
    await bind(app, user, "sd-admin-1")
    return user


SUBDISTRICT_NOVEMBER = "\n".join([
    "【三率】丰山街道 · 2026年11月（截至 11-26 10:00）",
    "工单 4 件（另有 1 件办结前被居民撤销，不计入）",
    "响应率 50%（2/4）",
    "办结率 50%（2/4）",
    "满意率 100%（2/2）",
    "当前超时工单 2 件",
    "各社区：",
    "· 龙池社区：3 件｜响应 67%（2/3）｜办结 67%（2/3）｜满意 100%（2/2）",
    "· 南桥社区：1 件｜响应 0%（0/1）｜办结 0%（0/1）｜满意 —",
    "· 丰乐社区：本期无工单",
    "· 高庵社区：本期无工单",
])


async def test_stats_for_an_admin(admin: ChatUser, november: None) -> None:
    await admin.say("/stats")
    assert admin.text == SUBDISTRICT_NOVEMBER

    await admin.say("/stats longchi")
    assert admin.text == "\n".join([
        "【三率】龙池社区 · 2026年11月（截至 11-26 10:00）",
        "工单 3 件（另有 1 件办结前被居民撤销，不计入）",
        "响应率 67%（2/3）",
        "办结率 67%（2/3）",
        "满意率 100%（2/2）",
        "当前超时工单 1 件",
        "各网格：",
        "· G01 龙池花园第一网格：2 件｜响应 50%（1/2）｜办结 50%（1/2）｜满意 100%（1/1）",
        "· G07 琅琊新村第二网格：1 件｜响应 100%（1/1）｜办结 100%（1/1）｜满意 100%（1/1）",
        "8 个网格本期无工单。",
    ])
    await admin.say("/stats 龙池社区")
    assert admin.text.startswith("【三率】龙池社区 · 2026年11月")

    await admin.say("/stats g07")
    assert admin.text == "\n".join([
        "【三率】G07 琅琊新村第二网格 · 2026年11月（截至 11-26 10:00）",
        "工单 1 件",
        "响应率 100%（1/1）",
        "办结率 100%（1/1）",
        "满意率 100%（1/1）",
        "当前超时工单 1 件",
    ])

    await admin.say("/stats 2026-10")  # #6: in time, then 不满意: reopened, not 办结 (issue 15)
    assert admin.text.splitlines()[:6] == [
        "【三率】丰山街道 · 2026年10月",
        "工单 1 件",
        "响应率 100%（1/1）",
        "办结率 0%（0/1）",
        "满意率 0%（0/1）",
        "当前超时工单 2 件",
    ]

    await admin.say("/stats week")  # Mon 23 – Sun 29 November: only the withdrawn #5
    assert admin.text.splitlines()[:5] == [
        "【三率】丰山街道 · 11月23日–11月29日（截至 11-26 10:00）",
        "工单 0 件（另有 1 件办结前被居民撤销，不计入）",
        "响应率 —",
        "办结率 —",
        "满意率 —",
    ]

    # #1–#4 and #6: 受理 in time #1 #3 #6, 办结 in time #1 #3 (#6 reopened); 2 of 3 satisfied
    await admin.say("/stats year")
    assert admin.text.splitlines()[1:5] == [
        "工单 5 件（另有 1 件办结前被居民撤销，不计入）",
        "响应率 60%（3/5）",
        "办结率 40%（2/5）",
        "满意率 67%（2/3）",
    ]

    await admin.say("/stats G07 2026-10")
    assert admin.text.splitlines()[:2] == ["【三率】G07 琅琊新村第二网格 · 2026年10月", "工单 1 件"]

    await admin.say("/stats G99")
    assert admin.text.startswith("没有找到「G99」。\n用法：/stats")


async def test_stats_refused_to_residents_and_grid_staff(
    app: App, resident: ChatUser, leader: ChatUser, november: None
) -> None:
    await resident.say("/stats")
    assert [r.text for r in resident._last_batch] == ["抱歉，三率统计仅供街道管理员和社区工作人员查看。"]
    await bind(app, leader, "g01-leader")
    await leader.say("/stats G01")
    assert [r.text for r in leader._last_batch] == ["抱歉，三率统计仅供街道管理员和社区工作人员查看。"]


async def test_community_staff_see_their_own_community(app: App, november: None) -> None:
    staff = ChatUser(app, "staff-longchi")
    await bind(app, staff, "longchi-staff-1")
    await staff.say("/stats")
    assert staff.text.startswith("【三率】龙池社区 · 2026年11月（截至 11-26 10:00）\n工单 3 件")
    await staff.say("/stats G07")
    assert staff.text.startswith("【三率】G07 琅琊新村第二网格")
    for other in ("/stats nanqiao", "/stats G11", "/stats 街道"):
        await staff.say(other)
        assert staff.text == "您只能查看本社区（龙池社区）及其网格的统计。"


async def test_stats_in_a_group_moves_to_private_chat(admin: ChatUser, november: None) -> None:
    await admin.say("/stats", group=True)
    assert admin.text == "为保护个人信息，反映问题、查看工单请私聊我："
    assert "响应率" not in admin.text


# ---------------------------------------------------------------------------------------------
# The command line


@pytest.mark.slow  # the command line in its own process
async def test_cli_prints_the_stats(config: Config, tmp_path) -> None:  # noqa: ANN001
    # The command reads the database the app below writes: this test's PostgreSQL one too.
    path = write_config(tmp_path, lambda data: data["storage"].update(url=config.storage.url))
    from bot.bootstrap import build_app

    app = await build_app(config, FakeClock(utc(2026, 10, 1)), tmp_path / "bot.db")
    try:
        async with app.db.transaction() as conn:
            log = Log(conn, config)
            done = await log.ticket(utc(2026, 10, 10, 2), "G07")
            await log.event(done, utc(2026, 10, 10, 3), EventAction.ACKNOWLEDGED)
            await log.event(done, utc(2026, 10, 11, 2), EventAction.RESOLVED)
            await log.rate(done, utc(2026, 10, 11, 3), "satisfied")
            late = await log.ticket(utc(2026, 10, 12, 2), "G11")
            await log.event(late, utc(2026, 10, 12, 9), EventAction.ACKNOWLEDGED)
            await log.event(late, utc(2026, 10, 12, 10), EventAction.RESOLVED)
            await log.rate(late, utc(2026, 10, 12, 11), "mostly_satisfied")
    finally:
        await app.close()

    result = run_cli("--config", str(path), "stats", "--period", "2026-10")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "【三率】丰山街道 · 2026年10月",
        "工单 2 件",
        "响应率 50%（1/2）",
        "办结率 100%（2/2）",
        "满意率 100%（2/2）",
        "当前超时工单 0 件",
        "各社区：",
        "· 龙池社区：1 件｜响应 100%（1/1）｜办结 100%（1/1）｜满意 100%（1/1）",
        "· 南桥社区：1 件｜响应 0%（0/1）｜办结 100%（1/1）｜满意 100%（1/1）",
        "· 丰乐社区：本期无工单",
        "· 高庵社区：本期无工单",
    ]
    grid = run_cli("--config", str(path), "stats", "--scope", "G11", "--period", "2026-10")
    assert grid.returncode == 0, grid.stderr
    assert grid.stdout.splitlines()[:3] == ["【三率】G11 南桥新村第一网格 · 2026年10月", "工单 1 件", "响应率 0%（0/1）"]
    unknown = run_cli("--config", str(path), "stats", "--scope", "G99")
    assert unknown.returncode == 2 and "G99" in unknown.stderr
    bad_period = run_cli("--config", str(path), "stats", "--period", "2026-13")
    assert bad_period.returncode == 2 and "2026-13" in bad_period.stderr


# ---------------------------------------------------------------------------------------------
# The weekly digest

DIGEST_NOW = utc(2026, 11, 30, 1)  # Monday 30 November, 09:00 in Shanghai


@pytest.fixture
async def last_week(app: App) -> None:
    """Last week is Mon 23 – Sun 29 November (local). Ticket ids:

    #1–#9  G21, created 1 Nov, never acknowledged: overdue since 11-01 04:00Z (28 d 21 h).
    #10–11 G01, acknowledged in 1 h, resolved in 24 h, both 满意.
    #12    G07, acknowledged in time, not resolved (overdue to resolve since 11-26 02:00Z);
           #13 G07 never acknowledged (overdue since 11-24 04:00Z).
    #14    G11, acknowledged 3 h late, not resolved (overdue to resolve since 11-27 02:00Z).
    #15–17 G31, G32, G33: acknowledged 3 h late, resolved after 10 h.
    Last week: 8 tickets; 受理 in time 3 (#10 #11 #12) → 38%; 办结 in time 5 (#10 #11 #15–17) → 63%.
    Overdue now: 12, most overdue first #1–#9, #13, #12, #14.
    """
    async with app.db.transaction() as conn:
        log = Log(conn, app.config)
        for _ in range(9):
            await log.ticket(utc(2026, 11, 1, 2), "G21")
        created = utc(2026, 11, 24, 2)
        for _ in range(2):
            ticket_id = await log.ticket(created, "G01")
            await log.event(ticket_id, created + timedelta(hours=1), EventAction.ACKNOWLEDGED)
            await log.event(ticket_id, created + timedelta(hours=24), EventAction.RESOLVED)
            await log.rate(ticket_id, created + timedelta(hours=25), "satisfied")
        acked = await log.ticket(created, "G07")
        await log.event(acked, created + timedelta(hours=1), EventAction.ACKNOWLEDGED)
        await log.ticket(created, "G07")
        g11 = await log.ticket(utc(2026, 11, 25, 2), "G11")
        await log.event(g11, utc(2026, 11, 25, 5), EventAction.ACKNOWLEDGED)
        for grid_id in ("G31", "G32", "G33"):
            ticket_id = await log.ticket(utc(2026, 11, 26, 2), grid_id)
            await log.event(ticket_id, utc(2026, 11, 26, 5), EventAction.ACKNOWLEDGED)
            await log.event(ticket_id, utc(2026, 11, 26, 12), EventAction.RESOLVED)


async def test_weekly_digest_goes_to_every_admin_account(app: App, last_week: None) -> None:
    admin_one = ChatUser(app, "admin-1")
    admin_two = ChatUser(app, "admin-2")
    admin_two_telegram = ChatUser(app, "5550002", channel=Channel.TELEGRAM)
    await bind(app, admin_one, "sd-admin-1")
    await bind(app, admin_two, "sd-admin-2")
    await bind(app, admin_two_telegram, "sd-admin-2")
    await bind(app, ChatUser(app, "leader-g01"), "g01-leader")
    await bind(app, ChatUser(app, "staff-longchi"), "longchi-staff-1")

    async with app.db.read() as conn:
        notes = await weekly_digest(conn, app.services, DIGEST_NOW)
    assert [n.recipient for n in notes] == [
        Recipient(Channel.CONSOLE, "admin-1"), Recipient(Channel.CONSOLE, "admin-2"),
        Recipient(Channel.TELEGRAM, "5550002")]
    assert {(n.kind, n.ticket_id) for n in notes} == {("digest", None)}
    assert len({n.reply.text for n in notes}) == 1

    name = {g: f"{g} {app.config.grid(g).name}" for g in ("G07", "G11", "G21", "G31", "G32")}  # type: ignore[union-attr]
    overdue_g21 = [f"· #{i} {name['G21']}｜未受理，已超时 28 天 21 小时" for i in range(1, 10)]
    assert notes[0].reply.text == "\n".join([
        "【丰山街道三率周报】11月23日–11月29日",
        "全街道：",
        "工单 8 件",
        "响应率 38%（3/8）",
        "办结率 63%（5/8）",
        "满意率 100%（2/2）",
        "各社区：",
        "· 龙池社区：4 件｜响应 75%（3/4）｜办结 50%（2/4）｜满意 100%（2/2）",
        "· 南桥社区：1 件｜响应 0%（0/1）｜办结 0%（0/1）｜满意 —",
        "· 丰乐社区：本期无工单",
        "· 高庵社区：3 件｜响应 0%（0/3）｜办结 100%（3/3）｜满意 —",
        "",
        "当前超时工单 12 件：",
        *overdue_g21,
        f"· #13 {name['G07']}｜未受理，已超时 5 天 21 小时",
        "……另有 2 件，发送 /tickets 查看。",  # #12 and #14 (未办结) are not listed
        "",
        "需关注的网格：",
        f"· {name['G21']}（丰乐社区）：超时 9 件",
        f"· {name['G07']}（龙池社区）：超时 2 件；上周响应率 50%（1/2）",
        f"· {name['G11']}（南桥社区）：超时 1 件；上周响应率 0%（0/1）",
        f"· {name['G31']}（高庵社区）：上周响应率 0%（0/1）",
        f"· {name['G32']}（高庵社区）：上周响应率 0%（0/1）",  # G33 is the sixth: left out
    ])


async def test_digest_without_admin_accounts_or_problems(app: App, config: Config) -> None:
    async with app.db.read() as conn:
        assert await weekly_digest(conn, app.services, DIGEST_NOW) == []
    admin = ChatUser(app, "admin-1")
    await bind(app, admin, "sd-admin-1")
    async with app.db.read() as conn:
        [note] = await weekly_digest(conn, app.services, DIGEST_NOW)
    assert note.reply.text.splitlines()[1:6] == ["全街道：", "工单 0 件", "响应率 —", "办结率 —", "满意率 —"]
    assert "当前没有超时工单。" in note.reply.text and "暂无需特别关注的网格。" in note.reply.text
    # An admin removed from config is no longer sent the digest.
    trimmed = config.model_copy(update={"admins": [a for a in config.admins if a.id != "sd-admin-1"]})
    async with app.db.transaction() as conn:
        await sync_people(conn, staff_seeds(trimmed), app.clock.now())
    async with app.db.read() as conn:
        assert await weekly_digest(conn, app.services, DIGEST_NOW) == []


async def test_digest_reports_deliveries_that_failed_or_may_not_have_arrived(app: App) -> None:
    admin = ChatUser(app, "admin-1")
    await bind(app, admin, "sd-admin-1")
    week_start = utc(2026, 11, 22, 16)  # Monday 23 November, local midnight
    async with app.db.transaction() as conn:
        for status, created in (("failed", week_start), ("uncertain", week_start + US), ("failed", week_start - US)):
            row = await outbox.enqueue(conn, "telegram", "1", {"text": "x"}, created)
            await conn.execute("UPDATE outbox SET status = ? WHERE id = ?", (status, row))
        await conn.execute("INSERT INTO inbox (channel, platform_id, payload, status, received_at)"
                           " VALUES ('telegram', '77', '{}', 'failed', ?)", (stamp(week_start),))
    async with app.db.read() as conn:
        [note] = await weekly_digest(conn, app.services, DIGEST_NOW)
    # The failed row from before the week is not counted.
    assert "1 条发送失败，1 条不确定是否送达，1 条消息处理失败" in note.reply.text


async def test_digest_counts_the_resends_of_unknown_outcomes(app: App) -> None:
    """Sends whose outcome was unknown (a crash, a read timeout) were sent again: the digest says
    how many times this week, so the admins know a few people may have had a message twice."""
    admin = ChatUser(app, "admin-1")
    await bind(app, admin, "sd-admin-1")
    week_start = utc(2026, 11, 22, 16)  # Monday 23 November, local midnight
    async with app.db.transaction() as conn:
        for resends, created in ((2, week_start), (1, week_start + US), (4, week_start - US)):
            row = await outbox.enqueue(conn, "telegram", "1", {"text": "x"}, created)
            await conn.execute("UPDATE outbox SET status = 'sent', resends = ? WHERE id = ?", (resends, row))
    async with app.db.read() as conn:
        [note] = await weekly_digest(conn, app.services, DIGEST_NOW)
    # The resends of the row from before the week are not counted.
    assert "0 条发送失败，0 条不确定是否送达，0 条消息处理失败，3 次因送达情况不明而重发" in note.reply.text
