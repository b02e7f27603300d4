"""Report an issue: category → description → address → phone → summary → submit."""

from __future__ import annotations

from dataclasses import replace

from handlers import me_too
from handlers.address_steps import (
    ADDRESS_STEPS,
    handle_address,
)
from handlers.button_codec import Button
from handlers.buttons import (
    BACK,
    CategoryButton,
    DraftButton,
    PhoneButton,
    SkipFlat,
    SubmitReport,
)
from handlers.cards import category_name
from handlers.context import Context
from handlers.dialog_state import OpenDialog, end_dialog, save
from handlers.flow_states import ReportState
from handlers.formatting import normalise_phone
from handlers.paging import page_turn, refuse_page, typed_option
from handlers.rendering import clean_detail, resident_text
from handlers.report_buttons import DraftChoice, PhoneChoice
from handlers.report_steps import FLOW
from handlers.report_steps import address_start as _address_start
from handlers.report_steps import categories as _categories
from handlers.report_steps import go as _go
from handlers.report_steps import prompt as _prompt
from handlers.report_steps import show_summary as _show_summary
from handlers.report_steps import step_before as _step_before
from handlers.report_submit import submit
from handlers.types import Address
from storage import accounts, tickets

MIN_DESCRIPTION = 2  # 「漏水」 says it all in Chinese
MAX_DESCRIPTION = 1000
MAX_PHOTOS = 5
MAX_VOICES = 5
RECENT_TICKETS = 50  # looked through for an earlier report from the bound address


async def start_report(ctx: Context, description: str = "") -> None:
    await _start(ctx, ReportState(description=description[:MAX_DESCRIPTION]))


async def start_report_with_media(ctx: Context) -> None:
    """A photo or a location sent with nothing open is how a report begins: keep it, and a
    caption long enough to be a description, then ask the category."""
    incoming = ctx.incoming
    caption = incoming.text.strip()
    location = incoming.location
    state = ReportState(
        description=caption[:MAX_DESCRIPTION] if len(caption) >= MIN_DESCRIPTION else "",
        photos=incoming.photos[:MAX_PHOTOS],
        location=(location.latitude, location.longitude) if location is not None else None,
        voices=incoming.voices[:MAX_VOICES],
    )
    if state.location:
        ctx.say(ctx.t("report_location_added"))
    if state.photos:
        ctx.say(ctx.t("report_photo_added", count=len(state.photos)))
    if state.voices:
        ctx.say(ctx.t("report_voice_added", count=len(state.voices)))
    await _start(ctx, state)


async def _start(ctx: Context, state: ReportState) -> None:
    resident = await accounts.get_resident(ctx.conn, ctx.account.resident_id)
    if resident.grid_id and resident.compound and resident.building and resident.community_id:
        state = replace(state, bound=Address(resident.community_id, resident.compound, resident.building,
                                             resident.grid_id))
    if resident.phone:
        state = replace(state, known_phone=resident.phone)
    await _go(ctx, "category", state)


DRAFT_PREVIEW = 20  # characters of the description quoted in 「您有一条未提交的反映」


def offer_draft(ctx: Context, dialog: OpenDialog) -> None:
    """/report (or 我要反映) with a report half-filled: ask, rather than jump back into it, so a
    「1」 meant for a new report never submits the old one."""
    state = dialog.state
    assert isinstance(state, ReportState)
    if not (state.category or state.description or state.photos or state.location or state.voices):
        _prompt(ctx, dialog.step, state)  # nothing to lose: just ask again
        return
    parts = [category_name(ctx, state.category)] if state.category else []
    if state.description:
        short = state.description[:DRAFT_PREVIEW] + ("…" if len(state.description) > DRAFT_PREVIEW else "")
        parts.append(resident_text(short))
    ctx.say(ctx.t("report_draft_pending", draft="｜".join(parts) or ctx.t("report_draft_blank")),
            (ctx.t("report_draft_resume"), DraftButton(DraftChoice.RESUME)),
            (ctx.t("report_draft_restart"), DraftButton(DraftChoice.RESTART)))


async def resume_report(ctx: Context, dialog: OpenDialog) -> None:
    assert isinstance(dialog.state, ReportState)
    if dialog.step == "summary":
        await _show_summary(ctx, dialog.state)
    else:
        _prompt(ctx, dialog.step, dialog.state)


async def handle_report(ctx: Context, dialog: OpenDialog) -> None:
    step, state = dialog.step, dialog.state
    assert isinstance(state, ReportState)
    incoming = ctx.incoming
    if isinstance(ctx.pressed, DraftButton):
        if ctx.pressed.choice is DraftChoice.RESTART:
            await start_report(ctx)
        else:
            await resume_report(ctx, dialog)
        return
    if ctx.pressed == BACK:
        previous = _step_before(step, state)
        if previous is None:
            await cancel_dialog(ctx)
            return
        await _go_or_summary(ctx, previous, state)
        return
    if incoming.photos or incoming.location or incoming.voices:
        await _add_attachments(ctx, step, state)
        return
    if step == "category":
        await _on_category(ctx, state)
    elif step == "description":
        await _on_description(ctx, state)
    elif step in ADDRESS_STEPS:
        next_step, address, pick = handle_address(ctx, step, state.pick, state.bound)
        state = replace(state, pick=pick)
        if address is None:
            await _go(ctx, next_step, state)
        else:
            await _on_address(ctx, replace(state, address=address, address_step=step))
    elif step == "flat":
        await _on_flat(ctx, state)
    elif step == "phone":
        await _on_phone(ctx, state)
    elif step == "summary":
        await _on_summary(ctx, state)


async def _add_attachments(ctx: Context, step: str, state: ReportState) -> None:
    incoming = ctx.incoming
    if incoming.location:
        state = replace(state, location=(incoming.location.latitude, incoming.location.longitude))
        ctx.say(ctx.t("report_location_added"))
        if step in ("address_confirm", "community", "compound", "place") and not incoming.text:
            # Sent while choosing the address: a configured public place nearby is offered.
            near_step, near_state = _address_start(ctx, state)
            if near_step == "place_near":
                await _go(ctx, near_step, near_state)
                return
    if incoming.photos:
        room = MAX_PHOTOS - len(state.photos)
        state = replace(state, photos=state.photos + incoming.photos[: max(room, 0)])
        ctx.say(ctx.t("report_photo_limit", max=MAX_PHOTOS) if room <= 0
                else ctx.t("report_photo_added", count=len(state.photos)))
    if incoming.voices:
        room = MAX_VOICES - len(state.voices)
        state = replace(state, voices=state.voices + incoming.voices[: max(room, 0)])
        ctx.say(ctx.t("report_voice_limit", max=MAX_VOICES) if room <= 0
                else ctx.t("report_voice_added", count=len(state.voices)))
    # Keep the attachments even if a caption is rejected as a description below.
    await save(ctx, OpenDialog(FLOW, step, state))
    if incoming.text and step == "description":
        await _on_description(ctx, state)


async def _on_category(ctx: Context, state: ReportState) -> None:
    text = ctx.incoming.text.strip()
    items = _categories(ctx)
    turn = page_turn(ctx, state.pick.page, len(items))
    if turn is not None:
        refuse_page(ctx, turn)
        await _go(ctx, "category", replace(state, pick=replace(state.pick, page=turn.page)))
        return
    button = ctx.pressed or typed_option(text, items)
    categories = ctx.services.config.categories
    chosen = None
    if isinstance(button, CategoryButton):
        chosen = ctx.services.config.category(button.category_id)
    elif text:
        chosen = next((c for c in categories if text in c.name or c.name in text), None)
    if chosen is None:
        ctx.say(ctx.t("report_use_buttons"))
        await _go(ctx, "category", state)
        return
    state = replace(state, category=chosen.id, pick=replace(state.pick, page=0))
    if state.description:
        await _go(ctx, *_address_start(ctx, state))
    else:
        await _go(ctx, "description", state)


async def _on_description(ctx: Context, state: ReportState) -> None:
    text = ctx.incoming.text.strip()
    if len(text) < MIN_DESCRIPTION:
        ctx.say(ctx.t("report_description_short", min=MIN_DESCRIPTION))
        return
    if len(text) > MAX_DESCRIPTION:
        ctx.say(ctx.t("report_description_long", max=MAX_DESCRIPTION))
        return
    await _go(ctx, *_address_start(ctx, replace(state, description=text)))


async def _on_address(ctx: Context, state: ReportState) -> None:
    """A flat typed with the address (「5栋2单元302」) is kept; a building alone asks once: the
    bound address reuses the flat given on an earlier report there, or none, unasked; a bound
    address with no report from it yet (saved by 修改地址 or 联系网格) asks."""
    address = state.address
    if address is not None and ctx.services.addresses.is_place(address):
        # A road or a park has no unit or room to ask for.
        await _go(ctx, "phone", replace(state, flat="", flat_asked=False))
    elif (state.address_step == "address_confirm" and address is not None and address == state.bound
          and await _reported_from(ctx, address)):
        flat = await tickets.last_detail(ctx.conn, ctx.account.resident_id, address.compound, address.building)
        await _go(ctx, "phone", replace(state, flat=flat, flat_asked=False))
    elif state.pick.detail:
        await _go(ctx, "phone", replace(state, flat=state.pick.detail, flat_asked=False))
    else:
        await _go(ctx, "flat", replace(state, flat=None, flat_asked=True))


async def _reported_from(ctx: Context, address: Address) -> bool:
    recent = await tickets.tickets_of_resident(ctx.conn, ctx.account.resident_id, limit=RECENT_TICKETS)
    return any((t.compound, t.building) == (address.compound, address.building) for t in recent)


def _typed(ctx: Context, *labels: tuple[str, Button]) -> Button | None:
    """The button pressed, or the one whose label was typed in full (Telegram numbers nothing)."""
    return ctx.pressed or typed_option(ctx.incoming.text, labels)


async def _on_flat(ctx: Context, state: ReportState) -> None:
    if _typed(ctx, (ctx.t("report_flat_skip"), SkipFlat())) == SkipFlat():
        flat = ""
    elif normalise_phone(ctx.incoming.text) is not None:
        # A phone number answered ahead (the flat is optional): taken as the phone, no flat.
        await _on_phone(ctx, replace(state, flat=""))
        return
    else:
        flat = clean_detail(ctx.incoming.text)
        if not flat:
            ctx.say(ctx.t("report_use_buttons"))
            await _go(ctx, "flat", state)
            return
    await _go(ctx, "phone", replace(state, flat=flat))


async def _on_phone(ctx: Context, state: ReportState) -> None:
    button = _typed(ctx, (ctx.t("report_phone_skip"), PhoneButton(PhoneChoice.SKIP)))
    if button == PhoneButton(PhoneChoice.SKIP):
        phone = ""
    elif button == PhoneButton(PhoneChoice.REUSE) and state.known_phone:
        phone = state.known_phone
    else:
        typed = normalise_phone(ctx.incoming.text)
        if typed is None:
            ctx.say(ctx.t("report_phone_invalid"))
            return
        phone = typed
    await _go_or_summary(ctx, "summary", replace(state, phone=phone))


async def _go_or_summary(ctx: Context, step: str, state: ReportState) -> None:
    if step != "summary":
        await _go(ctx, step, state)
        return
    await _show_summary(ctx, state)


async def _on_summary(ctx: Context, state: ReportState) -> None:
    button = _typed(ctx, (ctx.t("submit"), SubmitReport()), (ctx.t("submit_anyway"), SubmitReport()))
    if button == SubmitReport():
        if not await submit(ctx, state):
            # Config changed under a half-finished report: ask again rather than file garbage.
            await _go(ctx, "category", replace(state, address=None))
    elif me_too.claims(ctx):
        if not await me_too.follow_offered(ctx, state):
            await _show_summary(ctx, state)  # a forged or stale press changes nothing
    else:
        ctx.say(ctx.t("report_use_buttons"))
        await _show_summary(ctx, state)


async def cancel_dialog(ctx: Context) -> None:
    ctx.say(ctx.t("cancelled"), main_keyboard=True)
    await end_dialog(ctx)
