"""Filing a finished report: the ticket, its photos, the resident's address and phone, and
the card to the grid it is routed to."""

from __future__ import annotations

from handlers.cards import grid_name, send_card
from handlers.context import Context
from handlers.dialog_state import end_dialog
from handlers.domain import tickets as moves
from handlers.domain.actors import ROUTER
from handlers.domain.working_time import deadlines
from handlers.flow_states import ReportState
from handlers.formatting import hours_text
from handlers.routing import route
from handlers.ticket_moves import must_apply, resident_actor
from storage import accounts, tickets
from storage.ticket_changes import file_ticket
from storage.tickets import NewTicket


async def submit(ctx: Context, state: ReportState) -> bool:
    """File the report; False (nothing written) when the config changed under the draft."""
    config = ctx.services.config
    category = config.category(state.category)
    address = state.address
    if category is None or address is None or ctx.services.addresses.find(address) is None:
        return False
    location = state.location
    ack_due_at, resolve_due_at = deadlines(config, category, ctx.now)
    actor = resident_actor(ctx)
    filed = moves.submit(actor, NewTicket(
        resident_id=ctx.account.resident_id, category_id=category.id,
        description=state.description, community_id=address.community_id,
        compound=address.compound, building=address.building, grid_id=address.grid_id,
        phone=state.phone or "", latitude=location[0] if location else None,
        longitude=location[1] if location else None, source_channel=ctx.incoming.channel,
        ack_due_at=ack_due_at, resolve_due_at=resolve_due_at, detail=state.flat or "",
    ))
    assert isinstance(filed, moves.Submission)  # a resident always may, for themself
    ticket_id = await file_ticket(ctx.conn, filed.ticket, filed.event, ctx.now)
    for ref in state.photos:
        await tickets.add_photo(ctx.conn, ticket_id, ctx.incoming.channel, ref, actor.id, ctx.now)
    for ref in state.voices:
        await tickets.add_photo(ctx.conn, ticket_id, ctx.incoming.channel, ref, actor.id, ctx.now,
                                tickets.AttachmentKind.VOICE)
    if not ctx.services.addresses.is_place(address):  # a home address is a building, never a park
        await accounts.bind_address(ctx.conn, ctx.account.resident_id, address.community_id,
                                    address.compound, address.building, address.grid_id)
    if state.phone:
        await accounts.save_phone(ctx.conn, ctx.account.resident_id, state.phone, shared=False)
    await dispatch_ticket(ctx, ticket_id)
    await end_dialog(ctx)
    ctx.say(ctx.t("report_submitted", id=ticket_id, grid=grid_name(ctx, address.grid_id),
                  ack=ctx.t("working_hours_span", span=hours_text(category.ack_hours))
                  if category.working_hours else hours_text(category.ack_hours)), main_keyboard=True)
    return True


async def dispatch_ticket(ctx: Context, ticket_id: int) -> None:
    """Route a new or reassigned ticket and put its card in the outbox."""
    ticket = await tickets.get_ticket(ctx.conn, ticket_id)
    assert ticket is not None
    routing = await route(ctx.conn, ctx.services.config, ticket)
    await must_apply(ctx, moves.route(ticket, ROUTER, routing.handover))
    await send_card(ctx, ticket, routing, "card_new")
