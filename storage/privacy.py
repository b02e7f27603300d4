"""Personal data: what a resident can see about themself, erasure on request, and retention."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from storage import attachments, erasure, inbox
from storage.clock import parse_stamp, stamp
from storage.db import fetch_all, fetch_one
from storage.engine import Connection

CLOSED_STATUSES = ("resolved", "closed", "cancelled")
# Blanking an outbox row: one not yet sent is dropped (failed, reason "erased", never shown in
# 我的工单); rows a sender holds right now (claimed, sending) are left to finish, then blanked
# (storage/erasure.py follows them up).
_BLANK_OUTBOX = (
    "UPDATE outbox SET payload = '{}', shown_at = COALESCE(shown_at, ?2),"
    " last_error = CASE WHEN status = 'pending' THEN 'erased' ELSE last_error END,"
    " status = CASE WHEN status = 'pending' THEN 'failed' ELSE status END"
    " WHERE status NOT IN ('claimed', 'sending') AND payload != '{}' AND "
)
RETENTION_BATCH = 500


@dataclass(frozen=True)
class ResidentData:
    """Everything the bot keeps about one resident, as 我的数据 shows it."""

    display_name: str
    phone: str
    phone_shared: bool
    compound: str
    building: str
    tags: tuple[str, ...]
    tickets: int
    open_tickets: int
    accounts: tuple[str, ...]  # channels


@dataclass(frozen=True)
class SignupRecord:
    """One of a resident's activity sign-ups, as 我的数据 lists it."""

    announcement_id: int
    text: str  # the announcement's text (the activity)
    starts_at: datetime | None
    status: str  # the sign-up's own state: active, cancelled, …
    activity_cancelled: bool


@dataclass(frozen=True)
class Erased:
    tickets: int
    messages: int


async def resident_data(conn: Connection, resident_id: int) -> ResidentData:
    row = await fetch_one(
        conn, "SELECT display_name, phone, phone_shared, COALESCE(compound, ''), COALESCE(building, '')"
        " FROM residents WHERE id = ?", (resident_id,)
    )
    assert row is not None, f"no resident {resident_id}"
    tags = tuple(r[0] for r in await fetch_all(conn, "SELECT tag FROM resident_tags WHERE resident_id = ? ORDER BY tag", (resident_id,)))
    counts = await fetch_one(
        conn, "SELECT COUNT(*), COALESCE(SUM(status NOT IN (?, ?, ?)), 0) FROM tickets WHERE resident_id = ?",
        (*CLOSED_STATUSES, resident_id),
    )
    channels = tuple(r[0] for r in await fetch_all(conn, "SELECT DISTINCT channel FROM accounts WHERE resident_id = ? ORDER BY channel", (resident_id,)))
    return ResidentData(row[0], row[1], bool(row[2]), row[3], row[4], tags,
                        int(counts[0]) if counts else 0, int(counts[1]) if counts else 0, channels)


async def signups_of(conn: Connection, resident_id: int) -> list[SignupRecord]:
    """Every sign-up row of the resident (cancelled ones too: the row is still kept)."""
    return [SignupRecord(int(r[0]), r[1], parse_stamp(r[2]) if r[2] else None, r[3], r[4] == "cancelled")
            for r in await fetch_all(
                conn, "SELECT s.announcement_id, a.text, a.starts_at, s.status, a.status FROM signups AS s"
                " JOIN announcements AS a ON a.id = s.announcement_id WHERE s.resident_id = ?"
                " ORDER BY s.created_at, s.announcement_id", (resident_id,))]


async def add_tag(conn: Connection, resident_id: int, tag: str, now: datetime) -> None:
    await conn.execute("INSERT INTO resident_tags (resident_id, tag, added_at) VALUES (?, ?, ?)"
                       " ON CONFLICT DO NOTHING", (resident_id, tag, stamp(now)))


async def _purge_tickets(conn: Connection, ticket_ids: list[int], now: datetime) -> None:
    """A ticket keeps what the 三率 and the audit need (who, when, grid, category, status); its
    description, phone, flat (detail), exact location, result note, photos and event notes go."""
    for ticket_id in ticket_ids:
        await conn.execute(
            "UPDATE tickets SET description = '', phone = '', detail = '', latitude = NULL, longitude = NULL,"
            " result_note = '', purged_at = ? WHERE id = ?", (stamp(now), ticket_id))
        await conn.execute("DELETE FROM ticket_photos WHERE ticket_id = ?", (ticket_id,))
        await attachments.delete_web_photos(conn, ticket_id)
        await conn.execute("UPDATE ticket_events SET note = '' WHERE ticket_id = ? AND note != ''",
                           (ticket_id,))
        # Cards and notices about the ticket quote it.
        await conn.execute(_BLANK_OUTBOX + "ticket_id = ?1", (ticket_id, stamp(now)))


async def erase_resident(conn: Connection, resident_id: int, now: datetime,
                         masks: erasure.Masks = erasure.AS_STORED) -> Erased:
    """Erase a resident's personal data everywhere; their accounts stay so the chat still works.

    Everywhere: their own rows (sign-ups deleted whole), and the copies of their description, added information and phone
    made for others (see storage/erasure.py); `masks` are the forms the bot shows their text in
    (masked numbers), so those copies are recognised too. Open tickets must have been cancelled
    first (the caller tells their grid people).
    """
    traces = await erasure.traces_of_resident(conn, resident_id, masks)  # before anything is blanked
    since = await erasure.first_seen(conn, resident_id)
    ticket_ids = [int(r[0]) for r in await fetch_all(conn, "SELECT id FROM tickets WHERE resident_id = ?", (resident_id,))]
    await _purge_tickets(conn, ticket_ids, now)
    for ticket_id in ticket_ids:
        await erasure.follow_up_busy_outbox(conn, "ticket_id = ?", (ticket_id,), now)
    await conn.execute(
        "UPDATE residents SET display_name = '', phone = '', phone_shared = 0, community_id = NULL,"
        " compound = NULL, building = NULL, grid_id = NULL, erased_at = ? WHERE id = ?",
        (stamp(now), resident_id))
    await conn.execute("DELETE FROM resident_tags WHERE resident_id = ?", (resident_id,))
    await conn.execute("DELETE FROM ticket_followers WHERE resident_id = ?", (resident_id,))
    # Sign-ups go as whole rows, so every column (a name or phone given at sign-up) goes with
    # them; organisers' counts and lists read the rows, so she is no longer counted.
    await conn.execute("DELETE FROM signups WHERE resident_id = ?", (resident_id,))
    messages = 0
    accounts = [tuple(r) for r in await fetch_all(
        conn, "SELECT channel, external_id, chat_id FROM accounts WHERE resident_id = ?",
        (resident_id,)
    )]
    for channel, external_id, chat_id in accounts:
        await conn.execute("DELETE FROM dialogs WHERE channel = ? AND user_id = ?", (channel, external_id))
        cursor = await conn.execute(
            "UPDATE inbox SET payload = '', response = NULL WHERE channel = ? AND sender = ?"
            f" AND status IN {inbox.SETTLED_SQL} AND (payload != '' OR response IS NOT NULL)",
            (channel, external_id))
        messages += cursor.rowcount
        cursor = await conn.execute(_BLANK_OUTBOX + "channel = ?1 AND chat_id = ?3",
                                    (channel, stamp(now), chat_id))
        messages += cursor.rowcount
        await erasure.follow_up_busy_outbox(conn, "channel = ? AND chat_id = ?", (channel, chat_id), now)
        if channel == "wechat":
            await conn.execute("DELETE FROM wechat_choices WHERE openid = ?", (external_id,))
            await conn.execute("DELETE FROM wechat_menu_items WHERE openid = ?", (external_id,))
    messages += await erasure.blank_copies(conn, traces, since, now)
    return Erased(len(ticket_ids), messages)


async def purge_expired(conn: Connection, now: datetime, retention: timedelta) -> int:
    """Retention: personal fields of tickets closed before the cutoff, and raw messages older than
    it, are blanked, a batch at a time; returns how many rows changed (0 when caught up)."""
    cutoff = stamp(now - retention)
    ticket_ids = [int(r[0]) for r in await fetch_all(
        conn, "SELECT id FROM tickets WHERE purged_at IS NULL AND status IN (?, ?, ?) AND updated_at < ?"
        " ORDER BY updated_at LIMIT ?", (*CLOSED_STATUSES, cutoff, RETENTION_BATCH)
    )]
    await _purge_tickets(conn, ticket_ids, now)
    raw = await conn.execute(
        "UPDATE inbox SET payload = '', response = NULL WHERE id IN (SELECT id FROM inbox"
        f" WHERE payload != '' AND status IN {inbox.SETTLED_SQL} AND processed_at < ? LIMIT ?)",
        (cutoff, RETENTION_BATCH))
    sent = await conn.execute(
        _BLANK_OUTBOX + "id IN (SELECT id FROM outbox WHERE payload != '{}' AND created_at < ?1 LIMIT ?3)",
        (cutoff, stamp(now), RETENTION_BATCH))
    followed = await erasure.settle_followups(conn, now)
    return len(ticket_ids) + raw.rowcount + sent.rowcount + followed
