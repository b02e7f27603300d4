"""Ticket changes with their audit rows: the one way flows change a ticket.

A transition (handlers/domain/tickets.py decides it) is written by `apply_transition`: the
ticket row and its ticket_events rows in one call, guarded by the status the transition was
decided on, so a stale decision (a second press of 受理, a rating pressed twice) writes nothing.
A new ticket and its `created` row are written by `file_ticket`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from storage.engine import Connection
from storage.tickets import (
    INSERT_EVENT,
    EventAction,
    NewTicket,
    TicketStatus,
    create_ticket,
    event_params,
    set_clause,
)


@dataclass(frozen=True)
class TicketChange:
    """What one transition sets on one ticket row (None: left as it is), decided on the ticket
    as it was read, in status `expected`."""

    ticket_id: int
    expected: TicketStatus
    status: TicketStatus | None = None
    grid_id: str | None = None
    community_id: str | None = None
    rating: str | None = None
    result_note: str | None = None
    escalation_level: int | None = None
    ack_due_at: datetime | None = None
    resolve_due_at: datetime | None = None


@dataclass(frozen=True)
class NewEvent:
    """A ticket_events row to append: who (actor kind and id) did what, with a note and data."""

    actor_kind: str
    actor_id: str
    action: EventAction
    note: str = ""
    data: Mapping[str, object] = field(default_factory=dict)


def _params(ticket_id: int, now: datetime, event: NewEvent) -> tuple[object, ...]:
    return event_params(ticket_id, now, event.actor_kind, event.actor_id, event.action, event.note,
                        event.data)


async def apply_transition(
    conn: Connection, change: TicketChange, events: Sequence[NewEvent], now: datetime
) -> bool:
    """The ticket change and its audit rows together; False, and nothing written, when the
    ticket is no longer in `change.expected` (or does not exist).

    Every parameter is prepared before the first write, so between the two statements only
    SQLite itself can fail, and its error rolls back the caller's transaction (or savepoint).
    """
    sql, params = set_clause(
        now, status=change.status, grid_id=change.grid_id, community_id=change.community_id,
        rating=change.rating, result_note=change.result_note,
        escalation_level=change.escalation_level, ack_due_at=change.ack_due_at,
        resolve_due_at=change.resolve_due_at)
    rows = [_params(change.ticket_id, now, event) for event in events]
    cursor = await conn.execute(f"UPDATE tickets SET {sql} WHERE id = ? AND status = ?",
                                [*params, change.ticket_id, change.expected])
    if cursor.rowcount != 1:
        return False
    await conn.executemany(INSERT_EVENT, rows)
    return True


async def file_ticket(conn: Connection, new: NewTicket, created: NewEvent, now: datetime) -> int:
    """A new ticket and its `created` audit row; the ticket's id."""
    ticket_id = await create_ticket(conn, new, now)
    await conn.execute(INSERT_EVENT, _params(ticket_id, now, created))
    return ticket_id
