"""Announcements (公告), their runs (one per scheduled time, so none is sent twice) and sign-ups."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from storage.clock import parse_stamp, stamp
from storage.db import fetch_all, fetch_one, insert_id
from storage.engine import Connection, Row


class AnnouncementStatus(StrEnum):
    ACTIVE = "active"
    FINISHED = "finished"  # a one-off that has run
    CANCELLED = "cancelled"


class TargetKind(StrEnum):
    ALL = "all"
    COMMUNITY = "community"
    GRID = "grid"


class RunOutcome(StrEnum):
    SENT = "sent"  # outbox rows written for every target
    MISSED = "missed"  # too late to send (the bot was down past the grace window): admins told


@dataclass(frozen=True)
class NewAnnouncement:
    text: str
    target_kind: TargetKind
    target_id: str
    cron: str  # "" for a one-off
    first_run_at: datetime
    created_by: str
    source: str  # chat | cli | config
    config_key: str | None = None
    capacity: int | None = None  # a sign-up (报名) with this many places
    starts_at: datetime | None = None
    signup_closes_at: datetime | None = None
    remind_at: datetime | None = None
    organiser: str = ""


@dataclass(frozen=True)
class Announcement:
    id: int
    text: str
    target_kind: TargetKind
    target_id: str
    cron: str
    next_run_at: datetime | None
    status: AnnouncementStatus
    created_by: str
    source: str
    config_key: str | None
    capacity: int | None
    starts_at: datetime | None
    signup_closes_at: datetime | None
    remind_at: datetime | None
    organiser: str

    @property
    def has_signup(self) -> bool:
        return self.capacity is not None


_COLUMNS = ("id, text, target_kind, target_id, cron, next_run_at, status, created_by, source, config_key,"
            " capacity, starts_at, signup_closes_at, remind_at, organiser")


def _moment(value: str | None) -> datetime | None:
    return parse_stamp(value) if value else None


def _announcement(row: Row) -> Announcement:
    return Announcement(row[0], row[1], TargetKind(row[2]), row[3], row[4], _moment(row[5]),
                        AnnouncementStatus(row[6]), row[7], row[8], row[9], row[10], _moment(row[11]),
                        _moment(row[12]), _moment(row[13]), row[14])


def _stamp_or_none(moment: datetime | None) -> str | None:
    return stamp(moment) if moment else None


async def create(conn: Connection, new: NewAnnouncement, now: datetime) -> int:
    made = await insert_id(
        conn,
        "INSERT INTO announcements (text, target_kind, target_id, cron, next_run_at, created_by, source,"
        " config_key, capacity, starts_at, signup_closes_at, remind_at, organiser, created_at, updated_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        (new.text, new.target_kind.value, new.target_id, new.cron, stamp(new.first_run_at), new.created_by,
         new.source, new.config_key, new.capacity, _stamp_or_none(new.starts_at),
         _stamp_or_none(new.signup_closes_at), _stamp_or_none(new.remind_at), new.organiser,
         stamp(now), stamp(now)),
    )
    return int(made or 0)


async def get(conn: Connection, announcement_id: int) -> Announcement | None:
    row = await fetch_one(conn, f"SELECT {_COLUMNS} FROM announcements WHERE id = ?", (announcement_id,))
    return _announcement(row) if row else None


async def by_config_key(conn: Connection, key: str) -> Announcement | None:
    row = await fetch_one(conn, f"SELECT {_COLUMNS} FROM announcements WHERE config_key = ?", (key,))
    return _announcement(row) if row else None


async def active(conn: Connection) -> list[Announcement]:
    return [_announcement(row) for row in await fetch_all(conn, f"SELECT {_COLUMNS} FROM announcements WHERE status = 'active' ORDER BY next_run_at, id")]


async def recent(conn: Connection, limit: int = 20) -> list[Announcement]:
    return [_announcement(row) for row in await fetch_all(conn, f"SELECT {_COLUMNS} FROM announcements ORDER BY id DESC LIMIT ?", (limit,))]


async def due(conn: Connection, now: datetime) -> list[Announcement]:
    return [_announcement(row) for row in await fetch_all(
        conn, f"SELECT {_COLUMNS} FROM announcements WHERE status = 'active' AND next_run_at <= ?"
        " ORDER BY next_run_at, id", (stamp(now),),
    )]


async def next_due_at(conn: Connection) -> datetime | None:
    row = await fetch_one(conn, "SELECT MIN(next_run_at) FROM announcements WHERE status = 'active'")
    return _moment(row[0]) if row else None


async def set_next_run(conn: Connection, announcement_id: int, next_run_at: datetime | None,
                       now: datetime) -> None:
    """The next time to run; None finishes a one-off."""
    await conn.execute(
        "UPDATE announcements SET next_run_at = ?, updated_at = ?,"
        " status = CASE WHEN ? IS NULL AND status = 'active' THEN 'finished' ELSE status END WHERE id = ?",
        (_stamp_or_none(next_run_at), stamp(now), _stamp_or_none(next_run_at), announcement_id),
    )


async def update_text(conn: Connection, announcement_id: int, text: str, now: datetime) -> None:
    await conn.execute("UPDATE announcements SET text = ?, updated_at = ? WHERE id = ?",
                       (text, stamp(now), announcement_id))


async def update_plan(conn: Connection, announcement_id: int, text: str, target_kind: TargetKind,
                      target_id: str, cron: str, next_run_at: datetime, now: datetime) -> None:
    """A config-declared announcement whose text, groups or rule changed in config.yaml."""
    await conn.execute(
        "UPDATE announcements SET text = ?, target_kind = ?, target_id = ?, cron = ?, next_run_at = ?,"
        " updated_at = ? WHERE id = ?",
        (text, target_kind.value, target_id, cron, stamp(next_run_at), stamp(now), announcement_id),
    )


async def cancel(conn: Connection, announcement_id: int, now: datetime) -> bool:
    cursor = await conn.execute(
        "UPDATE announcements SET status = 'cancelled', next_run_at = NULL, updated_at = ?"
        # An activity already posted can still be called off until it happens.
        " WHERE id = ? AND (status = 'active' OR (status = 'finished' AND capacity IS NOT NULL))",
        (stamp(now), announcement_id),
    )
    return cursor.rowcount > 0


async def record_run(conn: Connection, announcement_id: int, scheduled_for: datetime,
                     outcome: RunOutcome, targets: int, now: datetime) -> int | None:
    """The run's id, or None if this scheduled time already ran (so nothing is sent twice)."""
    return await insert_id(
        conn,
        "INSERT INTO announcement_runs (announcement_id, scheduled_for, ran_at, outcome, targets)"
        " VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING id",
        (announcement_id, stamp(scheduled_for), stamp(now), outcome.value, targets),
    )


async def set_run_targets(conn: Connection, run_id: int, targets: int) -> None:
    await conn.execute("UPDATE announcement_runs SET targets = ? WHERE id = ?", (targets, run_id))


@dataclass(frozen=True)
class RunDelivery:
    """Per target of one run: where it went and what became of it."""

    run_id: int
    scheduled_for: datetime
    channel: str
    chat_id: str
    status: str
    attempts: int
    last_error: str


async def deliveries(conn: Connection, announcement_id: int, limit: int = 200) -> list[RunDelivery]:
    rows = await fetch_all(
        conn, "SELECT r.id, r.scheduled_for, o.channel, o.chat_id, o.status, o.attempts, o.last_error"
        " FROM announcement_runs r JOIN outbox o ON o.run_id = r.id"
        " WHERE r.announcement_id = ? ORDER BY r.id DESC, o.id LIMIT ?", (announcement_id, limit),
    )
    return [RunDelivery(r[0], parse_stamp(r[1]), r[2], r[3], r[4], r[5], r[6]) for r in rows]


async def runs(conn: Connection, announcement_id: int) -> list[tuple[datetime, str, int]]:
    return [(parse_stamp(r[0]), r[1], r[2]) for r in await fetch_all(
        conn, "SELECT scheduled_for, outcome, targets FROM announcement_runs WHERE announcement_id = ? ORDER BY id",
        (announcement_id,),
    )]


async def count_signups(conn: Connection, announcement_id: int) -> int:
    row = await fetch_one(
        conn, "SELECT COUNT(*) FROM signups WHERE announcement_id = ? AND status = 'active'",
        (announcement_id,)
    )
    return int(row[0]) if row else 0


async def signed_up(conn: Connection, announcement_id: int) -> list[int]:
    """Resident ids, in the order they signed up."""
    return [int(r[0]) for r in await fetch_all(
        conn, "SELECT resident_id FROM signups WHERE announcement_id = ? AND status = 'active' ORDER BY created_at",
        (announcement_id,),
    )]


async def open_for_signup(conn: Connection, now: datetime, limit: int = 20) -> list[Announcement]:
    """Activities still taking sign-ups (近期活动), the soonest first."""
    return [_announcement(row) for row in await fetch_all(
        conn, f"SELECT {_COLUMNS} FROM announcements WHERE capacity IS NOT NULL AND status != 'cancelled'"
        " AND starts_at > ? AND (signup_closes_at IS NULL OR signup_closes_at > ?) ORDER BY starts_at, id LIMIT ?",
        (stamp(now), stamp(now), limit),
    )]


async def update_start(conn: Connection, announcement_id: int, starts_at: datetime,
                       closes_at: datetime, remind_at: datetime, now: datetime) -> None:
    """An activity moved: it closes and reminds relative to the new start (and reminds again)."""
    await conn.execute(
        "UPDATE announcements SET starts_at = ?, signup_closes_at = ?, remind_at = ?, reminded_at = NULL,"
        " updated_at = ? WHERE id = ?",
        (stamp(starts_at), stamp(closes_at), stamp(remind_at), stamp(now), announcement_id),
    )


async def due_reminders(conn: Connection, now: datetime) -> list[Announcement]:
    return [_announcement(row) for row in await fetch_all(
        conn, f"SELECT {_COLUMNS} FROM announcements WHERE reminded_at IS NULL AND remind_at <= ?"
        " AND status != 'cancelled' ORDER BY remind_at", (stamp(now),),
    )]


async def mark_reminded(conn: Connection, announcement_id: int, now: datetime) -> None:
    await conn.execute("UPDATE announcements SET reminded_at = ? WHERE id = ?", (stamp(now), announcement_id))
