"""Sign-ups (报名) to an announcement's activity: places, a waiting list, and the contact given.

Everything here runs inside the caller's transaction (BEGIN IMMEDIATE, one writer), so two
residents leaving at once are two transactions in turn: each frees one place and moves up one
waiting person, and the `status = 'waiting'` guard means nobody is moved up (and told) twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from storage.announcements import Announcement
from storage.clock import stamp
from storage.db import fetch_all, fetch_one
from storage.engine import Connection


class SignupStatus(StrEnum):
    ACTIVE = "active"
    WAITING = "waiting"  # on the waiting list (候补), moved up in order when a place frees
    CANCELLED = "cancelled"


class SignupResult(StrEnum):
    JOINED = "joined"
    WAITING = "waiting"  # put on the waiting list
    ALREADY = "already"
    ALREADY_WAITING = "already_waiting"
    FULL = "full"  # and not asked to wait
    CLOSED = "closed"


@dataclass(frozen=True)
class Signup:
    resident_id: int
    status: SignupStatus
    name: str  # as the resident gave it for this activity ("" if skipped)
    phone: str


@dataclass(frozen=True)
class Contact:
    name: str
    phone: str


def is_closed(announcement: Announcement, now: datetime) -> bool:
    return announcement.signup_closes_at is not None and now >= announcement.signup_closes_at


async def get(conn: Connection, announcement_id: int, resident_id: int) -> Signup | None:
    row = await fetch_one(conn, "SELECT resident_id, status, name, phone FROM signups"
                          " WHERE announcement_id = ? AND resident_id = ?", (announcement_id, resident_id))
    return Signup(int(row[0]), SignupStatus(row[1]), row[2], row[3]) if row else None


async def count(conn: Connection, announcement_id: int, status: SignupStatus = SignupStatus.ACTIVE) -> int:
    row = await fetch_one(conn, "SELECT COUNT(*) FROM signups WHERE announcement_id = ? AND status = ?",
                          (announcement_id, status.value))
    return int(row[0]) if row else 0


async def sign_up(conn: Connection, announcement: Announcement, resident_id: int, contact: Contact,
                  now: datetime, *, wait: bool) -> SignupResult:
    """A place if there is one; else the waiting list when `wait`, else FULL."""
    if is_closed(announcement, now):
        return SignupResult.CLOSED
    current = await get(conn, announcement.id, resident_id)
    if current is not None and current.status is SignupStatus.ACTIVE:
        return SignupResult.ALREADY
    full = announcement.capacity is not None and await count(conn, announcement.id) >= announcement.capacity
    if current is not None and current.status is SignupStatus.WAITING and full:
        return SignupResult.ALREADY_WAITING
    if full and not wait:
        return SignupResult.FULL
    status = SignupStatus.WAITING if full else SignupStatus.ACTIVE
    await conn.execute(
        "INSERT INTO signups (announcement_id, resident_id, status, name, phone, joined_at, created_at, updated_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (announcement_id, resident_id) DO UPDATE SET"
        " status = excluded.status, name = excluded.name, phone = excluded.phone,"
        " joined_at = excluded.joined_at, updated_at = excluded.updated_at",
        (announcement.id, resident_id, status.value, contact.name, contact.phone, stamp(now), stamp(now), stamp(now)),
    )
    return SignupResult.WAITING if full else SignupResult.JOINED


async def leave(conn: Connection, announcement: Announcement, resident_id: int,
                now: datetime) -> tuple[SignupStatus | None, list[int]]:
    """(the status left — None if not signed up —, the residents moved up into the freed place)."""
    current = await get(conn, announcement.id, resident_id)
    if current is None or current.status is SignupStatus.CANCELLED:
        return None, []
    cursor = await conn.execute(
        "UPDATE signups SET status = 'cancelled', updated_at = ?"
        " WHERE announcement_id = ? AND resident_id = ? AND status = ?",
        (stamp(now), announcement.id, resident_id, current.status.value),
    )
    if cursor.rowcount != 1:
        return None, []
    return current.status, await fill_places(conn, announcement, now)


async def fill_places(conn: Connection, announcement: Announcement, now: datetime) -> list[int]:
    """Move up waiting residents, first come first served, into the free places; who moved up."""
    if announcement.capacity is None or (announcement.starts_at is not None and now >= announcement.starts_at):
        return []  # until the activity starts, even after sign-up closed: a place is worth telling
    free = announcement.capacity - await count(conn, announcement.id)
    if free <= 0:
        return []
    waiting = await fetch_all(
        conn, "SELECT resident_id FROM signups WHERE announcement_id = ? AND status = 'waiting'"
        " ORDER BY joined_at, created_at, resident_id LIMIT ?", (announcement.id, free))
    moved: list[int] = []
    for (resident_id,) in waiting:
        cursor = await conn.execute(
            "UPDATE signups SET status = 'active', updated_at = ?"
            " WHERE announcement_id = ? AND resident_id = ? AND status = 'waiting'",
            (stamp(now), announcement.id, resident_id))
        if cursor.rowcount == 1:  # not moved up (and told) by anyone before
            moved.append(int(resident_id))
    return moved


async def listed(conn: Connection, announcement_id: int) -> list[Signup]:
    """Signed up, then waiting, each in the order they joined."""
    rows = await fetch_all(
        conn, "SELECT resident_id, status, name, phone FROM signups WHERE announcement_id = ?"
        " AND status IN ('active', 'waiting') ORDER BY status = 'waiting', joined_at,"
        " created_at, resident_id", (announcement_id,))
    return [Signup(int(r[0]), SignupStatus(r[1]), r[2], r[3]) for r in rows]


async def last_contact(conn: Connection, resident_id: int) -> Contact | None:
    """The name and phone this resident gave at their latest sign-up, to offer again."""
    row = await fetch_one(
        conn, "SELECT name, phone FROM signups WHERE resident_id = ? AND (name != '' OR phone != '')"
        " ORDER BY updated_at DESC LIMIT 1", (resident_id,))
    return Contact(row[0], row[1]) if row else None


async def set_capacity(conn: Connection, announcement_id: int, capacity: int, now: datetime) -> None:
    await conn.execute("UPDATE announcements SET capacity = ?, updated_at = ? WHERE id = ?",
                       (capacity, stamp(now), announcement_id))
