"""The report flow's prompts: what each step shows, the summary, and where 返回 leads.

Split from handlers/report.py (which handles the answers) to keep both short; the names keep
their underscore in report.py, which imports them as they were."""

from __future__ import annotations

from dataclasses import replace

from handlers import me_too
from handlers.address_steps import (
    ADDRESS_STEPS,
    address_back,
    first_address_step,
    nav,
    prompt_address,
)
from handlers.buttons import (
    CANCEL,
    CategoryButton,
    PhoneButton,
    SkipFlat,
    SubmitReport,
)
from handlers.cards import category_name
from handlers.context import Context
from handlers.dialog_state import OpenDialog, save
from handlers.flow_states import Flow, ReportState
from handlers.formatting import mask_phone
from handlers.paging import page_options
from handlers.rendering import full_address, resident_text
from handlers.report_buttons import PhoneChoice
from storage import tickets

FLOW = Flow.REPORT


async def go(ctx: Context, step: str, state: ReportState) -> None:
    await save(ctx, OpenDialog(FLOW, step, state))
    prompt(ctx, step, state)


def categories(ctx: Context) -> list[tuple[str, CategoryButton]]:
    return [(c.name, CategoryButton(c.id)) for c in ctx.services.config.categories]


def address_start(ctx: Context, state: ReportState) -> tuple[str, ReportState]:
    """The first address step: the public place near a location the resident sent, if any is
    configured within reach (asked, not assumed: a home can be near a park); else as usual."""
    near = ctx.services.addresses.nearest_place(*state.location) if state.location else None
    if near is not None and state.address is None:
        return "place_near", replace(state, pick=replace(state.pick, near=near.index, page=0))
    return first_address_step(state.bound), state


def prompt(ctx: Context, step: str, state: ReportState) -> None:
    if step == "category":
        options = page_options(ctx, categories(ctx), state.pick.page)  # the pick's page: no address yet
        key = "report_description_prefilled" if state.description else "report_category"
        ctx.say(ctx.t(key, text=resident_text(state.description)), *options, (ctx.t("cancel"), CANCEL))
    elif step == "description":
        ctx.say(ctx.t("report_description"), *nav(ctx))
    elif step in ADDRESS_STEPS:
        prompt_address(ctx, step, state.pick, state.bound)
    elif step == "flat":
        ctx.say(ctx.t("report_flat"), (ctx.t("report_flat_skip"), SkipFlat()), *nav(ctx))
    elif step == "phone":
        options = []
        if state.known_phone:
            options.append((ctx.t("report_phone_reuse", phone=mask_phone(state.known_phone)),
                            PhoneButton(PhoneChoice.REUSE)))
        options.append((ctx.t("report_phone_skip"), PhoneButton(PhoneChoice.SKIP)))
        ctx.say(ctx.t("report_phone"), *options, *nav(ctx))


def step_before(step: str, state: ReportState) -> str | None:
    if step == "category":
        return None
    if step == "description":
        return "category"
    if step in ("address_confirm", "community", "place_near"):
        return "description"
    if step in ADDRESS_STEPS:
        return address_back(step)
    if step == "flat" or (step == "phone" and not state.flat_asked):
        # The address prompt the resident answered last (building, a typed-address pick, ...).
        return state.address_step or first_address_step(state.bound)
    if step == "phone":
        return "flat"
    if step == "summary":
        return "phone"
    return None


async def show_summary(ctx: Context, state: ReportState) -> None:
    """The summary, and any open ticket of the same kind in the building to follow instead
    (the ids offered are kept in the dialog, the only ones 我也遇到 accepts from it)."""
    address = state.address
    assert address is not None
    similar = await tickets.open_tickets_like(ctx.conn, address.compound, address.building, state.category)
    state = replace(state, offered=tuple(t.id for t in similar))
    await save(ctx, OpenDialog(FLOW, "summary", state))
    text = ctx.t(
        "report_summary",
        category=category_name(ctx, state.category),
        description=resident_text(state.description),
        address=full_address(address.label, state.flat or ""),
        photos=len(state.photos),
        voices=ctx.t("summary_voices", count=len(state.voices)) if state.voices else "",
        location=ctx.t("summary_location") if state.location else "",
        phone=mask_phone(state.phone) if state.phone else ctx.t("no_phone"),
    )
    if not similar:
        ctx.say(text, (ctx.t("submit"), SubmitReport()), *nav(ctx))
        return
    ctx.say(f"{text}\n\n{me_too.hint(ctx, similar)}", *me_too.options(ctx, similar),
            (ctx.t("submit_anyway"), SubmitReport()), *nav(ctx))
