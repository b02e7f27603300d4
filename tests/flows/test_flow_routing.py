"""Transcripts of routing: who gets a new ticket's card, fallbacks, and 转派 (reassign)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.app import App
from storage import tickets
from storage.clock import FakeClock, stamp
from tests.chat import (
    ChatUser,
    actions,
    audit,
    bind,
    file_report,
    notifications,
    query,
    read,
    ticket_row,
)


async def routed_data(app: App, ticket_id: int = 1) -> dict:
    return [e.data for e in await read(app, tickets.events_of, ticket_id) if e.action == "routed"][-1]


async def test_card_goes_to_the_leader_only(app: App, resident: ChatUser, leader: ChatUser) -> None:
    guide = ChatUser(app, "guide-g01")
    other = ChatUser(app, "leader-g02")
    await bind(app, leader, "g01-leader")
    await bind(app, guide, "g01-guide")
    await bind(app, other, "g02-leader")
    await file_report(resident)
    assert len(await leader.inbox()) == 1
    assert await guide.inbox() == [] and await other.inbox() == []
    assert await routed_data(app) == {"grid": "G01", "level": 0, "people": ["g01-leader"]}


async def test_without_a_leader_the_guide_gets_the_card(app: App, resident: ChatUser) -> None:
    guide = ChatUser(app, "guide-g01")
    await bind(app, guide, "g01-guide")
    await file_report(resident)
    cards = await guide.inbox()
    assert len(cards) == 1 and cards[0].text.startswith("【新工单 #1】")
    assert [o.label for o in cards[0].options] == ["受理", "办结", "转派"]
    assert await routed_data(app) == {"grid": "G01", "level": 1, "people": ["g01-guide"]}
    assert await actions(app, 1) == ["created", "routed", "notified"]


async def test_without_grid_people_community_staff_get_the_card(app: App, resident: ChatUser) -> None:
    staff = ChatUser(app, "staff-longchi")
    await bind(app, staff, "longchi-staff-2")
    await file_report(resident)
    assert (await staff.inbox())[0].text.startswith("【新工单 #1】")
    assert (await routed_data(app))["level"] == 2


async def test_with_nobody_bound_the_ticket_is_kept_and_the_miss_recorded(
    app: App, resident: ChatUser
) -> None:
    await file_report(resident)
    assert "工单号 #1" in resident.text
    ticket = await ticket_row(app, 1)
    assert (ticket.status, ticket.grid_id) == ("routed", "G01")
    assert await actions(app, 1) == ["created", "routed", "unreachable"]
    [unreachable] = await audit(app, "unreachable")
    assert unreachable.data["people"] == ["g01-leader"] and unreachable.data["recipients"] == 0
    assert await notifications(app) == []


async def test_gas_ticket_goes_to_the_red_post_responder(app: App, resident: ChatUser, leader: ChatUser) -> None:
    post = ChatUser(app, "post-longchi")
    other_post = ChatUser(app, "post-nanqiao")
    await bind(app, post, "post-longchi")
    await bind(app, other_post, "post-nanqiao")
    await file_report(resident, category="代充燃气", description="帮忙代充燃气费，老人不会用手机")
    cards = await post.inbox()
    assert len(cards) == 1 and "类别：代充燃气" in cards[0].text
    assert await other_post.inbox() == []
    assert (await routed_data(app))["people"] == ["g01-leader", "post-longchi"]
    # The responder may act on it.
    await post.press_notice("受理")
    assert (await ticket_row(app, 1)).status == "acknowledged"
    assert (await resident.inbox())[-1].text.endswith("已由服务专员 邹立新 受理，正在处理。")


async def test_gas_card_goes_to_leader_and_responder(app: App, resident: ChatUser, leader: ChatUser) -> None:
    post = ChatUser(app, "post-longchi")
    await bind(app, leader, "g01-leader")
    await bind(app, post, "post-longchi")
    await file_report(resident, category="代充燃气", description="帮忙代充燃气费")
    assert len(await leader.inbox()) == 1 and len(await post.inbox()) == 1
    await file_report(resident, category="水电维修", description="楼道灯坏了", address="龙池花园4栋")
    assert len(await leader.inbox()) == 2 and len(await post.inbox()) == 1


# -- 转派 -----------------------------------------------------------------------------------


@pytest.fixture
async def filed(app: App, resident: ChatUser, leader: ChatUser) -> int:
    await bind(app, leader, "g01-leader")
    return await file_report(resident)


async def test_reassign_to_another_grid(app: App, resident: ChatUser, leader: ChatUser, filed: int) -> None:
    g08 = ChatUser(app, "leader-g08")
    await bind(app, g08, "g08-leader")
    await leader.press_notice("转派")
    assert leader.text.startswith("转派到哪个网格")
    await leader.say("G08")
    assert leader.text == "转派到「醉翁小区网格」的原因是？"
    assert (await ticket_row(app, 1)).grid_id == "G01"  # nothing moves before the reason
    await leader.say("问题在醉翁小区，不在本网格")
    assert leader.text == "工单 #1 已转派到 醉翁小区网格。"

    ticket = await ticket_row(app, 1)
    assert (ticket.grid_id, ticket.community_id, ticket.status) == ("G08", "longchi", "routed")
    rows = [(e.actor_id, e.note, e.data) for e in await audit(app, "reassigned")]
    assert rows == [("g01-leader", "问题在醉翁小区，不在本网格",
                     {"from": "G01", "to": "G08", "ack_due_at": "2026-11-26T04:00:00.000000+00:00",
                      "resolve_due_at": "2026-11-28T02:00:00.000000+00:00"})]
    assert (await actions(app, 1))[-2:] == ["reassigned", "notified"]
    cards = await g08.inbox()
    assert cards[0].text.startswith("【转派工单 #1】") and "问题在醉翁小区，不在本网格" in cards[0].text
    assert (await resident.inbox())[-1].text == "您反映的问题 #1 已转交 醉翁小区网格 处理。"

    # The old grid's leader has no say any more; the new one has.
    await leader.press_notice("受理")
    assert "不归您处理" in leader.text
    await g08.press_notice("受理")
    assert (await ticket_row(app, 1)).status == "acknowledged"


async def test_reassign_across_communities_by_name(app: App, leader: ChatUser, filed: int) -> None:
    await leader.press_notice("转派")
    await leader.say("南桥新村第一网格")
    await leader.say("地址报错了")
    ticket = await ticket_row(app, 1)
    assert (ticket.grid_id, ticket.community_id) == ("G11", "nanqiao")
    # Nobody is bound in G11: the miss is recorded.
    assert (await actions(app, 1))[-2:] == ["reassigned", "unreachable"]


async def test_reassign_to_an_unknown_or_the_same_grid(app: App, leader: ChatUser, filed: int) -> None:
    await leader.press_notice("转派")
    await leader.say("G99")
    assert leader.text == "没有找到网格「G99」，请输入网格编号，如 G08。"
    await leader.say("g01")
    assert leader.text == "工单已经在这个网格了，请换一个网格。"
    assert (await leader.dialog()).step == "grid"
    await leader.say("取消")
    assert (await ticket_row(app, 1)).grid_id == "G01"
    assert "reassigned" not in await actions(app, 1)


async def test_reassign_after_the_deadline_gives_the_new_grid_fresh_deadlines(
    app: App, clock: FakeClock, leader: ChatUser, filed: int
) -> None:
    g08 = ChatUser(app, "leader-g08")
    await bind(app, g08, "g08-leader")
    original = await ticket_row(app, 1)
    assert "请在 11-26 12:00 前受理" in (await leader.inbox())[0].text  # 水电维修: 2 h to acknowledge
    clock.advance(hours=30)  # well past the original 2 h deadline
    assert original.ack_due_at < clock.now()
    await leader.press_notice("转派")
    await leader.say("G08")
    await leader.say("问题在醉翁小区")

    ticket = await ticket_row(app, 1)
    assert ticket.ack_due_at > clock.now()
    assert ticket.ack_due_at == clock.now() + timedelta(hours=2)
    assert ticket.resolve_due_at == clock.now() + timedelta(hours=48)
    assert ticket.created_at == original.created_at
    [card] = await g08.inbox()
    assert "请在 11-27 18:00 前受理" in card.text and "11-26 12:00" not in card.text
    [reassigned] = await audit(app, "reassigned")
    assert reassigned.data == {"from": "G01", "to": "G08", "ack_due_at": stamp(ticket.ack_due_at),
                               "resolve_due_at": stamp(ticket.resolve_due_at)}


async def test_a_stored_deadline_keeps_its_column_format(
    app: App, clock: FakeClock, leader: ChatUser, filed: int
) -> None:
    clock.advance(hours=30)
    await leader.press_notice("转派")
    await leader.say("G08")
    await leader.say("问题在醉翁小区")
    # The column's text itself (what the deadline sweep's SQL compares): no read function shows it.
    assert await query(app, "SELECT ack_due_at, resolve_due_at FROM tickets WHERE id = 1") == [
        ("2026-11-27T10:00:00.000000+00:00", "2026-11-29T08:00:00.000000+00:00")]
