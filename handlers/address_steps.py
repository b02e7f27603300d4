"""Choosing an address in chat: bound address, or community → compound → building, or typed."""

from __future__ import annotations

from dataclasses import replace

from handlers.button_codec import Button
from handlers.buttons import (
    BACK,
    CANCEL,
    AddressButton,
    AddressChoice,
    BuildingButton,
    CommunityButton,
    CompoundButton,
    claimed_kind,
)
from handlers.context import Context
from handlers.flow_states import AddressPick, Guess
from handlers.rendering import clean_detail
from handlers.types import Address

ADDRESS_STEPS = ("address_confirm", "community", "compound", "building", "address_pick")


def nav(ctx: Context) -> tuple[tuple[str, Button], ...]:
    return ((ctx.t("back"), BACK), (ctx.t("cancel"), CANCEL))


def first_address_step(bound: Address | None) -> str:
    return "address_confirm" if bound else "community"


def prompt_address(ctx: Context, step: str, pick: AddressPick, bound: Address | None = None) -> None:
    book = ctx.services.addresses
    if step == "address_confirm" and bound is not None:
        ctx.say(
            ctx.t("report_bound_address", address=bound.label),
            (ctx.t("yes"), AddressButton(AddressChoice.BOUND)),
            (ctx.t("report_other_address"), AddressButton(AddressChoice.OTHER)), *nav(ctx),
        )
    elif step in ("community", "address_confirm"):
        options = [(c.name, CommunityButton(c.id)) for c in ctx.services.config.communities]
        ctx.say(ctx.t("report_community"), *options, *nav(ctx))
    elif step == "compound":
        options = [(name, CompoundButton(book.compound_index(name))) for name in book.compounds_of(pick.community)]
        ctx.say(ctx.t("report_compound"), *options, *nav(ctx))
    elif step == "building":
        buildings = book.buildings_of(pick.compound)
        ctx.say(ctx.t("report_building"), *[(b.address.building, BuildingButton(b.index)) for b in buildings],
                *nav(ctx))
    elif step == "address_pick":
        options: list[tuple[str, Button]] = []
        for guess in pick.guesses:
            if guess.building is not None:
                building = book.building(guess.building)
                if building is not None:
                    options.append((building.address.label, BuildingButton(building.index)))
            else:
                options.append((guess.compound, CompoundButton(book.compound_index(guess.compound))))
        ctx.say(ctx.t("address_guess"), *options, *nav(ctx))


def address_back(step: str) -> str | None:
    """The address step before this one, or None when the address part is left."""
    return {"compound": "community", "building": "compound", "address_pick": "community"}.get(step)


def handle_address(
    ctx: Context, step: str, pick: AddressPick, bound: Address | None = None
) -> tuple[str, Address | None, AddressPick]:
    """Apply one input: (step to prompt next, the chosen address once complete, the answers so far)."""
    book = ctx.services.addresses
    button = ctx.pressed
    text = ctx.incoming.text.strip()
    if bound and (button == AddressButton(AddressChoice.BOUND) or (step == "address_confirm" and text == ctx.t("yes"))):
        return step, bound, pick
    if button == AddressButton(AddressChoice.OTHER):
        return "community", None, pick
    if isinstance(button, CommunityButton):
        if ctx.services.config.community(button.community_id) is None:
            return step, None, pick
        return "compound", None, replace(pick, community=button.community_id, detail="")
    if isinstance(button, CompoundButton):
        compound = book.compound_at(button.index)
        if compound is None:
            return step, None, pick
        return "building", None, replace(pick, compound=compound)
    if isinstance(button, BuildingButton):
        building = book.building(button.index)
        return step, building.address if building is not None else None, pick
    if claimed_kind(ctx.incoming.button) in (CommunityButton, CompoundButton, BuildingButton):
        return step, None, pick  # forged or stale: the prompt again, as for an unknown one
    if text:
        matches = book.match(text)
        if not matches:
            ctx.say(ctx.t("address_not_found", text=text[:40]))
            return step, None, pick
        guesses = tuple(Guess(m.compound, m.building.index if m.building else None) for m in matches)
        return "address_pick", None, replace(pick, guesses=guesses, detail=clean_detail(matches[0].detail))
    ctx.say(ctx.t("report_use_buttons"))
    return step, None, pick
