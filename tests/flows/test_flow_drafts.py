"""A half-finished report survives a detour into another flow."""

from __future__ import annotations

from bot.app import App
from tests.chat import ChatUser, all_tickets, file_report, steps, ticket_row


async def start_report_up_to_phone(resident: ChatUser) -> None:
    await resident.say("/report")
    await resident.press("水电维修")
    await resident.say("楼道灯坏了，晚上很黑")
    await resident.press("龙池社区")
    await resident.press("龙池花园")
    await resident.press("3栋")
    await resident.press("跳过")  # issue 13: the optional unit/room question
    assert "留个电话" in resident.text


async def test_contact_grid_detour_keeps_the_report_draft(app: App, resident: ChatUser) -> None:
    await start_report_up_to_phone(resident)
    await resident.press_data("i:contact_grid")
    assert "先告诉我您住在哪里" in resident.text
    await resident.say("西涧二村5栋")
    assert "您的网格" in resident.text and "发送 /report 继续" in resident.text
    await resident.say("/report")
    await resident.press("继续")  # issue 13: a draft is offered, not jumped into
    assert "留个电话" in resident.text
    await resident.press("不留电话")
    await resident.press("提交")
    ticket = await ticket_row(app, 1)
    assert (ticket.description, ticket.compound, ticket.building) == ("楼道灯坏了，晚上很黑", "龙池花园", "3栋")


async def test_cancelling_a_side_flow_gives_the_draft_back(app: App, resident: ChatUser) -> None:
    await file_report(resident)
    await start_report_up_to_phone(resident)
    await resident.press_data("my:add:1")
    assert "请发送要补充的文字" in resident.text
    await resident.say("取消")
    assert "已取消" in resident.text and "发送 /report 继续" in resident.text
    assert await steps(app) == [("report", "phone")]
    # Cancelling the report itself drops it for good.
    await resident.say("取消")
    assert await steps(app) == []
    assert len(await all_tickets(app)) == 1
