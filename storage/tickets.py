"""Tickets (the current view) and ticket_events (the append-only audit log)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from storage.attachments import Attachment as Attachment
from storage.attachments import AttachmentKind as AttachmentKind
from storage.attachments import add_photo as add_photo
from storage.attachments import attachments_of as attachments_of
from storage.attachments import photos_of as photos_of
from storage.clock import parse_stamp, stamp
from storage.db import fetch_all, fetch_one, insert_id, optional_equals
from storage.engine import Connection, Row


class TicketStatus(StrEnum):
    NEW = "new"
    ROUTED = "routed"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"
    CLOSED = "closed"
    REOPENED = "reopened"
    CANCELLED = "cancelled"


OPEN_STATUSES = (TicketStatus.NEW, TicketStatus.ROUTED, TicketStatus.ACKNOWLEDGED, TicketStatus.REOPENED)


class Rating(StrEnum):
    SATISFIED = "satisfied"
    MOSTLY = "mostly_satisfied"
    UNSATISFIED = "unsatisfied"


class EventAction(StrEnum):
    CREATED = "created"
    ROUTED = "routed"
    NOTIFIED = "notified"
    UNREACHABLE = "unreachable"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"
    REASSIGNED = "reassigned"
    RATED = "rated"
    REOPENED = "reopened"
    CLOSED = "closed"
    CANCELLED = "cancelled"
    INFO_ADDED = "info_added"
    PHOTO_ADDED = "photo_added"
    VOICE_ADDED = "voice_added"  # a voice message without a transcript (issue 13)
    FOLLOWER_ADDED = "follower_added"
    REFUSED = "refused"
    WARNED = "warned"  # 预警提醒 sent: data {"deadline", "level", "due", "recipients"}
    ESCALATED = "escalated"  # 吹哨 one level up: data {"deadline", "from", "to", "people", ...}
    OVERDUE = "overdue"  # missed at the top level: data {"deadline", "level", "due", "recipients"}


@dataclass(frozen=True)
class NewTicket:
    resident_id: int
    category_id: str
    description: str
    community_id: str
    compound: str
    building: str
    grid_id: str
    phone: str
    latitude: float | None
    longitude: float | None
    source_channel: str
    ack_due_at: datetime
    resolve_due_at: datetime
    detail: str = ""  # unit, room: what followed the building in the typed address


@dataclass(frozen=True)
class Ticket:
    id: int
    resident_id: int
    category_id: str
    description: str
    community_id: str
    compound: str
    building: str
    grid_id: str
    phone: str
    latitude: float | None
    longitude: float | None
    status: TicketStatus
    escalation_level: int
    rating: str | None
    result_note: str
    created_at: datetime
    ack_due_at: datetime
    resolve_due_at: datetime
    detail: str = ""

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def address(self) -> str:
        return f"{self.compound}{self.building}"


@dataclass(frozen=True)
class TicketEvent:
    id: int
    ticket_id: int
    at: datetime
    actor_kind: str
    actor_id: str
    action: str
    note: str
    data: dict


_COLUMNS = (
    "id, resident_id, category_id, description, community_id, compound, building, grid_id, phone,"
    " latitude, longitude, status, escalation_level, rating, result_note, created_at, ack_due_at,"
    " resolve_due_at, detail"
)


async def last_detail(conn: Connection, resident_id: int, compound: str, building: str) -> str:
    """The flat the resident gave on her latest ticket in this building ('' if none)."""
    row = await fetch_one(
        conn, "SELECT detail FROM tickets WHERE resident_id = ? AND compound = ? AND building = ?"
        " ORDER BY id DESC LIMIT 1", (resident_id, compound, building))
    return str(row[0]) if row else ""


def _ticket(row: Row) -> Ticket:
    values = list(row)
    values[11] = TicketStatus(values[11])
    for index in (15, 16, 17):
        values[index] = parse_stamp(values[index])
    return Ticket(*values)


async def create_ticket(conn: Connection, new: NewTicket, now: datetime) -> int:
    made = await insert_id(
        conn,
        "INSERT INTO tickets (resident_id, category_id, description, community_id, compound,"
        " building, grid_id, phone, latitude, longitude, status, source_channel, created_at,"
        " updated_at, ack_due_at, resolve_due_at, detail)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        (
            new.resident_id, new.category_id, new.description, new.community_id, new.compound,
            new.building, new.grid_id, new.phone, new.latitude, new.longitude, TicketStatus.NEW,
            new.source_channel, stamp(now), stamp(now), stamp(new.ack_due_at),
            stamp(new.resolve_due_at), new.detail,
        ),
    )
    return int(made or 0)


async def get_ticket(conn: Connection, ticket_id: int) -> Ticket | None:
    row = await fetch_one(conn, f"SELECT {_COLUMNS} FROM tickets WHERE id = ?", (ticket_id,))
    return _ticket(row) if row else None


def set_clause(now: datetime, **changes: object) -> tuple[str, list[object]]:
    """`col = ?, …, updated_at = ?` for the columns given a value, and their parameters."""
    # Column names come from our own keyword arguments, never from input.
    sets = [(column, stamp(value) if isinstance(value, datetime) else value)
            for column, value in changes.items() if value is not None]
    sql = "".join(f"{column} = ?, " for column, _ in sets) + "updated_at = ?"
    return sql, [value for _, value in sets] + [stamp(now)]


async def update_ticket(
    conn: Connection,
    ticket_id: int,
    now: datetime,
    *,
    status: TicketStatus | None = None,
    grid_id: str | None = None,
    community_id: str | None = None,
    rating: str | None = None,
    result_note: str | None = None,
    escalation_level: int | None = None,
    description: str | None = None,
    ack_due_at: datetime | None = None,
    resolve_due_at: datetime | None = None,
) -> None:
    """Set fields with no audit row (fixtures, benchmarks); flows use ticket_changes instead."""
    sql, params = set_clause(
        now, status=status, grid_id=grid_id, community_id=community_id, rating=rating,
        result_note=result_note, escalation_level=escalation_level, description=description,
        ack_due_at=ack_due_at, resolve_due_at=resolve_due_at)
    await conn.execute(f"UPDATE tickets SET {sql} WHERE id = ?", [*params, ticket_id])


INSERT_EVENT = ("INSERT INTO ticket_events (ticket_id, at, actor_kind, actor_id, action, note, data)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)")


def event_params(ticket_id: int, now: datetime, actor_kind: str, actor_id: str, action: EventAction,
                 note: str = "", data: Mapping[str, object] | None = None) -> tuple[object, ...]:
    """The parameters of INSERT_EVENT."""
    return (ticket_id, stamp(now), actor_kind, actor_id, action, note,
            json.dumps(dict(data or {}), ensure_ascii=False))


async def add_event(
    conn: Connection,
    ticket_id: int,
    now: datetime,
    actor_kind: str,
    actor_id: str,
    action: EventAction,
    note: str = "",
    data: dict | None = None,
) -> None:
    """An audit row that changes nothing on the ticket (notified, warned, info added, …)."""
    await conn.execute(INSERT_EVENT, event_params(ticket_id, now, actor_kind, actor_id, action, note, data))


async def events_of(conn: Connection, ticket_id: int) -> list[TicketEvent]:
    rows = await fetch_all(
        conn, "SELECT id, ticket_id, at, actor_kind, actor_id, action, note, data FROM ticket_events"
        " WHERE ticket_id = ? ORDER BY id",
        (ticket_id,),
    )
    return [
        TicketEvent(r[0], r[1], parse_stamp(r[2]), r[3], r[4], r[5], r[6], json.loads(r[7]))
        for r in rows
    ]


async def tickets_of_resident(
    conn: Connection, resident_id: int, limit: int = 10
) -> list[Ticket]:
    return [_ticket(row) for row in await fetch_all(
        conn, f"SELECT {_COLUMNS} FROM tickets WHERE resident_id = ? ORDER BY id DESC LIMIT ?",
        (resident_id, limit),
    )]


async def open_tickets_like(
    conn: Connection, compound: str, building: str, category_id: str
) -> list[Ticket]:
    """Open tickets of one category in one building: candidates for 我也遇到."""
    marks = ", ".join("?" for _ in OPEN_STATUSES)
    return [_ticket(row) for row in await fetch_all(
        conn, f"SELECT {_COLUMNS} FROM tickets WHERE compound = ? AND building = ? AND category_id = ?"
        f" AND status IN ({marks}) ORDER BY id DESC LIMIT 3",
        (compound, building, category_id, *OPEN_STATUSES),
    )]


async def open_tickets(
    conn: Connection,
    *,
    grid_id: str | None = None,
    community_id: str | None = None,
    limit: int = 10,
) -> list[Ticket]:
    """Open tickets, oldest first, of one grid, one community, or (neither given) everywhere."""
    marks = ", ".join("?" for _ in OPEN_STATUSES)
    area, values = optional_equals(grid_id=grid_id, community_id=community_id)
    sql = f"SELECT {_COLUMNS} FROM tickets WHERE status IN ({marks}){area} ORDER BY id LIMIT ?"
    return [_ticket(row) for row in await fetch_all(conn, sql, (*OPEN_STATUSES, *values, limit))]


async def add_follower(conn: Connection, ticket_id: int, resident_id: int, now: datetime) -> bool:
    cursor = await conn.execute(
        "INSERT INTO ticket_followers (ticket_id, resident_id, added_at) VALUES (?, ?, ?)"
        " ON CONFLICT DO NOTHING",
        (ticket_id, resident_id, stamp(now)),
    )
    return cursor.rowcount == 1


async def followers_of(conn: Connection, ticket_id: int) -> list[int]:
    return [int(r[0]) for r in await fetch_all(
        conn, "SELECT resident_id FROM ticket_followers WHERE ticket_id = ? ORDER BY added_at",
        (ticket_id,),
    )]
