"""Transcripts of 我也遇到: a second report of the same thing joins the open ticket."""

from __future__ import annotations

import pytest

from bot.app import App
from storage import reads
from tests.chat import ChatUser, actions, all_tickets, audit, bind, file_report, read


@pytest.fixture
def neighbour(app: App) -> ChatUser:
    return ChatUser(app, "resident-2")


async def reach_summary(user: ChatUser, category: str = "水电维修", address: str = "龙池花园3栋") -> None:
    await user.say("/report")
    await user.press(category)
    await user.say("楼道的灯又不亮了")
    await user.say(address)  # typed exactly: taken without 「您说的是哪一个」
    await user.press("跳过")  # issue 13: the optional unit/room question
    await user.press("不留电话")


async def test_same_building_and_category_offers_me_too(
    app: App, resident: ChatUser, neighbour: ChatUser, leader: ChatUser
) -> None:
    await bind(app, leader, "g01-leader")
    await file_report(resident)
    await reach_summary(neighbour)
    assert "同一楼栋已有类似反映" in neighbour.text
    # Named by category, time and state; the reporter's own words are not shown (issue 10).
    assert "#1 水电维修｜11月26日 10:00 反映｜待受理" in neighbour.text
    assert "3栋楼道灯坏了" not in neighbour.text
    assert neighbour.options[:2] == ["我也遇到 #1", "仍然提交新反映"]

    await neighbour.press("我也遇到 #1")
    assert neighbour.text == "已记录：您也遇到了 #1 的问题，处理进展会同步通知您。"
    assert len(await all_tickets(app)) == 1
    neighbour_id = (await neighbour.account()).resident_id
    assert await read(app, reads.followers) == [(1, neighbour_id)]
    assert (await actions(app, 1))[-1] == "follower_added"
    assert [event.actor_id for event in await audit(app, "follower_added")] == [str(neighbour_id)]
    notices = await leader.inbox()
    assert notices[-1].text == "工单 #1：又有一位居民反映遇到同样的问题（共 2 人）。"
    assert await neighbour.dialog() is None

    # The follower hears of progress too.
    await leader.press_notice("受理")
    follower_notices = await neighbour.inbox()
    assert len(follower_notices) == 1 and "已由支部网格长 万秀英 受理" in follower_notices[0].text
    assert follower_notices[0].options == ()  # rating buttons are only for the reporter


async def test_submit_anyway_files_a_new_ticket(
    app: App, resident: ChatUser, neighbour: ChatUser
) -> None:
    await file_report(resident)
    await reach_summary(neighbour)
    await neighbour.press("仍然提交新反映")
    assert "工单号 #2" in neighbour.text
    assert [(t.id, t.building, t.category_id) for t in await all_tickets(app)] == [
        (1, "3栋", "repair"), (2, "3栋", "repair")]
    assert await read(app, reads.followers) == []


async def test_no_offer_for_another_building_or_category(resident: ChatUser, neighbour: ChatUser) -> None:
    await file_report(resident)
    await reach_summary(neighbour, address="龙池花园4栋")
    assert "类似反映" not in neighbour.text and neighbour.options[0] == "提交"
    await neighbour.say("取消")
    await reach_summary(neighbour, category="环境卫生")
    assert "类似反映" not in neighbour.text and neighbour.options[0] == "提交"


async def test_closed_tickets_are_not_offered(app: App, resident: ChatUser, neighbour: ChatUser) -> None:
    await file_report(resident)
    await resident.say("/mytickets")
    await resident.press("#1")
    await resident.press("撤销工单")
    await resident.press("确定撤销")
    await reach_summary(neighbour)
    assert "类似反映" not in neighbour.text


async def test_reporter_cannot_follow_their_own_ticket(app: App, resident: ChatUser) -> None:
    await file_report(resident)
    await reach_summary(resident)
    await resident.press("我也遇到 #1")
    assert resident.text == "您已经关注了 #1，有进展会通知您。"
    assert await read(app, reads.followers) == []
    assert "follower_added" not in await actions(app, 1)


async def test_followers_hear_when_the_reporter_cancels(
    app: App, resident: ChatUser, neighbour: ChatUser
) -> None:
    await file_report(resident)
    await reach_summary(neighbour)
    await neighbour.press("我也遇到 #1")
    await resident.press_data("my:cancelok:1")
    assert resident.text == "工单 #1 已撤销。"
    assert (await neighbour.inbox())[-1].text.startswith("您也遇到的问题 #1 已被提交人撤销")
    assert all("已被提交人撤销" not in r.text for r in await resident.inbox())
