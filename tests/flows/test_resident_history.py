"""Issue 13: the resident's history (我的工单 → a ticket) shows the steps taken for her only.

No 「已通知」 per card sent, no 转派 reason (written for staff), no staff names; the 办结 note
she was sent, what she added, and which rating she gave (with her reason) are shown.
"""

from __future__ import annotations

from bot.app import App
from tests.chat import ChatUser, bind, file_report, ticket_row

REASON = "王女士说是9栋的"


async def test_history_shows_resident_facing_steps_only(app: App, resident: ChatUser, leader: ChatUser) -> None:
    other = ChatUser(app, "leader-g02")
    guide = ChatUser(app, "guide-g02")
    await bind(app, leader, "g01-leader")
    await bind(app, other, "g02-leader")
    await bind(app, guide, "g02-guide")
    await file_report(resident, phone="13812345678")
    await leader.say("受理 1")
    await leader.say(f"转派 1 G02 {REASON}")
    assert (await ticket_row(app, 1)).grid_id == "G02"
    await other.say("受理 1")
    await other.say("办结 1 已更换灯泡")
    await resident.press_notice("不满意")
    await resident.say("灯还是不亮")
    await resident.say("/mytickets")
    await resident.press("#1")
    history = resident.text.split("处理记录：\n", 1)[1].splitlines()
    assert [line[12:] for line in history] == [
        "提交", "转交网格", "已受理", "转派：龙池花园第二网格", "已受理", "已办结：已更换灯泡",
        "评价：不满意（原因：灯还是不亮）", "重新办理"]
    assert REASON not in resident.text and "已通知" not in resident.text
    assert "万秀英" not in resident.text and "顾敏" not in resident.text  # no staff names


async def test_history_shows_a_satisfied_rating(app: App, resident: ChatUser, leader: ChatUser) -> None:
    await bind(app, leader, "g01-leader")
    await file_report(resident)
    await leader.say("办结 1 已更换灯泡")
    await resident.press_notice("基本满意")
    await resident.say("/mytickets")
    await resident.press("#1")
    history = resident.text.split("处理记录：\n", 1)[1].splitlines()
    assert [line[12:] for line in history] == ["提交", "转交网格", "已办结：已更换灯泡", "评价：基本满意", "完成"]
