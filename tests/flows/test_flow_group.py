"""Transcripts in a group chat: public menus only; anything personal moves to private chat."""

from __future__ import annotations

from bot.app import App
from tests.chat import ChatUser, actions, bind, dialogs, file_report, notifications, ticket_row

LINK = "https://t.me/weifengshan_bot?start=report"
PERSONAL = ("13812345678", "138****5678", "龙池花园3栋", "3栋楼道灯坏了", "万秀英", "#1")


def assert_nothing_personal(user: ChatUser) -> None:
    shown = "\n".join(f"{r.text}\n{r.link}\n{[o.label for o in r.options]}" for r in user._last_batch)
    for secret in PERSONAL:
        assert secret not in shown, (secret, shown)


async def test_menu_in_a_group(resident: ChatUser) -> None:
    await resident.say("/menu@weifengshan_bot", group=True)
    assert resident.options == ["微丰山", "微党建", "微服务"]
    assert resident.last.main_keyboard is False  # no reply keyboard forced on a whole group
    await resident.press_data("m:weifengshan", group=True)
    assert "红色驿站" in resident.options
    await resident.press_data("i:red_posts", group=True)
    assert resident.text.startswith("【红色驿站】")


async def test_report_in_a_group_redirects_to_private_chat(app: App, resident: ChatUser) -> None:
    await resident.say("/report", group=True)
    assert resident.text == "为保护个人信息，反映问题、查看工单请私聊我："
    assert resident.last.link == LINK
    assert resident.last.link_label == "私聊微丰山"
    assert await dialogs(app) == []
    # The deep link starts the report in private chat.
    await resident.say("/start report")
    assert "请选择要反映的问题类别" in resident.text


async def test_personal_things_in_a_group_never_show_ticket_data(app: App, resident: ChatUser) -> None:
    await file_report(resident, phone="13812345678")
    for command in ("/mytickets", "/report", "/tickets", "/cancel"):
        await resident.say(command, group=True)
        assert resident.last.link == LINK
        assert_nothing_personal(resident)
    for button in ("i:my_tickets", "i:report", "i:contact_grid", "my:1", "my:cancelok:1",
                   "rate:1:satisfied"):
        await resident.press_data(button, group=True)
        assert resident.last.link == LINK
        assert_nothing_personal(resident)
    assert (await ticket_row(app, 1)).status == "routed"


async def test_ticket_actions_in_a_group_do_nothing(app: App, resident: ChatUser, leader: ChatUser) -> None:
    await bind(app, leader, "g01-leader")
    await file_report(resident, phone="13812345678")
    before = (await ticket_row(app, 1), await actions(app, 1))
    for button in ("t:ack:1", "t:res:1", "t:re:1"):
        await leader.press_data(button, group=True)
        assert leader.last.link == LINK
        assert_nothing_personal(leader)
    assert (await ticket_row(app, 1), await actions(app, 1)) == before
    assert await dialogs(app) == []
    # Only the redirects above were posted to the group: no card or notice went there.
    assert [row for row in await notifications(app) if row.chat_id == "group-1"] == []


async def test_plain_chatter_in_a_group_gets_no_answer(resident: ChatUser) -> None:
    await resident.say("大家好，今晚广场舞几点开始？", group=True)
    assert resident._last_batch == []
    await resident.say("微丰山", group=True)
    assert resident._last_batch == []
    await resident.say("取消", group=True)
    assert resident._last_batch == []
