"""What a message means: one table per kind of chat, tried in order; the first route that answers wins.

A route names what it matches — a slash command, typed words, a kind of button — and the
handler that answers it. A handler may decline (return False: an unknown menu, text that is
no menu title), and the next route is tried. The order is the precedence: commands first, then
typed commands (outside a flow), 取消, the buttons that work in any dialog, menu titles, typed
ticket commands, the open flow, typed 绑定 and 报名, and last whatever is left.
Button data is decoded once (`handlers.buttons`); data that claims a kind but does not decode
reaches that kind's handler as None, which answers it as that kind's refusal.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import replace

from handlers import (
    activities,
    announce,
    announce_admin,
    announce_edit,
    groups,
    list_pages,
    menus,
    my_data,
    my_tickets,
    paging,
    rating,
    reassign,
    report,
    signup,
    staff_link,
    stats,
    ticket_actions,
)
from handlers import route_actions as actions
from handlers.buttons import (
    BACK,
    CANCEL,
    AnnouncementButton,
    AnnouncementsButton,
    ItemButton,
    JoinSignup,
    ListPage,
    MainMenu,
    MenuButton,
    MyDataButton,
    MyTicketButton,
    Nav,
    RateButton,
    ReportFromText,
    ShowMyTicket,
    SignupButton,
    TicketButton,
    claimed_kind,
    decode,
)
from handlers.context import Context
from handlers.dialog_state import OpenDialog, end_dialog, load
from handlers.flow_states import Flow
from handlers.route_types import (
    Handler,
    Is,
    Route,
    Turn,
    Typed,
    any_button,
    any_text,
    anything,
    claims,
    command,
    in_flow,
    media,
    membership,
    plain,
    pressed,
    typed_words,
    unsupported_content,
)
from handlers.types import Incoming


async def _command(ctx: Context, turn: Turn) -> None:
    await COMMANDS.get(ctx.incoming.command, actions.show_help)(ctx, turn)


async def _typed_command(ctx: Context, turn: Turn) -> None:
    ctx.incoming = replace(ctx.incoming, command=TYPED_COMMANDS[typed_words(ctx.incoming.text)], text="")
    await _command(ctx, turn)


def _staff_stats_words(ctx: Context, turn: Turn) -> bool:
    """「统计 上月」「三率 G07 2026-10」 from bound staff outside a flow (a resident's text that
    starts with 统计 is ordinary text; bare 统计 / 三率 are TYPED_COMMANDS)."""
    return (turn.flow is None and ctx.person is not None and not ctx.incoming.button
            and stats.typed_arguments(ctx) is not None)


async def _typed_stats(ctx: Context, turn: Turn) -> None:
    await stats.handle_stats(ctx, stats.typed_arguments(ctx) or "")


async def _group_code(ctx: Context, turn: Turn) -> None:
    typed = groups.TYPED_CODE_REQUEST.fullmatch(ctx.incoming.text.strip())
    await groups.group_code(ctx, typed[1] if typed else ctx.incoming.command_arg)


async def _signup_step(ctx: Context, dialog: OpenDialog) -> None:
    """The sign-up's name-and-phone step takes any text, so a command word typed there (「我的工单」,
    「近期活动」) is that command, not a name: the step is left and the command runs."""
    if typed_words(ctx.incoming.text) in TYPED_COMMANDS:
        await end_dialog(ctx)
        await _typed_command(ctx, Turn(None, None, None, None))
        return
    await signup.handle(ctx, dialog)


async def _flow(ctx: Context, turn: Turn) -> None:
    assert turn.flow is not None and turn.dialog is not None
    await FLOWS[turn.flow](ctx, turn.dialog)


# -- the tables -------------------------------------------------------------------------------

COMMANDS: dict[str, Handler] = {  # /name; any other command shows the help
    "start": actions.start, "menu": actions.main_menu, "help": actions.show_help,
    "report": actions.report_or_resume,
    "mytickets": plain(my_tickets.show_my_tickets), "tickets": plain(my_tickets.show_staff_open),
    "mydata": plain(my_data.show_my_data), "stats": actions.show_stats, "announce": plain(announce.start),
    "announcements": plain(announce_admin.show_list), "bind": actions.bind_command, "cancel": actions.cancel,
    "contact": plain(menus.contact_grid), "activities": plain(activities.show_open), "groupcode": _group_code, "web": plain(staff_link.send_link),
}
# Typed equivalents of commands and of the menu's action items: people type what they read, on
# every channel (WeChat and the console have no slash commands), so these words are not reports.
TYPED_COMMANDS = {
    "我要反映": "report", "反映问题": "report", "我的工单": "mytickets", "联系网格": "contact",
    "菜单": "menu", "帮助": "help", "我的数据": "mydata", "统计": "stats", "三率": "stats", "待办": "tickets",
    "发布公告": "announce", "公告列表": "announcements", "工作台": "web",
    "近期活动": "activities", "报名": "activities", "我要报名": "activities",  # 「报名 12」 is a sign-up itself
}
# A greeting opens the main menu: 「你好」 is how people start, not a problem to file.
GREETINGS = frozenset({
    "你好", "您好", "你们好", "在吗", "在不在", "有人吗", "嗨", "哈喽", "喂", "早", "早上好", "上午好", "中午好",
    "下午好", "晚上好", "hi", "hello", "hey", "开始",
})
# Typed words that act as the navigation buttons, so every channel can navigate by text.
TYPED_BUTTONS: dict[str, Nav] = {
    "取消": CANCEL, "退出": CANCEL, "cancel": CANCEL, "返回": BACK, "上一步": BACK, "back": BACK,
}
BIND_TEXT = re.compile(r"绑定\S*\s+\S+")  # 「绑定 CODE」: two words, the first starting with 绑定
FLOWS: dict[Flow, Callable[[Context, OpenDialog], Awaitable[None]]] = {
    Flow.REPORT: report.handle_report,
    Flow.RESOLVE: ticket_actions.handle_resolve,
    Flow.REASSIGN: reassign.handle_reassign,
    Flow.ADD_INFO: my_tickets.handle_add_info,
    Flow.CONTACT: menus.handle_contact,
    Flow.ANNOUNCE: announce.handle,
    Flow.ANNOUNCE_EDIT: announce_edit.handle_edit,
    Flow.COMPLAINT: rating.handle_complaint,
    Flow.SIGNUP: _signup_step,
}

PRIVATE: tuple[Route, ...] = (
    Route("membership", membership, plain(groups.membership_changed)),
    # A sticker, a voice message: never silence, and an open dialog stays open.
    Route("unsupported content", unsupported_content, actions.unsupported),
    Route("command", command(), _command),
    Route("typed command", Typed(frozenset(TYPED_COMMANDS), outside_flow=True), _typed_command),
    Route("typed stats", _staff_stats_words, _typed_stats),
    Route("greeting", Typed(GREETINGS, outside_flow=True), actions.main_menu),
    Route("cancel", Is(CANCEL), actions.cancel),
    Route("typed page", Typed(paging.MORE_WORDS | paging.PREVIOUS_WORDS, outside_flow=True), list_pages.typed_turn),
    # Buttons that work whatever dialog is open.
    Route("main menu", claims(MainMenu), actions.main_menu),
    Route("menu", claims(MenuButton), actions.menu_button),
    Route("menu item", claims(ItemButton), actions.item_button),
    Route("ticket action", claims(TicketButton), pressed(ticket_actions.handle_ticket_button)),
    Route("rating", claims(RateButton), pressed(rating.handle_rating)),
    Route("my ticket", claims(ShowMyTicket, MyTicketButton), pressed(my_tickets.handle_my_button)),
    Route("my data", claims(MyDataButton), pressed(my_data.handle_button)),
    Route("sign-up", claims(JoinSignup, SignupButton), pressed(signup.handle_button)),
    Route("announcements", claims(AnnouncementsButton), pressed(announce_admin.handle_list_button)),
    Route("announcement", claims(AnnouncementButton), pressed(announce_admin.handle_button)),
    Route("report from text", claims(ReportFromText), actions.report_from_text),
    Route("list page", claims(ListPage), pressed(list_pages.turn_page)),
    # Typed text, in order.
    Route("menu title", any_text, actions.menu_title),
    Route("ticket command", any_text, actions.ticket_command),
    Route("flow", in_flow, _flow),
    # A photo or a location with nothing open starts a report with it attached.
    Route("photo or location", media, actions.report_from_media),
    Route("typed bind", Typed(pattern=BIND_TEXT), actions.typed_bind),
    Route("typed group code", Typed(pattern=groups.TYPED_CODE_REQUEST), _group_code),
    Route("typed sign-up", any_text, actions.typed_signup),
    Route("stale button", any_button, actions.stale_button),
    Route("free text", any_text, actions.free_text),
    Route("anything else", anything, actions.unsupported),
)

GROUP: tuple[Route, ...] = (
    Route("membership", membership, plain(groups.membership_changed)),
    Route("bind group", command("bindgroup"), plain(groups.bind_group)),
    Route("unbind group", command("unbindgroup"), plain(groups.unbind_group)),
    Route("menu", command("menu", "start", "help"), actions.group_menu),
    Route("menu button", claims(MenuButton), actions.group_menu),
    Route("menu item", claims(ItemButton), actions.group_item),
    Route("personal command", command(), actions.private_redirect),
    Route("personal button", any_button, actions.private_redirect),
)


def normalise(incoming: Incoming) -> Incoming:
    """Typed 取消 / 返回 act like the buttons (private chats: in a group they are just chatter)."""
    nav = TYPED_BUTTONS.get(incoming.text.strip().lower()) if not incoming.button else None
    return replace(incoming, button=nav.encode(), text="") if nav is not None else incoming


async def route(ctx: Context) -> None:
    """Answer ctx.incoming by the first route of its table that matches and does not decline."""
    dialog = None if ctx.incoming.is_group else await load(ctx)
    flow = dialog.flow if dialog is not None and dialog.flow in FLOWS else None
    turn = Turn(dialog, flow, decode(ctx.incoming.button), claimed_kind(ctx.incoming.button))
    for candidate in GROUP if ctx.incoming.is_group else PRIVATE:
        if candidate.matches(ctx, turn) and await candidate.run(ctx, turn) is not False:
            return
