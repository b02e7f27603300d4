"""The staff side: acknowledge (受理), resolve (办结), reassign (转派); and the resident's rating."""

from __future__ import annotations

import logging

from rapidfuzz import fuzz, process

from handlers.button_codec import Button
from handlers.buttons import CANCEL, RateButton, TicketButton, TicketVerb
from handlers.cards import (
    category_name,
    grid_name,
    media_reply,
    notify_followers,
    notify_resident,
    notify_staff,
    send_card,
    status_name,
)
from handlers.context import Context
from handlers.dialog_state import OpenDialog, begin_side_flow, end_dialog
from handlers.domain import tickets as moves
from handlers.domain.actors import may_act
from handlers.domain.tickets import RESOLVABLE, Level, fresh_deadlines, reopen_level
from handlers.flow_states import Flow, ReassignState, ResolveState
from handlers.rendering import display_name, resident_text
from handlers.routing import LEVEL_TEXT_KEYS, route
from handlers.ticket_moves import carry_out, resident_actor, staff_actor
from handlers.types import Channel, Option, Recipient
from storage import tickets
from storage.accounts import accounts_of_resident
from storage.tickets import Attachment, AttachmentKind, Rating, Ticket

log = logging.getLogger(__name__)

RESOLVE_FLOW = Flow.RESOLVE
REASSIGN_FLOW = Flow.REASSIGN


def _presser(ctx: Context) -> str:
    """Who pressed or typed, for the log: channel and platform user id, never message text."""
    return f"{ctx.incoming.channel}:{ctx.incoming.user_id}"


async def authorized_ticket(ctx: Context, ticket_id: int) -> Ticket | None:
    """The ticket if the presser may act on it; otherwise a polite refusal and None."""
    ticket = await tickets.get_ticket(ctx.conn, ticket_id)
    if ticket is None:
        log.warning("refused action on missing ticket %s by %s", ticket_id, _presser(ctx))
        ctx.say(ctx.t("ticket_missing", id=ticket_id))
        return None
    if not may_act(ctx.services.config, ctx.person, ticket):
        # Checked here, server-side: button data alone never grants anything.
        log.warning("refused action on ticket %s by %s", ticket_id, _presser(ctx))
        ctx.say(ctx.t("not_allowed"))
        return None
    return ticket


async def handle_ticket_button(ctx: Context, button: TicketButton | None) -> None:
    if button is None:
        _refuse_malformed(ctx, "ticket")
        return
    ticket = await authorized_ticket(ctx, button.ticket_id)
    if ticket is None:
        return
    if button.verb is TicketVerb.ACK:
        await acknowledge(ctx, ticket)
    elif button.verb is TicketVerb.RESOLVE:
        await start_resolve(ctx, ticket)
    else:
        await start_reassign(ctx, ticket)


def _refuse_malformed(ctx: Context, what: str) -> None:
    """Ticket or rating button data that does not decode: forged, or from no version of ours."""
    log.warning("refused %s button with malformed data %r by %s", what, ctx.incoming.button[:64], _presser(ctx))
    ctx.say(ctx.t("report_use_buttons"))


async def acknowledge(ctx: Context, ticket: Ticket) -> None:
    done = moves.acknowledge(ticket, staff_actor(ctx), ctx.services.config)
    if await carry_out(ctx, ticket, done, "ack_already") is None:
        return
    assert ctx.person is not None
    step = {"id": ticket.id, "category": category_name(ctx, ticket.category_id),
            "role": ctx.t(f"role_{ctx.person.role}"), "name": display_name(ctx.person.name)}
    await notify_resident(ctx, ticket, ctx.t("notice_acknowledged", **step),
                          followers=ctx.t("follower_acknowledged", **step))
    ctx.say(ctx.t("ack_done", id=ticket.id),
            (ctx.t("action_resolve"), TicketButton(TicketVerb.RESOLVE, ticket.id)))


async def start_resolve(ctx: Context, ticket: Ticket) -> None:
    if ticket.status not in RESOLVABLE:
        ctx.say(ctx.t("resolve_not_open", id=ticket.id, status=status_name(ctx, ticket.status)))
        return
    await begin_side_flow(ctx, RESOLVE_FLOW, "note", ResolveState(ticket.id))
    ctx.say(ctx.t("resolve_prompt"), (ctx.t("cancel"), CANCEL))


async def handle_resolve(ctx: Context, dialog: OpenDialog) -> None:
    assert isinstance(dialog.state, ResolveState)
    ticket = await authorized_ticket(ctx, dialog.state.ticket)
    if ticket is None:
        await end_dialog(ctx)
        return
    note = ctx.incoming.text.strip()
    if ticket.status in RESOLVABLE and not note and not ctx.incoming.photos:
        ctx.say(ctx.t("resolve_prompt"), (ctx.t("cancel"), CANCEL))
        return
    await end_dialog(ctx)
    await resolve(ctx, ticket, note, ctx.incoming.photos)


async def resolve(ctx: Context, ticket: Ticket, note: str, photos: tuple[str, ...] = ()) -> bool:
    """办结 with a note and/or photos: the ticket, its audit row, the resident's rating request."""
    actor, note = staff_actor(ctx), note.strip() or ctx.t("event_photo_added")
    done = moves.resolve(ticket, actor, ctx.services.config, note, len(photos))
    if await carry_out(ctx, ticket, done, "resolve_not_open") is None:
        return False
    for ref in photos:
        await tickets.add_photo(ctx.conn, ticket.id, ctx.incoming.channel, ref, actor.id, ctx.now)
    await _show_result_photos(ctx, ticket, photos)
    category = category_name(ctx, ticket.category_id)
    await notify_resident(
        ctx, ticket, ctx.t("notice_resolved", id=ticket.id, category=category, note=resident_text(note, 200)),
        rating_options(ctx, ticket.id), followers=ctx.t("follower_resolved", id=ticket.id, category=category))
    ctx.say(ctx.t("resolve_done", id=ticket.id))
    return True


async def _show_result_photos(ctx: Context, ticket: Ticket, photos: tuple[str, ...]) -> None:
    """The photos of the 办结 reach the reporter as photos, before the rating request (the sender
    fetches and re-uploads one taken on another platform). Followers get the state change only."""
    caption = ctx.t("resolve_photo", id=ticket.id)
    for account in await accounts_of_resident(ctx.conn, ticket.resident_id):
        channel = Channel(account.channel)
        for ref in photos:
            reply = media_reply(Attachment(ctx.incoming.channel, ref, AttachmentKind.PHOTO), channel, caption)
            ctx.notify(Recipient(channel, account.chat_id), reply, "resident_notice", ticket.id)


def rating_options(ctx: Context, ticket_id: int) -> tuple[Option, ...]:
    return (
        Option(ctx.t("rate_satisfied"), RateButton(ticket_id, Rating.SATISFIED).encode()),
        Option(ctx.t("rate_mostly"), RateButton(ticket_id, Rating.MOSTLY).encode()),
        Option(ctx.t("rate_unsatisfied"), RateButton(ticket_id, Rating.UNSATISFIED).encode()),
    )


def may_reassign(ctx: Context, ticket: Ticket) -> bool:
    """Only an open ticket can move; otherwise the sender is told why."""
    if not ticket.is_open:
        ctx.say(ctx.t("ticket_closed_already", id=ticket.id, status=status_name(ctx, ticket.status)))
    return ticket.is_open


async def start_reassign(ctx: Context, ticket: Ticket) -> None:
    if not may_reassign(ctx, ticket):
        return
    await begin_side_flow(ctx, REASSIGN_FLOW, "grid", ReassignState(ticket.id))
    ctx.say(ctx.t("reassign_prompt"), (ctx.t("cancel"), CANCEL))


def _find_grid(ctx: Context, text: str) -> str | None:
    grids = ctx.services.config.grids
    wanted = text.strip().upper()
    exact = next((g.id for g in grids if g.id.upper() == wanted), None)
    if exact:
        return exact
    names = {g.name: g.id for g in grids}
    best = process.extractOne(text.strip(), list(names), scorer=fuzz.WRatio, score_cutoff=80)
    return names[best[0]] if best else None


def pick_grid(
    ctx: Context, ticket: Ticket, text: str, *options: tuple[str, Button],
    unknown_key: str = "reassign_grid_unknown",
) -> str | None:
    """The grid a ticket may be moved to, from an id or a name; otherwise a message and None."""
    grid_id = _find_grid(ctx, text) if text.strip() else None
    if grid_id is None:
        ctx.say(ctx.t(unknown_key, text=text.strip()[:20], id=ticket.id), *options)
        return None
    if grid_id == ticket.grid_id:
        ctx.say(ctx.t("reassign_same_grid"), *options)
        return None
    return grid_id


async def ask_reassign_reason(ctx: Context, ticket: Ticket, grid_id: str) -> None:
    await begin_side_flow(ctx, REASSIGN_FLOW, "reason", ReassignState(ticket.id, grid_id))
    ctx.say(ctx.t("reassign_reason", grid=grid_name(ctx, grid_id)), (ctx.t("cancel"), CANCEL))


async def handle_reassign(ctx: Context, dialog: OpenDialog) -> None:
    state = dialog.state
    assert isinstance(state, ReassignState)
    ticket = await authorized_ticket(ctx, state.ticket)
    if ticket is None or not may_reassign(ctx, ticket):
        await end_dialog(ctx)
        return
    text = ctx.incoming.text.strip()
    if dialog.step == "grid":
        grid_id = pick_grid(ctx, ticket, text, (ctx.t("cancel"), CANCEL))
        if grid_id is not None:
            await ask_reassign_reason(ctx, ticket, grid_id)
        return
    if not text:
        ctx.say(ctx.t("reassign_reason", grid=grid_name(ctx, state.grid)))
        return
    await end_dialog(ctx)
    await reassign(ctx, ticket, state.grid, text)


async def reassign(ctx: Context, ticket: Ticket, grid_id: str, reason: str) -> None:
    """转派 to a checked grid: fresh deadlines, the audit row, the new grid's card, the resident."""
    grid = ctx.services.config.grid(grid_id)
    assert grid is not None
    # The new grid gets the category's full time limits from now, not the old (maybe past) ones.
    done = moves.reassign(ticket, staff_actor(ctx), ctx.services.config, grid, reason,
                          fresh_deadlines(ctx.services.config, ticket, ctx.now))
    if await carry_out(ctx, ticket, done, "ticket_closed_already") is None:
        return
    reason = done.event.note
    moved = await tickets.get_ticket(ctx.conn, ticket.id)
    assert moved is not None
    routing = await route(ctx.conn, ctx.services.config, moved)
    await send_card(ctx, moved, routing, "card_reassigned", note=ctx.t("card_reassign_reason", reason=resident_text(reason)))
    await notify_resident(ctx, moved, ctx.t("notice_reassigned", id=ticket.id, grid=grid.name),
                          followers=ctx.t("follower_reassigned", id=ticket.id, grid=grid.name))
    ctx.say(ctx.t("reassign_done", id=ticket.id, grid=grid.name))


async def handle_rating(ctx: Context, button: RateButton | None) -> None:
    if button is None:
        _refuse_malformed(ctx, "rating")
        return
    ticket_id = button.ticket_id
    ticket = await tickets.get_ticket(ctx.conn, ticket_id)
    if ticket is None or ticket.resident_id != ctx.account.resident_id:
        log.warning("refused rating of ticket %s by %s: not the reporter", ticket_id, _presser(ctx))
        ctx.say(ctx.t("ticket_not_yours"))
        return
    rating = button.rating
    if rating is not Rating.UNSATISFIED:
        done = moves.rate(ticket, resident_actor(ctx), rating)
        if await carry_out(ctx, ticket, done, "rate_not_now", "ticket_not_yours"):
            ctx.say(ctx.t("rate_thanks", id=ticket.id))
        return
    await reopen_one_level_up(ctx, ticket, rating)


async def reopen_one_level_up(ctx: Context, ticket: Ticket, rating: Rating) -> None:
    """不满意: the ticket is reopened and the level above the grid (its guide first) is told."""
    routing = await route(ctx.conn, ctx.services.config, ticket, start=reopen_level(ticket))
    # The level actually reached (guide, or higher when nobody there is reachable) is recorded.
    # Those it is reopened to get the category's full time limits from now.
    due = fresh_deadlines(ctx.services.config, ticket, ctx.now)
    done = moves.rate(ticket, resident_actor(ctx), rating, (routing.handover, due))
    if await carry_out(ctx, ticket, done, "rate_not_now", "ticket_not_yours") is None:
        return
    reopened = await tickets.get_ticket(ctx.conn, ticket.id)
    assert reopened is not None
    await send_card(ctx, reopened, routing, "card_escalated", note=ctx.t("card_unsatisfied"))
    # Whoever handled it at grid level hears about the rating too.
    grid_level = await route(ctx.conn, ctx.services.config, reopened)
    if grid_level.level is Level.GRID:
        await notify_staff(ctx, grid_level, ctx.t("card_unsatisfied_grid", id=ticket.id,
                                                  level=ctx.t(LEVEL_TEXT_KEYS[routing.level])), ticket.id)
    await notify_followers(ctx, reopened, ctx.t("follower_reopened", id=ticket.id,
                                                category=category_name(ctx, ticket.category_id)))
    ctx.say(ctx.t("notice_reopened", id=ticket.id, level=ctx.t(LEVEL_TEXT_KEYS[routing.level])))
