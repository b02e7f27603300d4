"""Report an issue: category → description → address → phone → summary → submit."""

from __future__ import annotations

from handlers import me_too
from handlers.address_steps import (
    ADDRESS_STEPS,
    address_back,
    address_dict,
    first_address_step,
    handle_address,
    nav,
    prompt_address,
)
from handlers.cards import category_name, grid_name, send_card
from handlers.context import Context
from handlers.dialog_state import REPORT_FLOW, end_dialog
from handlers.domain import tickets as moves
from handlers.domain.actors import ROUTER
from handlers.domain.working_time import deadlines
from handlers.formatting import hours_text, mask_phone, normalise_phone
from handlers.rendering import resident_text
from handlers.routing import route
from handlers.ticket_moves import must_apply, resident_actor
from handlers.types import Address
from storage import accounts, tickets
from storage.dialogs import Dialog, save_dialog
from storage.ticket_changes import file_ticket
from storage.tickets import NewTicket

FLOW = REPORT_FLOW
MIN_DESCRIPTION = 4
MAX_DESCRIPTION = 1000
MAX_PHOTOS = 5


async def start_report(ctx: Context, description: str = "") -> None:
    resident = await accounts.get_resident(ctx.conn, ctx.account.resident_id)
    data: dict = {"description": description[:MAX_DESCRIPTION], "photos": [], "location": None}
    if resident.grid_id and resident.compound and resident.building and resident.community_id:
        data["bound"] = address_dict(
            Address(resident.community_id, resident.compound, resident.building, resident.grid_id)
        )
    if resident.phone:
        data["known_phone"] = resident.phone
    await _go(ctx, "category", data)


async def resume_report(ctx: Context, dialog: Dialog) -> None:
    if dialog.step == "summary":
        await _show_summary(ctx, dialog.data)
    else:
        _prompt(ctx, dialog.step, dialog.data)


async def _go(ctx: Context, step: str, data: dict) -> None:
    await save_dialog(ctx.conn, ctx.incoming.channel, ctx.incoming.user_id, Dialog(FLOW, step, data), ctx.now)
    _prompt(ctx, step, data)


def _prompt(ctx: Context, step: str, data: dict) -> None:
    if step == "category":
        options = [(c.name, f"r:cat:{c.id}") for c in ctx.services.config.categories]
        key = "report_description_prefilled" if data.get("description") else "report_category"
        ctx.say(ctx.t(key, text=resident_text(data.get("description", ""))), *options, (ctx.t("cancel"), "nav:cancel"))
    elif step == "description":
        ctx.say(ctx.t("report_description"), *nav(ctx))
    elif step in ADDRESS_STEPS:
        prompt_address(ctx, step, data)
    elif step == "phone":
        options = []
        if data.get("known_phone"):
            options.append((ctx.t("report_phone_reuse", phone=mask_phone(data["known_phone"])), "r:ph:reuse"))
        options.append((ctx.t("report_phone_skip"), "r:ph:skip"))
        ctx.say(ctx.t("report_phone"), *options, *nav(ctx))


def _step_before(step: str, data: dict) -> str | None:
    if step == "category":
        return None
    if step == "description":
        return "category"
    if step in ("address_confirm", "community"):
        return "description"
    if step in ADDRESS_STEPS:
        return address_back(step)
    if step == "phone":
        # The address prompt the resident answered last (building, a typed-address pick, ...).
        return data.get("address_step") or first_address_step(
            Address(**data["bound"]) if data.get("bound") else None)
    if step == "summary":
        return "phone"
    return None


async def handle_report(ctx: Context, dialog: Dialog) -> None:
    step, data = dialog.step, dict(dialog.data)
    incoming = ctx.incoming
    if incoming.button == "nav:back":
        previous = _step_before(step, data)
        if previous is None:
            await cancel_dialog(ctx)
            return
        await _go_or_summary(ctx, previous, data)
        return
    if incoming.photos or incoming.location:
        await _add_attachments(ctx, step, data)
        return
    if step == "category":
        await _on_category(ctx, data)
    elif step == "description":
        await _on_description(ctx, data)
    elif step in ADDRESS_STEPS:
        next_step, address = handle_address(ctx, step, data)
        if address is None:
            await _go(ctx, next_step, data)
        else:
            data["address"] = address_dict(address)
            data["address_step"] = step
            await _go(ctx, "phone", data)
    elif step == "phone":
        await _on_phone(ctx, data)
    elif step == "summary":
        await _on_summary(ctx, data)


async def _add_attachments(ctx: Context, step: str, data: dict) -> None:
    incoming = ctx.incoming
    if incoming.location:
        data["location"] = [incoming.location.latitude, incoming.location.longitude]
        ctx.say(ctx.t("report_location_added"))
    if incoming.photos:
        room = MAX_PHOTOS - len(data["photos"])
        data["photos"] += list(incoming.photos[: max(room, 0)])
        ctx.say(ctx.t("report_photo_limit", max=MAX_PHOTOS) if room <= 0
                else ctx.t("report_photo_added", count=len(data["photos"])))
    # Keep the attachments even if a caption is rejected as a description below.
    await save_dialog(ctx.conn, incoming.channel, incoming.user_id, Dialog(FLOW, step, data), ctx.now)
    if incoming.text and step == "description":
        await _on_description(ctx, data)


async def _on_category(ctx: Context, data: dict) -> None:
    button, text = ctx.incoming.button, ctx.incoming.text.strip()
    categories = ctx.services.config.categories
    chosen = None
    if button.startswith("r:cat:"):
        chosen = ctx.services.config.category(button.removeprefix("r:cat:"))
    elif text:
        chosen = next((c for c in categories if text in c.name or c.name in text), None)
    if chosen is None:
        ctx.say(ctx.t("report_use_buttons"))
        await _go(ctx, "category", data)
        return
    data["category"] = chosen.id
    if data.get("description"):
        await _go(ctx, first_address_step(Address(**data["bound"]) if data.get("bound") else None), data)
    else:
        await _go(ctx, "description", data)


async def _on_description(ctx: Context, data: dict) -> None:
    text = ctx.incoming.text.strip()
    if len(text) < MIN_DESCRIPTION:
        ctx.say(ctx.t("report_description_short", min=MIN_DESCRIPTION))
        return
    if len(text) > MAX_DESCRIPTION:
        ctx.say(ctx.t("report_description_long", max=MAX_DESCRIPTION))
        return
    data["description"] = text
    await _go(ctx, first_address_step(Address(**data["bound"]) if data.get("bound") else None), data)


async def _on_phone(ctx: Context, data: dict) -> None:
    button = ctx.incoming.button
    if button == "r:ph:skip":
        data["phone"] = ""
    elif button == "r:ph:reuse" and data.get("known_phone"):
        data["phone"] = data["known_phone"]
    else:
        phone = normalise_phone(ctx.incoming.text)
        if phone is None:
            ctx.say(ctx.t("report_phone_invalid"))
            return
        data["phone"] = phone
    await _go_or_summary(ctx, "summary", data)


async def _go_or_summary(ctx: Context, step: str, data: dict) -> None:
    if step != "summary":
        await _go(ctx, step, data)
        return
    await _show_summary(ctx, data)


async def _show_summary(ctx: Context, data: dict) -> None:
    """The summary, and any open ticket of the same kind in the building to follow instead
    (the ids offered are kept in the dialog, the only ones 我也遇到 accepts from it)."""
    address = Address(**data["address"])
    similar = await tickets.open_tickets_like(ctx.conn, address.compound, address.building, data["category"])
    data = {**data, me_too.OFFERED: [t.id for t in similar]}
    await save_dialog(ctx.conn, ctx.incoming.channel, ctx.incoming.user_id, Dialog(FLOW, "summary", data), ctx.now)
    text = ctx.t(
        "report_summary",
        category=category_name(ctx, data["category"]),
        description=resident_text(data["description"]),
        address=address.label,
        photos=len(data["photos"]),
        location=ctx.t("summary_location") if data.get("location") else "",
        phone=mask_phone(data["phone"]) if data.get("phone") else ctx.t("no_phone"),
    )
    if not similar:
        ctx.say(text, (ctx.t("submit"), "r:submit"), *nav(ctx))
        return
    ctx.say(f"{text}\n\n{me_too.hint(ctx, similar)}", *me_too.options(ctx, similar),
            (ctx.t("submit_anyway"), "r:submit"), *nav(ctx))


async def _on_summary(ctx: Context, data: dict) -> None:
    button = ctx.incoming.button
    if button == "r:submit":
        await submit(ctx, data)
    elif button.startswith(me_too.BUTTON):
        if not await me_too.follow_offered(ctx, data):
            await _show_summary(ctx, data)  # a forged or stale press changes nothing
    else:
        ctx.say(ctx.t("report_use_buttons"))
        await _show_summary(ctx, data)


async def submit(ctx: Context, data: dict) -> None:
    config = ctx.services.config
    category = config.category(data["category"])
    address = Address(**data["address"])
    if category is None or ctx.services.addresses.find(address) is None:
        # Config changed under a half-finished report: ask again rather than file garbage.
        await _go(ctx, "category", {**data, "address": None})
        return
    location = data.get("location")
    ack_due_at, resolve_due_at = deadlines(config, category, ctx.now)
    actor = resident_actor(ctx)
    filed = moves.submit(actor, NewTicket(
        resident_id=ctx.account.resident_id, category_id=category.id,
        description=data["description"], community_id=address.community_id,
        compound=address.compound, building=address.building, grid_id=address.grid_id,
        phone=data.get("phone", ""), latitude=location[0] if location else None,
        longitude=location[1] if location else None, source_channel=ctx.incoming.channel,
        ack_due_at=ack_due_at, resolve_due_at=resolve_due_at,
    ))
    assert isinstance(filed, moves.Submission)  # a resident always may, for themself
    ticket_id = await file_ticket(ctx.conn, filed.ticket, filed.event, ctx.now)
    for ref in data["photos"]:
        await tickets.add_photo(ctx.conn, ticket_id, ctx.incoming.channel, ref, actor.id, ctx.now)
    await accounts.bind_address(ctx.conn, ctx.account.resident_id, address.community_id,
                                address.compound, address.building, address.grid_id)
    if data.get("phone"):
        await accounts.save_phone(ctx.conn, ctx.account.resident_id, data["phone"], shared=False)
    await dispatch_ticket(ctx, ticket_id)
    await end_dialog(ctx)
    ctx.say(ctx.t("report_submitted", id=ticket_id, grid=grid_name(ctx, address.grid_id),
                  ack=ctx.t("working_hours_span", span=hours_text(category.ack_hours))
                  if category.working_hours else hours_text(category.ack_hours)), main_keyboard=True)


async def dispatch_ticket(ctx: Context, ticket_id: int) -> None:
    """Route a new or reassigned ticket and put its card in the outbox."""
    ticket = await tickets.get_ticket(ctx.conn, ticket_id)
    assert ticket is not None
    routing = await route(ctx.conn, ctx.services.config, ticket)
    await must_apply(ctx, moves.route(ticket, ROUTER, routing.handover))
    await send_card(ctx, ticket, routing, "card_new")


async def cancel_dialog(ctx: Context) -> None:
    ctx.say(ctx.t("cancelled"), main_keyboard=True)
    await end_dialog(ctx)
