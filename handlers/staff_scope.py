"""Which tickets a staff member sees in the workplace: the rule of handlers.domain.actors.may_act,
as a query scope. Grid people see their grid, community staff their community, responders the
categories they answer (in their community, or everywhere), admins everything.

The ticket page checks a single ticket with may_act itself; the board's query uses this scope.
tests/unit/test_staff_scope.py holds the two to the same answer for every person and ticket.
"""

from __future__ import annotations

from handlers.domain.actors import may_act
from handlers.domain.model import Config, Role
from storage.accounts import PersonRow
from storage.staff_board import TicketScope
from storage.tickets import Ticket

NOTHING = TicketScope()


def scope_of(config: Config, person: PersonRow) -> TicketScope:
    if person.role == Role.ADMIN:
        return TicketScope(everything=True)
    if person.role in (Role.LEADER, Role.GUIDE, Role.WORKER):
        return TicketScope(grid_id=person.grid_id) if person.grid_id else NOTHING
    if person.role == Role.STAFF:
        return TicketScope(community_id=person.community_id) if person.community_id else NOTHING
    if person.role == Role.RESPONDER:
        return TicketScope(responder_of=tuple(
            (category.id, responder.community)
            for category in config.categories for responder in category.responders
            if responder.person == person.id))
    return NOTHING


def may_see(config: Config, person: PersonRow, ticket: Ticket) -> bool:
    """Seeing a ticket's page is acting on it: the same people (one source of truth)."""
    return may_act(config, person, ticket)
