"""The deadline sweep: 预警提醒 at 80 % of a window, 吹哨 one level up at the miss.

水电维修 gives 2 h to 受理 and 48 h to 办结; the fake clock starts at 11-26 10:00 (Shanghai), so
a new ticket is due to be acknowledged by 11-26 12:00 and resolved by 11-28 10:00.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.app import App
from handlers.escalation import sweep_deadlines
from handlers.types import Notification
from storage import deadlines, outbox, tickets
from storage.clock import FakeClock, stamp
from storage.deadlines import Deadline, candidate_sql, candidates
from tests.chat import (
    ChatUser,
    actions,
    all_tickets,
    bind,
    file_report,
    notifications,
    query,
    read,
    ticket_row,
)


async def _state(app: App) -> tuple:
    # Every column, the sweep's own marks (settled_due) too: no read function shows them all.
    return (await query(app, "SELECT * FROM tickets ORDER BY id"),
            await query(app, "SELECT * FROM ticket_events ORDER BY id"),
            await query(app, "SELECT count(*) FROM outbox"))


async def _sweep_once(app: App) -> list[Notification]:
    now = app.clock.now()
    async with app.db.transaction() as conn:
        notes = await sweep_deadlines(conn, app.services, now)
        for note in notes:
            await outbox.enqueue(conn, note.recipient.channel, note.recipient.chat_id,
                                 note.reply.to_payload(), now, kind=note.kind, ticket_id=note.ticket_id)
    return notes


async def sweep(app: App) -> list[Notification]:
    """One scheduler tick; a second tick at the same moment must change nothing."""
    notes = await _sweep_once(app)
    before = await _state(app)
    assert await _sweep_once(app) == []
    assert await _state(app) == before
    return notes


def chats(notes: list[Notification]) -> list[tuple[str, str]]:
    return [(n.recipient.chat_id, n.kind) for n in notes]


async def event_data(app: App, action: str, ticket_id: int = 1) -> list[dict]:
    return [e.data for e in await read(app, tickets.events_of, ticket_id) if e.action == action]


@pytest.fixture
def guide(app: App) -> ChatUser:
    return ChatUser(app, "guide-g01")


@pytest.fixture
def staff(app: App) -> ChatUser:
    return ChatUser(app, "staff-longchi")


@pytest.fixture
def admin(app: App) -> ChatUser:
    return ChatUser(app, "admin-1")


@pytest.fixture
async def everyone(app: App, leader: ChatUser, guide: ChatUser, staff: ChatUser, admin: ChatUser) -> None:
    await bind(app, leader, "g01-leader")
    await bind(app, guide, "g01-guide")
    await bind(app, staff, "longchi-staff-1")
    await bind(app, admin, "sd-admin-1")


# -- 预警提醒 ------------------------------------------------------------------------------------


async def test_warning_at_80_percent_of_the_ack_window_once(
    app: App, clock: FakeClock, resident: ChatUser, leader: ChatUser
) -> None:
    await bind(app, leader, "g01-leader")
    await file_report(resident)
    clock.advance(minutes=94.8)  # 79 % of 2 h
    assert await sweep(app) == []
    assert await actions(app, 1) == ["created", "routed", "notified"]

    clock.advance(minutes=1.2)  # 96 min: 80 %
    notes = await sweep(app)
    assert chats(notes) == [("leader-g01", "staff_notice")]
    assert notes[0].reply.text == "⏰ 预警提醒：工单 #1（水电维修）将于 11-26 12:00 超时未受理，请尽快处理。"
    assert (await leader.inbox())[-1].text == notes[0].reply.text
    assert await event_data(app, "warned") == [
        {"deadline": "ack", "level": 0, "due": "2026-11-26T04:00:00.000000+00:00", "recipients": 1}]

    clock.advance(minutes=23)  # still before the miss: no second warning
    assert await sweep(app) == []
    assert await actions(app, 1) == ["created", "routed", "notified", "warned"]
    assert await resident.inbox() == []

    # The warning carries the card's buttons: the leader can act on it directly.
    await leader.press_notice("受理")
    assert (await ticket_row(app, 1)).status == "acknowledged"


async def test_gas_warning_reaches_the_leader_and_the_responder(
    app: App, clock: FakeClock, resident: ChatUser, leader: ChatUser
) -> None:
    post = ChatUser(app, "post-longchi")
    await bind(app, leader, "g01-leader")
    await bind(app, post, "post-longchi")
    await file_report(resident, category="代充燃气", description="帮忙代充燃气费，老人不会用手机")
    clock.advance(minutes=96)
    assert sorted(chats(await sweep(app))) == [("leader-g01", "staff_notice"),
                                               ("post-longchi", "staff_notice")]


# -- 吹哨: the 受理 deadline ------------------------------------------------------------------


async def test_missed_ack_climbs_guide_community_subdistrict(
    app: App, clock: FakeClock, resident: ChatUser, leader: ChatUser, guide: ChatUser,
    staff: ChatUser, admin: ChatUser, everyone: None,
) -> None:
    await file_report(resident, phone="13812345678")
    clock.advance(minutes=96)
    assert chats(await sweep(app)) == [("leader-g01", "staff_notice")]

    clock.advance(minutes=24)  # 11-26 12:00: missed
    notes = await sweep(app)
    assert chats(notes) == [("guide-g01", "card"), ("resident-1", "resident_notice")]
    [card] = await guide.inbox()
    assert card.text.startswith("【超时升级工单 #1】\n类别：水电维修")
    assert "请在 11-26 14:00 前受理" in card.text
    assert "超时未受理（原定 11-26 12:00 前）" in card.text
    assert "电话：13812345678" in card.text  # issue 13: the handler sees the phone in full
    assert [o.label for o in card.options] == ["受理", "办结", "转派"]
    assert (await resident.inbox())[-1].text == "您反映的问题 #1（水电维修）未在时限内受理，已上报网格指导员督办。"
    ticket = await ticket_row(app, 1)
    assert (ticket.status, ticket.escalation_level) == ("routed", 1)
    assert ticket.ack_due_at == clock.now() + timedelta(hours=2)
    assert ticket.resolve_due_at == clock.now() + timedelta(hours=48)
    assert await staff.inbox() == [] and await admin.inbox() == []
    assert len(await leader.inbox()) == 2  # the card and the warning; nothing more

    clock.advance(minutes=96)  # the guide's own window: warned once, at 80 %
    notes = await sweep(app)
    assert chats(notes) == [("guide-g01", "staff_notice")]
    assert "将于 11-26 14:00 超时未受理" in notes[0].reply.text

    clock.advance(minutes=24)
    assert chats(await sweep(app)) == [("staff-longchi", "card"), ("resident-1", "resident_notice")]
    assert (await staff.inbox())[0].text.startswith("【超时升级工单 #1】")
    assert (await resident.inbox())[-1].text.endswith("已上报社区督办。")
    assert (await ticket_row(app, 1)).escalation_level == 2

    clock.advance(minutes=96)
    assert chats(await sweep(app)) == [("staff-longchi", "staff_notice")]
    clock.advance(minutes=24)
    assert chats(await sweep(app)) == [("admin-1", "card"), ("resident-1", "resident_notice")]
    assert (await resident.inbox())[-1].text.endswith("已上报街道督办。")
    assert (await ticket_row(app, 1)).escalation_level == 3

    clock.advance(minutes=96)
    assert chats(await sweep(app)) == [("admin-1", "staff_notice")]
    clock.advance(minutes=24)  # missed at the top: one "still overdue" notice, no new level
    notes = await sweep(app)
    assert chats(notes) == [("admin-1", "staff_notice")]
    assert notes[0].reply.text == ("⏰ 工单 #1（水电维修）已上报街道，仍超时未受理（原定 11-26 18:00 前），"
                                   "请尽快督办。")
    for minutes in (1, 60, 600, 6000):
        clock.advance(minutes=minutes)
        assert await sweep(app) == []
    # Settled: the sweep no longer even reads it, until a new window sets a new due time.
    assert await query(app, "SELECT settled_due = ack_due_at FROM tickets") == [(1,)]
    async with app.db.read() as conn:
        assert await candidates(conn, Deadline.ACK, clock.now(), clock.now()) == []

    assert await actions(app, 1) == [
        "created", "routed", "notified", "warned",
        "escalated", "notified", "warned",
        "escalated", "notified", "warned",
        "escalated", "notified", "warned",
        "overdue",
    ]
    escalations = await event_data(app, "escalated")
    assert [(e["deadline"], e["from"], e["to"]) for e in escalations] == [
        ("ack", 0, 1), ("ack", 1, 2), ("ack", 2, 3)]
    assert escalations[1]["people"] == ["longchi-staff-1", "longchi-staff-2"]
    assert escalations[0]["missed"] == "2026-11-26T04:00:00.000000+00:00"
    assert [w["level"] for w in await event_data(app, "warned")] == [0, 1, 2, 3]
    assert await event_data(app, "overdue") == [
        {"deadline": "ack", "level": 3, "due": "2026-11-26T10:00:00.000000+00:00", "recipients": 1}]
    assert [t.escalation_level for t in await all_tickets(app)] == [3]

    # The admins may still act on it.
    await admin.press_notice("受理")
    assert (await ticket_row(app, 1)).status == "acknowledged"
    assert (await resident.inbox())[-1].text.endswith("已由街道管理员 许文博 受理，正在处理。")


async def test_the_guide_acknowledges_after_escalation_and_it_stops(
    app: App, clock: FakeClock, resident: ChatUser, guide: ChatUser, staff: ChatUser, everyone: None
) -> None:
    await file_report(resident)
    clock.advance(hours=2)
    await sweep(app)
    await guide.press_notice("受理")
    assert guide.text == "已受理工单 #1。处理完后请点「办结」。"
    assert (await ticket_row(app, 1)).status == "acknowledged"
    assert (await resident.inbox())[-1].text.endswith("已由网格指导员 夏敏 受理，正在处理。")

    for hours in (2, 4, 20):  # past the guide's 受理 deadline: nothing, it was acknowledged
        clock.advance(hours=hours)
        assert await sweep(app) == []
    assert await actions(app, 1) == ["created", "routed", "notified", "escalated", "notified",
                                     "acknowledged"]
    assert await staff.inbox() == []


async def test_community_staff_may_act_after_escalation(
    app: App, clock: FakeClock, resident: ChatUser, staff: ChatUser, everyone: None
) -> None:
    await file_report(resident)
    clock.advance(hours=2)
    await sweep(app)
    clock.advance(hours=2)
    await sweep(app)
    await staff.press_notice("办结")
    await staff.say("已联系物业更换灯泡")
    assert staff.text == "工单 #1 已办结，已请居民评价。"
    assert (await ticket_row(app, 1)).status == "resolved"
    clock.advance(hours=100)
    assert await sweep(app) == []


async def test_unreachable_levels_are_skipped(
    app: App, clock: FakeClock, resident: ChatUser, leader: ChatUser, admin: ChatUser
) -> None:
    other_staff = ChatUser(app, "staff-nanqiao")
    await bind(app, leader, "g01-leader")
    await bind(app, admin, "sd-admin-1")
    await bind(app, other_staff, "nanqiao-staff-1")  # another community: never asked
    await file_report(resident)
    clock.advance(hours=2)
    assert chats(await sweep(app)) == [("admin-1", "card"), ("resident-1", "resident_notice")]
    [escalated] = await event_data(app, "escalated")
    assert (escalated["from"], escalated["to"], escalated["people"]) == (0, 3, ["sd-admin-1", "sd-admin-2"])
    assert (await ticket_row(app, 1)).escalation_level == 3
    assert (await resident.inbox())[-1].text.endswith("已上报街道督办。")

    clock.advance(hours=2)
    assert chats(await sweep(app)) == [("admin-1", "staff_notice")]
    assert await other_staff.inbox() == []
    assert (await actions(app, 1))[-3:] == ["escalated", "notified", "overdue"]


async def test_with_nobody_reachable_each_miss_is_recorded(
    app: App, clock: FakeClock, resident: ChatUser
) -> None:
    await file_report(resident)
    assert await actions(app, 1) == ["created", "routed", "unreachable"]
    for level in (1, 2, 3):
        clock.advance(hours=2)
        notes = await sweep(app)
        assert chats(notes) == [("resident-1", "resident_notice")]
        assert (await ticket_row(app, 1)).escalation_level == level
    clock.advance(hours=2)
    assert await sweep(app) == []
    clock.advance(hours=2)
    assert await sweep(app) == []
    assert (await actions(app, 1))[3:] == ["escalated", "unreachable"] * 3 + ["overdue"]
    unreachable = await event_data(app, "unreachable")
    assert [(u["level"], u["people"], u["recipients"]) for u in unreachable] == [
        (0, ["g01-leader"], 0), (1, ["g01-guide"], 0),
        (2, ["longchi-staff-1", "longchi-staff-2"], 0), (3, ["sd-admin-1", "sd-admin-2"], 0)]
    assert (await event_data(app, "overdue"))[0]["recipients"] == 0
    assert {row.chat_id for row in await notifications(app)} == {"resident-1"}


async def test_a_ticket_first_routed_to_the_guide_escalates_past_the_guide(
    app: App, clock: FakeClock, resident: ChatUser, guide: ChatUser, staff: ChatUser
) -> None:
    await bind(app, guide, "g01-guide")  # no leader bound: the new card goes to the guide
    await bind(app, staff, "longchi-staff-1")
    await file_report(resident)
    clock.advance(minutes=96)
    assert chats(await sweep(app)) == [("guide-g01", "staff_notice")]
    clock.advance(minutes=24)
    assert chats(await sweep(app)) == [("staff-longchi", "card"), ("resident-1", "resident_notice")]
    assert [(e["from"], e["to"]) for e in await event_data(app, "escalated")] == [(1, 2)]
    assert len(await guide.inbox()) == 2  # its new-ticket card and the warning only


# -- 吹哨: the 办结 deadline ------------------------------------------------------------------


async def test_missed_resolve_deadline_warns_then_escalates(
    app: App, clock: FakeClock, resident: ChatUser, leader: ChatUser, guide: ChatUser, everyone: None
) -> None:
    await file_report(resident)
    clock.advance(minutes=30)
    await leader.press_notice("受理")
    clock.advance(hours=2)  # past the 受理 deadline, but acknowledged: nothing
    assert await sweep(app) == []

    clock.advance(hours=35.42)  # 37.92 h after filing: 79 % of 48 h
    assert await sweep(app) == []
    clock.advance(hours=0.48)  # 38.4 h: 80 %
    notes = await sweep(app)
    assert chats(notes) == [("leader-g01", "staff_notice")]  # who acknowledged it, not the guide
    assert notes[0].reply.text == "⏰ 预警提醒：工单 #1（水电维修）将于 11-28 10:00 超时未办结，请尽快处理。"
    assert [o.label for o in notes[0].reply.options] == ["办结", "转派"]
    assert await event_data(app, "warned") == [
        {"deadline": "resolve", "level": 0, "due": "2026-11-28T02:00:00.000000+00:00", "recipients": 1}]

    clock.advance(hours=9.6)  # 11-28 10:00: missed
    notes = await sweep(app)
    assert chats(notes) == [("guide-g01", "card"), ("resident-1", "resident_notice")]
    card = (await guide.inbox())[-1]
    assert card.text.startswith("【超时升级工单 #1】")
    assert "请在 11-30 10:00 前办结" in card.text and "超时未办结（原定 11-28 10:00 前）" in card.text
    assert (await resident.inbox())[-1].text == "您反映的问题 #1（水电维修）未在时限内办结，已上报网格指导员督办。"
    ticket = await ticket_row(app, 1)
    assert (ticket.status, ticket.escalation_level) == ("acknowledged", 1)
    assert ticket.resolve_due_at == clock.now() + timedelta(hours=48)
    [escalated] = await event_data(app, "escalated")
    assert escalated == {"deadline": "resolve", "from": 0, "to": 1, "people": ["g01-guide"],
                         "missed": "2026-11-28T02:00:00.000000+00:00",
                         "resolve_due_at": stamp(ticket.resolve_due_at)}

    # The new window's warning goes to whoever acknowledged it and to the level now holding it.
    clock.advance(hours=38.4)
    assert sorted(chats(await sweep(app))) == [("guide-g01", "staff_notice"),
                                               ("leader-g01", "staff_notice")]

    await guide.press_notice("办结")
    await guide.say("已协调电工修复")
    assert (await ticket_row(app, 1)).status == "resolved"
    clock.advance(hours=100)
    assert await sweep(app) == []
    assert (await actions(app, 1))[3:] == ["acknowledged", "warned", "escalated", "notified",
                                           "warned", "resolved"]


# -- windows restarted by others -------------------------------------------------------------


async def test_reassign_starts_a_new_window_with_its_own_warning(
    app: App, clock: FakeClock, resident: ChatUser, leader: ChatUser
) -> None:
    g08 = ChatUser(app, "leader-g08")
    await bind(app, leader, "g01-leader")
    await bind(app, g08, "g08-leader")
    await file_report(resident)
    clock.advance(minutes=96)
    assert chats(await sweep(app)) == [("leader-g01", "staff_notice")]
    clock.advance(minutes=10)
    await leader.press_notice("转派")
    await leader.say("G08")
    await leader.say("问题在醉翁小区")
    clock.advance(minutes=95)
    assert await sweep(app) == []  # the old due time is gone, the new one is 2 h from 转派
    clock.advance(minutes=1)
    notes = await sweep(app)
    assert chats(notes) == [("leader-g08", "staff_notice")]
    assert "将于 11-26 13:46 超时未受理" in notes[0].reply.text
    assert [w["level"] for w in await event_data(app, "warned")] == [0, 0]


async def test_unsatisfied_still_reopens_one_level_up(
    app: App, clock: FakeClock, resident: ChatUser, leader: ChatUser, guide: ChatUser, everyone: None
) -> None:
    await file_report(resident)
    await leader.press_notice("受理")
    await leader.press("办结")
    await leader.say("已更换灯泡")
    await resident.press_notice("不满意")
    await resident.press("跳过")  # 不满意 asks why (issue 13); no reason
    assert resident.text == "已收到您的评价，问题 #1 已重新交办，并已报告网格指导员。"
    ticket = await ticket_row(app, 1)
    assert (ticket.status, ticket.escalation_level) == ("reopened", 1)
    assert (await guide.inbox())[0].text.startswith("【上报工单 #1】")

    # The reopened ticket has the guide's fresh 受理 window; missed, it goes on to the community.
    clock.advance(minutes=96)
    assert chats(await sweep(app)) == [("guide-g01", "staff_notice")]
    clock.advance(minutes=24)
    assert chats(await sweep(app)) == [("staff-longchi", "card"), ("resident-1", "resident_notice")]
    assert [(e["from"], e["to"]) for e in await event_data(app, "escalated")] == [(1, 2)]


async def test_unsatisfied_after_an_escalation_goes_one_level_above_it(
    app: App, clock: FakeClock, resident: ChatUser, guide: ChatUser, staff: ChatUser, everyone: None
) -> None:
    await file_report(resident)
    clock.advance(hours=2)
    await sweep(app)  # to the guide
    await guide.press_notice("受理")
    await guide.press("办结")
    await guide.say("已更换灯泡")
    await resident.press_notice("不满意")
    await resident.press("跳过")  # 不满意 asks why (issue 13); no reason
    assert resident.text == "已收到您的评价，问题 #1 已重新交办，并已报告社区。"
    assert (await ticket_row(app, 1)).escalation_level == 2
    assert (await staff.inbox())[0].text.startswith("【上报工单 #1】")


async def test_closed_and_far_off_tickets_are_left_alone(
    app: App, clock: FakeClock, resident: ChatUser, leader: ChatUser
) -> None:
    await bind(app, leader, "g01-leader")
    await file_report(resident)
    await file_report(resident, category="加装电梯", description="4栋想加装电梯，征求意见",
                      address="龙池花园4栋")
    await leader.press_data("t:res:1")
    await leader.say("已处理")
    await resident.press_notice("满意")
    assert (await ticket_row(app, 1)).status == "closed"
    async with app.db.read() as conn:
        now = clock.now()
        assert await deadlines.candidates(conn, Deadline.ACK, now, now + timedelta(hours=4)) == []
    # 加装电梯 counts in working time: 80 % of 24 h is 19.2 office hours from Thursday 10:00,
    # i.e. 7.5 h on Thursday, 9 h on Friday, then 2.7 h on Monday: Monday 11:12.
    clock.advance(days=4, hours=1, minutes=11)
    assert await sweep(app) == []
    clock.advance(minutes=1)
    assert chats(await sweep(app)) == [("leader-g01", "staff_notice")]
    assert await actions(app, 1) == ["created", "routed", "notified", "resolved", "rated", "closed"]


@pytest.mark.sqlite_only  # SQLite's planner, read through EXPLAIN QUERY PLAN
@pytest.mark.parametrize("deadline", list(Deadline))
async def test_candidates_are_found_through_a_due_index(app: App, deadline: Deadline) -> None:
    sql = candidate_sql(deadline)
    plan = await query(app, f"EXPLAIN QUERY PLAN {sql}", *(["x"] * sql.count("?")))
    details = [str(row[-1]) for row in plan]
    column = {Deadline.ACK: "ack_due_at", Deadline.RESOLVE: "resolve_due_at"}[deadline]
    # The partial index of the tickets still watched (0009): settled ones are not even read.
    assert any(d.startswith(f"SEARCH t USING INDEX tickets_{deadline}_watch ({column}<?)")
               for d in details), details
    assert [d for d in details if d.startswith("SCAN")] == ["SCAN c"], details  # c: the candidates
