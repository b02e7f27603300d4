"""What each route of the router's tables does: small answers, or a call into the flow that answers."""

from __future__ import annotations

from handlers import deep_links as links
from handlers import menus, my_tickets, report, signup, stats, ticket_commands
from handlers.binding import bind_with_code
from handlers.buttons import BACK, ItemButton, MainMenu, MenuButton, ReportFromText
from handlers.context import Context
from handlers.dialog_state import OpenDialog, save
from handlers.domain.model import MenuAction
from handlers.flow_states import Flow, OfferState
from handlers.route_types import Turn
from handlers.types import Channel, Option, Reply


def draft_hint(ctx: Context, turn: Turn) -> str:
    if turn.dialog is not None and turn.dialog.flow is Flow.REPORT:
        return f"{ctx.t('menu_intro')}\n{ctx.t('menu_hint_draft')}"
    return ""


async def main_menu(ctx: Context, turn: Turn) -> None:
    menus.show_main_menu(ctx, draft_hint(ctx, turn))


async def report_or_resume(ctx: Context, turn: Turn) -> None:
    if turn.dialog is not None and turn.dialog.flow is Flow.REPORT:
        report.offer_draft(ctx, turn.dialog)
    else:
        await report.start_report(ctx)


async def start(ctx: Context, turn: Turn) -> None:
    link = links.decode(ctx.incoming.command_arg.strip())
    if isinstance(link, links.BindLink):
        await bind_with_code(ctx, link.code)
    elif isinstance(link, links.ReportLink):
        await report.start_report(ctx)
    elif isinstance(link, links.SignupLink):
        await signup.join(ctx, link.announcement_id)
    else:
        # A WeChat follow: the account's own menu bar is the way in, so the greeting points there.
        key = "wechat_welcome" if ctx.incoming.channel is Channel.WECHAT else "welcome"
        menus.show_main_menu(ctx, ctx.t(key, name=ctx.services.config.subdistrict.name))


async def show_help(ctx: Context, turn: Turn) -> None:
    """Each role reads the commands it may use (handlers/menus.py)."""
    menus.show_help(ctx)


async def cancel(ctx: Context, turn: Turn) -> None:
    if turn.dialog is None:
        ctx.say(ctx.t("nothing_to_cancel"))
        return
    await report.cancel_dialog(ctx)


async def show_stats(ctx: Context, turn: Turn) -> None:
    await stats.handle_stats(ctx, ctx.incoming.command_arg.strip())


async def bind_command(ctx: Context, turn: Turn) -> None:
    await bind_with_code(ctx, ctx.incoming.command_arg.strip())


async def menu_button(ctx: Context, turn: Turn) -> bool:
    menu = menus.menu_by_button(ctx, turn.button) if isinstance(turn.button, MenuButton) else None
    if menu is None:
        return False
    menus.show_menu(ctx, menu)
    return True


async def item_button(ctx: Context, turn: Turn) -> bool:
    item = menus.find_item(ctx, turn.button.key) if isinstance(turn.button, ItemButton) else None
    if item is None:
        return False
    action = await menus.show_item(ctx, item)
    if action is MenuAction.REPORT:
        await report_or_resume(ctx, turn)
    elif action is MenuAction.MY_TICKETS:
        await my_tickets.show_my_tickets(ctx)
    elif action is MenuAction.CONTACT_GRID:
        await menus.contact_grid(ctx)
    return True


async def report_from_text(ctx: Context, turn: Turn) -> None:
    offered = turn.dialog.state if turn.dialog is not None else None
    await report.start_report(ctx, description=offered.text if isinstance(offered, OfferState) else "")


async def menu_title(ctx: Context, turn: Turn) -> bool:
    menu = menus.menu_by_text(ctx, ctx.incoming.text)
    if menu is not None:
        menus.show_menu(ctx, menu)
    return menu is not None


async def ticket_command(ctx: Context, turn: Turn) -> bool:
    return await ticket_commands.try_handle(ctx, turn.flow)  # 受理 123 / 办结 123 说明 / 转派 123 G08 原因


async def typed_bind(ctx: Context, turn: Turn) -> None:
    await bind_with_code(ctx, ctx.incoming.text.split()[1])


async def typed_signup(ctx: Context, turn: Turn) -> bool:
    typed = signup.parse_signup_text(ctx.incoming.text)
    if typed is None:
        return False
    cancel, announcement_id = typed
    await (signup.leave(ctx, announcement_id) if cancel else signup.join(ctx, announcement_id))
    return True


async def stale_button(ctx: Context, turn: Turn) -> None:
    # 返回 with nothing open, or a button from an old message whose dialog has ended.
    menus.show_main_menu(ctx, "" if turn.button == BACK else ctx.t("option_expired"))


async def free_text(ctx: Context, turn: Turn) -> None:
    """Text that is nothing else: offered as a report, and remembered for 「把这段话作为反映提交」."""
    ctx.outcome.say(Reply(text=ctx.t("unknown_text"), options=(
        Option(ctx.t("offer_report"), ReportFromText().encode()), Option(ctx.t("show_menu"), MainMenu().encode()),
    )))
    await save(ctx, OpenDialog(Flow.OFFER, "text", OfferState(ctx.incoming.text.strip()[:report.MAX_DESCRIPTION])))


async def report_from_media(ctx: Context, turn: Turn) -> None:
    await report.start_report_with_media(ctx)


async def unsupported(ctx: Context, turn: Turn) -> None:
    """Never silence: what the bot cannot use gets a short answer pointing to the menu."""
    incoming = ctx.incoming
    if not incoming.unsupported and incoming.channel is Channel.WECHAT:
        ctx.say(ctx.t("wechat_unsupported"))
    else:
        ctx.say(ctx.t("unsupported"), (ctx.t("show_menu"), MainMenu()))


async def group_menu(ctx: Context, turn: Turn) -> None:
    """In a group only public menus are shown."""
    menu = menus.menu_by_button(ctx, turn.button) if isinstance(turn.button, MenuButton) else None
    if menu is not None:
        menus.show_menu(ctx, menu)
        return
    ctx.outcome.say(Reply(text=ctx.t("menu_intro"), options=menus.main_menu_options(ctx)))


async def group_item(ctx: Context, turn: Turn) -> bool:
    """A content item is shown in the group; an action item (report, my tickets) is personal."""
    item = menus.find_item(ctx, turn.button.key) if isinstance(turn.button, ItemButton) else None
    return item is not None and await menus.show_item(ctx, item) is None


async def private_redirect(ctx: Context, turn: Turn) -> None:
    """Anything personal moves to private chat."""
    username = ctx.services.links.bot_username
    link = f"https://t.me/{username}?start={links.ReportLink().encode()}" if username else ""
    ctx.outcome.say(Reply(text=ctx.t("group_private_only"), link=link, link_label=ctx.t("group_private_button")))
