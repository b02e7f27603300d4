"""Transcripts of the staff side: 受理, 办结, and the resident's rating (满意 / 不满意)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.app import App
from bot.bootstrap import staff_seeds
from bot.config import Config
from storage.accounts import sync_people
from storage.clock import FakeClock, stamp
from tests.chat import ChatUser, actions, audit, bind, file_report, ticket_row


@pytest.fixture
async def filed(app: App, resident: ChatUser, leader: ChatUser) -> int:
    await bind(app, leader, "g01-leader")
    return await file_report(resident, phone="13812345678")


async def resolve(leader: ChatUser, note: str = "已更换灯泡") -> None:
    await leader.press_notice("受理")
    await leader.press("办结")
    await leader.say(note)


async def test_acknowledge(app: App, resident: ChatUser, leader: ChatUser, filed: int) -> None:
    await leader.press_notice("受理")
    assert leader.text == "已受理工单 #1。处理完后请点「办结」。"
    assert leader.options == ["办结"]
    ticket = await ticket_row(app, 1)
    assert ticket.status == "acknowledged"
    assert [(e.action, e.actor_kind, e.actor_id) for e in await audit(app, "acknowledged")] == [
        ("acknowledged", "person", "g01-leader")]
    notices = await resident.inbox()
    assert notices[-1].text == "您反映的问题 #1（水电维修）已由支部网格长 万秀英 受理，正在处理。"

    await leader.press_notice("受理")
    assert leader.text == "工单 #1 当前状态为「处理中」，无需受理。"
    assert await actions(app, 1) == ["created", "routed", "notified", "acknowledged"]
    assert len(await resident.inbox()) == 1


async def test_resolve_asks_for_a_note(app: App, resident: ChatUser, leader: ChatUser, filed: int) -> None:
    await leader.press_notice("受理")
    await leader.press("办结")
    assert leader.text.startswith("请发送办理结果")
    assert (await ticket_row(app, 1)).status == "acknowledged"
    await leader.say("已更换灯泡，楼道恢复照明")
    assert leader.text == "工单 #1 已办结，已请居民评价。"
    ticket = await ticket_row(app, 1)
    assert (ticket.status, ticket.result_note) == ("resolved", "已更换灯泡，楼道恢复照明")
    assert [e.note for e in await audit(app, "resolved")] == ["已更换灯泡，楼道恢复照明"]
    notice = (await resident.inbox())[-1]
    assert notice.text.startswith("您反映的问题 #1（水电维修）已办结：已更换灯泡，楼道恢复照明")
    assert [o.label for o in notice.options] == ["满意", "基本满意", "不满意"]
    assert await leader.dialog() is None

    await leader.press_notice("办结")
    assert "不能办结" in leader.text


async def test_resolve_without_acknowledging_first(app: App, leader: ChatUser, filed: int) -> None:
    await leader.press_notice("办结")
    await leader.say("已处理")
    assert (await ticket_row(app, 1)).status == "resolved"


async def test_resolve_can_be_cancelled(app: App, leader: ChatUser, filed: int) -> None:
    await leader.press_notice("办结")
    await leader.say("取消")
    assert "已取消" in leader.text
    assert (await ticket_row(app, 1)).status == "routed"


async def test_satisfied_closes_the_ticket(app: App, resident: ChatUser, leader: ChatUser, filed: int) -> None:
    await resolve(leader)
    await resident.press_notice("满意")
    assert resident.text == "感谢您的评价！工单 #1 已结束。"
    ticket = await ticket_row(app, 1)
    assert (ticket.status, ticket.rating) == ("closed", "satisfied")
    assert (await actions(app, 1))[-2:] == ["rated", "closed"]
    assert [e.data for e in await audit(app, "rated")] == [{"rating": "satisfied"}]

    events = await actions(app, 1)
    await resident.press_notice("不满意")  # rating twice is refused
    assert resident.text == "工单 #1 现在不能评价（已评价或尚未办结）。"
    assert (await ticket_row(app, 1)).status == "closed"
    assert await actions(app, 1) == events


async def test_mostly_satisfied_closes_too(app: App, resident: ChatUser, leader: ChatUser, filed: int) -> None:
    await resolve(leader)
    await resident.press_notice("基本满意")
    ticket = await ticket_row(app, 1)
    assert (ticket.status, ticket.rating) == ("closed", "mostly_satisfied")


async def test_rating_before_resolution_is_refused(app: App, resident: ChatUser, filed: int) -> None:
    await resident.press_data("rate:1:satisfied")
    assert "现在不能评价" in resident.text
    assert (await ticket_row(app, 1)).status == "routed"


async def test_unsatisfied_reopens_to_the_grid_guide(
    app: App, resident: ChatUser, leader: ChatUser, filed: int
) -> None:
    guide = ChatUser(app, "guide-g01")
    await bind(app, guide, "g01-guide")
    await resolve(leader)
    await resident.press_notice("不满意")
    await resident.press("跳过")  # 不满意 asks why (issue 13); no reason
    assert resident.text == "已收到您的评价，问题 #1 已重新交办，并已报告网格指导员。"
    ticket = await ticket_row(app, 1)
    assert (ticket.status, ticket.rating, ticket.escalation_level) == ("reopened", "unsatisfied", 1)
    assert (await actions(app, 1))[-3:] == ["rated", "reopened", "notified"]
    cards = await guide.inbox()
    assert len(cards) == 1
    assert cards[0].text.startswith("【上报工单 #1】")
    assert "居民对办结结果不满意，工单已重新打开" in cards[0].text
    assert "电话：13812345678" in cards[0].text  # issue 13: the handler sees the phone in full
    # The leader who resolved it hears about the rating too.
    assert (await leader.inbox())[-1].text == "居民对工单 #1 的办结结果不满意，工单已重新打开并上报网格指导员。"

    # The guide may take it over.
    await guide.press_notice("受理")
    assert (await ticket_row(app, 1)).status == "acknowledged"
    assert (await resident.inbox())[-1].text.endswith("已由网格指导员 夏敏 受理，正在处理。")


async def test_unsatisfied_without_a_guide_goes_to_community_staff(
    app: App, resident: ChatUser, leader: ChatUser, filed: int
) -> None:
    staff = ChatUser(app, "staff-longchi")
    admin = ChatUser(app, "admin-1")
    await bind(app, staff, "longchi-staff-1")
    await bind(app, admin, "sd-admin-1")
    await resolve(leader)
    await resident.press_notice("不满意")
    await resident.press("跳过")  # 不满意 asks why (issue 13); no reason
    assert resident.text.endswith("并已报告社区。")
    assert (await ticket_row(app, 1)).escalation_level == 2  # the level actually reached
    assert (await staff.inbox())[0].text.startswith("【上报工单 #1】")
    assert await admin.inbox() == []
    assert [e.data for e in await audit(app, "reopened")] == [
        {"level": 2, "people": ["longchi-staff-1", "longchi-staff-2"],
         "ack_due_at": "2026-11-26T04:00:00.000000+00:00",
         "resolve_due_at": "2026-11-28T02:00:00.000000+00:00"}]


async def test_unsatisfied_without_guide_or_staff_goes_to_admins(
    app: App, resident: ChatUser, leader: ChatUser, filed: int
) -> None:
    admin = ChatUser(app, "admin-1")
    other_staff = ChatUser(app, "staff-nanqiao")
    await bind(app, admin, "sd-admin-1")
    await bind(app, other_staff, "nanqiao-staff-1")  # another community: not asked
    await resolve(leader)
    await resident.press_notice("不满意")
    await resident.press("跳过")  # 不满意 asks why (issue 13); no reason
    assert resident.text.endswith("并已报告街道。")
    assert (await admin.inbox())[0].text.startswith("【上报工单 #1】")
    assert await other_staff.inbox() == []


async def test_unsatisfied_with_nobody_above_records_the_miss(
    app: App, resident: ChatUser, leader: ChatUser, filed: int
) -> None:
    await resolve(leader)
    await resident.press_notice("不满意")
    await resident.press("跳过")  # 不满意 asks why (issue 13); no reason
    assert (await ticket_row(app, 1)).status == "reopened"
    assert (await actions(app, 1))[-3:] == ["rated", "reopened", "unreachable"]


async def test_unsatisfied_reopens_with_fresh_deadlines(
    app: App, clock: FakeClock, resident: ChatUser, leader: ChatUser, filed: int
) -> None:
    guide = ChatUser(app, "guide-g01")
    await bind(app, guide, "g01-guide")
    await resolve(leader)
    clock.advance(hours=50)  # past both original deadlines (2 h to acknowledge, 48 h to resolve)
    original = await ticket_row(app, 1)
    assert original.resolve_due_at < clock.now()
    await resident.press_notice("不满意")
    await resident.press("跳过")  # 不满意 asks why (issue 13); no reason

    ticket = await ticket_row(app, 1)
    assert ticket.status == "reopened"
    assert ticket.ack_due_at > clock.now()
    assert ticket.ack_due_at == clock.now() + timedelta(hours=2)
    assert ticket.resolve_due_at == clock.now() + timedelta(hours=48)
    [card] = await guide.inbox()
    assert "请在 11-28 14:00 前受理" in card.text and "11-26 12:00" not in card.text
    [reopened] = await audit(app, "reopened")
    assert reopened.data == {"level": 1, "people": ["g01-guide"], "ack_due_at": stamp(ticket.ack_due_at),
                               "resolve_due_at": stamp(ticket.resolve_due_at)}


async def test_a_leader_removed_from_config_can_no_longer_act(
    app: App, config: Config, resident: ChatUser, leader: ChatUser, filed: int
) -> None:
    async with app.db.transaction() as conn:  # config changed: g01-leader is gone
        await sync_people(conn, [s for s in staff_seeds(config) if s.id != "g01-leader"], app.clock.now())
    before = await ticket_row(app, 1)
    events = await actions(app, 1)

    await leader.press_notice("受理")
    assert leader.text == "抱歉，这张工单不归您处理，操作未生效。"
    await leader.press_notice("办结")
    assert leader.text == "抱歉，这张工单不归您处理，操作未生效。"
    await leader.press_notice("转派")
    assert leader.text == "抱歉，这张工单不归您处理，操作未生效。"

    assert await ticket_row(app, 1) == before
    assert await actions(app, 1) == events
    assert await resident.inbox() == []
    assert await leader.dialog() is None
