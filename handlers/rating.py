"""The resident's rating of a resolved ticket: 满意 / 基本满意 close it; 不满意 asks why (one line,
or 跳过) and reopens it one level up, whose card carries her reason and what was done before."""

from __future__ import annotations

import logging

from handlers.buttons import CANCEL, RateButton, SkipReason
from handlers.cards import category_name, notify_followers, notify_staff, send_card
from handlers.context import Context
from handlers.dialog_state import OpenDialog, begin_side_flow, end_dialog
from handlers.domain import tickets as moves
from handlers.domain.tickets import (
    ALLOWED_FROM,
    COMPLAINT_LIMIT,
    Level,
    Move,
    fresh_deadlines,
    reopen_level,
)
from handlers.flow_states import ComplaintState, Flow
from handlers.rendering import resident_text
from handlers.routing import LEVEL_TEXT_KEYS, route
from handlers.ticket_moves import carry_out, resident_actor
from handlers.timeline import staff_history
from storage import tickets
from storage.tickets import EventAction, Rating, Ticket

log = logging.getLogger(__name__)

COMPLAINT_FLOW = Flow.COMPLAINT


def _presser(ctx: Context) -> str:
    """Who pressed, for the log: channel and platform user id, never message text."""
    return f"{ctx.incoming.channel}:{ctx.incoming.user_id}"


async def handle_rating(ctx: Context, button: RateButton | None) -> None:
    if button is None:
        # Forged, or from no version of ours.
        log.warning("refused rating button with malformed data %r by %s", ctx.incoming.button[:64], _presser(ctx))
        ctx.say(ctx.t("report_use_buttons"))
        return
    ticket = await _own_ticket(ctx, button.ticket_id)
    if ticket is None:
        return
    rating = button.rating
    if rating is not Rating.UNSATISFIED:
        done = moves.rate(ticket, resident_actor(ctx), rating)
        if await carry_out(ctx, ticket, done, "rate_not_now", "ticket_not_yours"):
            ctx.say(ctx.t("rate_thanks", id=ticket.id))
        return
    if ticket.status not in ALLOWED_FROM[Move.RATE]:
        ctx.say(ctx.t("rate_not_now", id=ticket.id))
        return
    # 不满意 asks why first: the level above gets the card with her reason on it.
    await begin_side_flow(ctx, COMPLAINT_FLOW, "reason", ComplaintState(ticket.id))
    _ask_why(ctx)


def _ask_why(ctx: Context) -> None:
    ctx.say(ctx.t("rate_why"), (ctx.t("rate_why_skip"), SkipReason()), (ctx.t("cancel"), CANCEL))


async def _own_ticket(ctx: Context, ticket_id: int) -> Ticket | None:
    """The presser's own ticket, or a refusal (rating someone else's is not possible)."""
    ticket = await tickets.get_ticket(ctx.conn, ticket_id)
    if ticket is None or ticket.resident_id != ctx.account.resident_id:
        log.warning("refused rating of ticket %s by %s: not the reporter", ticket_id, _presser(ctx))
        ctx.say(ctx.t("ticket_not_yours"))
        return None
    return ticket


async def handle_complaint(ctx: Context, dialog: OpenDialog) -> None:
    """Why 不满意: one line (跳过 for none), then the ticket is reopened one level up."""
    assert isinstance(dialog.state, ComplaintState)
    text = ctx.incoming.text.strip()
    skipped = ctx.pressed == SkipReason() or text == ctx.t("rate_why_skip")
    if not skipped and not text:
        _ask_why(ctx)  # a photo, a sticker, another button: the question stands
        return
    await end_dialog(ctx)
    ticket = await _own_ticket(ctx, dialog.state.ticket)
    if ticket is not None:
        await reopen_one_level_up(ctx, ticket, Rating.UNSATISFIED, "" if skipped else text)


async def reopen_one_level_up(ctx: Context, ticket: Ticket, rating: Rating, reason: str = "") -> None:
    """不满意: the ticket is reopened and the level above the grid (its guide first) is told,
    with her reason and what was done before (the 办结 note, what she added)."""
    routing = await route(ctx.conn, ctx.services.config, ticket, start=reopen_level(ticket))
    # The level actually reached (guide, or higher when nobody there is reachable) is recorded.
    # Those it is reopened to get the category's full time limits from now.
    due = fresh_deadlines(ctx.services.config, ticket, ctx.now)
    done = moves.rate(ticket, resident_actor(ctx), rating, (routing.handover, due), reason)
    if await carry_out(ctx, ticket, done, "rate_not_now", "ticket_not_yours") is None:
        return
    reopened = await tickets.get_ticket(ctx.conn, ticket.id)
    assert reopened is not None
    await send_card(ctx, reopened, routing, "card_escalated", note=await complaint_note(ctx, reopened))
    # Whoever handled it at grid level hears about the rating too.
    grid_level = await route(ctx.conn, ctx.services.config, reopened)
    if grid_level.level is Level.GRID:
        await notify_staff(ctx, grid_level, ctx.t("card_unsatisfied_grid", id=ticket.id,
                                                  level=ctx.t(LEVEL_TEXT_KEYS[routing.level])), ticket.id)
    # Followers learn the state change only: never her reason.
    await notify_followers(ctx, reopened, ctx.t("follower_reopened", id=ticket.id,
                                                category=category_name(ctx, ticket.category_id)))
    ctx.say(ctx.t("notice_reopened", id=ticket.id, level=ctx.t(LEVEL_TEXT_KEYS[routing.level])))


async def complaint_note(ctx: Context, ticket: Ticket) -> str:
    """The lines a card carries once the resident was 不满意: that, her (latest) reason, and the
    ticket's history for staff (the 办结 note, her 补充信息, …)."""
    events = await tickets.events_of(ctx.conn, ticket.id)
    reasons = [e.note for e in events if e.action == EventAction.RATED
               and e.data.get("rating") == Rating.UNSATISFIED.value]
    reason = (ctx.t("card_unsatisfied_reason", reason=resident_text(reasons[-1], COMPLAINT_LIMIT))
              if reasons and reasons[-1] else ctx.t("card_unsatisfied_no_reason"))
    return "\n".join((ctx.t("card_unsatisfied"), reason,
                      ctx.t("card_history", history=staff_history(ctx, events))))
