"""Reads across a whole table: every ticket, every audit row of a kind, every open dialog, every
queued message. Flows read through the narrower functions beside each table; these are for
checks of the database as a whole (the tests' transcripts assert through them, not through SQL).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from storage.clock import parse_stamp
from storage.db import fetch_all, fetch_one
from storage.dialogs import Dialog
from storage.engine import Connection
from storage.outbox import _COLUMNS as OUTBOX_COLUMNS
from storage.outbox import OutboxRow, _row
from storage.tickets import _COLUMNS as TICKET_COLUMNS
from storage.tickets import Ticket, TicketEvent, _ticket


@dataclass(frozen=True)
class OpenDialog:
    channel: str
    user_id: str
    dialog: Dialog


@dataclass(frozen=True)
class Photo:
    ticket_id: int
    channel: str
    ref: str
    added_by: str


@dataclass(frozen=True)
class Invite:
    code: str
    person_id: str
    used_at: datetime | None
    used_by: str | None


async def all_tickets(conn: Connection) -> list[Ticket]:
    return [_ticket(row) for row in await fetch_all(conn, f"SELECT {TICKET_COLUMNS} FROM tickets ORDER BY id")]


async def events(conn: Connection, action: str | None = None) -> list[TicketEvent]:
    """Every ticket's audit rows (of one action), oldest first."""
    where, params = (" WHERE action = ?", (action,)) if action else ("", ())
    rows = await fetch_all(
        conn, f"SELECT id, ticket_id, at, actor_kind, actor_id, action, note, data FROM ticket_events{where}"
        " ORDER BY id", params,
    )
    return [TicketEvent(r[0], r[1], parse_stamp(r[2]), r[3], r[4], r[5], r[6], json.loads(r[7])) for r in rows]


async def photos(conn: Connection) -> list[Photo]:
    """Every ticket's photos, with who added each (a resident's account or a staff person)."""
    return [Photo(*row) for row in await fetch_all(
        conn, "SELECT ticket_id, channel, ref, added_by FROM ticket_photos ORDER BY id")]


async def followers(conn: Connection) -> list[tuple[int, int]]:
    """(ticket id, resident id) of every 我也遇到, in the order they were added."""
    return [(int(r[0]), int(r[1])) for r in await fetch_all(
        conn, "SELECT ticket_id, resident_id FROM ticket_followers ORDER BY added_at, ticket_id")]


async def dialogs(conn: Connection) -> list[OpenDialog]:
    """Every conversation in the middle of a flow."""
    return [OpenDialog(r[0], r[1], Dialog(r[2], r[3], json.loads(r[4]))) for r in await fetch_all(
        conn, "SELECT channel, user_id, flow, step, data FROM dialogs ORDER BY channel, user_id")]


async def outbox_rows(conn: Connection) -> list[OutboxRow]:
    """Every queued, sent or failed message, to anyone, oldest first."""
    return [_row(row) for row in await fetch_all(conn, f"SELECT {OUTBOX_COLUMNS} FROM outbox ORDER BY id")]


async def invite(conn: Connection, code: str) -> Invite | None:
    row = await fetch_one(conn, "SELECT code, person_id, used_at, used_by FROM invites WHERE code = ?", (code,))
    if row is None:
        return None
    return Invite(row[0], row[1], parse_stamp(row[2]) if row[2] else None, row[3])


async def announcement_runs(conn: Connection) -> list[tuple[int, str, int]]:
    """(announcement id, outcome, targets) of every run of every announcement, in the order they ran."""
    return [(int(r[0]), r[1], int(r[2])) for r in await fetch_all(
        conn, "SELECT announcement_id, outcome, targets FROM announcement_runs ORDER BY id")]


@dataclass(frozen=True)
class InboxRecord:
    id: int
    channel: str
    platform_id: str
    payload: str
    status: str
    response: str | None  # WeChat's passive reply


async def inbox_items(conn: Connection) -> list[InboxRecord]:
    """Every received message as stored (blanked when its sender was erased), oldest first."""
    return [InboxRecord(*row) for row in await fetch_all(
        conn, "SELECT id, channel, platform_id, payload, status, response FROM inbox ORDER BY id")]


async def erased_residents(conn: Connection) -> list[int]:
    """Ids of the residents whose data was erased on request."""
    return [int(r[0]) for r in await fetch_all(conn, "SELECT id FROM residents WHERE erased_at IS NOT NULL ORDER BY id")]


async def signups(conn: Connection) -> list[tuple[int, int, str]]:
    """(announcement id, resident id, status) of every sign-up row, in the order they were made."""
    return [(int(r[0]), int(r[1]), r[2]) for r in await fetch_all(
        conn, "SELECT announcement_id, resident_id, status FROM signups ORDER BY created_at, announcement_id")]
