"""我的数据: a resident sees everything the bot keeps about them and can erase it (PIPL)."""

from __future__ import annotations

from handlers.buttons import MainMenu, MyDataAction, MyDataButton
from handlers.context import Context
from handlers.dialog_state import end_dialog
from handlers.formatting import mask_numbers, mask_phone
from handlers.menus import CHANGE_ADDRESS, change_address
from handlers.my_tickets import cancel_ticket
from handlers.rendering import display_name
from storage import tickets
from storage.erasure import Masks
from storage.privacy import erase_resident, resident_data

ASK, ERASE, KEEP = MyDataButton(MyDataAction.ASK), MyDataButton(MyDataAction.ERASE), MyDataButton(MyDataAction.KEEP)
ALL_TICKETS = 1_000_000


async def show_my_data(ctx: Context) -> None:
    data = await resident_data(ctx.conn, ctx.account.resident_id)
    none = ctx.t("my_data_none")
    address = f"{data.compound}{data.building}" if data.compound else none
    lines = [
        ctx.t("my_data_title"),
        ctx.t("my_data_name", value=display_name(data.display_name) or none),
        ctx.t("my_data_phone", value=mask_phone(data.phone) if data.phone else none),
        ctx.t("my_data_address", value=address),
        ctx.t("my_data_tickets", total=data.tickets, open=data.open_tickets),
        ctx.t("my_data_accounts", value="、".join(ctx.t(f"channel_{c}") for c in data.accounts)),
    ]
    if data.tags:
        lines.append(ctx.t("my_data_tags", value="、".join(data.tags)))
    lines.append(ctx.t("my_data_footer"))
    ctx.say("\n".join(lines), (ctx.t("change_address"), CHANGE_ADDRESS), (ctx.t("my_data_erase"), ASK),
            (ctx.t("show_menu"), MainMenu()))


async def handle_button(ctx: Context, button: MyDataButton | None) -> None:
    """删除我的数据 → confirm → erase; anything else, 保留 or pd: data that is none of these, keeps."""
    if button == CHANGE_ADDRESS:
        await change_address(ctx)
    elif button == ASK:
        data = await resident_data(ctx.conn, ctx.account.resident_id)
        warning = ctx.t("my_data_confirm_open", open=data.open_tickets) if data.open_tickets else ""
        ctx.say(ctx.t("my_data_confirm", open_warning=warning),
                (ctx.t("my_data_erase_confirm"), ERASE), (ctx.t("my_data_keep"), KEEP))
    elif button == ERASE:
        await _erase(ctx)
    else:
        ctx.say(ctx.t("my_data_kept"))


async def _erase(ctx: Context) -> None:
    # Open tickets are withdrawn first, so their grid people are told and stop working on them.
    for ticket in await tickets.tickets_of_resident(ctx.conn, ctx.account.resident_id, limit=ALL_TICKETS):
        if ticket.is_open:
            await cancel_ticket(ctx, ticket)
    await end_dialog(ctx)
    # The masks: cards and notices show her numbers masked; those copies are hers too.
    erased = await erase_resident(ctx.conn, ctx.account.resident_id, ctx.now, Masks(mask_numbers, mask_phone))
    ctx.say(ctx.t("my_data_erased", tickets=erased.tickets), main_keyboard=True)
