"""Issue 13: a road, a crossing, a park or a market is not a building. 公共区域 lists the
configured places; a typed name or a location nearby picks one; the ticket routes to the place's
grid and its card, summary and lists show the place."""

from __future__ import annotations

import pytest

from bot.app import App
from handlers.types import Channel
from tests.chat import ChatUser, bind, file_report, notifications, pause, ticket_row

CHANNELS = [Channel.CONSOLE, Channel.TELEGRAM, Channel.WECHAT]
NEAR_LONGCHI_PARK = (32.3119, 118.3276)  # about 15 m from 龙池公园 in the sample config
FAR_AWAY = (32.3500, 118.2500)


async def _to_address(user: ChatUser, description: str = "公园的路灯坏了") -> None:
    await user.say("/report")
    await user.press("水电维修")
    await user.say(description)


@pytest.mark.parametrize("channel", CHANNELS)
async def test_public_area_lists_the_places_and_routes_to_the_places_grid(app: App, channel: Channel) -> None:
    user = ChatUser(app, "resident-1", channel)
    leader = ChatUser(app, "leader-g16", channel)
    await bind(app, leader, "g16-leader")
    await _to_address(user)
    assert "公共区域" in user.options
    await user.press("公共区域")
    assert "公共区域" in user.text and "南湖公园" in user.options and "丰乐菜场" in user.options
    await user.press("南湖公园")
    assert "只有处理您问题的网格员能看到" in user.text  # a park has no unit or room to ask for
    await user.press("不留电话")
    assert "地址：南湖公园" in user.text
    await user.press("提交")
    assert "已转交：南湖苑网格" in user.text
    ticket = await ticket_row(app, 1)
    assert (ticket.compound, ticket.building, ticket.grid_id, ticket.detail) == ("南湖公园", "", "G16", "")
    card = [row for row in await notifications(app) if row.chat_id == "leader-g16"]
    assert card and "地址：南湖公园（南湖苑网格）" in card[0].payload["text"]
    await leader.say("/tickets")
    assert "#1" in leader.text
    resident = await user.resident()
    assert not resident.building  # a public place is not where the resident lives


async def test_a_typed_place_name_is_taken(app: App, resident: ChatUser) -> None:
    await _to_address(resident)
    await resident.say("龙池公园")
    assert "只有处理您问题的网格员能看到" in resident.text
    await resident.press("不留电话")
    await resident.press("提交")
    assert (await ticket_row(app, 1)).grid_id == "G01"


async def test_a_place_name_typed_loosely_is_offered(app: App, resident: ChatUser) -> None:
    await _to_address(resident)
    await resident.say("丰乐菜场门口")
    assert "您说的是下面哪一个" in resident.text and "丰乐菜场" in resident.options
    await resident.press("丰乐菜场")
    await resident.press("不留电话")
    await resident.press("提交")
    assert (await ticket_row(app, 1)).grid_id == "G21"


async def test_the_residents_community_comes_first(app: App, resident: ChatUser) -> None:
    await file_report(resident, address="南湖苑1栋")
    pause(app)
    await _to_address(resident)
    await resident.press("换一个地址")
    await resident.press("公共区域")
    assert resident.options[0] == "南湖公园"


@pytest.mark.parametrize("channel", CHANNELS)
async def test_a_location_at_the_start_offers_the_place_nearby(app: App, channel: Channel) -> None:
    user = ChatUser(app, "resident-1", channel)
    await user.location(*NEAR_LONGCHI_PARK)
    await user.press("水电维修")
    await user.say("路灯不亮")
    assert "您发送的位置在「龙池公园」附近" in user.text
    await user.press("是")
    await user.press("不留电话")
    assert "地址：龙池公园" in user.text
    await user.press("提交")
    ticket = await ticket_row(app, 1)
    assert (ticket.compound, ticket.grid_id) == ("龙池公园", "G01")
    assert (ticket.latitude, ticket.longitude) == NEAR_LONGCHI_PARK


async def test_a_location_during_the_address_step_offers_the_place(app: App, resident: ChatUser) -> None:
    await _to_address(resident)
    assert "问题在哪个社区" in resident.text
    await resident.location(*NEAR_LONGCHI_PARK)
    assert "您发送的位置在「龙池公园」附近" in resident.text
    await resident.press("换一个地址")  # not the park after all
    assert "问题在哪个社区" in resident.text
    await resident.say("龙池花园5栋")
    assert "请补充单元和门牌号" in resident.text


async def test_a_location_far_from_every_place_asks_as_usual(app: App, resident: ChatUser) -> None:
    await resident.location(*FAR_AWAY)
    await resident.press("水电维修")
    await resident.say("路灯不亮")
    assert "附近" not in resident.text and "问题在哪个社区" in resident.text


async def test_back_from_the_nearby_place_goes_to_the_description(app: App, resident: ChatUser) -> None:
    await resident.location(*NEAR_LONGCHI_PARK)
    await resident.press("水电维修")
    await resident.say("路灯不亮")
    assert "附近" in resident.text
    await resident.press("返回")
    assert "请简单描述问题" in resident.text


async def test_contact_grid_offers_no_public_places(app: App, resident: ChatUser) -> None:
    """联系网格 asks where the resident lives: a home is a building, never a park."""
    await resident.say("联系网格")
    assert "公共区域" not in resident.options
    await resident.say("龙池公园")
    assert "您的网格" not in resident.text
    await resident.press_data("a:pl:0")  # forged: a place where only homes are asked
    assert "您的网格" not in resident.text
    assert not (await resident.resident()).grid_id
