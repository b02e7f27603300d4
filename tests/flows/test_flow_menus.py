"""Transcripts of the menus, their content items, /help, free text, and 联系网格."""

from __future__ import annotations

from bot.app import App
from bot.config import Config
from tests.chat import ChatUser, actions, all_tickets, dialogs, file_report, steps, ticket_row


async def test_start_shows_welcome_and_the_three_menus(resident: ChatUser) -> None:
    await resident.say("/start")
    assert "欢迎使用丰山街道「微丰山」" in resident.text
    assert resident.options == ["微丰山", "微党建", "微服务"]
    assert resident.last.main_keyboard is True


async def test_typed_menu_title_shows_its_items(resident: ChatUser, config: Config) -> None:
    # Telegram's reply keyboard sends the title as plain text.
    await resident.say("微丰山")
    assert "【微丰山】" in resident.text
    assert resident.options == ["丰山资讯", "服务阵地", "红色驿站", "养老托育", "近期活动"]
    await resident.say("微党建")
    assert resident.options == [item.title for item in config.menus[1].items]
    await resident.say("微服务")
    assert resident.options == ["我要反映", "我的工单", "联系网格", "维修服务", "微心愿"]


async def test_menu_buttons_work_like_titles(resident: ChatUser) -> None:
    await resident.say("/menu")
    assert resident.last.main_keyboard is True
    await resident.press("微服务")
    assert "【微服务】" in resident.text and "我要反映" in resident.options


async def test_content_items_answer_text_from_config(resident: ChatUser, config: Config) -> None:
    news = config.menus[0].items[0]
    await resident.say("微丰山")
    await resident.press("丰山资讯")
    assert resident.text == f"【丰山资讯】\n{news.text}"
    await resident.say("微服务")
    await resident.press("微心愿")
    assert "“微心愿”是困难群众的小心愿" in resident.text
    # Reading content starts nothing: no dialog, no ticket.
    assert await dialogs(resident.app) == []
    assert await all_tickets(resident.app) == []


async def test_place_lists_come_from_config(resident: ChatUser, config: Config) -> None:
    await resident.say("微丰山")
    await resident.press("服务阵地")
    assert resident.text.count("📍") == len(config.service_points) == 6
    assert "丰山街道社会组织党群服务中心" in resident.text
    assert "电话：0550-3011205" in resident.text

    await resident.press("红色驿站")
    assert resident.text.startswith("【红色驿站】")
    assert resident.text.count("📍") == len(config.red_posts) == 6
    for post in config.red_posts:
        assert post.name in resident.text

    await resident.press("养老托育")
    assert resident.text.count("📍") == len(config.care_points) == 4
    assert "丰山街道托育服务中心" in resident.text


async def test_volunteer_teams_lists_all_23(resident: ChatUser, config: Config) -> None:
    await resident.say("微党建")
    await resident.press("志愿服务")
    assert "共有 23 支志愿服务队" in resident.text
    lines = [line for line in resident.text.splitlines() if line.startswith("· ")]
    assert len(lines) == len(config.volunteer_teams) == 23
    assert "· 1054救援队（应急救援、防灾减灾演练）" in lines


async def test_help(resident: ChatUser) -> None:
    await resident.say("/help")
    assert resident.text.startswith("使用说明")
    assert "/report" in resident.text and "/mytickets" in resident.text


async def test_menu_reminds_of_an_unfinished_report(resident: ChatUser) -> None:
    await resident.say("/report")
    await resident.press("水电维修")
    await resident.say("/menu")
    assert "未填完的反映" in resident.text
    assert resident.options == ["微丰山", "微党建", "微服务"]
    # The draft is still there, at the same step.
    assert await steps(resident.app) == [("report", "description")]


async def test_back_outside_a_flow_shows_the_menu(resident: ChatUser) -> None:
    await resident.say("返回")
    assert resident.options == ["微丰山", "微党建", "微服务"]
    await resident.say("取消")
    assert resident.text == "当前没有进行中的操作。"


# -- free text ------------------------------------------------------------------------------


async def test_free_text_offers_to_report_it(app: App, resident: ChatUser) -> None:
    await resident.say("楼下的路灯坏了好几天了")
    assert "我没太明白您的意思" in resident.text
    assert resident.options == ["把这段话作为反映提交", "打开菜单"]
    assert await all_tickets(app) == []

    await resident.press("把这段话作为反映提交")
    assert "问题描述：楼下的路灯坏了好几天了" in resident.text
    await resident.press("水电维修")
    # The description is already known: straight on to the address.
    assert "问题在哪个社区" in resident.text
    await resident.say("龙池花园5栋")
    await resident.press("跳过")  # issue 13: the optional unit/room question
    await resident.press("不留电话")
    assert "描述：楼下的路灯坏了好几天了" in resident.text
    await resident.press("提交")
    assert "工单号 #1" in resident.text
    ticket = await ticket_row(app, 1)
    assert ticket.description == "楼下的路灯坏了好几天了"
    assert (ticket.compound, ticket.building, ticket.grid_id) == ("龙池花园", "5栋", "G01")
    assert await actions(app, 1) == ["created", "routed", "unreachable"]


async def test_open_menu_from_the_offer(resident: ChatUser) -> None:
    await resident.say("楼下好吵")  # not a greeting: 你好 opens the menu itself (issue 13)
    await resident.press("打开菜单")
    assert resident.options == ["微丰山", "微党建", "微服务"]


# -- 联系网格 ---------------------------------------------------------------------------------


async def test_contact_grid_asks_for_the_address_first(app: App, resident: ChatUser) -> None:
    await resident.say("微服务")
    await resident.press("联系网格")
    assert "先告诉我您住在哪里" in resident.text
    assert "龙池社区" in resident.options
    await resident.press("龙池社区")
    await resident.press("龙池花园")
    await resident.press("3栋")
    assert "您的网格：龙池花园第一网格（龙池社区）" in resident.text
    # issue 13: the leader's and guide's numbers are public service numbers, shown in full
    assert "支部网格长：万秀英 13905500110" in resident.text
    assert "网格指导员：夏敏 13905500120" in resident.text
    home = await resident.resident()
    assert (home.community_id, home.compound, home.building, home.grid_id) == ("longchi", "龙池花园", "3栋", "G01")
    assert await dialogs(app) == []


async def test_contact_grid_with_a_typed_address(resident: ChatUser) -> None:
    await resident.say("微服务")
    await resident.press("联系网格")
    await resident.say("清流苑12号楼")
    assert "您的网格：清流苑第二网格（龙池社区）" in resident.text
    assert "苏建华 13905500510" in resident.text


async def test_contact_grid_back_leaves_the_flow(resident: ChatUser) -> None:
    await resident.say("微服务")
    await resident.press("联系网格")
    await resident.press("返回")
    assert resident.text == "已取消，本次填写的内容没有提交。"
    assert await dialogs(resident.app) == []


async def test_contact_grid_with_a_bound_address_answers_directly(resident: ChatUser) -> None:
    await file_report(resident, address="西涧二村12栋")
    await resident.say("微服务")
    await resident.press("联系网格")
    assert resident.text.startswith("您的网格：西涧二村第二网格（南桥社区）")
    assert "刘雨轩 13905501410" in resident.text
    assert await dialogs(resident.app) == []
