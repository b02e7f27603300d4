"""One channel-neutral entry point for "staff member X does Y on ticket Z", for the workplace.

It runs the chat flows' own functions (handlers/ticket_actions.py: the authorisation, the state
machine, the resident's and followers' notices, the cards), so the web and the chat change a
ticket and tell people exactly alike. What the chat would have answered the staff member comes
back as messages for the page; the notifications are the caller's to queue in the same
transaction. Every ticket_events row written by the action is marked as from the web.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from handlers import reassign, ticket_actions
from handlers.context import Context, Services
from handlers.domain.tickets import NOTE_LIMIT, REASON_LIMIT
from handlers.staff_scope import may_see
from handlers.types import Channel, Incoming, Notification, Outcome
from storage import attachments, web_sessions
from storage.accounts import Account, PersonRow, get_person
from storage.engine import Connection
from storage.tickets import Ticket, get_ticket

log = logging.getLogger(__name__)


class StaffAction(StrEnum):
    ACKNOWLEDGE = "ack"  # 受理
    RESOLVE = "resolve"  # 办结 (with a note)
    REASSIGN = "reassign"  # 转派 (a grid from the list, and a reason)
    NOTE = "note"  # 添加备注 (internal: staff only)


@dataclass(frozen=True)
class Upload:
    """A photo uploaded with a 办结, its type already checked by its bytes (bot/web/uploads.py)."""

    data: bytes
    content_type: str


@dataclass(frozen=True)
class ActionResult:
    messages: tuple[str, ...]  # what the chat would have answered the staff member
    notifications: tuple[Notification, ...]  # to queue in the caller's transaction


def _context(services: Services, conn: Connection, now: datetime, person: PersonRow) -> Context:
    # The workplace is no chat: an account of its own kind, never stored, never written to.
    incoming = Incoming(channel=Channel.WEB, chat_id=person.id, user_id=person.id)
    account = Account(Channel.WEB.value, person.id, person.id, 0, person.id)
    return Context(services, conn, now, incoming, account, person, Outcome())


async def act(conn: Connection, services: Services, now: datetime, person_id: str, ticket_id: int,
              action: StaffAction, text: str = "", grid_id: str = "", photo: Upload | None = None,
              ) -> ActionResult | None:
    """Carry out `action` inside the caller's transaction; None when the ticket does not exist
    or is not the person's to see (the page answers 404 either way)."""
    person = await get_person(conn, person_id)
    ticket = await get_ticket(conn, ticket_id)
    if person is None or ticket is None or not may_see(services.config, person, ticket):
        return None
    ctx = _context(services, conn, now, person)
    before = await web_sessions.last_event_id(conn)
    text = text.strip()
    if action is StaffAction.ACKNOWLEDGE:
        await ticket_actions.acknowledge(ctx, ticket)
    elif action is StaffAction.RESOLVE:
        await _resolve(ctx, ticket, text, photo)
    elif action is StaffAction.REASSIGN:
        await _reassign(ctx, ticket, grid_id, text)
    else:
        if text:
            await web_sessions.add_staff_note(conn, ticket.id, person_id, text[:NOTE_LIMIT], now)
            ctx.say(ctx.t("web_note_added", id=ticket.id))
        else:
            ctx.say(ctx.t("web_note_empty"))
    marked = await web_sessions.mark_origin(conn, ticket.id, before, web_sessions.WEB_ORIGIN)
    log.info("web %s on ticket %s by %s: %d events", action.value, ticket.id, person_id, marked)
    return ActionResult(tuple(reply.text for reply in ctx.outcome.replies), tuple(ctx.outcome.notifications))


async def _reassign(ctx: Context, ticket: Ticket, grid_id: str, reason: str) -> None:
    """转派 as the chat's reason step ends it: an open ticket, another known grid, a reason."""
    if not reassign.may_reassign(ctx, ticket):
        return
    grid = ctx.services.config.grid(grid_id)
    if grid is None:
        ctx.say(ctx.t("reassign_grid_unknown", text=grid_id[:20], id=ticket.id))
    elif grid.id == ticket.grid_id:
        ctx.say(ctx.t("reassign_same_grid"))
    elif not reason:
        ctx.say(ctx.t("reassign_reason", grid=grid.name))
    else:
        await reassign.reassign(ctx, ticket, grid.id, reason[:REASON_LIMIT])


async def _resolve(ctx: Context, ticket: Ticket, note: str, photo: Upload | None) -> None:
    """办结 as in chat, a note and/or a photo. The photo's bytes are kept as source "web"; the chat's
    resolve sends it to the resident as a photo (the outbox uploads it to their platform). A 办结
    that does not happen keeps no bytes."""
    if not note and photo is None:
        ctx.say(ctx.t("resolve_prompt"))
        return
    refs: tuple[str, ...] = ()
    if photo is not None:
        refs = (await attachments.store_web_photo(ctx.conn, ticket.id, photo.data, photo.content_type, ctx.now),)
    if not await ticket_actions.resolve(ctx, ticket, note[:NOTE_LIMIT], refs):
        for ref in refs:
            await attachments.drop_web_photo(ctx.conn, ref)
