"""One entry point for every channel: an Incoming in, replies and notifications out."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

import aiosqlite

from bot.config import MenuAction, Role
from handlers import (
    announce,
    announce_admin,
    groups,
    menus,
    my_data,
    my_tickets,
    report,
    signup,
    stats,
    ticket_actions,
    ticket_commands,
)
from handlers.context import Context, Services
from handlers.formatting import parse_id
from handlers.types import Channel, Incoming, Option, Outcome, Reply
from storage import accounts
from storage.dialogs import Dialog, load_dialog, save_dialog

INVITE_VALID_FOR = timedelta(days=7)
CANCEL_WORDS = {"取消", "退出", "cancel"}
BACK_WORDS = {"返回", "上一步", "back"}
OFFER_FLOW = "offer"  # remembers free text so 「把这段话作为反映提交」 can prefill a report

FLOW_HANDLERS = {
    report.FLOW: report.handle_report,
    ticket_actions.RESOLVE_FLOW: ticket_actions.handle_resolve,
    ticket_actions.REASSIGN_FLOW: ticket_actions.handle_reassign,
    my_tickets.ADD_INFO_FLOW: my_tickets.handle_add_info,
    menus.CONTACT_FLOW: menus.handle_contact,
    announce.FLOW: announce.handle,
    announce.EDIT_FLOW: announce.handle_edit,
}
# Typed equivalents of commands, for WeChat and the console (no slash commands there).
TEXT_COMMANDS = {"发布公告": "announce", "公告列表": "announcements", "统计": "stats", "我的数据": "mydata"}


class Dispatcher:
    def __init__(self, services: Services) -> None:
        self.services = services

    async def handle(self, conn: aiosqlite.Connection, incoming: Incoming, now: datetime) -> Outcome:
        """Handle one Incoming inside the caller's transaction."""
        account = await accounts.ensure_account(
            conn, incoming.channel, incoming.user_id, incoming.user_id, incoming.display_name, now
        )
        person = await accounts.get_person(conn, account.person_id) if account.person_id else None
        # Typed 取消 / 返回 steer private dialogs; in a group they are just chatter.
        normalised = incoming if incoming.is_group else _normalise(incoming)
        ctx = Context(self.services, conn, now, normalised, account, person, Outcome())
        if incoming.membership is not None:
            await groups.membership_changed(ctx)
        elif incoming.is_group:
            await _handle_group(ctx)
        else:
            await _handle_private(ctx)
        return ctx.outcome


def _normalise(incoming: Incoming) -> Incoming:
    """Typed 取消 / 返回 act like the buttons, so every channel can navigate by text."""
    word = incoming.text.strip().lower()
    if not incoming.button and word in CANCEL_WORDS:
        return _with_button(incoming, "nav:cancel")
    if not incoming.button and word in BACK_WORDS:
        return _with_button(incoming, "nav:back")
    return incoming


def _with_button(incoming: Incoming, button: str) -> Incoming:
    return replace(incoming, button=button, text="")


async def _handle_group(ctx: Context) -> None:
    """In a group only public menus are shown; anything personal moves to private chat."""
    incoming = ctx.incoming
    command = incoming.command
    if command == "bindgroup":
        await groups.bind_group(ctx)
        return
    if command == "unbindgroup":
        await groups.unbind_group(ctx)
        return
    if command in ("menu", "start", "help") or incoming.button.startswith("m:"):
        menu = menus.menu_by_button(ctx, incoming.button)
        if menu is not None:
            menus.show_menu(ctx, menu)
            return
        ctx.outcome.say(Reply(text=ctx.t("menu_intro"), options=menus.main_menu_options(ctx)))
        return
    if incoming.button.startswith("i:"):
        item = menus.find_item(ctx, incoming.button.removeprefix("i:"))
        if item is not None and await menus.show_item(ctx, item) is None:
            return
    if command or incoming.button:
        _private_redirect(ctx)


def _private_redirect(ctx: Context) -> None:
    username = ctx.services.config.telegram.bot_username
    link = f"https://t.me/{username}?start=report" if username else ""
    ctx.outcome.say(Reply(text=ctx.t("group_private_only"), link=link,
                          link_label=ctx.t("group_private_button")))


async def _handle_private(ctx: Context) -> None:
    incoming = ctx.incoming
    if incoming.unsupported:  # a sticker, a voice message: never silence; an open dialog stays open
        _unsupported(ctx)
        return
    dialog = await load_dialog(ctx.conn, incoming.channel, incoming.user_id)
    if incoming.command:
        await _command(ctx, dialog)
        return
    if incoming.text.strip() in TEXT_COMMANDS and (dialog is None or dialog.flow not in FLOW_HANDLERS):
        ctx.incoming = replace(incoming, command=TEXT_COMMANDS[incoming.text.strip()], text="")
        await _command(ctx, dialog)
        return
    if incoming.button == "nav:cancel":
        await _cancel(ctx, dialog)
        return
    if await _global_button(ctx, dialog):
        return
    menu = menus.menu_by_text(ctx, incoming.text)
    if menu is not None:
        menus.show_menu(ctx, menu)
        return
    flow = dialog.flow if dialog is not None and dialog.flow in FLOW_HANDLERS else None
    if await ticket_commands.try_handle(ctx, flow):  # 受理 123 / 办结 123 说明 / 转派 123 G08 原因
        return
    if dialog is not None and flow is not None:
        await FLOW_HANDLERS[flow](ctx, dialog)
        return
    if incoming.text.startswith("绑定") and len(incoming.text.split()) == 2:
        await _bind(ctx, incoming.text.split()[1])
        return
    typed_signup = signup.parse_signup_text(incoming.text)
    if typed_signup is not None:
        cancel, announcement_id = typed_signup
        await (signup.leave(ctx, announcement_id) if cancel else signup.join(ctx, announcement_id))
        return
    if incoming.button:
        # 返回 with nothing open, or a button from an old message whose dialog has ended.
        menus.show_main_menu(ctx, "" if incoming.button == "nav:back" else ctx.t("option_expired"))
        return
    if incoming.text.strip():
        ctx.outcome.say(Reply(text=ctx.t("unknown_text"), options=(
            Option(ctx.t("offer_report"), "report:text"), Option(ctx.t("show_menu"), "menu"),
        )))
        await _remember_free_text(ctx)
        return
    if incoming.photos or incoming.location is not None:  # outside a report: not needed now
        ctx.say(ctx.t("media_not_expected"), (ctx.t("show_menu"), "menu"))
    elif incoming.channel is Channel.WECHAT:
        ctx.say(ctx.t("wechat_unsupported"))
    else:
        _unsupported(ctx)


def _unsupported(ctx: Context) -> None:
    ctx.say(ctx.t("unsupported"), (ctx.t("show_menu"), "menu"))


async def _remember_free_text(ctx: Context) -> None:
    await save_dialog(ctx.conn, ctx.incoming.channel, ctx.incoming.user_id,
                      Dialog(OFFER_FLOW, "text", {"text": ctx.incoming.text.strip()[:report.MAX_DESCRIPTION]}),
                      ctx.now)


async def _command(ctx: Context, dialog: Dialog | None) -> None:
    command, arg = ctx.incoming.command, ctx.incoming.command_arg.strip()
    if command == "start" and arg.startswith("bind-"):
        await _bind(ctx, arg.removeprefix("bind-"))
    elif command == "start" and arg == "report":
        await report.start_report(ctx)
    elif command == "start" and arg.startswith("signup-") and parse_id(arg.removeprefix("signup-")) is not None:
        await signup.join(ctx, int(arg.removeprefix("signup-")))
    elif command == "start":
        # A WeChat follow: the account's own menu bar is the way in, so the greeting points there.
        key = "wechat_welcome" if ctx.incoming.channel is Channel.WECHAT else "welcome"
        menus.show_main_menu(ctx, ctx.t(key, name=ctx.services.config.subdistrict.name))
    elif command == "menu":
        menus.show_main_menu(ctx, _draft_hint(ctx, dialog))
    elif command == "help":
        ctx.say(_help(ctx))
    elif command == "report":
        if dialog is not None and dialog.flow == report.FLOW:
            await report.resume_report(ctx, dialog)
        else:
            await report.start_report(ctx)
    elif command == "mytickets":
        await my_tickets.show_my_tickets(ctx)
    elif command == "tickets":
        await my_tickets.show_staff_open(ctx)
    elif command == "mydata":
        await my_data.show_my_data(ctx)
    elif command == "stats":
        await stats.handle_stats(ctx, arg)
    elif command == "announce":
        await announce.start(ctx)
    elif command == "announcements":
        await announce_admin.show_list(ctx)
    elif command == "bind":
        await _bind(ctx, arg)
    elif command == "cancel":
        await _cancel(ctx, dialog)
    else:
        ctx.say(_help(ctx))


def _help(ctx: Context) -> str:
    """Staff also read how to act on a ticket by typing (WeChat has no buttons); admins, their tools."""
    if ctx.person is None:
        return ctx.t("help")
    extra = f"\n\n{ctx.t('help_admin')}" if ctx.person.role == Role.ADMIN else ""
    return f"{ctx.t('help')}\n\n{ctx.t('help_staff')}{extra}"


def _draft_hint(ctx: Context, dialog: Dialog | None) -> str:
    if dialog is not None and dialog.flow == report.FLOW:
        return f"{ctx.t('menu_intro')}\n{ctx.t('menu_hint_draft')}"
    return ""


async def _cancel(ctx: Context, dialog: Dialog | None) -> None:
    if dialog is None:
        ctx.say(ctx.t("nothing_to_cancel"))
        return
    await report.cancel_dialog(ctx)


async def _global_button(ctx: Context, dialog: Dialog | None) -> bool:
    """Buttons that work whatever dialog is open: menus, ticket actions, ratings, my tickets."""
    button = ctx.incoming.button
    if button == "menu":
        menus.show_main_menu(ctx, _draft_hint(ctx, dialog))
    elif button.startswith("m:"):
        menu = menus.menu_by_button(ctx, button)
        if menu is None:
            return False
        menus.show_menu(ctx, menu)
    elif button.startswith("i:"):
        item = menus.find_item(ctx, button.removeprefix("i:"))
        if item is None:
            return False
        action = await menus.show_item(ctx, item)
        if action is not None:
            await _run_action(ctx, action, dialog)
    elif button.startswith("t:"):
        await ticket_actions.handle_ticket_button(ctx)
    elif button.startswith("rate:"):
        await ticket_actions.handle_rating(ctx)
    elif button.startswith("my:"):
        await my_tickets.handle_my_button(ctx)
    elif button.startswith("pd:"):
        await my_data.handle_button(ctx)
    elif button.startswith("su:"):
        await signup.handle_button(ctx)
    elif button.startswith("an:"):
        return await announce_admin.handle_button(ctx)
    elif button == "report:text":
        text = dialog.data.get("text", "") if dialog is not None and dialog.flow == OFFER_FLOW else ""
        await report.start_report(ctx, description=text)
    else:
        return False
    return True


async def _run_action(ctx: Context, action: MenuAction, dialog: Dialog | None) -> None:
    if action is MenuAction.REPORT:
        if dialog is not None and dialog.flow == report.FLOW:
            await report.resume_report(ctx, dialog)
        else:
            await report.start_report(ctx)
    elif action is MenuAction.MY_TICKETS:
        await my_tickets.show_my_tickets(ctx)
    elif action is MenuAction.CONTACT_GRID:
        await menus.contact_grid(ctx)


async def _bind(ctx: Context, code: str) -> None:
    if not code:
        ctx.say(ctx.t("bind_usage"))
        return
    person_id = await accounts.redeem_invite(ctx.conn, code, ctx.incoming.channel, ctx.incoming.user_id, ctx.now)
    person = await accounts.get_person(ctx.conn, person_id) if person_id else None
    if person is None:
        ctx.say(ctx.t("bind_invalid"))
        return
    ctx.say(ctx.t("bind_done", name=person.name, role=ctx.t(f"role_{person.role}")), main_keyboard=True)


async def create_invite(conn: aiosqlite.Connection, person_id: str, now: datetime) -> str:
    return await accounts.create_invite(conn, person_id, now, INVITE_VALID_FOR)
