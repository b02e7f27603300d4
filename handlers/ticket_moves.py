"""A flow's side of a ticket transition: who is acting, applying it, or telling them why not.

The transitions themselves (who may, from which state, what changes) are pure functions in
handlers/domain/tickets.py; storage.ticket_changes.apply_transition writes one.
"""

from __future__ import annotations

import logging

from handlers.cards import status_name
from handlers.context import Context
from handlers.domain.actors import Actor, may_act
from handlers.domain.tickets import Refusal, Transition
from storage.ticket_changes import apply_transition
from storage.tickets import Ticket, get_ticket

log = logging.getLogger(__name__)


async def authorized_ticket(ctx: Context, ticket_id: int) -> Ticket | None:
    """The ticket if the presser may act on it; otherwise a polite refusal and None."""
    ticket = await get_ticket(ctx.conn, ticket_id)
    presser = f"{ctx.incoming.channel}:{ctx.incoming.user_id}"  # never message text
    if ticket is None:
        log.warning("refused action on missing ticket %s by %s", ticket_id, presser)
        ctx.say(ctx.t("ticket_missing", id=ticket_id))
        return None
    if not may_act(ctx.services.config, ctx.person, ticket):
        # Checked here, server-side: button data alone never grants anything.
        log.warning("refused action on ticket %s by %s", ticket_id, presser)
        ctx.say(ctx.t("not_allowed"))
        return None
    return ticket


def staff_actor(ctx: Context) -> Actor:
    """The bound staff member pressing or typing (flows check ctx.person before a staff move)."""
    assert ctx.person is not None
    return Actor.staff(ctx.person)


def resident_actor(ctx: Context) -> Actor:
    """The presser as a resident: reporting, rating, cancelling (staff report as residents too)."""
    return Actor.resident(ctx.account.resident_id)


async def apply(ctx: Context, transition: Transition) -> bool:
    """Write the transition; False (nothing written) if the ticket left the state it was
    decided on, which the single writer makes rare: a handler reads and writes in one
    transaction."""
    if await apply_transition(ctx.conn, transition.change, transition.events, ctx.now):
        return True
    log.warning("stale %s on ticket %s by %s:%s: its state changed first", transition.move,
                transition.change.ticket_id, ctx.incoming.channel, ctx.incoming.user_id)
    return False


async def carry_out(
    ctx: Context, ticket: Ticket, result: Transition | Refusal, wrong_state: str,
    not_allowed: str = "not_allowed",
) -> Transition | None:
    """Apply the transition; otherwise tell the presser why not (text keys: `wrong_state`
    with the ticket's id and current state, `not_allowed`) and return None."""
    if isinstance(result, Transition):
        if await apply(ctx, result):
            return result
        ticket = await get_ticket(ctx.conn, ticket.id) or ticket  # answered as of its new state
        result = Refusal.WRONG_STATE
    key = {Refusal.NOT_ALLOWED: not_allowed, Refusal.SAME_GRID: "reassign_same_grid"}.get(result, wrong_state)
    ctx.say(ctx.t(key, id=ticket.id, status=status_name(ctx, ticket.status)))
    return None


async def must_apply(ctx: Context, result: Transition | Refusal) -> Transition:
    """For moves the flow has just made possible (routing the ticket it filed): a refusal
    here is a bug, and raising rolls the whole handling back."""
    if isinstance(result, Refusal) or not await apply(ctx, result):
        raise RuntimeError(f"ticket transition refused: {result}")
    return result
