"""Transcripts of 我的工单: list, detail, 补充信息, 撤销工单, and what another resident cannot do."""

from __future__ import annotations

import pytest

from bot.app import App
from storage import tickets
from tests.chat import ChatUser, actions, bind, dialogs, file_report, pause, read, ticket_row


@pytest.fixture
def stranger(app: App) -> ChatUser:
    return ChatUser(app, "resident-2")


async def test_no_tickets_yet(resident: ChatUser) -> None:
    await resident.say("/mytickets")
    assert resident.text.startswith("您还没有反映过问题")


async def test_list_and_detail(app: App, resident: ChatUser, leader: ChatUser) -> None:
    await bind(app, leader, "g01-leader")
    await file_report(resident)
    await file_report(resident, category="环境卫生", description="楼下垃圾桶满了", address="龙池花园5栋")
    await resident.say("微服务")
    await resident.press("我的工单")
    assert resident.text == "您最近的工单（点击查看详情）："
    assert resident.options == ["#2 环境卫生/垃圾分类 · 待受理", "#1 水电维修 · 待受理"]

    await leader.press_data("t:ack:1")
    app.clock.advance(minutes=1)  # the flood guard: two reports (issue 13: 跳过 the flat) fill a minute
    await resident.say("/mytickets")
    await resident.press("#1")
    text = resident.text
    assert text.startswith("工单 #1\n类别：水电维修\n地址：龙池花园3栋\n描述：3栋楼道灯坏了，晚上很黑")
    assert "状态：处理中" in text
    history = text.split("处理记录：\n", 1)[1].splitlines()
    # 02:00 UTC is 10:00 in Asia/Shanghai. Issue 13: no 「已通知」 (an internal row per card).
    assert history == ["11-26 10:00 提交", "11-26 10:00 转交网格", "11-26 10:00 已受理"]
    assert resident.options == ["补充信息", "撤销工单"]


async def test_add_info_reaches_the_leader(app: App, resident: ChatUser, leader: ChatUser) -> None:
    await bind(app, leader, "g01-leader")
    await file_report(resident)
    await resident.say("/mytickets")
    await resident.press("#1")
    await resident.press("补充信息")
    assert "请发送要补充的文字或照片（工单 #1）" in resident.text
    await resident.say("晚上八点以后最黑")
    assert resident.text == "已补充到工单 #1，网格员会看到。"
    assert [(e.action, e.note) for e in await read(app, tickets.events_of, 1)
            if e.action == "info_added"] == [("info_added", "晚上八点以后最黑")]
    assert (await leader.inbox())[-1].text == "【工单 #1 补充信息】\n晚上八点以后最黑"
    assert await dialogs(app) == []
    await resident.say("/mytickets")
    await resident.press("#1")
    assert "补充信息：晚上八点以后最黑" in resident.text


async def test_add_info_with_a_photo(app: App, resident: ChatUser, leader: ChatUser) -> None:
    await bind(app, leader, "g01-leader")
    await file_report(resident)
    await resident.press_data("my:add:1")
    await resident.photo("later-photo")
    assert [ref for _, ref in await read(app, tickets.photos_of, 1)] == ["later-photo"]
    assert (await actions(app, 1))[-1] == "photo_added"
    # Issue 13: the handler gets the photo itself, not the words 「补充照片」.
    last = (await leader.inbox())[-1]
    assert (last.photo, last.text) == ("later-photo", "【工单 #1 补充了照片】")
    assert not any("补充照片" in r.text for r in await leader.inbox())


async def test_add_info_with_a_voice(app: App, resident: ChatUser, leader: ChatUser) -> None:
    """Issue 13 (适老化): a voice message added to an open ticket is kept and reaches the handler
    as the recording; the resident's history says 补充语音, not 补充照片."""
    await bind(app, leader, "g01-leader")
    await file_report(resident)
    await resident.press_data("my:add:1")
    await resident.voice("later-voice")
    assert resident.text == "已补充到工单 #1，网格员会看到。"
    assert await read(app, tickets.attachments_of, 1) == [
        tickets.Attachment("console", "later-voice", tickets.AttachmentKind.VOICE)]
    assert (await actions(app, 1))[-1] == "voice_added"
    last = (await leader.inbox())[-1]
    assert (last.voice, last.photo, last.text) == ("later-voice", "", "【工单 #1 补充了语音】")
    await resident.say("/mytickets")
    await resident.press("#1")
    assert "补充语音" in resident.text and "补充照片" not in resident.text


async def test_add_info_can_be_cancelled(app: App, resident: ChatUser) -> None:
    await file_report(resident)
    await resident.press_data("my:add:1")
    await resident.press("取消")
    assert "已取消" in resident.text
    assert "info_added" not in await actions(app, 1)


async def test_cancel_ticket_after_confirmation(app: App, resident: ChatUser, leader: ChatUser) -> None:
    await bind(app, leader, "g01-leader")
    await file_report(resident)
    await resident.say("/mytickets")
    await resident.press("#1")
    await resident.press("撤销工单")
    assert resident.text.startswith("确定撤销工单 #1 吗")
    assert resident.options == ["确定撤销", "返回"]
    assert (await ticket_row(app, 1)).status == "routed"  # nothing happens before confirming
    await resident.press("确定撤销")
    assert resident.text == "工单 #1 已撤销。"
    assert (await ticket_row(app, 1)).status == "cancelled"
    assert (await actions(app, 1))[-1] == "cancelled"
    assert (await leader.inbox())[-1].text == "工单 #1 已被居民撤销，无需再处理。"

    # A cancelled ticket cannot be cancelled again or added to.
    events = await actions(app, 1)
    await resident.press_data("my:cancelok:1")
    assert resident.text == "工单 #1 当前状态为「已撤销」，不能再修改。"
    await resident.press_data("my:add:1")
    assert "不能再修改" in resident.text
    assert await actions(app, 1) == events
    # The leader can no longer act on it either.
    await leader.press_data("t:ack:1")
    assert "无需受理" in leader.text
    assert (await ticket_row(app, 1)).status == "cancelled"


async def test_cancel_confirmation_back_shows_the_ticket(resident: ChatUser) -> None:
    await file_report(resident)
    await resident.press_data("my:cancel:1")
    await resident.press("返回")
    assert resident.text.startswith("工单 #1")


@pytest.mark.parametrize("forged", [
    "my:1", "my:add:1", "my:cancel:1", "my:cancelok:1", "rate:1:satisfied", "rate:1:unsatisfied",
    "my:999", "my:x",
])
async def test_another_resident_cannot_touch_my_ticket(
    app: App, resident: ChatUser, stranger: ChatUser, leader: ChatUser, forged: str
) -> None:
    await bind(app, leader, "g01-leader")
    await file_report(resident, phone="13812345678")
    await leader.press_data("t:ack:1")
    await leader.press_data("t:res:1")
    await leader.say("已更换灯泡")
    before = (await ticket_row(app, 1), await actions(app, 1), await leader.inbox())

    await stranger.press_data(forged)
    assert stranger.text == "没有找到这张工单。"
    for secret in ("13812345678", "138****5678", "龙池花园", "灯坏了"):
        assert secret not in stranger.text
    assert await stranger.dialog() is None
    assert (await ticket_row(app, 1), await actions(app, 1), await leader.inbox()) == before
    assert await stranger.inbox() == []


async def test_staff_open_list(app: App, resident: ChatUser, leader: ChatUser) -> None:
    await bind(app, leader, "g01-leader")
    await file_report(resident)
    await file_report(resident, category="其他", description="小区门口积水严重", address="龙池花园12栋")
    await leader.say("/tickets")
    assert leader.text.startswith("待办工单：")
    assert "【待受理 #1】" in leader.text and "#2" not in leader.text  # #2 is in G02; #1 labelled by its state
    await resident.say("/tickets")
    assert resident.text == "目前没有需要您处理的待办工单。"


async def test_staff_open_list_for_community_staff_admins_and_responders(
    app: App, resident: ChatUser
) -> None:
    staff, admin, post = ChatUser(app, "staff"), ChatUser(app, "admin"), ChatUser(app, "post")
    await bind(app, staff, "longchi-staff-1")
    await bind(app, admin, "sd-admin-1")
    await bind(app, post, "post-longchi")
    await file_report(resident)  # 龙池 community, 水电维修
    pause(app)
    await file_report(resident, category="代充燃气", description="家里燃气卡没钱了", address="龙池花园12栋")
    pause(app)
    await file_report(resident, category="其他", description="门口积水严重了", address="西涧二村5栋")
    await staff.say("/tickets")
    assert "#1" in staff.text and "#2" in staff.text and "#3" not in staff.text
    await admin.say("/tickets")
    assert all(f"#{n}" in admin.text for n in (1, 2, 3))
    await post.say("/tickets")
    assert "#2" in post.text and "#1" not in post.text and "#3" not in post.text
