"""Choosing an address in chat: bound address, or community → compound → building, or typed."""

from __future__ import annotations

from dataclasses import asdict

from handlers.context import Context
from handlers.formatting import parse_id
from handlers.types import Address

ADDRESS_STEPS = ("address_confirm", "community", "compound", "building", "address_pick")


def nav(ctx: Context) -> tuple[tuple[str, str], ...]:
    return ((ctx.t("back"), "nav:back"), (ctx.t("cancel"), "nav:cancel"))


def first_address_step(bound: Address | None) -> str:
    return "address_confirm" if bound else "community"


def prompt_address(ctx: Context, step: str, data: dict) -> None:
    book = ctx.services.addresses
    if step == "address_confirm":
        bound = Address(**data["bound"])
        ctx.say(
            ctx.t("report_bound_address", address=bound.label),
            (ctx.t("yes"), "a:bound"), (ctx.t("report_other_address"), "a:other"), *nav(ctx),
        )
    elif step == "community":
        options = [(c.name, f"a:com:{c.id}") for c in ctx.services.config.communities]
        ctx.say(ctx.t("report_community"), *options, *nav(ctx))
    elif step == "compound":
        options = [
            (name, f"a:cpd:{book.compound_index(name)}")
            for name in book.compounds_of(data.get("community", ""))
        ]
        ctx.say(ctx.t("report_compound"), *options, *nav(ctx))
    elif step == "building":
        buildings = book.buildings_of(data.get("compound", ""))
        ctx.say(
            ctx.t("report_building"),
            *[(b.address.building, f"a:b:{b.index}") for b in buildings], *nav(ctx),
        )
    elif step == "address_pick":
        options = []
        for guess in data.get("guesses", []):
            if guess["building"] is not None:
                building = book.building(guess["building"])
                if building is not None:
                    options.append((building.address.label, f"a:b:{building.index}"))
            else:
                compound = guess["compound"]
                options.append((compound, f"a:cpd:{book.compound_index(compound)}"))
        ctx.say(ctx.t("address_guess"), *options, *nav(ctx))


def address_back(step: str) -> str | None:
    """The address step before this one, or None when the address part is left."""
    return {"compound": "community", "building": "compound", "address_pick": "community"}.get(step)


def handle_address(ctx: Context, step: str, data: dict) -> tuple[str, Address | None]:
    """Apply one input: (step to prompt next, the chosen address once complete)."""
    book = ctx.services.addresses
    button = ctx.incoming.button
    text = ctx.incoming.text.strip()
    if data.get("bound") and (button == "a:bound" or (step == "address_confirm" and text == ctx.t("yes"))):
        return step, Address(**data["bound"])
    if button == "a:other":
        return "community", None
    if button.startswith("a:com:"):
        community_id = button.removeprefix("a:com:")
        if ctx.services.config.community(community_id) is None:
            return _reprompt(ctx, step, data)
        data["community"] = community_id
        return "compound", None
    if button.startswith("a:cpd:"):
        compound = book.compound_at(_index(button))
        if compound is None:
            return _reprompt(ctx, step, data)
        data["compound"] = compound
        return "building", None
    if button.startswith("a:b:"):
        building = book.building(_index(button))
        if building is None:
            return _reprompt(ctx, step, data)
        return step, building.address
    if text:
        matches = book.match(text)
        if not matches:
            ctx.say(ctx.t("address_not_found", text=text[:40]))
            return _reprompt(ctx, step, data)
        data["guesses"] = [
            {"compound": m.compound, "building": m.building.index if m.building else None}
            for m in matches
        ]
        return "address_pick", None
    ctx.say(ctx.t("report_use_buttons"))
    return _reprompt(ctx, step, data)


def _reprompt(ctx: Context, step: str, data: dict) -> tuple[str, None]:
    """Stay on this step: the caller prompts it again."""
    return step, None


def _index(button: str) -> int:
    tail = button.rsplit(":", 1)[-1]
    index = parse_id(tail)
    return -1 if index is None else index


def address_dict(address: Address) -> dict:
    return asdict(address)
