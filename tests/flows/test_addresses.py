"""Issue 13: addresses as residents give them. An exact address is taken at once, no address
list is ever empty, and long lists come a page at a time (「更多」/「上一页」), on every channel."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.app import App
from bot.bootstrap import build_app
from bot.config import Config
from handlers.domain.model import Community, Compound
from handlers.types import Channel
from storage.clock import FakeClock
from tests.chat import ChatUser, all_tickets, pause, steps, ticket_row

CHANNELS = [Channel.CONSOLE, Channel.TELEGRAM, Channel.WECHAT]
FLAT_PROMPT = "请补充单元和门牌号"
NAV = {"返回", "取消", "更多", "上一页"}


async def _to_address(user: ChatUser) -> None:
    await user.say("/report")
    await user.press("水电维修")
    await user.say("楼道灯坏了，晚上很黑")
    assert "问题在哪个社区" in user.text


@pytest.mark.parametrize("channel", CHANNELS)
@pytest.mark.parametrize("typed", ["龙池花园5栋", "龙池花园五栋", "龙池花园５号楼", "龙池5幢"])
async def test_an_exact_address_is_taken_without_asking_which(app: App, channel: Channel, typed: str) -> None:
    user = ChatUser(app, "resident-1", channel)
    await _to_address(user)
    await user.say(typed)
    assert "哪一个" not in user.text
    assert FLAT_PROMPT in user.text
    await user.press("跳过")
    await user.press("不留电话")
    assert "地址：龙池花园5栋" in user.text
    await user.press("提交")
    ticket = await ticket_row(app, 1)
    assert (ticket.compound, ticket.building, ticket.grid_id) == ("龙池花园", "5栋", "G01")


async def test_an_exact_address_with_its_flat_goes_straight_to_the_phone(app: App, resident: ChatUser) -> None:
    await _to_address(resident)
    await resident.say("龙池花园5栋2单元302")
    assert "只有处理您问题的网格员能看到" in resident.text  # the phone step: nothing else to ask
    await resident.press("不留电话")
    assert "地址：龙池花园5栋2单元302" in resident.text


async def test_an_exact_compound_alone_lists_its_buildings(app: App, resident: ChatUser) -> None:
    await _to_address(resident)
    await resident.say("清流苑")
    assert "请选择楼栋" in resident.text and "哪一个" not in resident.text
    assert resident.options[:3] == ["1栋", "2栋", "3栋"]


async def test_a_fuzzy_address_still_asks_which(app: App, resident: ChatUser) -> None:
    await _to_address(resident)
    await resident.say("龙池花园小区3号楼")
    assert "您说的是下面哪一个" in resident.text
    assert resident.options[0] == "龙池花园3栋"


# -- no list is empty ------------------------------------------------------------------------

@pytest.fixture
async def lonely_app(config: Config, clock: FakeClock, tmp_path: Path) -> App:
    """The sample config plus a community that has no grid (so no compound and no place)."""
    empty = Community(id="kongbai", name="空白社区", center=config.communities[0].center)
    built = await build_app(config.model_copy(update={"communities": [*config.communities, empty]}), clock,
                            tmp_path / "lonely.db")
    yield built
    await built.close()


def _real_options(user: ChatUser) -> list[str]:
    return [label for label in user.options if label not in NAV]


async def test_a_community_without_compounds_is_not_offered(lonely_app: App) -> None:
    user = ChatUser(lonely_app, "resident-1")
    await _to_address(user)
    assert "空白社区" not in user.options
    assert _real_options(user)
    await user.press_data("a:com:kongbai")  # forged: a community with nothing in it
    assert "问题在哪个社区" in user.text and _real_options(user)
    assert ("report", "community") in await steps(lonely_app)


async def test_every_address_list_has_choices(app: App, resident: ChatUser) -> None:
    """Walk every community and every compound offered: each list shows something to choose."""
    await _to_address(resident)
    communities = [c for c in _real_options(resident) if c != "公共区域"]
    assert communities
    for community in communities:
        pause(app)  # a person's pace: the flood guard allows 20 messages a minute
        await resident.press(community)
        compounds = [c for c in _real_options(resident) if c != "公共区域"]
        assert compounds, community
        for compound in compounds[:2]:
            await resident.press(compound)
            assert "请选择楼栋" in resident.text and _real_options(resident), compound
            await resident.press("返回")
        await resident.press("返回")
        assert "问题在哪个社区" in resident.text
    await resident.press("公共区域")
    assert _real_options(resident)


async def test_typed_nothing_that_matches_keeps_the_list(app: App, resident: ChatUser) -> None:
    await _to_address(resident)
    await resident.say("火星基地5栋")
    assert "没有找到「火星基地5栋」" in resident.text
    assert "问题在哪个社区" in resident.text and _real_options(resident)


# -- long lists a page at a time --------------------------------------------------------------

@pytest.mark.parametrize("channel", CHANNELS)
async def test_a_long_building_list_pages_with_words_and_buttons(app: App, channel: Channel) -> None:
    user = ChatUser(app, "resident-1", channel)
    await _to_address(user)
    await user.press("龙池社区")
    await user.press("龙池花园")  # 24 buildings in three grids
    first = _real_options(user)
    assert first == [f"{n}栋" for n in range(1, 10)] and "更多" in user.options and "上一页" not in user.options
    await user.say("更多")
    assert _real_options(user) == [f"{n}栋" for n in range(10, 19)] and "上一页" in user.options
    await user.press("更多")
    assert _real_options(user) == [f"{n}栋" for n in range(19, 25)] and "更多" not in user.options
    await user.say("上一页")
    assert _real_options(user)[0] == "10栋"
    await user.say("12栋")  # a label typed where it is shown
    assert FLAT_PROMPT in user.text
    await user.press("跳过")
    await user.press("不留电话")
    await user.press("提交")
    assert (await ticket_row(app, 1)).grid_id == "G02"


@pytest.mark.parametrize("forged", ["pg:7", "pg:x", "pg:-1"])
async def test_a_forged_page_changes_nothing(app: App, resident: ChatUser, forged: str) -> None:
    await _to_address(resident)
    await resident.press("龙池社区")
    await resident.press("龙池花园")
    await resident.press("更多")
    before = _real_options(resident)
    await resident.press_data(forged)
    assert "没有这一页了" in resident.text
    assert _real_options(resident) == before
    assert await all_tickets(app) == []


async def test_a_long_compound_list_is_paged(config: Config, clock: FakeClock, tmp_path: Path) -> None:
    """Eleven compounds in one community: nine, then 「更多」 with the rest and 公共区域."""
    grid = config.grids[0]
    extra = [Compound(name=f"新村{n}号院", buildings=["1栋"]) for n in range(1, 11)]
    grids = [grid.model_copy(update={"compounds": [*grid.compounds, *extra]}), *config.grids[1:]]
    app = await build_app(config.model_copy(update={"grids": grids}), clock, tmp_path / "many.db")
    try:
        user = ChatUser(app, "resident-1", Channel.WECHAT)
        await _to_address(user)
        await user.press("龙池社区")
        assert len(_real_options(user)) == 9 and "更多" in user.options
        await user.say("更多")
        assert "新村10号院" in user.options and "公共区域" in user.options
        await user.press("新村10号院")
        await user.press("1栋")
        assert FLAT_PROMPT in user.text
    finally:
        await app.close()


async def test_a_long_category_list_is_paged(config: Config, clock: FakeClock, tmp_path: Path) -> None:
    """Twelve categories: nine, then 「更多」; a category on the second page typed by its label."""
    extra = [config.categories[-1].model_copy(update={"id": f"extra{n}", "name": f"其他事项{n}"})
             for n in range(1, 5)]
    app = await build_app(config.model_copy(update={"categories": [*config.categories, *extra]}), clock,
                          tmp_path / "categories.db")
    try:
        user = ChatUser(app, "resident-1", Channel.TELEGRAM)
        await user.say("/report")
        assert len(_real_options(user)) == 9 and "更多" in user.options
        await user.press("更多")
        assert _real_options(user) == ["其他事项2", "其他事项3", "其他事项4"] and "上一页" in user.options
        await user.press_data("pg:5")
        assert "没有这一页了" in user.text and "其他事项4" in user.options
        await user.say("其他事项3")
        assert "请简单描述问题" in user.text
        await user.say("楼下有人占道")
        await user.say("龙池花园5栋")
        await user.press("跳过")
        await user.press("不留电话")
        await user.press("提交")
        assert (await ticket_row(app, 1)).category_id == "extra3"
    finally:
        await app.close()


@pytest.mark.parametrize("channel", CHANNELS)
async def test_typed_labels_work_at_every_report_step(app: App, channel: Channel) -> None:
    """People type what they read, also on Telegram (whose buttons carry no numbers): 「跳过」 is
    not a flat, 「不留电话」 not a wrong phone number, 「提交」 files the report."""
    user = ChatUser(app, "resident-1", channel)
    await user.say("/report")
    await user.say("水电维修")
    await user.say("楼道灯坏了")
    await user.say("龙池社区")
    await user.say("龙池花园")
    await user.say("3栋")
    await user.say("跳过")
    assert "只有处理您问题的网格员能看到" in user.text, user.text
    await user.say("不留电话")
    assert "请确认" in user.text and "地址：龙池花园3栋\n" in user.text, user.text
    await user.say("提交")
    assert "工单号 #1" in user.text, user.text
    ticket = await ticket_row(app, 1)
    assert (ticket.detail, ticket.phone) == ("", "")
