"""Transcripts of the report flow, through the fake channel."""

from __future__ import annotations

from bot.app import App
from storage import tickets
from tests.chat import ChatUser, bind


async def file_report(resident: ChatUser) -> None:
    await resident.say("/report")
    await resident.press("水电维修")
    await resident.say("3栋楼道灯坏了，晚上很黑")
    await resident.press("龙池社区")
    await resident.press("龙池花园")
    await resident.press("3栋")
    await resident.say("13812345678")
    await resident.press("提交")


async def test_report_reaches_grid_leader(app: App, resident: ChatUser, leader: ChatUser) -> None:
    await bind(app, leader, "g01-leader")
    await file_report(resident)
    assert "工单号 #1" in resident.text
    assert "龙池花园第一网格" in resident.text
    cards = await leader.inbox()
    assert cards and "新工单 #1" in cards[0].text
    assert "电话：13812345678" in cards[0].text  # issue 13: the handler sees the phone in full
    assert [o.label for o in cards[0].options] == ["受理", "办结", "转派"]
    async with app.db.read() as conn:
        ticket = await tickets.get_ticket(conn, 1)
        events = [e.action for e in await tickets.events_of(conn, 1)]
    assert ticket is not None and ticket.grid_id == "G01" and ticket.status == "routed"
    assert events == ["created", "routed", "notified"]
