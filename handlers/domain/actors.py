"""Who changes a ticket: a staff member, a resident, or the bot itself; and which staff may.

Pure: no I/O. The flows build an Actor from the presser's bound person or resident id; the
ticket transitions (handlers/domain/tickets.py) check it before they decide anything.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from handlers.domain.model import Config, Role
from storage.accounts import PersonRow
from storage.tickets import Ticket


class ActorKind(StrEnum):
    """ticket_events.actor_kind."""

    PERSON = "person"  # staff, by person id
    RESIDENT = "resident"  # by resident id
    SYSTEM = "system"  # the bot: the router, the deadline sweep, a rating's consequence


@dataclass(frozen=True)
class Actor:
    kind: ActorKind
    id: str  # ticket_events.actor_id
    person: PersonRow | None = None
    resident_id: int | None = None

    @classmethod
    def staff(cls, person: PersonRow) -> Actor:
        return cls(ActorKind.PERSON, person.id, person=person)

    @classmethod
    def resident(cls, resident_id: int) -> Actor:
        return cls(ActorKind.RESIDENT, str(resident_id), resident_id=resident_id)

    @classmethod
    def system(cls, name: str) -> Actor:
        return cls(ActorKind.SYSTEM, name)


ROUTER = Actor.system("router")  # routes new tickets, logs who got each card
RATING = Actor.system("rating")  # closes or reopens a ticket after the resident's rating


def may_act(config: Config, person: PersonRow | None, ticket: Ticket) -> bool:
    """Only the ticket's own grid people, its community's staff, its responders and admins."""
    if person is None:
        return False
    if person.role == Role.ADMIN:
        return True
    if person.role in (Role.LEADER, Role.GUIDE, Role.WORKER):
        return person.grid_id == ticket.grid_id
    if person.role == Role.STAFF:
        return person.community_id == ticket.community_id
    if person.role == Role.RESPONDER:
        category = config.category(ticket.category_id)
        return any(
            r.person == person.id and r.community in (None, ticket.community_id)
            for r in (category.responders if category else [])
        )
    return False


def handles(config: Config, actor: Actor, ticket: Ticket) -> bool:
    """A staff actor who may act on this ticket (see may_act)."""
    return actor.kind is ActorKind.PERSON and may_act(config, actor.person, ticket)


def is_reporter(actor: Actor, ticket: Ticket) -> bool:
    return actor.kind is ActorKind.RESIDENT and actor.resident_id == ticket.resident_id
