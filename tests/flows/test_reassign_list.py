"""Transcripts of 转派 as leaders really do it (issue 13): the grid list, ids as people type them,
a name that fits several grids, a reason typed with the grid, and forged list buttons."""

from __future__ import annotations

import pytest

from bot.app import App
from storage.dialogs import Dialog, save_dialog
from tests.chat import ChatUser, actions, audit, bind, dialogs, file_report, ticket_row

SAME_COMMUNITY = ["G02 龙池花园第二网格", "G03 龙池花园第三网格", "G04 清流苑第一网格", "G05 清流苑第二网格",
                  "G06 琅琊新村第一网格", "G07 琅琊新村第二网格", "G08 醉翁小区网格", "G09 丰山苑网格",
                  "G10 紫薇小区网格"]
NAV = ("上一页", "更多", "取消")


@pytest.fixture
async def filed(app: App, resident: ChatUser, leader: ChatUser) -> int:
    await bind(app, leader, "g01-leader")
    return await file_report(resident)  # #1 in G01 (龙池社区)


def grids_shown(user: ChatUser) -> list[str]:
    return [label for label in user.options if label not in NAV]


async def nothing_moved(app: App) -> None:
    assert (await ticket_row(app, 1)).grid_id == "G01"
    assert "reassigned" not in await actions(app, 1)


async def test_the_list_offers_the_own_community_first_then_the_others_paged(
    app: App, leader: ChatUser, filed: int,
) -> None:
    await leader.press_notice("转派")
    assert leader.text.startswith("转派到哪个网格？请点选")
    assert "（第 1/5 页）" in leader.text
    # The shared paging (handlers/paging.py): 9 grids a page, then 更多 (上一页) and 取消.
    assert leader.options == SAME_COMMUNITY + ["更多", "取消"]

    seen = grids_shown(leader)
    while "更多" in leader.options:
        await leader.press("更多")
        assert len(grids_shown(leader)) <= 9, leader.options
        assert "上一页" in leader.options and "取消" in leader.options
        seen += grids_shown(leader)
    config = app.config
    # Every other grid once, in order: 龙池 first, then 南桥, 丰乐, 高庵 as configured.
    assert [label.split()[0] for label in seen] == [g.id for g in config.grids if g.id != "G01"]
    assert seen[:9] == SAME_COMMUNITY
    assert seen[9] == "G11 南桥新村第一网格（南桥社区）"

    await leader.press("上一页")
    assert "（第 4/5 页）" in leader.text
    await leader.press("上一页")
    await leader.press("上一页")
    await leader.press("上一页")
    assert leader.options == SAME_COMMUNITY + ["更多", "取消"]
    await leader.say("更多")  # typed like the label (Telegram shows it as a button)
    assert "（第 2/5 页）" in leader.text
    assert grids_shown(leader)[:3] == ["G11 南桥新村第一网格（南桥社区）", "G12 南桥新村第二网格（南桥社区）",
                                       "G13 西涧二村第一网格（南桥社区）"]
    await leader.say("上一页")
    assert leader.options == SAME_COMMUNITY + ["更多", "取消"]

    await leader.press("G08 醉翁小区网格")
    assert leader.text == "转派到「醉翁小区网格」的原因是？"
    await nothing_moved(app)
    await leader.say("问题在醉翁小区")
    assert leader.text == "工单 #1 已转派到 醉翁小区网格。"
    assert (await ticket_row(app, 1)).grid_id == "G08"
    assert [e.note for e in await audit(app, "reassigned")] == ["问题在醉翁小区"]


@pytest.mark.parametrize("typed", ["G2", "g02", "Ｇ０２", "g 2", "G002"])
async def test_grid_ids_as_people_type_them(app: App, leader: ChatUser, filed: int, typed: str) -> None:
    await leader.press_notice("转派")
    await leader.say(typed)
    assert leader.text == "转派到「龙池花园第二网格」的原因是？"
    await leader.say("楼栋不归我们管")
    assert (await ticket_row(app, 1)).grid_id == "G02"


async def test_a_list_label_typed_out_is_a_grid_not_a_reason(app: App, leader: ChatUser, filed: int) -> None:
    await leader.press_notice("转派")
    await leader.say("G11 南桥新村第一网格（南桥社区）")  # Telegram sends a typed label as text
    assert leader.text == "转派到「南桥新村第一网格」的原因是？"
    await nothing_moved(app)


async def test_g1_is_g01_the_tickets_own_grid(app: App, leader: ChatUser, filed: int) -> None:
    await leader.press_notice("转派")
    await leader.say("G1")
    assert leader.text == "工单已经在这个网格了，请换一个网格。"
    await nothing_moved(app)


@pytest.mark.parametrize("typed", ["G02 楼栋不归我们管", "g2，楼栋不归我们管", "G02楼栋不归我们管",
                                   "龙池花园第二网格 楼栋不归我们管", "龙池花园第二网格：楼栋不归我们管"])
async def test_a_reason_typed_with_the_grid_is_kept(app: App, leader: ChatUser, filed: int, typed: str) -> None:
    await leader.press_notice("转派")
    await leader.say(typed)
    assert leader.text == "工单 #1 已转派到 龙池花园第二网格。"
    assert (await ticket_row(app, 1)).grid_id == "G02"
    [reassigned] = await audit(app, "reassigned")
    assert (reassigned.note, reassigned.data["to"]) == ("楼栋不归我们管", "G02")
    assert await dialogs(app) == []


async def test_a_typed_command_with_g1_style_id_and_reason(app: App, leader: ChatUser, filed: int) -> None:
    await leader.say("转派 1 g2 楼栋不归我们管")
    assert leader.text == "工单 #1 已转派到 龙池花园第二网格。"
    assert [e.note for e in await audit(app, "reassigned")] == ["楼栋不归我们管"]


async def test_a_name_that_fits_several_grids_asks_which_and_keeps_the_reason(
    app: App, leader: ChatUser, filed: int,
) -> None:
    await leader.press_notice("转派")
    await leader.say("龙池花园 楼栋不归我们管")
    assert leader.text == "有 2 个网格符合，转派到哪一个？请点选：\n（转派原因已记下：楼栋不归我们管）"
    assert leader.options == ["G02 龙池花园第二网格", "G03 龙池花园第三网格", "取消"]  # not G01, its own
    await nothing_moved(app)
    await leader.press("G03")
    assert leader.text == "工单 #1 已转派到 龙池花园第三网格。"
    [reassigned] = await audit(app, "reassigned")
    assert (reassigned.note, reassigned.data["to"]) == ("楼栋不归我们管", "G03")


async def test_a_typed_command_naming_several_grids_asks_which(app: App, leader: ChatUser, filed: int) -> None:
    await leader.say("转派 1 清流苑 不在本网格")
    assert leader.options == ["G04 清流苑第一网格", "G05 清流苑第二网格", "取消"]
    await leader.press("G05")
    assert (await ticket_row(app, 1)).grid_id == "G05"
    assert [e.note for e in await audit(app, "reassigned")] == ["不在本网格"]


async def test_several_without_a_reason_then_asks_it(app: App, leader: ChatUser, filed: int) -> None:
    await leader.press_notice("转派")
    await leader.say("清流苑")
    assert leader.text == "有 2 个网格符合，转派到哪一个？请点选："
    await leader.press("G04")
    assert leader.text == "转派到「清流苑第一网格」的原因是？"
    await leader.say("不在本网格")
    assert (await ticket_row(app, 1)).grid_id == "G04"


@pytest.mark.parametrize("data", ["rg:1:G99", "rg:1:G01", "rg:1:", "rg:1:G0\u202e2", "rg:2:G02", "rg:x:G02"])
async def test_forged_grid_buttons_in_the_dialog_change_nothing(
    app: App, resident: ChatUser, leader: ChatUser, filed: int, data: str,
) -> None:
    await file_report(resident, description="门口积水严重", address="龙池花园4栋")  # #2, also G01
    await leader.press_notice("转派")
    await leader.press_data(data)
    assert "已转派" not in leader.text
    assert (await ticket_row(app, 1)).grid_id == "G01" and (await ticket_row(app, 2)).grid_id == "G01"
    assert await audit(app, "reassigned") == []
    assert leader.options[-1] == "取消"  # the list is offered again
    await leader.press("G02")  # the real list still works
    assert leader.text == "转派到「龙池花园第二网格」的原因是？"


async def test_grid_buttons_outside_the_dialog_change_nothing(
    app: App, resident: ChatUser, leader: ChatUser, filed: int,
) -> None:
    await leader.press_data("rg:1:G02")  # never opened a 转派 dialog
    assert "这个选项已经失效了" in leader.text
    await leader.press_notice("转派")
    await leader.say("取消")
    await leader.press_data("rg:1:G02")  # the dialog is over
    assert "这个选项已经失效了" in leader.text
    await resident.press_data("rg:1:G02")  # not staff at all
    stranger = ChatUser(app, "leader-g08")
    await bind(app, stranger, "g08-leader")
    await stranger.press_data("t:re:1")  # another grid's leader: refused before any list
    assert stranger.text == "抱歉，这张工单不归您处理，操作未生效。"
    await stranger.press_data("rg:1:G08")
    await nothing_moved(app)
    assert await audit(app, "reassigned") == []


async def test_a_list_kept_across_a_config_change_refuses_a_grid_that_is_gone(
    app: App, leader: ChatUser, filed: int,
) -> None:
    # A 「which」 list saved while G77 was configured (written as an older bot would have).
    async with app.db.transaction() as conn:
        await save_dialog(conn, leader.channel, leader.user_id,
                          Dialog("reassign", "which", {"ticket": 1, "choices": ["G02", "G77"], "reason": "不归我们"}),
                          app.clock.now())
    await leader.say("上一页")  # shows the kept list again
    assert leader.options == ["G02 龙池花园第二网格", "G77", "取消"]
    await leader.press("G77")
    assert leader.text == "没有找到网格「G77」，请输入网格编号，如 G08。"
    await nothing_moved(app)
    await leader.press("G02")
    assert (await ticket_row(app, 1)).grid_id == "G02"
    assert [e.note for e in await audit(app, "reassigned")] == ["不归我们"]


@pytest.mark.parametrize("data", ["pg:5", "pg:-1", "pg:99999999999", "pg:x", "pg:"])
async def test_forged_page_data_is_refused_politely_and_changes_nothing(
    app: App, leader: ChatUser, filed: int, data: str,
) -> None:
    await leader.press_notice("转派")
    await leader.press("更多")
    await leader.press_data(data)  # the list has pages 0..4: nothing else is a page
    assert "没有这一页了" in leader.text
    assert "（第 2/5 页）" in leader.text  # the page the leader was on, shown again
    assert grids_shown(leader)[0] == "G11 南桥新村第一网格（南桥社区）"
    await nothing_moved(app)
    await leader.press("G12")  # the list still works
    assert leader.text == "转派到「南桥新村第二网格」的原因是？"


async def test_a_page_button_at_the_reason_step_brings_the_list_back(app: App, leader: ChatUser, filed: int) -> None:
    await leader.press_notice("转派")
    await leader.press("G02")
    assert leader.text == "转派到「龙池花园第二网格」的原因是？"
    await leader.press_data("pg:1")  # 更多 of the list still on screen
    assert "（第 2/5 页）" in leader.text
    await leader.press("G11")
    await leader.say("更多")  # at the reason step typed words are the reason
    assert leader.text == "工单 #1 已转派到 南桥新村第一网格。"
    assert [e.note for e in await audit(app, "reassigned")] == ["更多"]
