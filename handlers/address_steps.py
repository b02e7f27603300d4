"""Choosing an address in chat: bound address, or community → compound → building, a public
place (公共区域, or the one near a location sent), or typed.

Every list is paged (handlers.paging) and never empty: only communities with something to pick
are listed, 公共区域 only when places are configured, and a stale or forged choice shows the
same list again. An address typed exactly (「龙池花园5栋」, 「龙池公园」) is taken at once; only
a fuzzy one asks 「您说的是下面哪一个？」.
"""

from __future__ import annotations

from dataclasses import replace

from handlers.addresses import PlaceEntry
from handlers.button_codec import Button
from handlers.buttons import (
    BACK,
    CANCEL,
    AddressButton,
    BuildingButton,
    CommunityButton,
    CompoundButton,
    PlaceButton,
    claimed_kind,
)
from handlers.context import Context
from handlers.flow_states import AddressPick, Guess
from handlers.paging import Item, page_options, page_turn, refuse_page, typed_option
from handlers.rendering import clean_detail
from handlers.report_buttons import AddressChoice
from handlers.types import Address

ADDRESS_STEPS = ("address_confirm", "community", "compound", "building", "address_pick", "place", "place_near")
BOUND, OTHER = AddressButton(AddressChoice.BOUND), AddressButton(AddressChoice.OTHER)
PUBLIC, NEAR = AddressButton(AddressChoice.PUBLIC), AddressButton(AddressChoice.NEAR)


def nav(ctx: Context) -> tuple[tuple[str, Button], ...]:
    return ((ctx.t("back"), BACK), (ctx.t("cancel"), CANCEL))


def first_address_step(bound: Address | None) -> str:
    return "address_confirm" if bound else "community"


def _public(ctx: Context, public: bool) -> list[Item]:
    """「公共区域」, where public places may be chosen and some are configured."""
    return [(ctx.t("address_public"), PUBLIC)] if public and ctx.services.addresses.places() else []


def _items(ctx: Context, step: str, pick: AddressPick, bound: Address | None, public: bool) -> list[Item]:
    """The options of a step (before paging and navigation)."""
    book = ctx.services.addresses
    if step == "address_confirm" and bound is not None:
        return [(ctx.t("yes"), BOUND), (ctx.t("report_other_address"), OTHER)]
    if step == "place_near":
        return [(ctx.t("yes"), NEAR), (ctx.t("report_other_address"), OTHER)]
    if step in ("community", "address_confirm"):
        known = book.communities_with_addresses()
        return [*((c.name, CommunityButton(c.id)) for c in ctx.services.config.communities if c.id in known),
                *_public(ctx, public)]
    if step == "compound":
        return [*((name, CompoundButton(book.compound_index(name))) for name in book.compounds_of(pick.community)),
                *_public(ctx, public)]
    if step == "building":
        return [(b.address.building, BuildingButton(b.index)) for b in book.buildings_of(pick.compound)]
    if step == "place":
        community = pick.community or (bound.community_id if bound else "")
        return [(p.address.compound, PlaceButton(p.index)) for p in book.places(community)]
    if step == "address_pick":
        return [option for guess in pick.guesses if (option := _guess_option(ctx, guess)) is not None]
    return []


def _guess_option(ctx: Context, guess: Guess) -> Item | None:
    book = ctx.services.addresses
    if guess.place is not None:
        place = book.place(guess.place)
        return (place.address.compound, PlaceButton(place.index)) if place is not None else None
    if guess.building is not None:
        building = book.building(guess.building)
        return (building.address.label, BuildingButton(building.index)) if building is not None else None
    if guess.compound in book.compounds_of_any():
        return guess.compound, CompoundButton(book.compound_index(guess.compound))
    return None


_PROMPTS = {"address_confirm": "report_community", "community": "report_community", "compound": "report_compound",
            "building": "report_building", "place": "address_place", "address_pick": "address_guess"}


def prompt_address(ctx: Context, step: str, pick: AddressPick, bound: Address | None = None,
                   public: bool = True) -> None:
    book = ctx.services.addresses
    items = _items(ctx, step, pick, bound, public)
    if step == "address_confirm" and bound is not None:
        ctx.say(ctx.t("report_bound_address", address=bound.label), *items, *nav(ctx))
        return
    if step == "place_near":
        place = book.place(pick.near) if pick.near is not None else None
        if place is not None:
            ctx.say(ctx.t("address_near", place=place.address.compound), *items, *nav(ctx))
            return
        step, items = "community", _items(ctx, "community", pick, bound, public)
    if not items:
        # A list that would be empty (guesses gone stale after a config change): start over.
        ctx.say(ctx.t("address_list_empty"))
        step, pick, items = "community", AddressPick(), _items(ctx, "community", AddressPick(), bound, public)
    ctx.say(ctx.t(_PROMPTS.get(step, "report_community")), *page_options(ctx, items, pick.page), *nav(ctx))


def address_back(step: str) -> str | None:
    """The address step before this one, or None when the address part is left."""
    return {"compound": "community", "building": "compound", "address_pick": "community",
            "place": "community"}.get(step)


def handle_address(
    ctx: Context, step: str, pick: AddressPick, bound: Address | None = None, public: bool = True
) -> tuple[str, Address | None, AddressPick]:
    """Apply one input: (step to prompt next, the chosen address once complete, the answers so far)."""
    book = ctx.services.addresses
    text = ctx.incoming.text.strip()
    items = _items(ctx, step, pick, bound, public)
    turn = page_turn(ctx, pick.page, len(items))
    if turn is not None:
        refuse_page(ctx, turn)
        return step, None, replace(pick, page=turn.page)
    button = ctx.pressed or typed_option(text, items)
    if bound and (button == BOUND or (step == "address_confirm" and text == ctx.t("yes"))):
        return step, bound, pick
    if button == OTHER:
        return "community", None, replace(pick, page=0, near=None)
    if button == NEAR and step == "place_near":
        place = book.place(pick.near) if pick.near is not None else None
        return step, place.address if place is not None else None, pick
    if button == PUBLIC and _public(ctx, public):
        return "place", None, replace(pick, page=0)
    if isinstance(button, PlaceButton) and public:
        place = book.place(button.index)
        return step, place.address if place is not None else None, replace(pick, detail="")
    if isinstance(button, CommunityButton):
        if button.community_id not in book.communities_with_addresses():
            return step, None, pick
        return "compound", None, replace(pick, community=button.community_id, detail="", page=0)
    if isinstance(button, CompoundButton):
        compound = book.compound_at(button.index)
        if compound is None:
            return step, None, pick
        return "building", None, replace(pick, compound=compound, page=0)
    if isinstance(button, BuildingButton):
        building = book.building(button.index)
        return step, building.address if building is not None else None, pick
    if claimed_kind(ctx.incoming.button) in (AddressButton, CommunityButton, CompoundButton, BuildingButton,
                                             PlaceButton):
        return step, None, pick  # forged or stale: the prompt again, as for an unknown one
    if text:
        return _typed(ctx, step, pick, text, public)
    ctx.say(ctx.t("report_use_buttons"))
    return step, None, pick


def _typed(ctx: Context, step: str, pick: AddressPick, text: str,
           public: bool) -> tuple[str, Address | None, AddressPick]:
    book = ctx.services.addresses
    exact = book.exact(text)
    if isinstance(exact, PlaceEntry):
        if public:
            return step, exact.address, replace(pick, detail="", guesses=())
    elif exact is not None and exact.building is not None:
        return step, exact.building.address, replace(pick, detail=clean_detail(exact.detail), guesses=())
    elif exact is not None:
        return "building", None, replace(pick, compound=exact.compound, detail="", page=0, guesses=())
    matches = book.match(text)
    places = book.match_places(text) if public else []
    if not matches and not places:
        ctx.say(ctx.t("address_not_found", text=text[:40]))
        return step, None, pick
    guesses = (*(Guess(m.compound, m.building.index if m.building else None) for m in matches),
               *(Guess(p.address.compound, None, p.index) for p in places))
    detail = matches[0].detail if matches else ""
    return "address_pick", None, replace(pick, guesses=guesses, detail=clean_detail(detail), page=0)
