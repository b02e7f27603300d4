"""Who is responsible for a ticket and who can be reached (who may act on it: handlers.domain.actors)."""

from __future__ import annotations

from dataclasses import dataclass

from handlers.domain.model import Config, Role
from handlers.domain.tickets import Handover, Level
from handlers.types import Channel, Recipient
from storage.accounts import PersonRow, accounts_of_person, get_person, people_with_role
from storage.engine import Connection
from storage.tickets import Ticket

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

    @property
    def handover(self) -> Handover:
        """What the ticket's audit row records of it: the level and the people's ids."""
        return Handover(self.level, tuple(p.id for p in self.people))


async def people_at_level(
    conn: Connection, config: Config, ticket: Ticket, level: Level
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


async def recipients_of(conn: Connection, people: list[PersonRow]) -> list[Recipient]:
    recipients: list[Recipient] = []
    for person in people:
        for account in await accounts_of_person(conn, person.id):
            recipient = Recipient(Channel(account.channel), account.chat_id)
            if recipient not in recipients:
                recipients.append(recipient)
    return recipients


async def route(
    conn: Connection, config: Config, ticket: Ticket, start: Level = Level.GRID
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
