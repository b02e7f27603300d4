"""Fair 三率 (issue 15): a ticket enters 响应率 once acknowledged or its 受理 window has ended,
and 办结率 once resolved or its 办结 window has ended; withdrawn by the resident before that, it
leaves both; reopened by 不满意, it is not 办结 until resolved again. What is still inside its
window is counted apart (「时限内待处理 N 件」). The definitions are in storage/stats.py.

Each case is written through the chat harness (the issue's four tickets) or the audit log with
chosen times (tests/flows/test_stats.py's Log), with `now` from the fake clock.
"""

from __future__ import annotations

from datetime import timedelta

from bot.app import App
from handlers.stats import category_hours
from storage import periods, stats
from storage.clock import FakeClock
from storage.stats import Rates
from storage.tickets import EventAction
from tests.chat import ChatUser, bind, file_report, pause
from tests.flows.test_stats import NOVEMBER, Log, utc

US = timedelta(microseconds=1)


async def rates_at(app: App, now, period=NOVEMBER) -> Rates:  # noqa: ANN001
    async with app.db.transaction() as conn:
        return await stats.rates(conn, period, stats.SUBDISTRICT, category_hours(app.config), now=now)


async def four_tickets(app: App, resident: ChatUser, leader: ChatUser) -> None:
    """The issue's case, in G01 this month (the fake clock: 2026-11-26 10:00 in Shanghai)."""
    await bind(app, leader, "g01-leader")
    first = await file_report(resident)  # 水电维修: 受理 within 2 h, 办结 within 48 h
    pause(app)
    second = await file_report(resident)
    pause(app)
    for ticket_id in (first, second):
        await leader.say(f"受理 {ticket_id}")
        await leader.say(f"办结 {ticket_id} 已修好")
    await resident.press_data(f"rate:{first}:satisfied")
    await resident.press_data(f"rate:{second}:unsatisfied")  # reopened one level up
    await resident.press("跳过")
    pause(app)
    fourth_first = await file_report(resident, category="矛盾化解")  # filed before #3, see below
    await leader.say(f"受理 {fourth_first}")
    await resident.press_data(f"my:cancel:{fourth_first}")
    await resident.press("确定撤销")
    assert resident.text == f"工单 #{fourth_first} 已撤销。"
    pause(app, 5)
    await file_report(resident, category="矛盾化解")  # minutes ago: well inside its 4 h window
    pause(app, 3)


async def test_the_issues_four_tickets_in_chat(app: App, resident: ChatUser, leader: ChatUser) -> None:
    await four_tickets(app, resident, leader)
    admin = ChatUser(app, "admin-1")
    await bind(app, admin, "sd-admin-1")
    await admin.say("/stats G01")
    assert admin.text.splitlines() == [
        "【三率】G01 龙池花园第一网格 · 2026年11月（截至 11-26 10:11）",
        "工单 3 件（另有 1 件办结前被居民撤销，不计入）",
        "响应率 100%（2/2）",  # #1 #2; the new one is inside its window, the withdrawn one left
        "办结率 100%（1/1）",  # #1; #2 was reopened by 不满意 and is inside its 48 h again
        "满意率 50%（1/2）",
        "时限内待处理 2 件",
        "当前超时工单 0 件",
    ]
    await admin.say("统计 G01 本月")
    assert admin.text.splitlines()[2:6] == ["响应率 100%（2/2）", "办结率 100%（1/1）", "满意率 50%（1/2）",
                                            "时限内待处理 2 件"]


async def test_windows_end_and_the_waiting_tickets_enter(app: App, resident: ChatUser, leader: ChatUser,
                                                          clock: FakeClock) -> None:
    await four_tickets(app, resident, leader)
    # Three days on: the new ticket's 受理 window (4 h) and #2's 办结 window (48 h) have ended.
    found = await rates_at(app, clock.now() + timedelta(days=3))
    assert (found.response_base, found.acknowledged_in_time) == (3, 2)
    assert (found.resolution_base, found.resolved_in_time, found.pending) == (3, 1, 0)
    assert (found.tickets, found.withdrawn) == (3, 1)


async def test_the_window_edge_is_inside(app: App) -> None:
    """At the deadline exactly the ticket may still be answered in time: it waits; a microsecond
    later its window has ended and it enters the rate as missed."""
    start = utc(2026, 11, 10, 2)  # repair: 2 h / 48 h
    async with app.db.transaction() as conn:
        await Log(conn, app.config).ticket(start)
    at_ack_deadline = await rates_at(app, start + timedelta(hours=2))
    assert (at_ack_deadline.response_base, at_ack_deadline.pending) == (0, 1)
    after = await rates_at(app, start + timedelta(hours=2) + US)
    assert (after.response_base, after.acknowledged_in_time, after.resolution_base, after.pending) == (1, 0, 0, 1)
    at_resolve_deadline = await rates_at(app, start + timedelta(hours=48))
    assert (at_resolve_deadline.resolution_base, at_resolve_deadline.pending) == (0, 1)
    ended = await rates_at(app, start + timedelta(hours=48) + US)
    assert (ended.resolution_base, ended.resolved_in_time, ended.pending) == (1, 0, 0)


async def test_acknowledged_and_resolved_exactly_at_the_deadline_count_in_time(app: App) -> None:
    start = utc(2026, 11, 10, 2)
    async with app.db.transaction() as conn:
        log = Log(conn, app.config)
        ticket = await log.ticket(start)
        await log.event(ticket, start + timedelta(hours=2), EventAction.ACKNOWLEDGED)
        await log.event(ticket, start + timedelta(hours=48), EventAction.RESOLVED)
    found = await rates_at(app, start + timedelta(hours=48))
    assert (found.response_base, found.acknowledged_in_time, found.resolution_base, found.resolved_in_time) == (
        1, 1, 1, 1)


async def test_a_late_acknowledgement_enters_as_missed(app: App) -> None:
    start = utc(2026, 11, 10, 2)
    async with app.db.transaction() as conn:
        log = Log(conn, app.config)
        ticket = await log.ticket(start)
        await log.event(ticket, start + timedelta(hours=3), EventAction.ACKNOWLEDGED)
    found = await rates_at(app, start + timedelta(hours=4))
    assert (found.response_base, found.acknowledged, found.acknowledged_in_time, found.pending) == (1, 1, 0, 1)


async def test_reopened_then_resolved_again(app: App) -> None:
    """Resolved in time, 不满意, reopened: not 办结. Resolved again: 办结 at that moment, judged
    by the deadline set when the ticket was created (a reopening's fresh deadlines do not count)."""
    start = utc(2026, 11, 10, 2)
    async with app.db.transaction() as conn:
        log = Log(conn, app.config)
        again_in_time = await log.ticket(start)
        again_late = await log.ticket(start)
        for ticket in (again_in_time, again_late):
            await log.event(ticket, start + timedelta(hours=1), EventAction.ACKNOWLEDGED)
            await log.event(ticket, start + timedelta(hours=10), EventAction.RESOLVED)
            await log.rate(ticket, start + timedelta(hours=11), "unsatisfied")
            await log.event(ticket, start + timedelta(hours=11), EventAction.REOPENED, actor_kind="system")
    reopened = await rates_at(app, start + timedelta(hours=12))
    assert (reopened.resolution_base, reopened.resolved, reopened.pending, reopened.satisfied, reopened.rated) == (
        0, 0, 2, 0, 2)
    async with app.db.transaction() as conn:
        log = Log(conn, app.config)
        await log.event(again_in_time, start + timedelta(hours=30), EventAction.RESOLVED)
        await log.event(again_late, start + timedelta(hours=50), EventAction.RESOLVED)
        await log.rate(again_in_time, start + timedelta(hours=51), "satisfied")
    found = await rates_at(app, start + timedelta(hours=60))
    assert (found.resolution_base, found.resolved, found.resolved_in_time, found.pending) == (2, 2, 1, 0)
    assert (found.rated, found.satisfied) == (2, 1)  # the latest rating decides


async def test_withdrawn_after_acknowledgement_but_inside_the_resolve_window_leaves_both(app: App) -> None:
    """「撤销前」 reads as before the ticket entered 办结率: acknowledged, then withdrawn while its
    办结 window was open → out of both rates. Withdrawn once that window had ended (never
    resolved): it had already entered both and stays, as missed."""
    start = utc(2026, 11, 10, 2)
    async with app.db.transaction() as conn:
        log = Log(conn, app.config)
        inside = await log.ticket(start)
        await log.event(inside, start + timedelta(hours=1), EventAction.ACKNOWLEDGED)
        await log.event(inside, start + timedelta(hours=48), EventAction.CANCELLED, actor_kind="resident")
        after = await log.ticket(start)
        await log.event(after, start + timedelta(hours=1), EventAction.ACKNOWLEDGED)
        await log.event(after, start + timedelta(hours=48) + US, EventAction.CANCELLED, actor_kind="resident")
    found = await rates_at(app, start + timedelta(days=5))
    assert (found.tickets, found.withdrawn) == (1, 1)
    assert (found.response_base, found.acknowledged_in_time, found.resolution_base, found.resolved_in_time) == (
        1, 1, 1, 0)


async def test_the_cli_prints_the_fair_rates(config, tmp_path) -> None:  # noqa: ANN001
    """`fengshan-bot stats` reads the same source (its clock is the system's: the tickets are
    written minutes before it, in their own local month, which the command is asked for)."""
    from datetime import UTC, datetime

    from bot.bootstrap import build_app
    from tests.e2e.test_cli import run_cli, write_config

    path = write_config(tmp_path, lambda data: data["storage"].update(url=config.storage.url))
    now = datetime.now(UTC)
    start = now - timedelta(minutes=40)
    month = periods.period_for("month", start, "Asia/Shanghai").start
    app = await build_app(config, FakeClock(start), tmp_path / "bot.db")
    try:
        async with app.db.transaction() as conn:
            log = Log(conn, config)
            one, two = await log.ticket(start), await log.ticket(start)
            for ticket in (one, two):
                await log.event(ticket, start + timedelta(minutes=5), EventAction.ACKNOWLEDGED)
                await log.event(ticket, start + timedelta(minutes=10), EventAction.RESOLVED)
            await log.rate(one, start + timedelta(minutes=11), "satisfied")
            await log.rate(two, start + timedelta(minutes=11), "unsatisfied")
            await log.event(two, start + timedelta(minutes=11), EventAction.REOPENED, actor_kind="system")
            # Created in `start`'s month like the others, even when the 40 minutes since cross the
            # start of a month in Shanghai (it failed from 16:00 to 16:35 UTC on 30 November).
            await log.ticket(start + timedelta(minutes=1), category="dispute")
            four = await log.ticket(start)
            await log.event(four, start + timedelta(minutes=5), EventAction.ACKNOWLEDGED)
            await log.event(four, start + timedelta(minutes=20), EventAction.CANCELLED, actor_kind="resident")
    finally:
        await app.close()
    result = run_cli("--config", str(path), "stats", "--scope", "G01", "--period", f"{month:%Y-%m}")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[1:6] == [
        "工单 3 件（另有 1 件办结前被居民撤销，不计入）",
        "响应率 100%（2/2）",
        "办结率 100%（1/1）",
        "满意率 50%（1/2）",
        "时限内待处理 2 件",
    ]
