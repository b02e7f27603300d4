"""Who is responsible for a ticket, who can be reached, and who may act on it."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

import aiosqlite

from handlers.domain.model import Config, Role
from handlers.types import Channel, Recipient
from storage.accounts import PersonRow, accounts_of_person, get_person, people_with_role
from storage.tickets import Ticket


class Level(IntEnum):
    """Escalation levels (吹哨): each one up is notified when the one below cannot act."""

    GRID = 0
    GUIDE = 1
    COMMUNITY = 2
    SUBDISTRICT = 3


LEVEL_TEXT_KEYS = {
    Level.GRID: "level_guide",
    Level.GUIDE: "level_guide",
    Level.COMMUNITY: "level_community",
    Level.SUBDISTRICT: "level_subdistrict",
}


@dataclass(frozen=True)
class Routing:
    level: Level
    people: tuple[PersonRow, ...]
    recipients: tuple[Recipient, ...]


async def people_at_level(
    conn: aiosqlite.Connection, config: Config, ticket: Ticket, level: Level
) -> list[PersonRow]:
    if level is Level.GRID:
        people = await people_with_role(conn, Role.LEADER, grid_id=ticket.grid_id)
        category = config.category(ticket.category_id)
        for responder in category.responders if category else []:
            if responder.community in (None, ticket.community_id):
                person = await get_person(conn, responder.person)
                if person is not None and person not in people:
                    people.append(person)
        return people
    if level is Level.GUIDE:
        return await people_with_role(conn, Role.GUIDE, grid_id=ticket.grid_id)
    if level is Level.COMMUNITY:
        return await people_with_role(conn, Role.STAFF, community_id=ticket.community_id)
    return await people_with_role(conn, Role.ADMIN)


async def recipients_of(conn: aiosqlite.Connection, people: list[PersonRow]) -> list[Recipient]:
    recipients: list[Recipient] = []
    for person in people:
        for account in await accounts_of_person(conn, person.id):
            recipient = Recipient(Channel(account.channel), account.chat_id)
            if recipient not in recipients:
                recipients.append(recipient)
    return recipients


async def route(
    conn: aiosqlite.Connection, config: Config, ticket: Ticket, start: Level = Level.GRID
) -> Routing:
    """The first level, from `start` up, with someone reachable on a chat channel.

    If nobody at any level is reachable, the routing names the people at `start` with no
    recipients, so the ticket is still assigned and the miss is recorded.
    """
    for level in Level:
        if level < start:
            continue
        people = await people_at_level(conn, config, ticket, level)
        recipients = await recipients_of(conn, people)
        if recipients:
            return Routing(level, tuple(people), tuple(recipients))
    return Routing(start, tuple(await people_at_level(conn, config, ticket, start)), ())


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
