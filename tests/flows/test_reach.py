"""Issue 13: a leader can reach the resident and find the flat.

The people a ticket is routed to see the resident's phone in full on their private card; lists,
followers, groups and the resident's own summary stay masked. The flat (unit and room) is kept.
"""

from __future__ import annotations

import pytest

from bot.app import App
from storage.clock import FakeClock
from tests.chat import ChatUser, bind, file_report, ticket_row
from tests.flows.test_escalation import sweep

PHONE = "13812345678"
MASKED = "138****5678"


@pytest.fixture
def guide(app: App) -> ChatUser:
    return ChatUser(app, "guide-g01")


@pytest.fixture
def staff(app: App) -> ChatUser:
    return ChatUser(app, "staff-longchi")


@pytest.fixture
async def handlers(app: App, leader: ChatUser, guide: ChatUser, staff: ChatUser) -> None:
    await bind(app, leader, "g01-leader")
    await bind(app, guide, "g01-guide")
    await bind(app, staff, "longchi-staff-1")


# -- 1. the handlers see the phone ---------------------------------------------------------------


async def test_phone_step_says_only_the_handler_sees_it(resident: ChatUser) -> None:
    await resident.say("/report")
    await resident.press("水电维修")
    await resident.say("3栋楼道灯坏了，晚上很黑")
    await resident.say("龙池花园3栋")
    await resident.press("跳过")
    assert "只有处理您问题的网格员能看到" in resident.text
    await resident.say(PHONE)
    assert f"电话：{MASKED}" in resident.text and PHONE not in resident.text  # her own summary


async def test_leader_card_shows_the_full_phone_but_lists_mask_it(
    app: App, resident: ChatUser, leader: ChatUser, handlers: None
) -> None:
    await file_report(resident, phone=PHONE, description="楼道灯坏了，电话13912345678也行")
    [card] = await leader.inbox()
    assert f"电话：{PHONE}" in card.text
    assert "139****5678" in card.text and "13912345678" not in card.text  # typed inside free text
    await leader.say("/tickets")
    assert MASKED in leader.text and PHONE not in leader.text  # a list stays masked


async def test_escalation_and_reopened_cards_show_the_full_phone(
    app: App, clock: FakeClock, resident: ChatUser, leader: ChatUser, guide: ChatUser,
    staff: ChatUser, handlers: None,
) -> None:
    await file_report(resident, phone=PHONE)
    clock.advance(hours=2)
    await sweep(app)  # missed 受理: to the guide
    [escalated] = await guide.inbox()
    assert escalated.text.startswith("【超时升级工单 #1】") and f"电话：{PHONE}" in escalated.text
    await guide.press_notice("受理")
    await guide.press("办结")
    await guide.say("已更换灯泡")
    await resident.press_notice("不满意")
    await resident.press("跳过")  # 不满意 asks why (issue 13); no reason
    assert (await ticket_row(app, 1)).escalation_level == 2
    [reopened] = await staff.inbox()
    assert reopened.text.startswith("【上报工单 #1】") and f"电话：{PHONE}" in reopened.text


async def test_contact_grid_shows_leader_and_guide_numbers(resident: ChatUser) -> None:
    await file_report(resident)
    await resident.say("微服务")
    await resident.press("联系网格")
    assert "支部网格长：万秀英 13905500110" in resident.text
    assert "网格指导员：夏敏 13905500120" in resident.text


# -- 2. keep the flat ------------------------------------------------------------------------------


async def test_typed_flat_is_kept_on_the_card_and_in_my_tickets(
    app: App, resident: ChatUser, leader: ChatUser, handlers: None
) -> None:
    await resident.say("/report")
    await resident.press("水电维修")
    await resident.say("楼道灯坏了，晚上很黑")
    await resident.say("龙池花园5栋2单元302")
    assert "只有处理您问题的网格员能看到" in resident.text  # no question for the flat: it was given
    await resident.press("不留电话")
    assert "地址：龙池花园5栋2单元302" in resident.text
    await resident.press("提交")
    ticket = await ticket_row(app, 1)
    assert (ticket.building, ticket.detail) == ("5栋", "2单元302")
    [card] = await leader.inbox()
    assert "地址：龙池花园5栋2单元302（龙池花园第一网格）" in card.text
    await resident.say("/mytickets")
    await resident.press("#1")
    assert "地址：龙池花园5栋2单元302" in resident.text


async def test_a_building_only_address_asks_once_for_the_flat(
    app: App, resident: ChatUser, leader: ChatUser, handlers: None
) -> None:
    await resident.say("/report")
    await resident.press("水电维修")
    await resident.say("楼道灯坏了，晚上很黑")
    await resident.press("龙池社区")
    await resident.press("龙池花园")
    await resident.press("3栋")
    assert "单元" in resident.text and "跳过" in resident.options
    await resident.say("1单元101")
    await resident.press("不留电话")
    await resident.press("提交")
    assert (await ticket_row(app, 1)).detail == "1单元101"
    [card] = await leader.inbox()
    assert "地址：龙池花园3栋1单元101（" in card.text


async def test_the_flat_question_can_be_skipped(app: App, resident: ChatUser) -> None:
    await resident.say("/report")
    await resident.press("水电维修")
    await resident.say("楼道灯坏了，晚上很黑")
    await resident.say("龙池花园3栋")
    await resident.press("跳过")
    assert "只有处理您问题的网格员能看到" in resident.text
    await resident.press("不留电话")
    await resident.press("提交")
    assert (await ticket_row(app, 1)).detail == ""


# -- 3. addresses as people type them ------------------------------------------------------------


@pytest.mark.parametrize("typed, building", [
    ("龙池花园５栋", "龙池花园5栋"), ("龙池花园五栋", "龙池花园5栋"), ("清流苑十二号楼", "清流苑12栋"),
    ("龙池花园5幢", "龙池花园5栋"),
])
async def test_typed_buildings_in_the_forms_people_use(resident: ChatUser, typed: str, building: str) -> None:
    await resident.say("/report")
    await resident.press("水电维修")
    await resident.say("楼道灯坏了，晚上很黑")
    await resident.say(typed)
    # Issue 13 (part A) changes this: a form that names exactly one building is taken at once,
    # no 「您说的是哪一个」 (it was: `building in resident.options`).
    assert "请补充单元和门牌号" in resident.text, resident.text
    await resident.press("跳过")
    await resident.press("不留电话")
    assert f"地址：{building}" in resident.text


async def test_a_unit_is_not_a_building(resident: ChatUser) -> None:
    await resident.say("/report")
    await resident.press("水电维修")
    await resident.say("楼道灯坏了，晚上很黑")
    await resident.say("龙池花园2单元")
    assert "龙池花园2栋" not in resident.options, resident.options
