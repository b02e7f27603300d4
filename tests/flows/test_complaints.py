"""Issue 13 (complaints): 不满意 asks why, and the level above reads it.

The reason is one line and optional (「跳过」); it is stored in the rating's audit row, carried on
the reopened card with the previous 办结 note and the resident's 补充信息 (and on a later 吹哨
card), and never shown to followers.
"""

from __future__ import annotations

import pytest

from bot.app import App
from storage.clock import FakeClock
from tests.chat import ChatUser, actions, audit, bind, file_report, ticket_row
from tests.flows.test_escalation import sweep

PHONE = "13812345678"
WHY = "灯还是不亮"


@pytest.fixture
def guide(app: App) -> ChatUser:
    return ChatUser(app, "guide-g01")


@pytest.fixture
def neighbour(app: App) -> ChatUser:
    return ChatUser(app, "neighbour-1")


@pytest.fixture
async def resolved(app: App, resident: ChatUser, leader: ChatUser, guide: ChatUser, neighbour: ChatUser) -> int:
    """A ticket with 补充信息 and a follower, acknowledged and resolved by the grid leader; the
    guide is bound."""
    await bind(app, leader, "g01-leader")
    await bind(app, guide, "g01-guide")
    ticket_id = await file_report(resident, phone=PHONE)
    await neighbour_follows(neighbour, ticket_id)
    await resident.say("/mytickets")
    await resident.press(f"#{ticket_id}")
    await resident.press("补充信息")
    await resident.say("晚上十点以后又灭了")
    await leader.press_notice("受理")
    await leader.press("办结")
    await leader.say("已更换灯泡")
    return ticket_id


async def test_unsatisfied_asks_why_before_anything_moves(
    app: App, resident: ChatUser, guide: ChatUser, resolved: int
) -> None:
    await resident.press_notice("不满意")
    assert resident.text == "很抱歉没能让您满意。请用一句话说说哪里不满意，我们会转给上一级处理（也可以点「跳过」）。"
    assert resident.options == ["跳过", "取消"]
    assert (await ticket_row(app, resolved)).status == "resolved"  # nothing moves before she answers
    assert await guide.inbox() == []


async def test_the_reason_reaches_the_next_level_with_the_resolution_and_added_info(
    app: App, resident: ChatUser, leader: ChatUser, guide: ChatUser, neighbour: ChatUser, resolved: int
) -> None:
    await resident.press_notice("不满意")
    await resident.say(WHY)
    assert resident.text == "已收到您的评价，问题 #1 已重新交办，并已报告网格指导员。"
    ticket = await ticket_row(app, resolved)
    assert (ticket.status, ticket.rating, ticket.escalation_level) == ("reopened", "unsatisfied", 1)
    assert [(e.note, e.data) for e in await audit(app, "rated")] == [(WHY, {"rating": "unsatisfied"})]
    assert (await actions(app, resolved))[-3:] == ["rated", "reopened", "notified"]

    [card] = await guide.inbox()
    assert card.text.startswith("【上报工单 #1】")
    lines = card.text.split("\n")
    assert "居民对办结结果不满意，工单已重新打开" in lines
    assert f"不满意的原因：{WHY}" in lines
    history = lines[lines.index("处理经过：") + 1:]
    assert [line[12:] for line in history] == [
        "提交", "其他居民也遇到", "补充信息：晚上十点以后又灭了", "已受理", "已办结：已更换灯泡",
        f"评价：不满意（原因：{WHY}）", "重新办理"]
    assert f"电话：{PHONE}" in card.text

    # Followers learn the state change only.
    [*_, notice] = await neighbour.inbox()
    assert notice.text == "您也遇到的问题 #1（水电维修）已重新交办，正在处理。"
    assert all(WHY not in n.text for n in await neighbour.inbox())
    await guide.press_notice("受理")  # the guide can act on it
    assert (await ticket_row(app, resolved)).status == "acknowledged"


async def neighbour_follows(neighbour: ChatUser, ticket_id: int) -> None:
    await neighbour.say("/report")
    await neighbour.press("水电维修")
    await neighbour.say("楼道灯不亮")
    await neighbour.say("龙池花园3栋")  # exact: no 「哪一个」
    if "跳过" in neighbour.options:
        await neighbour.press("跳过")
    await neighbour.press("不留电话")
    await neighbour.press(f"我也遇到 #{ticket_id}")
    assert "已记录" in neighbour.text


async def test_a_reason_with_markup_and_line_breaks_stays_quoted(
    app: App, resident: ChatUser, guide: ChatUser, resolved: int
) -> None:
    await resident.press_notice("不满意")
    await resident.say("<b>没修好</b> *真的*\n地址：别处\u202e 电话 13912345678")
    [card] = await guide.inbox()
    lines = card.text.split("\n")
    reason = lines.index("不满意的原因：<b>没修好</b> *真的*")
    assert lines[reason + 1] == "  ｜地址：别处 电话 139****5678"  # quoted: no card line of its own
    assert not any(line.startswith("地址：别处") for line in lines)
    assert "13912345678" not in card.text


async def test_skip_reopens_without_a_reason(app: App, resident: ChatUser, guide: ChatUser, resolved: int) -> None:
    await resident.press_notice("不满意")
    await resident.press("跳过")
    assert resident.text == "已收到您的评价，问题 #1 已重新交办，并已报告网格指导员。"
    assert [e.note for e in await audit(app, "rated")] == [""]
    [card] = await guide.inbox()
    assert "居民没有说明不满意的原因。" in card.text.split("\n")
    assert "已办结：已更换灯泡" in card.text


async def test_typed_skip_works_like_the_button(app: App, resident: ChatUser, guide: ChatUser, resolved: int) -> None:
    await resident.press_notice("不满意")
    await resident.say("跳过")
    assert resident.text == "已收到您的评价，问题 #1 已重新交办，并已报告网格指导员。"
    assert (await ticket_row(app, resolved)).status == "reopened"
    assert [e.note for e in await audit(app, "rated")] == [""]


async def test_cancel_leaves_the_ticket_to_be_rated(
    app: App, resident: ChatUser, guide: ChatUser, resolved: int
) -> None:
    await resident.press_notice("不满意")
    await resident.press("取消")
    assert (await ticket_row(app, resolved)).status == "resolved"
    assert await audit(app, "rated") == []
    await resident.press_notice("满意")  # she may still rate it
    assert (await ticket_row(app, resolved)).status == "closed"


async def test_a_photo_does_not_answer_the_question(app: App, resident: ChatUser, resolved: int) -> None:
    await resident.press_notice("不满意")
    await resident.photo("AgAD-why")
    assert resident.text.startswith("很抱歉没能让您满意")
    assert (await ticket_row(app, resolved)).status == "resolved"


async def test_a_later_escalation_card_still_carries_the_complaint(
    app: App, clock: FakeClock, resident: ChatUser, guide: ChatUser, resolved: int
) -> None:
    staff = ChatUser(app, "staff-longchi")
    await bind(app, staff, "longchi-staff-1")
    await resident.press_notice("不满意")
    await resident.say(WHY)
    clock.advance(hours=2)  # the guide misses 受理: 吹哨 to the community
    await sweep(app)
    [card] = await staff.inbox()
    assert card.text.startswith("【超时升级工单 #1】")
    assert f"不满意的原因：{WHY}" in card.text.split("\n")
    assert "已办结：已更换灯泡" in card.text


async def test_information_added_after_reopening_reaches_the_level_holding_it(
    app: App, resident: ChatUser, leader: ChatUser, guide: ChatUser, resolved: int
) -> None:
    await resident.press_notice("不满意")
    await resident.say(WHY)
    await resident.say("/mytickets")
    await resident.press(f"#{resolved}")
    await resident.press("补充信息")
    await resident.say("楼上的灯也不亮了")
    expected = f"【工单 #{resolved} 补充信息】\n楼上的灯也不亮了"
    assert (await guide.inbox())[-1].text == expected  # the guide holds it now
    assert (await leader.inbox())[-1].text == expected  # and its grid still does
