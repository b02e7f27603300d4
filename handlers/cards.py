"""Ticket cards for staff and progress notices for residents."""

from __future__ import annotations

from handlers.buttons import TicketButton, TicketVerb
from handlers.context import Context
from handlers.domain.tickets import Level
from handlers.formatting import local_time, mask_phone
from handlers.rendering import full_address, resident_text
from handlers.routing import Routing, people_at_level, recipients_of
from handlers.types import Channel, Option, Recipient, Reply
from storage.accounts import accounts_of_resident
from storage.tickets import (
    Attachment,
    AttachmentKind,
    EventAction,
    Ticket,
    TicketStatus,
    add_event,
    attachments_of,
    followers_of,
)

CARD_DESCRIPTION_LIMIT = 1500


def category_name(ctx: Context, category_id: str) -> str:
    category = ctx.services.config.category(category_id)
    return category.name if category else category_id


def grid_name(ctx: Context, grid_id: str) -> str:
    grid = ctx.services.config.grid(grid_id)
    return grid.name if grid else grid_id


def status_name(ctx: Context, status: TicketStatus) -> str:
    return ctx.t(f"status_{status.value}")


def action_options(ctx: Context, ticket_id: int) -> tuple[Option, ...]:
    return (
        Option(ctx.t("action_ack"), TicketButton(TicketVerb.ACK, ticket_id).encode()),
        Option(ctx.t("action_resolve"), TicketButton(TicketVerb.RESOLVE, ticket_id).encode()),
        Option(ctx.t("action_reassign"), TicketButton(TicketVerb.REASSIGN, ticket_id).encode()),
    )


def card_text(ctx: Context, ticket: Ticket, title_key: str, *, full_phone: bool = False) -> str:
    """The ticket card; `full_phone` only on the private card of the people it is routed to
    (they must be able to call the resident), masked anywhere else (lists, …)."""
    tz = ctx.services.timezone
    if ticket.status in (TicketStatus.ACKNOWLEDGED,):
        due = ctx.t("card_due_resolve", due=local_time(ticket.resolve_due_at, tz))
    else:
        due = ctx.t("card_due_ack", due=local_time(ticket.ack_due_at, tz))
    location = ""
    if ticket.latitude is not None and ticket.longitude is not None:
        location = ctx.t("card_location", lat=ticket.latitude, lon=ticket.longitude)
    return ctx.t(
        "card",
        title=ctx.t(title_key),
        id=ticket.id,
        category=category_name(ctx, ticket.category_id),
        description=resident_text(ticket.description, CARD_DESCRIPTION_LIMIT),
        address=full_address(ticket.address, ticket.detail),
        grid=grid_name(ctx, ticket.grid_id),
        phone=_phone(ctx, ticket.phone, full_phone),
        location=location,
        due=due,
    )


def _phone(ctx: Context, phone: str, full: bool) -> str:
    if not phone:
        return ctx.t("no_phone")
    return phone if full else mask_phone(phone)


async def card_replies(
    ctx: Context, ticket: Ticket, title_key: str, channel: Channel, note: str = "",
    *, full_phone: bool = False,
) -> list[Reply]:
    """The card, then the ticket's photos and recordings, from whichever platform they were sent
    on (the sender fetches and re-uploads one from another)."""
    text = card_text(ctx, ticket, title_key, full_phone=full_phone)
    attachments = await attachments_of(ctx.conn, ticket.id)
    voices = sum(1 for a in attachments if a.kind is AttachmentKind.VOICE)
    if voices:
        text = f"{text}\n{ctx.t('card_voices', count=voices)}"
    if note:
        text = f"{text}\n{note}"
    replies = [Reply(text=text, options=action_options(ctx, ticket.id))]
    for attachment in attachments:
        key = "card_voice" if attachment.kind is AttachmentKind.VOICE else "card_photo"
        replies.append(media_reply(attachment, channel, ctx.t(key, id=ticket.id)))
    return replies


def media_reply(attachment: Attachment, channel: Channel, caption: str) -> Reply:
    """A photo or recording for a chat on `channel`; `media_from` names the platform that holds
    it when that is another one."""
    source = "" if attachment.channel == channel else attachment.channel
    if attachment.kind is AttachmentKind.VOICE:
        return Reply(text=caption, voice=attachment.ref, media_from=source)
    return Reply(text=caption, photo=attachment.ref, media_from=source)


async def send_card(ctx: Context, ticket: Ticket, routing: Routing, title_key: str, note: str = "") -> None:
    """Queue the card for everyone routed, and log whether anyone could receive it.

    The recipients are the ticket's handlers at this level, in their private chats: their card
    carries the resident's phone in full."""
    for recipient in routing.recipients:
        for reply in await card_replies(ctx, ticket, title_key, recipient.channel, note, full_phone=True):
            ctx.notify(recipient, reply, "card", ticket.id)
    people = [p.id for p in routing.people]
    data = {"grid": ticket.grid_id, "level": int(routing.level), "people": people,
            "recipients": len(routing.recipients)}
    action = EventAction.NOTIFIED if routing.recipients else EventAction.UNREACHABLE
    await add_event(ctx.conn, ticket.id, ctx.now, "system", "router", action, data=data)


async def notify_staff(ctx: Context, routing: Routing, text: str, ticket_id: int) -> None:
    for recipient in routing.recipients:
        ctx.notify(recipient, Reply(text=text), "staff_notice", ticket_id)


async def holders(ctx: Context, ticket: Ticket) -> list[Recipient]:
    """Everyone who holds the ticket now: its grid's people and every level it was escalated or
    reopened to (吹哨, 不满意), up to its escalation level — and, as routing does, the levels
    above until someone is reached (a grid whose leader cannot be reached sent its card to the
    guide); each chat once."""
    found: list[Recipient] = []
    for level in Level:
        if level > ticket.escalation_level and found:
            break
        for recipient in await recipients_of(ctx.conn, await people_at_level(
                ctx.conn, ctx.services.config, ticket, level)):
            if recipient not in found:
                found.append(recipient)
    return found


async def notify_holders(ctx: Context, ticket: Ticket, text: str) -> None:
    """Tell everyone who holds the ticket now (see holders)."""
    for recipient in await holders(ctx, ticket):
        ctx.notify(recipient, Reply(text=text), "staff_notice", ticket.id)


async def notify_resident(
    ctx: Context, ticket: Ticket, text: str, options: tuple[Option, ...] = (), *, followers: str
) -> None:
    """Tell the reporter `text` (with options), and residents who said 我也遇到 `followers`.

    Followers get their own notice, the state change only: never the staff's note or reason
    (written for the reporter, it often quotes her), nor anything else of the reporter's.
    """
    reporters = await accounts_of_resident(ctx.conn, ticket.resident_id)
    for account in reporters:
        recipient = Recipient(Channel(account.channel), account.chat_id)
        ctx.notify(recipient, Reply(text=text, options=options), "resident_notice", ticket.id)
    await notify_followers(ctx, ticket, followers)


async def notify_followers(ctx: Context, ticket: Ticket, text: str) -> None:
    """Tell the residents who said 我也遇到 on this ticket: a follower's notice (text only)."""
    for follower in await followers_of(ctx.conn, ticket.id):
        for account in await accounts_of_resident(ctx.conn, follower):
            recipient = Recipient(Channel(account.channel), account.chat_id)
            ctx.notify(recipient, Reply(text=text), "resident_notice", ticket.id)
