"""The staff side: acknowledge (受理), resolve (办结), reassign (转派); and the resident's rating."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from rapidfuzz import fuzz, process

from handlers.cards import (
    category_name,
    grid_name,
    notify_resident,
    notify_staff,
    send_card,
    status_name,
)
from handlers.context import Context
from handlers.dialog_state import begin_side_flow, end_dialog
from handlers.routing import LEVEL_TEXT_KEYS, Level, may_act, route
from handlers.types import Option
from storage import tickets
from storage.clock import stamp
from storage.dialogs import Dialog, save_dialog
from storage.tickets import EventAction, Rating, Ticket, TicketStatus

log = logging.getLogger(__name__)

RESOLVE_FLOW = "resolve"
REASSIGN_FLOW = "reassign"
ACKABLE = (TicketStatus.NEW, TicketStatus.ROUTED, TicketStatus.REOPENED)
RESOLVABLE = (*ACKABLE, TicketStatus.ACKNOWLEDGED)


async def _authorized_ticket(ctx: Context, ticket_id: int) -> Ticket | None:
    """The ticket if the presser may act on it; otherwise a polite refusal and None."""
    ticket = await tickets.get_ticket(ctx.conn, ticket_id)
    if ticket is None:
        ctx.say(ctx.t("ticket_missing", id=ticket_id))
        return None
    if not may_act(ctx.services.config, ctx.person, ticket):
        # Checked here, server-side: button data alone never grants anything.
        log.warning("refused action on ticket %s by %s:%s", ticket_id,
                    ctx.incoming.channel, ctx.incoming.user_id)
        ctx.say(ctx.t("not_allowed"))
        return None
    return ticket


def fresh_deadlines(ctx: Context, ticket: Ticket) -> tuple[datetime, datetime]:
    """(ack_due_at, resolve_due_at) counted from now, for whoever is handed the ticket next.

    From the category's ack_hours / resolve_hours; if the category has since left config,
    the ticket's own original spans are used again.
    """
    category = ctx.services.config.category(ticket.category_id)
    if category is not None:
        ack, resolve = timedelta(hours=category.ack_hours), timedelta(hours=category.resolve_hours)
    else:
        ack, resolve = ticket.ack_due_at - ticket.created_at, ticket.resolve_due_at - ticket.created_at
    return ctx.now + ack, ctx.now + resolve


def _deadline_data(ack_due_at: datetime, resolve_due_at: datetime) -> dict[str, str]:
    return {"ack_due_at": stamp(ack_due_at), "resolve_due_at": stamp(resolve_due_at)}


def _actor(ctx: Context) -> str:
    return ctx.person.id if ctx.person else str(ctx.account.resident_id)


async def handle_ticket_button(ctx: Context) -> None:
    _, verb, raw_id = (ctx.incoming.button.split(":") + ["", ""])[:3]
    if not raw_id.isdigit():
        ctx.say(ctx.t("report_use_buttons"))
        return
    ticket = await _authorized_ticket(ctx, int(raw_id))
    if ticket is None:
        return
    if verb == "ack":
        await acknowledge(ctx, ticket)
    elif verb == "res":
        await start_resolve(ctx, ticket)
    elif verb == "re":
        await start_reassign(ctx, ticket)
    else:
        ctx.say(ctx.t("report_use_buttons"))


async def acknowledge(ctx: Context, ticket: Ticket) -> None:
    if ticket.status not in ACKABLE:
        ctx.say(ctx.t("ack_already", id=ticket.id, status=status_name(ctx, ticket.status)))
        return
    await tickets.update_ticket(ctx.conn, ticket.id, ctx.now, status=TicketStatus.ACKNOWLEDGED)
    await tickets.add_event(ctx.conn, ticket.id, ctx.now, "person", _actor(ctx), EventAction.ACKNOWLEDGED)
    assert ctx.person is not None
    await notify_resident(ctx, ticket, ctx.t(
        "notice_acknowledged", id=ticket.id, category=category_name(ctx, ticket.category_id),
        role=ctx.t(f"role_{ctx.person.role}"), name=ctx.person.name,
    ))
    ctx.say(ctx.t("ack_done", id=ticket.id),
            (ctx.t("action_resolve"), f"t:res:{ticket.id}"))


async def start_resolve(ctx: Context, ticket: Ticket) -> None:
    if ticket.status not in RESOLVABLE:
        ctx.say(ctx.t("resolve_not_open", id=ticket.id, status=status_name(ctx, ticket.status)))
        return
    await begin_side_flow(ctx, Dialog(RESOLVE_FLOW, "note", {"ticket": ticket.id}))
    ctx.say(ctx.t("resolve_prompt"), (ctx.t("cancel"), "nav:cancel"))


async def handle_resolve(ctx: Context, dialog: Dialog) -> None:
    ticket = await _authorized_ticket(ctx, int(dialog.data["ticket"]))
    if ticket is None:
        await end_dialog(ctx)
        return
    if ticket.status not in RESOLVABLE:
        await end_dialog(ctx)
        ctx.say(ctx.t("resolve_not_open", id=ticket.id, status=status_name(ctx, ticket.status)))
        return
    note = ctx.incoming.text.strip()
    if not note and not ctx.incoming.photos:
        ctx.say(ctx.t("resolve_prompt"), (ctx.t("cancel"), "nav:cancel"))
        return
    for ref in ctx.incoming.photos:
        await tickets.add_photo(ctx.conn, ticket.id, ctx.incoming.channel, ref, _actor(ctx), ctx.now)
    note = note or ctx.t("event_photo_added")
    await tickets.update_ticket(ctx.conn, ticket.id, ctx.now, status=TicketStatus.RESOLVED,
                                result_note=note[:500])
    await tickets.add_event(ctx.conn, ticket.id, ctx.now, "person", _actor(ctx), EventAction.RESOLVED,
                            note=note[:500], data={"photos": len(ctx.incoming.photos)})
    await end_dialog(ctx)
    await notify_resident(ctx, ticket, ctx.t(
        "notice_resolved", id=ticket.id, category=category_name(ctx, ticket.category_id), note=note[:200],
    ), rating_options(ctx, ticket.id))
    ctx.say(ctx.t("resolve_done", id=ticket.id))


def rating_options(ctx: Context, ticket_id: int) -> tuple[Option, ...]:
    return (
        Option(ctx.t("rate_satisfied"), f"rate:{ticket_id}:{Rating.SATISFIED.value}"),
        Option(ctx.t("rate_mostly"), f"rate:{ticket_id}:{Rating.MOSTLY.value}"),
        Option(ctx.t("rate_unsatisfied"), f"rate:{ticket_id}:{Rating.UNSATISFIED.value}"),
    )


async def start_reassign(ctx: Context, ticket: Ticket) -> None:
    if not ticket.is_open:
        ctx.say(ctx.t("ticket_closed_already", id=ticket.id, status=status_name(ctx, ticket.status)))
        return
    await begin_side_flow(ctx, Dialog(REASSIGN_FLOW, "grid", {"ticket": ticket.id}))
    ctx.say(ctx.t("reassign_prompt"), (ctx.t("cancel"), "nav:cancel"))


def _find_grid(ctx: Context, text: str) -> str | None:
    grids = ctx.services.config.grids
    wanted = text.strip().upper()
    exact = next((g.id for g in grids if g.id.upper() == wanted), None)
    if exact:
        return exact
    names = {g.name: g.id for g in grids}
    best = process.extractOne(text.strip(), list(names), scorer=fuzz.WRatio, score_cutoff=80)
    return names[best[0]] if best else None


async def handle_reassign(ctx: Context, dialog: Dialog) -> None:
    ticket = await _authorized_ticket(ctx, int(dialog.data["ticket"]))
    if ticket is None or not ticket.is_open:
        await end_dialog(ctx)
        if ticket is not None:
            ctx.say(ctx.t("ticket_closed_already", id=ticket.id, status=status_name(ctx, ticket.status)))
        return
    text = ctx.incoming.text.strip()
    if dialog.step == "grid":
        grid_id = _find_grid(ctx, text) if text else None
        if grid_id is None:
            ctx.say(ctx.t("reassign_grid_unknown", text=text[:20]), (ctx.t("cancel"), "nav:cancel"))
            return
        if grid_id == ticket.grid_id:
            ctx.say(ctx.t("reassign_same_grid"), (ctx.t("cancel"), "nav:cancel"))
            return
        await save_dialog(ctx.conn, ctx.incoming.channel, ctx.incoming.user_id,
                          Dialog(REASSIGN_FLOW, "reason", {**dialog.data, "grid": grid_id}), ctx.now)
        ctx.say(ctx.t("reassign_reason", grid=grid_name(ctx, grid_id)), (ctx.t("cancel"), "nav:cancel"))
        return
    if not text:
        ctx.say(ctx.t("reassign_reason", grid=grid_name(ctx, dialog.data["grid"])))
        return
    await reassign(ctx, ticket, dialog.data["grid"], text[:300])


async def reassign(ctx: Context, ticket: Ticket, grid_id: str, reason: str) -> None:
    grid = ctx.services.config.grid(grid_id)
    assert grid is not None
    # The new grid gets the category's full time limits from now, not the old (maybe past) ones.
    ack_due_at, resolve_due_at = fresh_deadlines(ctx, ticket)
    await tickets.update_ticket(ctx.conn, ticket.id, ctx.now, status=TicketStatus.ROUTED,
                                grid_id=grid.id, community_id=grid.community,
                                ack_due_at=ack_due_at, resolve_due_at=resolve_due_at)
    await tickets.add_event(ctx.conn, ticket.id, ctx.now, "person", _actor(ctx), EventAction.REASSIGNED,
                            note=reason, data={"from": ticket.grid_id, "to": grid.id,
                                               **_deadline_data(ack_due_at, resolve_due_at)})
    await end_dialog(ctx)
    moved = await tickets.get_ticket(ctx.conn, ticket.id)
    assert moved is not None
    routing = await route(ctx.conn, ctx.services.config, moved)
    await send_card(ctx, moved, routing, "card_reassigned", note=reason)
    await notify_resident(ctx, moved, ctx.t("notice_reassigned", id=ticket.id, grid=grid.name))
    ctx.say(ctx.t("reassign_done", id=ticket.id, grid=grid.name))


async def handle_rating(ctx: Context) -> None:
    parts = ctx.incoming.button.split(":")
    if len(parts) != 3 or not parts[1].isdigit() or parts[2] not in {r.value for r in Rating}:
        ctx.say(ctx.t("report_use_buttons"))
        return
    ticket = await tickets.get_ticket(ctx.conn, int(parts[1]))
    if ticket is None or ticket.resident_id != ctx.account.resident_id:
        ctx.say(ctx.t("ticket_not_yours"))
        return
    if ticket.status is not TicketStatus.RESOLVED:
        ctx.say(ctx.t("rate_not_now", id=ticket.id))
        return
    rating = Rating(parts[2])
    actor = str(ctx.account.resident_id)
    await tickets.add_event(ctx.conn, ticket.id, ctx.now, "resident", actor, EventAction.RATED,
                            data={"rating": rating.value})
    if rating is not Rating.UNSATISFIED:
        await tickets.update_ticket(ctx.conn, ticket.id, ctx.now, status=TicketStatus.CLOSED, rating=rating)
        await tickets.add_event(ctx.conn, ticket.id, ctx.now, "system", "rating", EventAction.CLOSED)
        ctx.say(ctx.t("rate_thanks", id=ticket.id))
        return
    await reopen_one_level_up(ctx, ticket, rating)


async def reopen_one_level_up(ctx: Context, ticket: Ticket, rating: Rating) -> None:
    """不满意: the ticket is reopened and the level above the grid (its guide first) is told."""
    wanted = Level(min(max(ticket.escalation_level + 1, Level.GUIDE), Level.SUBDISTRICT))
    routing = await route(ctx.conn, ctx.services.config, ticket, start=wanted)
    # The level actually reached (guide, or higher when nobody there is reachable) is recorded.
    # Those it is reopened to get the category's full time limits from now.
    ack_due_at, resolve_due_at = fresh_deadlines(ctx, ticket)
    await tickets.update_ticket(ctx.conn, ticket.id, ctx.now, status=TicketStatus.REOPENED,
                                rating=rating, escalation_level=int(routing.level),
                                ack_due_at=ack_due_at, resolve_due_at=resolve_due_at)
    await tickets.add_event(ctx.conn, ticket.id, ctx.now, "system", "rating", EventAction.REOPENED,
                            data={"level": int(routing.level), "people": [p.id for p in routing.people],
                                  **_deadline_data(ack_due_at, resolve_due_at)})
    reopened = await tickets.get_ticket(ctx.conn, ticket.id)
    assert reopened is not None
    await send_card(ctx, reopened, routing, "card_escalated", note=ctx.t("card_unsatisfied"))
    # Whoever handled it at grid level hears about the rating too.
    grid_level = await route(ctx.conn, ctx.services.config, reopened)
    if grid_level.level is Level.GRID:
        await notify_staff(ctx, grid_level, ctx.t("card_unsatisfied_grid", id=ticket.id,
                                                  level=ctx.t(LEVEL_TEXT_KEYS[routing.level])), ticket.id)
    ctx.say(ctx.t("notice_reopened", id=ticket.id, level=ctx.t(LEVEL_TEXT_KEYS[routing.level])))
