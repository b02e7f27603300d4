"""Issue 13: a resident changes the address they gave, from 联系网格 and from 我的数据; the next
report offers the new one. A home is a building: no public places here."""

from __future__ import annotations

import pytest

from bot.app import App
from handlers.types import Channel
from tests.chat import ChatUser, file_report, pause

CHANNELS = [Channel.CONSOLE, Channel.TELEGRAM, Channel.WECHAT]


async def _next_report_offers(user: ChatUser, address: str) -> None:
    await user.say("/report")
    await user.press("水电维修")
    await user.say("楼道灯坏了")
    assert f"问题在您登记的地址「{address}」吗？" in user.text, user.text


@pytest.mark.parametrize("channel", CHANNELS)
async def test_change_address_from_contact_grid(app: App, channel: Channel) -> None:
    user = ChatUser(app, "resident-1", channel)
    await file_report(user, address="龙池花园3栋")
    pause(app)
    await user.say("联系网格")
    assert "龙池花园第一网格" in user.text and "修改地址" in user.options
    await user.press("修改地址")
    assert "问题在哪个社区" in user.text and "公共区域" not in user.options
    await user.say("清流苑12号楼")
    assert "已保存新地址：清流苑12栋" in user.text
    assert "您的网格：清流苑第二网格（龙池社区）" in user.text
    resident = await user.resident()
    assert (resident.compound, resident.building, resident.grid_id) == ("清流苑", "12栋", "G05")
    await _next_report_offers(user, "清流苑12栋")


@pytest.mark.parametrize("channel", CHANNELS)
async def test_change_address_from_my_data_with_the_pickers(app: App, channel: Channel) -> None:
    user = ChatUser(app, "resident-1", channel)
    await user.say("我的数据")
    assert "修改地址" in user.options
    await user.press("修改地址")
    await user.press("南桥社区")
    await user.press("南湖苑")
    await user.press("2栋")
    assert "已保存新地址：南湖苑2栋" in user.text
    await user.say("我的数据")
    assert "南湖苑2栋" in user.text
    await _next_report_offers(user, "南湖苑2栋")


async def test_back_and_cancel_leave_the_old_address(app: App, resident: ChatUser) -> None:
    await file_report(resident, address="龙池花园3栋")
    pause(app)
    await resident.say("我的数据")
    await resident.press("修改地址")
    await resident.press("龙池社区")
    await resident.press("返回")
    await resident.press("取消")
    assert (await resident.resident()).building == "3栋"
    assert await resident.dialog() is None


async def test_a_report_draft_survives_changing_the_address(app: App, resident: ChatUser) -> None:
    await resident.say("/report")
    await resident.press("水电维修")
    await resident.say("楼道灯坏了")
    await resident.say("/mydata")  # typed words inside a flow are the flow's input; the command is not
    await resident.press("修改地址")
    await resident.say("龙池花园5栋")
    assert "已保存新地址：龙池花园5栋" in resident.text
    dialog = await resident.dialog()
    assert dialog is not None and dialog.flow == "report"


async def test_the_flat_is_asked_at_a_changed_address_and_not_again(app: App, resident: ChatUser) -> None:
    """No report was filed from the new address yet, so no flat is known: it is asked (once)."""
    await file_report(resident, address="龙池花园3栋")
    pause(app)
    await resident.say("我的数据")
    await resident.press("修改地址")
    await resident.say("清流苑12栋")
    await _next_report_offers(resident, "清流苑12栋")
    await resident.press("是")
    assert "请补充单元和门牌号" in resident.text
    await resident.say("3单元501")
    await resident.press("不留电话")
    await resident.press("提交")
    pause(app)
    await _next_report_offers(resident, "清流苑12栋")
    await resident.press("是")
    assert "只有处理您问题的网格员能看到" in resident.text  # the flat given last time is reused, unasked
    await resident.press("不留电话")
    assert "地址：清流苑12栋3单元501" in resident.text
