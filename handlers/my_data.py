"""我的数据: a resident sees everything the bot keeps about them and can erase it (PIPL)."""

from __future__ import annotations

from handlers import activities
from handlers.buttons import MainMenu, MyDataAction, MyDataButton
from handlers.context import Context
from handlers.dialog_state import end_dialog
from handlers.formatting import local_time, mask_numbers, mask_phone
from handlers.menus import CHANGE_ADDRESS, change_address
from handlers.my_tickets import cancel_ticket
from handlers.rendering import announcement_title, display_name
from storage import announcements, signups, tickets
from storage.erasure import Masks
from storage.privacy import erase_resident, resident_data, signups_of
from storage.signups import SignupStatus

ASK, ERASE, KEEP = MyDataButton(MyDataAction.ASK), MyDataButton(MyDataAction.ERASE), MyDataButton(MyDataAction.KEEP)
ALL_TICKETS = 1_000_000
SIGNUP_TITLE = 30


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
    lines += await _signup_lines(ctx)
    lines.append(ctx.t("my_data_footer"))
    ctx.say("\n".join(lines), (ctx.t("change_address"), CHANGE_ADDRESS), (ctx.t("my_data_erase"), ASK),
            (ctx.t("show_menu"), MainMenu()))


async def _signup_lines(ctx: Context) -> list[str]:
    """Her activity sign-ups: which activity, when, and where her sign-up stands."""
    found = await signups_of(ctx.conn, ctx.account.resident_id)
    if not found:
        return [ctx.t("my_data_signups", value=ctx.t("my_data_none"))]
    lines = [ctx.t("my_data_signups", value="")]
    for signup in found:
        key = "my_data_signup_activity_cancelled" if signup.activity_cancelled else f"my_data_signup_{signup.status}"
        when = local_time(signup.starts_at, ctx.services.timezone) if signup.starts_at else ctx.t("my_data_none")
        lines.append(ctx.t("my_data_signup_line", id=signup.announcement_id,
                           title=announcement_title(signup.text, SIGNUP_TITLE), when=when,
                           status=ctx.t(key) if key in ctx.services.texts.catalogue else ctx.t("my_data_signup_other")))
    return lines


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
    held = [s.announcement_id for s in await signups_of(ctx.conn, ctx.account.resident_id)
            if s.status == SignupStatus.ACTIVE.value and not s.activity_cancelled]
    erased = await erase_resident(ctx.conn, ctx.account.resident_id, ctx.now, Masks(mask_numbers, mask_phone))
    await _give_places_to_the_waiting(ctx, held)
    ctx.say(ctx.t("my_data_erased", tickets=erased.tickets), main_keyboard=True)


async def _give_places_to_the_waiting(ctx: Context, announcement_ids: list[int]) -> None:
    """Her sign-ups are gone with her data: each place she held goes to the first person waiting,
    who is told as when anyone else leaves."""
    for announcement_id in announcement_ids:
        announcement = await announcements.get(ctx.conn, announcement_id)
        if announcement is None:
            continue
        moved_up = await signups.fill_places(ctx.conn, announcement, ctx.now)
        text = ctx.t("signup_promoted", title=announcement_title(announcement.text, SIGNUP_TITLE),
                     starts=activities.starts(ctx, announcement), id=announcement.id)
        ctx.outcome.notifications.extend(await activities.tell_residents(ctx.conn, moved_up, text, "signup_promoted"))
