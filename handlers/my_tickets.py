"""My tickets: status and history, add information, cancel; and the staff's open list."""

from __future__ import annotations

from handlers.buttons import CANCEL, ListKind, MyTicketButton, MyTicketVerb, ShowMyTicket
from handlers.cards import (
    card_replies,
    category_name,
    holders,
    media_reply,
    notify_followers,
    notify_holders,
    status_name,
)
from handlers.context import Context
from handlers.dialog_state import OpenDialog, begin_side_flow, end_dialog
from handlers.domain import tickets as moves
from handlers.domain.actors import may_act
from handlers.domain.model import Role
from handlers.flow_states import AddInfoState, Flow
from handlers.paging import list_page_options, page_note, shown_page
from handlers.rendering import full_address, one_line, resident_text
from handlers.ticket_actions import rating_options
from handlers.ticket_moves import carry_out, resident_actor
from handlers.timeline import resident_history
from handlers.types import Option, Reply
from storage import outbox, tickets
from storage.accounts import accounts_of_resident
from storage.tickets import Attachment, AttachmentKind, EventAction, Ticket, TicketStatus

ADD_INFO_FLOW = Flow.ADD_INFO
MAX_INFO = 500
UNDELIVERED_SHOWN = 10  # the newest; older ones are only counted (the history has them)
UNDELIVERED_CLIP = 60


async def show_my_tickets(ctx: Context) -> None:
    await show_undelivered(ctx)
    await show_my_tickets_page(ctx, 0)


async def show_my_tickets_page(ctx: Context, page: int) -> None:
    """我的工单, nine a page with 更多 / 上一页 (a page button names the list and the page)."""
    mine = await tickets.tickets_of_resident(ctx.conn, ctx.account.resident_id)
    if not mine:
        ctx.say(ctx.t("my_tickets_none"))
        return
    page = shown_page(ctx, page, len(mine))
    items = [(ctx.t("my_ticket_line", id=t.id, category=category_name(ctx, t.category_id),
                    status=status_name(ctx, t.status)), ShowMyTicket(t.id)) for t in mine]
    ctx.say(ctx.t("my_tickets_list") + page_note(ctx, page, len(mine)),
            *await list_page_options(ctx, ListKind.MY_TICKETS, items, page))


async def show_undelivered(ctx: Context) -> None:
    """Notices that never reached the resident (e.g. WeChat's 48 h window closed), shown once."""
    mine = [(a.channel, a.chat_id) for a in await accounts_of_resident(ctx.conn, ctx.account.resident_id)]
    missed = await outbox.undelivered_for(ctx.conn, mine)
    if not missed:
        return
    lines: list[str] = []
    for notice in missed:  # the same notice to two of the resident's accounts is shown once
        line = ctx.t("undelivered_line", id=notice.ticket_id,
                     text=one_line(notice.text, UNDELIVERED_CLIP))
        if line not in lines:
            lines.append(line)
    shown = lines[-UNDELIVERED_SHOWN:]
    if len(lines) > len(shown):
        shown.append(ctx.t("undelivered_more", count=len(lines) - len(shown)))
    ctx.say("\n".join([ctx.t("undelivered_header"), *shown]))
    await outbox.mark_shown(ctx.conn, [notice.id for notice in missed], ctx.now)


async def _own_ticket(ctx: Context, ticket_id: int | None) -> Ticket | None:
    """The presser's ticket; anything else (not theirs, none, my: data naming none) gets one answer."""
    ticket = await tickets.get_ticket(ctx.conn, ticket_id) if ticket_id is not None else None
    if ticket is None or ticket.resident_id != ctx.account.resident_id:
        ctx.say(ctx.t("ticket_not_yours"))
        return None
    return ticket


async def handle_my_button(ctx: Context, button: ShowMyTicket | MyTicketButton | None) -> None:
    """my:<id> detail, my:add:<id>, my:cancel:<id>, my:cancelok:<id>."""
    ticket = await _own_ticket(ctx, button.ticket_id if button is not None else None)
    if ticket is None:
        return
    verb = button.verb if isinstance(button, MyTicketButton) else None
    if verb is None:
        await show_ticket(ctx, ticket)
    elif verb is MyTicketVerb.ADD_INFO:
        if not _still_open(ctx, ticket):
            return
        await begin_side_flow(ctx, ADD_INFO_FLOW, "text", AddInfoState(ticket.id))
        ctx.say(ctx.t("add_info_prompt", id=ticket.id), (ctx.t("cancel"), CANCEL))
    elif verb is MyTicketVerb.CANCEL:
        if _still_open(ctx, ticket):
            ctx.say(ctx.t("cancel_confirm", id=ticket.id),
                    (ctx.t("cancel_confirm_yes"), MyTicketButton(MyTicketVerb.CANCEL_CONFIRMED, ticket.id)),
                    (ctx.t("back"), ShowMyTicket(ticket.id)))
    else:
        await cancel_ticket(ctx, ticket)


def _still_open(ctx: Context, ticket: Ticket) -> bool:
    if ticket.is_open:
        return True
    ctx.say(ctx.t("ticket_closed_already", id=ticket.id, status=status_name(ctx, ticket.status)))
    return False


async def show_ticket(ctx: Context, ticket: Ticket) -> None:
    events = await tickets.events_of(ctx.conn, ticket.id)
    text = ctx.t(
        "ticket_detail", id=ticket.id, category=category_name(ctx, ticket.category_id),
        address=full_address(ticket.address, ticket.detail), description=resident_text(ticket.description),
        status=status_name(ctx, ticket.status), history=resident_history(ctx, events),
    )
    options: tuple[Option, ...] = ()
    if ticket.is_open:
        options = (Option(ctx.t("ticket_add_info"), MyTicketButton(MyTicketVerb.ADD_INFO, ticket.id).encode()),
                   Option(ctx.t("ticket_cancel"), MyTicketButton(MyTicketVerb.CANCEL, ticket.id).encode()))
    elif ticket.status is TicketStatus.RESOLVED:
        options = rating_options(ctx, ticket.id)
    ctx.outcome.say(Reply(text=text, options=options))


async def handle_add_info(ctx: Context, dialog: OpenDialog) -> None:
    assert isinstance(dialog.state, AddInfoState)
    ticket = await tickets.get_ticket(ctx.conn, dialog.state.ticket)
    if ticket is None or ticket.resident_id != ctx.account.resident_id or not ticket.is_open:
        await end_dialog(ctx)
        ctx.say(ctx.t("ticket_not_yours") if ticket is None else
                ctx.t("ticket_closed_already", id=ticket.id, status=status_name(ctx, ticket.status)))
        return
    text = ctx.incoming.text.strip()[:MAX_INFO]
    channel = ctx.incoming.channel
    added = [*(Attachment(channel, ref, AttachmentKind.PHOTO) for ref in ctx.incoming.photos),
             *(Attachment(channel, ref, AttachmentKind.VOICE) for ref in ctx.incoming.voices)]
    if not text and not added:
        ctx.say(ctx.t("add_info_prompt", id=ticket.id), (ctx.t("cancel"), CANCEL))
        return
    actor = str(ctx.account.resident_id)
    for attachment in added:
        await tickets.add_photo(ctx.conn, ticket.id, channel, attachment.ref, actor, ctx.now, attachment.kind)
        action = EventAction.VOICE_ADDED if attachment.kind is AttachmentKind.VOICE else EventAction.PHOTO_ADDED
        await tickets.add_event(ctx.conn, ticket.id, ctx.now, "resident", actor, action)
    if text:
        await tickets.add_event(ctx.conn, ticket.id, ctx.now, "resident", actor, EventAction.INFO_ADDED,
                                note=text)
    await end_dialog(ctx)
    # Everyone holding it: after 吹哨 or 不满意 the level above is working on it too.
    held_by = await holders(ctx, ticket)
    for recipient in held_by if text else ():
        ctx.notify(recipient, Reply(text=ctx.t("card_info_added", id=ticket.id, text=resident_text(text))),
                   "staff_notice", ticket.id)
    # The photo or recording itself reaches the handlers (fetched and re-uploaded by the sender
    # when they are on another platform), not words saying there is one.
    for attachment in added:
        key = "card_info_voice" if attachment.kind is AttachmentKind.VOICE else "card_info_photo"
        for recipient in held_by:
            ctx.notify(recipient, media_reply(attachment, recipient.channel, ctx.t(key, id=ticket.id)),
                       "staff_notice", ticket.id)
    ctx.say(ctx.t("add_info_done", id=ticket.id))


async def cancel_ticket(ctx: Context, ticket: Ticket) -> None:
    done = moves.cancel(ticket, resident_actor(ctx))
    if await carry_out(ctx, ticket, done, "ticket_closed_already", "ticket_not_yours") is None:
        return
    # Everyone holding it stops: the grid and each level it was escalated or reopened to.
    await notify_holders(ctx, ticket, ctx.t("card_cancelled", id=ticket.id))
    await notify_followers(ctx, ticket, ctx.t("notice_cancelled_follower", id=ticket.id))
    ctx.say(ctx.t("ticket_cancelled", id=ticket.id))


STAFF_LIST_LIMIT = 10


async def show_staff_open(ctx: Context) -> None:
    """/tickets: the open tickets this staff member may act on, oldest first."""
    person = ctx.person
    if person is None:
        ctx.say(ctx.t("staff_open_none"))
        return
    if person.grid_id is not None:
        found = await tickets.open_tickets(ctx.conn, grid_id=person.grid_id, limit=STAFF_LIST_LIMIT)
    elif person.role == Role.STAFF:
        found = await tickets.open_tickets(ctx.conn, community_id=person.community_id, limit=STAFF_LIST_LIMIT)
    else:
        # Admins see everything; responders see what their categories bring them.
        candidates = await tickets.open_tickets(ctx.conn, limit=STAFF_LIST_LIMIT * 20)
        found = [t for t in candidates if may_act(ctx.services.config, person, t)][:STAFF_LIST_LIMIT]
    if not found:
        ctx.say(ctx.t("staff_open_none"))
        return
    ctx.say(ctx.t("staff_open_list"))
    for ticket in found:
        # Titled by its state (待受理, 处理中, 重新办理): the list is what is on the desk now.
        ctx.outcome.say((await card_replies(ctx, ticket, f"status_{ticket.status.value}", ctx.incoming.channel))[0])
