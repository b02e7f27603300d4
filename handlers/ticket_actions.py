"""The staff side: acknowledge (受理), resolve (办结), the card's 转派 button (the flow is in
handlers/reassign.py). The resident's rating is in handlers/rating.py."""

from __future__ import annotations

import logging

from handlers import reassign
from handlers.buttons import CANCEL, RateButton, TicketButton, TicketVerb
from handlers.cards import (
    category_name,
    media_reply,
    notify_resident,
    status_name,
)
from handlers.context import Context
from handlers.dialog_state import OpenDialog, begin_side_flow, end_dialog
from handlers.domain import tickets as moves
from handlers.domain.tickets import RESOLVABLE
from handlers.flow_states import Flow, ResolveState
from handlers.rendering import display_name, resident_text
from handlers.ticket_moves import authorized_ticket, carry_out, staff_actor
from handlers.types import Channel, Option, Recipient
from storage import tickets
from storage.accounts import accounts_of_resident
from storage.tickets import Attachment, AttachmentKind, Rating, Ticket

log = logging.getLogger(__name__)

RESOLVE_FLOW = Flow.RESOLVE
REASSIGN_FLOW = reassign.REASSIGN_FLOW


def _presser(ctx: Context) -> str:
    """Who pressed or typed, for the log: channel and platform user id, never message text."""
    return f"{ctx.incoming.channel}:{ctx.incoming.user_id}"


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
        await reassign.start_reassign(ctx, ticket)


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
