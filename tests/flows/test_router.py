"""The router (handlers/router.py): one table per kind of chat, tried in order. The order is
the precedence the dispatcher's if/elif chains had; the transcripts check the places where it
shows (a typed command inside a flow, a menu title or a staff card in the middle of a report,
stale and forged buttons)."""

from __future__ import annotations

import pytest

from bot.app import App
from handlers import buttons, router
from handlers.flow_states import STATES, Flow
from handlers.route_types import Claims
from tests.chat import ChatUser, all_tickets, audit, bind, file_report

MENU_INTRO = "请选择："
EXPIRED = "这个选项已经失效了"


def test_private_precedence_is_pinned() -> None:
    assert [route.name for route in router.PRIVATE] == [
        "membership", "unsupported content", "command", "typed command", "typed stats", "greeting", "cancel",
        "typed page", "main menu", "menu", "menu item", "ticket action", "rating", "my ticket", "my data", "sign-up",
        "announcements", "announcement", "report from text", "list page",
        "menu title", "ticket command", "flow", "photo or location", "typed bind", "typed group code", "typed sign-up",
        "stale button", "free text", "anything else",
    ]


def test_group_precedence_is_pinned() -> None:
    assert [route.name for route in router.GROUP] == [
        "membership", "bind group", "unbind group", "menu", "menu button", "menu item", "personal command", "personal button",
    ]


def test_commands_typed_words_and_flows() -> None:
    assert set(router.COMMANDS) == {"start", "menu", "help", "report", "mytickets", "tickets", "mydata", "stats",
                                    "announce", "announcements", "bind", "cancel", "contact", "activities", "groupcode",
                                    "web"}
    assert router.TYPED_COMMANDS == {
        "我要反映": "report", "反映问题": "report", "我的工单": "mytickets", "联系网格": "contact",
        "菜单": "menu", "帮助": "help", "我的数据": "mydata", "统计": "stats", "三率": "stats", "待办": "tickets",
        "发布公告": "announce", "公告列表": "announcements", "工作台": "web",
        "近期活动": "activities", "报名": "activities", "我要报名": "activities"}
    assert {"你好", "您好", "在吗", "hi", "hello", "早上好"} <= router.GREETINGS
    assert set(router.TYPED_COMMANDS.values()) <= set(router.COMMANDS)
    assert {word: nav.encode() for word, nav in router.TYPED_BUTTONS.items()} == {
        "取消": "nav:cancel", "退出": "nav:cancel", "cancel": "nav:cancel",
        "返回": "nav:back", "上一步": "nav:back", "back": "nav:back"}
    assert set(router.FLOWS) == set(Flow) - {Flow.OFFER, Flow.LIST}  # these only remember (text, a list)
    assert set(STATES) == set(Flow)


def test_buttons_that_work_in_any_dialog_and_those_only_a_flow_reads() -> None:
    routed = {kind for route in router.PRIVATE if isinstance(route.matches, Claims) for kind in route.matches.kinds}
    assert routed == {
        buttons.MainMenu, buttons.MenuButton, buttons.ItemButton, buttons.TicketButton, buttons.RateButton,
        buttons.ShowMyTicket, buttons.MyTicketButton, buttons.MyDataButton, buttons.JoinSignup,
        buttons.SignupButton, buttons.AnnouncementsButton, buttons.AnnouncementButton, buttons.ReportFromText,
        buttons.ListPage,
    }
    assert set(buttons.KINDS) - routed == {
        buttons.Nav, buttons.AnnounceToAll, buttons.AnnounceToCommunity, buttons.AnnounceNow, buttons.NoSignup,
        buttons.ConfirmAnnouncement, buttons.CategoryButton, buttons.PhoneButton, buttons.DraftButton, buttons.SubmitReport,
        buttons.SkipFlat, buttons.SkipReason, buttons.ReassignGrid,
        buttons.MeTooButton, buttons.AddressButton, buttons.CommunityButton, buttons.CompoundButton,
        buttons.BuildingButton, buttons.PlaceButton, buttons.PageButton,
    }


async def test_a_typed_command_is_a_command_outside_a_flow_and_the_flows_input_inside(app: App) -> None:
    admin = ChatUser(app, "admin-1")
    await bind(app, admin, "sd-admin-1")
    await admin.say("公告列表")
    assert "还没有公告" in admin.text
    await admin.say("发布公告")
    await admin.say("公告列表")  # the announcement's text
    assert "发到哪些群" in admin.text
    await admin.press("全部群")
    await admin.press("立即")
    await admin.press("不需要报名")
    assert "公告列表" in admin.text  # the preview quotes it


async def test_a_menu_title_or_a_staff_card_in_the_middle_of_a_report_keeps_the_draft(
    app: App, resident: ChatUser, leader: ChatUser
) -> None:
    await bind(app, leader, "g01-leader")
    await file_report(resident)
    await leader.say("/report")
    await leader.press("水电维修")
    await leader.say("微丰山")  # a menu's title: the menu, not a (too short) description
    assert "【微丰山】" in leader.text
    await leader.press_notice("受理")  # the card of #1, pressed while the report is open
    assert leader.text.startswith("已受理工单 #1")
    dialog = await leader.dialog()
    assert (dialog.flow, dialog.step) == ("report", "description")


async def test_stale_buttons_open_the_main_menu(app: App, resident: ChatUser) -> None:
    await resident.press_data("r:submit")  # a summary's button, its dialog long gone
    assert EXPIRED in resident.text and resident.options
    await resident.press_data("nav:back")  # 返回 with nothing open
    assert resident.text == MENU_INTRO and resident.options


FORGED = [  # data claiming a kind it is not, and the answer the dispatcher gave it before the router
    ("t:ack:²", "请从选项中选择"), ("rate:1:excellent", "请从选项中选择"), ("my:x", "没有找到这张工单。"),
    ("my:²", "没有找到这张工单。"), ("pd:delete", "好的，您的数据保持不变。"), ("su:x:٣", "没有找到这个报名活动"),
    ("su:²", "没有找到这个报名活动"), ("an:v:²", "只有街道管理员"), ("m:x:²", EXPIRED), ("i:zz zz", EXPIRED),
    ("r:metoo:²", EXPIRED), ("zzz", EXPIRED),
]


@pytest.mark.parametrize(("data", "answer"), FORGED, ids=[data for data, _ in FORGED])
async def test_forged_data_gets_its_kinds_answer_and_changes_nothing(
    app: App, resident: ChatUser, data: str, answer: str
) -> None:
    await file_report(resident)
    before = await all_tickets(app), len(await audit(app))
    await resident.press_data(data)
    assert answer in resident.text
    assert (await all_tickets(app), len(await audit(app))) == before


@pytest.mark.parametrize(("action", "answer"), [
    ("press:m:x:²", MENU_INTRO), ("press:i:zzz", "请私聊我"), ("say:/help", MENU_INTRO), ("say:/mydata", "请私聊我"),
    ("say:取消", ""), ("say:楼道灯坏了", ""),
])
async def test_group_chats_see_public_menus_only(resident: ChatUser, action: str, answer: str) -> None:
    kind, _, payload = action.partition(":")
    await (resident.press_data(payload, group=True) if kind == "press" else resident.say(payload, group=True))
    assert resident.text == answer or (answer and answer in resident.text)
