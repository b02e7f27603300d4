"""Issue 13, 「ordinary messages must mean what they say」: greetings, menu words, a draft left
open, short descriptions and a photo or location sent on its own, as residents and staff type them."""

from __future__ import annotations

import pytest

from bot.app import App
from storage import tickets
from tests.chat import ChatUser, all_tickets, bind, dialogs, read, ticket_row

MENU = ["微丰山", "微党建", "微服务"]
OFFER = "把这段话作为反映提交"
CATEGORY_PROMPT = "请选择要反映的问题类别"


async def address_to_summary(resident: ChatUser) -> None:
    """The address steps of a report in 龙池花园3栋, flat skipped and no phone: the summary is next."""
    await resident.say("龙池花园3栋")
    await resident.press("跳过")  # the flat (单元和门牌号), optional
    await resident.press("不留电话")


@pytest.mark.parametrize("greeting", ["你好", "您好", "在吗", "hi", "Hello", "早上好", "你好！"])
async def test_a_greeting_gets_the_main_menu_not_the_report_offer(
    app: App, resident: ChatUser, greeting: str
) -> None:
    await resident.say(greeting)
    assert resident.options == MENU and OFFER not in resident.options
    assert await dialogs(app) == []  # nothing remembered to file as 「问题描述：你好」


@pytest.mark.parametrize(("words", "answer"), [
    ("我要反映", CATEGORY_PROMPT), ("反映问题", CATEGORY_PROMPT), ("我的工单", "您还没有反映过问题"),
    ("联系网格", "先告诉我您住在哪里"), ("菜单", "请选择："), ("帮助", "使用说明"),
])
async def test_words_that_name_a_menu_item_or_command_do_that_thing(
    resident: ChatUser, words: str, answer: str
) -> None:
    await resident.say(words)
    assert answer in resident.text and OFFER not in resident.options


async def test_staff_words_stats_and_todo(app: App, resident: ChatUser, leader: ChatUser) -> None:
    await bind(app, leader, "g01-leader")
    await resident.say("/report")
    await resident.press("水电维修")
    await resident.say("楼道灯坏了")
    await address_to_summary(resident)
    await resident.press("提交")
    await leader.say("待办")
    assert "#1" in leader.text and OFFER not in leader.options
    await leader.say("三率")
    assert OFFER not in leader.options
    stats_by_command = leader.text
    await leader.say("/stats")
    assert leader.text == stats_by_command


async def test_other_text_is_still_offered_as_a_report(resident: ChatUser) -> None:
    await resident.say("楼下垃圾好几天没人收")
    assert OFFER in resident.options


async def test_report_with_a_draft_asks_to_continue_or_start_again(app: App, resident: ChatUser) -> None:
    await resident.say("/report")
    await resident.press("水电维修")
    await resident.say("楼道灯坏了，晚上很黑")
    await address_to_summary(resident)
    assert "请确认" in resident.text
    await resident.say("/report")  # the old draft's summary must not come back silently
    assert resident.text.startswith("您有一条未提交的反映：")
    assert "楼道灯坏了" in resident.text and "请确认" not in resident.text
    assert resident.options == ["继续", "重新开始"]
    await resident.press("继续")
    assert "请确认" in resident.text and "提交" in resident.options
    await resident.say("我要反映")
    await resident.press("重新开始")
    assert CATEGORY_PROMPT in resident.text
    dialog = await resident.dialog()
    assert (dialog.flow, dialog.step) == ("report", "category") and not dialog.data.get("description")
    assert await all_tickets(app) == []


async def test_a_two_character_description_is_a_complete_report(app: App, resident: ChatUser) -> None:
    await resident.say("/report")
    await resident.press("水电维修")
    await resident.say("漏水")
    assert "描述太短" not in resident.text
    await address_to_summary(resident)
    await resident.press("提交")
    assert (await ticket_row(app, 1)).description == "漏水"


async def test_one_character_is_still_too_short(resident: ChatUser) -> None:
    await resident.say("/report")
    await resident.press("水电维修")
    await resident.say("灯")
    assert "描述太短了" in resident.text and "至少 2 个字" in resident.text


async def test_a_photo_on_its_own_starts_a_report_with_it(app: App, resident: ChatUser) -> None:
    await resident.photo("photo-solo")
    assert "已添加照片（共 1 张）" in resident.text and CATEGORY_PROMPT in resident.text
    assert "用不上" not in resident.text
    await resident.press("水电维修")
    await resident.say("楼道灯坏了")
    await address_to_summary(resident)
    assert "照片：1 张" in resident.text
    await resident.press("提交")
    assert [ref for _, ref in await read(app, tickets.photos_of, 1)] == ["photo-solo"]


async def test_a_photo_with_a_caption_starts_a_report_described_by_it(app: App, resident: ChatUser) -> None:
    await resident.photo("photo-c", caption="楼道漏水")
    assert "已添加照片（共 1 张）" in resident.text and "问题描述：楼道漏水" in resident.text
    await resident.press("水电维修")
    await address_to_summary(resident)
    await resident.press("提交")
    ticket = await ticket_row(app, 1)
    assert ticket.description == "楼道漏水"
    assert [ref for _, ref in await read(app, tickets.photos_of, 1)] == ["photo-c"]


async def test_a_location_on_its_own_starts_a_report_with_it(app: App, resident: ChatUser) -> None:
    await resident.location(32.30121, 118.31234)
    assert "已添加位置" in resident.text and CATEGORY_PROMPT in resident.text
    await resident.press("水电维修")
    await resident.say("楼道灯坏了")
    await address_to_summary(resident)
    await resident.press("提交")
    ticket = await ticket_row(app, 1)
    assert (ticket.latitude, ticket.longitude) == (32.30121, 118.31234)
