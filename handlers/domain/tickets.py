"""The ticket state machine: which move may be made from which state, by whom, and what it writes.

    new ─route→ routed ─acknowledge→ acknowledged ─resolve→ resolved ─rate 满意/基本满意→ closed
    (new, routed, reopened can be resolved without 受理; resolved ─rate 不满意→ reopened, one level
    up; any open state ─reassign→ routed (another grid), ─cancel→ cancelled (by the reporter);
    escalate moves an open ticket one level up without changing its state.)

Each move is one pure function: given the ticket as read, the actor and what the flow decided
(the note, the grid, who the routing reached, fresh deadlines), it returns a Transition — the
ticket change and its audit rows — or a Refusal. No I/O here: the flows do the reading and hand
the Transition to storage.ticket_changes.apply_transition, which writes both together and only
if the ticket is still in the state the move was decided on.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import IntEnum, StrEnum

from handlers.domain.actors import RATING, Actor, ActorKind, handles, is_reporter
from handlers.domain.model import Config, Grid
from handlers.domain.working_time import deadlines
from storage.clock import stamp
from storage.deadlines import WATCHED, Deadline
from storage.ticket_changes import NewEvent, TicketChange
from storage.tickets import OPEN_STATUSES, EventAction, NewTicket, Rating, Ticket, TicketStatus

NOTE_LIMIT = 500  # a 办结 note, as kept on the ticket and in its audit row
REASON_LIMIT = 300  # a 转派 reason
COMPLAINT_LIMIT = 200  # why the resident was 不满意, one line as asked


class Level(IntEnum):
    """Escalation levels (吹哨): each one up is notified when the one below cannot act."""

    GRID = 0
    GUIDE = 1
    COMMUNITY = 2
    SUBDISTRICT = 3


class Move(StrEnum):
    SUBMIT = "submit"
    ROUTE = "route"
    ACKNOWLEDGE = "acknowledge"
    RESOLVE = "resolve"
    REASSIGN = "reassign"
    REOPEN = "reopen"
    ESCALATE = "escalate"
    CANCEL = "cancel"
    RATE = "rate"


_OPEN = frozenset(OPEN_STATUSES)
ACKABLE = frozenset({TicketStatus.NEW, TicketStatus.ROUTED, TicketStatus.REOPENED})
RESOLVABLE = ACKABLE | {TicketStatus.ACKNOWLEDGED}
# The states each move may be made from (submit makes a ticket: there is none before it).
ALLOWED_FROM: dict[Move, frozenset[TicketStatus]] = {
    Move.SUBMIT: frozenset(),
    Move.ROUTE: frozenset({TicketStatus.NEW}),
    Move.ACKNOWLEDGE: ACKABLE,
    Move.RESOLVE: RESOLVABLE,
    Move.REASSIGN: _OPEN,
    Move.REOPEN: frozenset({TicketStatus.RESOLVED}),
    Move.ESCALATE: _OPEN,  # and only the deadline the state is watched for (storage.deadlines)
    Move.CANCEL: _OPEN,
    Move.RATE: frozenset({TicketStatus.RESOLVED}),
}


class Refusal(StrEnum):
    NOT_ALLOWED = "not_allowed"  # this actor may not make this move on this ticket
    WRONG_STATE = "wrong_state"  # the move cannot be made from the ticket's state
    SAME_GRID = "same_grid"  # 转派 to the grid the ticket is already in


@dataclass(frozen=True)
class Handover:
    """Who a ticket goes to: the level the routing reached and the people there (ids)."""

    level: Level
    people: tuple[str, ...]


@dataclass(frozen=True)
class Deadlines:
    ack_due_at: datetime
    resolve_due_at: datetime

    def data(self) -> dict[str, str]:
        return {"ack_due_at": stamp(self.ack_due_at), "resolve_due_at": stamp(self.resolve_due_at)}


@dataclass(frozen=True)
class Transition:
    move: Move
    change: TicketChange
    events: tuple[NewEvent, ...]  # in order; the last is the move's own

    @property
    def status(self) -> TicketStatus:
        """The ticket's state after the move."""
        return self.change.status or self.change.expected

    @property
    def event(self) -> NewEvent:
        return self.events[-1]


@dataclass(frozen=True)
class Submission:
    """A new ticket and its `created` row (it has no id, nor a state, before it is written)."""

    ticket: NewTicket
    event: NewEvent


def _event(actor: Actor, action: EventAction, note: str = "", **data: object) -> NewEvent:
    return NewEvent(actor.kind, actor.id, action, note, data)


def _transition(move: Move, ticket: Ticket, *events: NewEvent, **change: object) -> Transition:
    return Transition(move, TicketChange(ticket.id, ticket.status, **change), events)  # type: ignore[arg-type]


def _check(move: Move, ticket: Ticket, allowed: bool) -> Refusal | None:
    """Who first (a stranger learns nothing of the ticket's state), then the state."""
    if not allowed:
        return Refusal.NOT_ALLOWED
    return None if ticket.status in ALLOWED_FROM[move] else Refusal.WRONG_STATE


def fresh_deadlines(config: Config, ticket: Ticket, now: datetime) -> Deadlines:
    """Full time limits from now, for whoever is handed the ticket next (转派, 不满意, 吹哨).

    From the category's ack_hours / resolve_hours; if the category has since left config,
    the ticket's own original spans are used again.
    """
    category = config.category(ticket.category_id)
    if category is not None:
        return Deadlines(*deadlines(config, category, now))
    ack, resolve = ticket.ack_due_at - ticket.created_at, ticket.resolve_due_at - ticket.created_at
    return Deadlines(now + ack, now + resolve)


def reopen_level(ticket: Ticket) -> Level:
    """不满意 sends a ticket one level above the one holding it, the grid's guide at least."""
    return Level(min(max(ticket.escalation_level + 1, Level.GUIDE), Level.SUBDISTRICT))


def submit(actor: Actor, new: NewTicket) -> Submission | Refusal:
    """A resident files a ticket for themself; its deadlines go in the audit row, so the 三率
    judge it by them even if the config changes."""
    if actor.kind is not ActorKind.RESIDENT or actor.resident_id != new.resident_id:
        return Refusal.NOT_ALLOWED
    return Submission(new, _event(actor, EventAction.CREATED, **Deadlines(
        new.ack_due_at, new.resolve_due_at).data()))


def route(ticket: Ticket, actor: Actor, handover: Handover) -> Transition | Refusal:
    """The router hands a new ticket to the level it reached."""
    refused = _check(Move.ROUTE, ticket, actor.kind is ActorKind.SYSTEM)
    return refused or _transition(
        Move.ROUTE, ticket, _event(actor, EventAction.ROUTED, grid=ticket.grid_id,
                                   level=int(handover.level), people=list(handover.people)),
        status=TicketStatus.ROUTED)


def acknowledge(ticket: Ticket, actor: Actor, config: Config) -> Transition | Refusal:
    """受理, by staff who may act on the ticket."""
    refused = _check(Move.ACKNOWLEDGE, ticket, handles(config, actor, ticket))
    return refused or _transition(Move.ACKNOWLEDGE, ticket, _event(actor, EventAction.ACKNOWLEDGED),
                                  status=TicketStatus.ACKNOWLEDGED)


def resolve(ticket: Ticket, actor: Actor, config: Config, note: str, photos: int) -> Transition | Refusal:
    """办结 with a note (the flow puts a stock one for photos alone) and the number of photos."""
    refused = _check(Move.RESOLVE, ticket, handles(config, actor, ticket))
    note = note[:NOTE_LIMIT]
    return refused or _transition(
        Move.RESOLVE, ticket, _event(actor, EventAction.RESOLVED, note, photos=photos),
        status=TicketStatus.RESOLVED, result_note=note)


def reassign(
    ticket: Ticket, actor: Actor, config: Config, grid: Grid, reason: str, due: Deadlines
) -> Transition | Refusal:
    """转派 to another grid, which gets the category's full time limits from now."""
    refused = _check(Move.REASSIGN, ticket, handles(config, actor, ticket))
    if refused:
        return refused
    if grid.id == ticket.grid_id:
        return Refusal.SAME_GRID
    return _transition(
        Move.REASSIGN, ticket,
        _event(actor, EventAction.REASSIGNED, reason.strip()[:REASON_LIMIT], **{"from": ticket.grid_id},
               to=grid.id, **due.data()),
        status=TicketStatus.ROUTED, grid_id=grid.id, community_id=grid.community,
        ack_due_at=due.ack_due_at, resolve_due_at=due.resolve_due_at)


def escalate(
    ticket: Ticket, actor: Actor, deadline: Deadline, held: Level, handover: Handover,
    missed: datetime, due: Deadlines,
) -> Transition | Refusal:
    """吹哨 at a missed deadline, by the sweep: the level reached gets a fresh window — both
    limits if it was not yet acknowledged, only the time to 办结 if it was."""
    refused = _check(Move.ESCALATE, ticket, actor.kind is ActorKind.SYSTEM)
    if refused or ticket.status not in WATCHED[deadline][0]:
        return refused or Refusal.WRONG_STATE
    data: dict[str, object] = {"deadline": deadline.value, "from": int(held), "to": int(handover.level),
                               "people": list(handover.people), "missed": stamp(missed)}
    fresh = due.data() if deadline is Deadline.ACK else {"resolve_due_at": stamp(due.resolve_due_at)}
    return _transition(
        Move.ESCALATE, ticket, _event(actor, EventAction.ESCALATED, **data, **fresh),
        escalation_level=int(handover.level), resolve_due_at=due.resolve_due_at,
        ack_due_at=due.ack_due_at if deadline is Deadline.ACK else None)


def cancel(ticket: Ticket, actor: Actor) -> Transition | Refusal:
    """撤销, by the reporter, while the ticket is open (also when she erases her data)."""
    refused = _check(Move.CANCEL, ticket, is_reporter(actor, ticket))
    return refused or _transition(Move.CANCEL, ticket, _event(actor, EventAction.CANCELLED),
                                  status=TicketStatus.CANCELLED)


def reopen(
    ticket: Ticket, actor: Actor, rating: Rating, handover: Handover, due: Deadlines
) -> Transition | Refusal:
    """After 不满意, the bot reopens the ticket at the level the routing reached from
    reopen_level, with the category's full time limits from now."""
    refused = _check(Move.REOPEN, ticket, actor.kind is ActorKind.SYSTEM)
    return refused or _transition(
        Move.REOPEN, ticket, _event(actor, EventAction.REOPENED, level=int(handover.level),
                                    people=list(handover.people), **due.data()),
        status=TicketStatus.REOPENED, rating=rating, escalation_level=int(handover.level),
        ack_due_at=due.ack_due_at, resolve_due_at=due.resolve_due_at)


def rate(
    ticket: Ticket, actor: Actor, rating: Rating, reopening: tuple[Handover, Deadlines] | None = None,
    reason: str = "",
) -> Transition | Refusal:
    """The reporter rates a resolved ticket: 满意 / 基本满意 close it; 不满意 reopens it one level
    up (`reopening`: who the routing reached from reopen_level, and fresh deadlines). `reason`:
    why she was 不满意, kept as the rating row's note (the audit log's only copy)."""
    refused = _check(Move.RATE, ticket, is_reporter(actor, ticket))
    if refused:
        return refused
    rated = _event(actor, EventAction.RATED, reason.strip()[:COMPLAINT_LIMIT], rating=rating.value)
    if rating is not Rating.UNSATISFIED:
        return _transition(Move.RATE, ticket, rated, _event(RATING, EventAction.CLOSED),
                           status=TicketStatus.CLOSED, rating=rating)
    if reopening is None:
        raise ValueError("不满意 needs the routing one level up")
    reopened = reopen(ticket, RATING, rating, *reopening)
    assert isinstance(reopened, Transition)  # RATING is the system, and the state was checked
    return Transition(Move.RATE, reopened.change, (rated, *reopened.events))
