"""The deadline sweep: 预警提醒 before a deadline, 吹哨 (escalation one level up) at the miss.

The scheduler calls `sweep_deadlines` every minute inside its write transaction and writes the
returned notifications to the outbox. Everything the sweep decides is recorded in
ticket_events, so a second sweep at the same moment finds nothing to do.

- 受理 deadline (routed / reopened tickets, `ack_due_at`): at 80 % of the window the level
  holding the ticket is warned once; at the miss the ticket goes one level up (grid → guide →
  community → subdistrict, skipping levels nobody can be reached at, as routing does) with a
  fresh window for the new level.
- 办结 deadline (acknowledged tickets, `resolve_due_at`): the same, the warning going to whoever
  acknowledged it (and the holding level if that was before the current window).
- At the top level a miss is noted once (one notice to the admins) until a new window starts.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from handlers.cards import action_options, category_name, notify_resident, send_card
from handlers.context import Context, Services
from handlers.domain import tickets as moves
from handlers.domain.actors import Actor, may_act
from handlers.domain.tickets import Level, Transition, fresh_deadlines
from handlers.domain.working_time import due_after
from handlers.formatting import local_time
from handlers.rating import complaint_note
from handlers.routing import LEVEL_TEXT_KEYS, people_at_level, recipients_of, route
from handlers.types import Channel, Incoming, Notification, Option, Outcome, Recipient, Reply
from storage import deadlines
from storage.accounts import Account, get_person
from storage.clock import stamp
from storage.deadlines import Candidate, Deadline
from storage.engine import Connection
from storage.ticket_changes import apply_transition
from storage.tickets import EventAction, Rating, Ticket, add_event, get_ticket

log = logging.getLogger(__name__)

WARN_AT = 0.8  # share of the window after which the holder is warned
SWEEP_ACTOR = "deadline"  # actor_id of the sweep's ticket_events (actor_kind "system")
SWEEP = Actor.system(SWEEP_ACTOR)


def system_context(services: Services, conn: Connection, now: datetime) -> Context:
    """A Context for work nobody typed: no sender, it only collects notifications."""
    incoming = Incoming(channel=Channel.CONSOLE, chat_id="", user_id=SWEEP_ACTOR)
    account = Account(Channel.CONSOLE, SWEEP_ACTOR, "", 0, None)
    return Context(services, conn, now, incoming, account, None, Outcome())


def warn_at(candidate: Candidate, services: Services, ticket: Ticket) -> datetime:
    """When 80 % of the holder's window (window start → due time) has passed; for a category
    counted in working time, 80 % of its working hours (so no warning lands at night)."""
    category = services.config.category(ticket.category_id)
    if category is not None and category.working_hours:
        hours = category.ack_hours if candidate.deadline is Deadline.ACK else category.resolve_hours
        return min(due_after(services.config, category, candidate.window_start, hours * WARN_AT),
                   candidate.due_at)
    window = candidate.due_at - candidate.window_start
    if window <= timedelta(0):
        return candidate.due_at
    return candidate.window_start + window * WARN_AT


def horizons(services: Services, deadline: Deadline, now: datetime) -> dict[str, datetime]:
    """Per category: no ticket due later than this can be past 80 % of its window yet.

    In working time the last 20 % may stretch over a night, a weekend or a holiday. Reading each
    category only up to its own horizon keeps the sweep from re-reading every open ticket of a
    long category (加装电梯) each minute.
    """
    return {category.id: due_after(services.config, category, now,
                                   (category.ack_hours if deadline is Deadline.ACK else category.resolve_hours)
                                   * (1 - WARN_AT))
            for category in services.config.categories}



async def sweep_deadlines(
    conn: Connection, services: Services, now: datetime
) -> list[Notification]:
    """Warn, escalate or note overdue tickets; the notifications to write to the outbox.

    Only tickets whose watch_at has come are read (migration 0022); each one needing nothing
    yet is told when to be looked at next, so a tick reads what is due, not what is watched.
    """
    ctx = system_context(services, conn, now)
    for deadline in Deadline:
        for candidate in await deadlines.due_for_look(conn, deadline, now):
            ticket = await get_ticket(conn, candidate.ticket_id)
            if ticket is None:
                continue
            level = _holder_level(ticket, candidate)
            if candidate.overdue:
                await deadlines.settle(conn, ticket.id, deadline)  # noted before: nothing more
            elif now >= candidate.due_at:
                if level >= Level.SUBDISTRICT:
                    await _note_overdue(ctx, ticket, candidate)
                else:
                    await _escalate(ctx, ticket, candidate, level)
            elif now >= warn_at(candidate, services, ticket) and not candidate.warned:
                await _warn(ctx, ticket, candidate, level)
                await deadlines.watch_from(conn, ticket.id, candidate.due_at)
            else:
                await deadlines.watch_from(conn, ticket.id, _next_look(candidate, services, ticket))
    # Escalated tickets start a new window (watch_at ''): schedule its first look now, so a
    # second tick at this moment reads nothing. Acting on it is left to the next tick, as before.
    for deadline in Deadline:
        for candidate in await deadlines.due_for_look(conn, deadline, now, fresh_only=True):
            ticket = await get_ticket(conn, candidate.ticket_id)
            if ticket is None:
                continue
            if candidate.overdue:
                await deadlines.settle(conn, ticket.id, deadline)
            else:
                await deadlines.watch_from(conn, ticket.id, _next_look(candidate, services, ticket))
    return ctx.outcome.notifications


def _next_look(candidate: Candidate, services: Services, ticket: Ticket) -> datetime:
    """When the sweep must next act on the ticket: its warning, or once warned its due time."""
    if candidate.warned:
        return candidate.due_at
    return min(warn_at(candidate, services, ticket), candidate.due_at)


def _holder_level(ticket: Ticket, candidate: Candidate) -> Level:
    """The level the ticket's last card went to (the grid's guide when no leader could be
    reached, say); the ticket's escalation_level if no card was logged."""
    raw = candidate.level if candidate.level is not None else ticket.escalation_level
    return Level(min(max(raw, Level.GRID), Level.SUBDISTRICT))


def _due_text(ctx: Context, moment: datetime) -> str:
    return local_time(moment, ctx.services.timezone)


async def _level_recipients(ctx: Context, ticket: Ticket, level: Level) -> list[Recipient]:
    return await recipients_of(ctx.conn, await people_at_level(ctx.conn, ctx.services.config,
                                                               ticket, level))


async def _warning_recipients(
    ctx: Context, ticket: Ticket, candidate: Candidate, level: Level
) -> list[Recipient]:
    """The holding level; for 办结, whoever acknowledged it (and the level unless they did so
    in this window and can still be reached)."""
    if candidate.deadline is Deadline.ACK or candidate.acknowledged_by is None:
        return await _level_recipients(ctx, ticket, level)
    person = await get_person(ctx.conn, candidate.acknowledged_by)
    recipients = []
    if person is not None and may_act(ctx.services.config, person, ticket):
        recipients = await recipients_of(ctx.conn, [person])
    if not recipients or not candidate.acknowledged_in_window:
        for recipient in await _level_recipients(ctx, ticket, level):
            if recipient not in recipients:
                recipients.append(recipient)
    return recipients


def _options(ctx: Context, ticket: Ticket, deadline: Deadline) -> tuple[Option, ...]:
    """The card's buttons; 受理 is left off once the ticket is acknowledged."""
    options = action_options(ctx, ticket.id)
    return options if deadline is Deadline.ACK else options[1:]


async def _warn(ctx: Context, ticket: Ticket, candidate: Candidate, level: Level) -> None:
    """预警提醒, once per window and deadline (recorded even if nobody could be reached)."""
    recipients = await _warning_recipients(ctx, ticket, candidate, level)
    await _alert(ctx, ticket, candidate, recipients, f"deadline_warning_{candidate.deadline}",
                 EventAction.WARNED, level)


async def _alert(ctx: Context, ticket: Ticket, candidate: Candidate, recipients: list[Recipient],
                 text_key: str, action: EventAction, level: Level) -> None:
    """A deadline notice to staff, with the card's actions, and its audit row."""
    text = ctx.t(text_key, id=ticket.id, category=category_name(ctx, ticket.category_id),
                 due=_due_text(ctx, candidate.due_at))
    for recipient in recipients:
        ctx.notify(recipient, Reply(text=text, options=_options(ctx, ticket, candidate.deadline)),
                   "staff_notice", ticket.id)
    await add_event(ctx.conn, ticket.id, ctx.now, "system", SWEEP_ACTOR, action,
                    data={"deadline": candidate.deadline.value, "level": int(level),
                          "due": stamp(candidate.due_at), "recipients": len(recipients)})


async def _escalate(ctx: Context, ticket: Ticket, candidate: Candidate, level: Level) -> None:
    """吹哨: one level up (levels nobody can be reached at are skipped), a fresh window there."""
    routing = await route(ctx.conn, ctx.services.config, ticket, start=Level(level + 1))
    # Not yet acknowledged: the new level gets both limits afresh, as 转派 and 不满意 do;
    # acknowledged already: only the time to 办结 starts again.
    done = moves.escalate(ticket, SWEEP, candidate.deadline, level, routing.handover, candidate.due_at,
                          fresh_deadlines(ctx.services.config, ticket, ctx.now))
    if not isinstance(done, Transition) or not await apply_transition(ctx.conn, done.change, done.events, ctx.now):
        # The candidate query watches each deadline in the states it applies to, so this is a
        # bug; one ticket must not stop the sweep of the others.
        log.error("sweep could not escalate ticket %s: %s", ticket.id,
                  "stale" if isinstance(done, Transition) else done)
        return
    escalated = await get_ticket(ctx.conn, ticket.id)
    assert escalated is not None
    note = ctx.t(f"card_overdue_{candidate.deadline}", due=_due_text(ctx, candidate.due_at))
    if escalated.rating == Rating.UNSATISFIED:
        # Reopened after 不满意: the next level must know what went wrong, as the last one did.
        note = f"{note}\n{await complaint_note(ctx, escalated)}"
    await send_card(ctx, escalated, routing, "card_overdue", note=note)
    step = {"id": ticket.id, "category": category_name(ctx, ticket.category_id),
            "level": ctx.t(LEVEL_TEXT_KEYS[routing.level])}
    await notify_resident(ctx, escalated, ctx.t(f"notice_escalated_{candidate.deadline}", **step),
                          followers=ctx.t(f"follower_escalated_{candidate.deadline}", **step))


async def _note_overdue(ctx: Context, ticket: Ticket, candidate: Candidate) -> None:
    """Missed at the top level: one notice to the admins, then nothing until a new window."""
    recipients = await _level_recipients(ctx, ticket, Level.SUBDISTRICT)
    await _alert(ctx, ticket, candidate, recipients, f"deadline_overdue_{candidate.deadline}",
                 EventAction.OVERDUE, Level.SUBDISTRICT)
    await deadlines.settle(ctx.conn, ticket.id, candidate.deadline)
