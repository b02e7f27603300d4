"""Received platform updates, stored before the platform is told they arrived."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from storage.clock import stamp
from storage.db import fetch_all, fetch_one
from storage.engine import Connection
from storage.pipeline import Later, read_later, write

MAX_ATTEMPTS = 3


class InboxStatus(StrEnum):
    PENDING = "pending"
    DONE = "done"  # handled (or deliberately held back, the reason in `error`: flood-limited)
    SKIPPED = "skipped"  # not something the bot uses; its kind in `error` (an edit, a boost)
    FAILED = "failed"  # parked: could not be parsed or handled, the reason in `error`


# Items that left the inbox's queue: erasure and retention blank their payloads. Written out in
# the SQL (not bound) so the partial index inbox_retention (migration 0010) matches it.
SETTLED_SQL = "('done', 'skipped', 'failed')"


@dataclass(frozen=True)
class InboxItem:
    id: int
    channel: str
    platform_id: str
    payload: str
    attempts: int


async def store(
    conn: Connection, channel: str, platform_id: str, payload: str, now: datetime
) -> bool:
    """Store one update; False if it was already stored (a platform retry)."""
    cursor = await conn.execute(
        "INSERT INTO inbox (channel, platform_id, payload, received_at) VALUES (?, ?, ?, ?)"
        " ON CONFLICT DO NOTHING",
        (channel, platform_id, payload, stamp(now)),
    )
    return cursor.rowcount == 1


@dataclass(frozen=True)
class StoredItem:
    id: int
    status: str
    response: str | None  # WeChat's passive reply, kept for the platform's retries


async def by_platform_id(conn: Connection, channel: str, platform_id: str) -> StoredItem | None:
    row = await fetch_one(
        conn, "SELECT id, status, response FROM inbox WHERE channel = ? AND platform_id = ?",
        (channel, platform_id),
    )
    return StoredItem(*row) if row else None


STORE = ("INSERT INTO inbox (channel, platform_id, payload, received_at) VALUES (?, ?, ?, ?)"
         " ON CONFLICT DO NOTHING RETURNING id, status, response")


async def store_or_find(
    conn: Connection, channel: str, platform_id: str, payload: str, now: datetime
) -> StoredItem:
    """Store one update, or find it if already stored (a platform retry): the new row in one
    statement (RETURNING), a read only for a retry; either way it writes at most once."""
    rows = await fetch_all(conn, STORE, (channel, platform_id, payload, stamp(now)))
    if rows:
        return StoredItem(*rows[0])
    found = await by_platform_id(conn, channel, platform_id)
    assert found is not None, "ignored as a duplicate, so it is there"
    return found


async def store_later(conn: Connection, channel: str, platform_id: str, payload: str,
                      now: datetime) -> Later:
    """`store_or_find`'s one statement, held (storage/pipeline.py): inside a group commit it
    goes out with the next trip, not one of its own. Once committed, `stored` says what it did."""
    return await read_later(conn, STORE, (channel, platform_id, payload, stamp(now)))


def stored(later: Later) -> StoredItem | None:
    """The row `store_later` inserted; None when the update was there already (a retry), to be
    read with `by_platform_id`."""
    rows = later.rows()
    return StoredItem(*rows[0]) if rows else None


async def pending(conn: Connection, channel: str, limit: int = 50) -> list[InboxItem]:
    return [InboxItem(*row) for row in await fetch_all(
        conn, "SELECT id, channel, platform_id, payload, attempts FROM inbox"
        " WHERE status = 'pending' AND channel = ? ORDER BY id LIMIT ?",
        (channel, limit),
    )]


async def pending_received_by(conn: Connection, channel: str, before: datetime,
                              limit: int = 50) -> list[InboxItem]:
    """Pending items stored at or before `before`: with several instances, a younger one may be
    in the hands of the instance that received it (WeChat's passive reply)."""
    return [InboxItem(*row) for row in await fetch_all(
        conn, "SELECT id, channel, platform_id, payload, attempts FROM inbox"
        " WHERE status = 'pending' AND channel = ? AND received_at <= ? ORDER BY id LIMIT ?",
        (channel, stamp(before), limit),
    )]


async def pending_by_update(conn: Connection, channel: str, limit: int = 50) -> list[InboxItem]:
    """Pending items in the platform's update order (Telegram's update_id, increasing per bot):
    with several instances behind a load balancer, two updates of one chat may be stored in the
    other order (whichever instance commits first), and a dialog's steps must not swap."""
    return [InboxItem(*row) for row in await fetch_all(
        conn, "SELECT id, channel, platform_id, payload, attempts FROM inbox"
        " WHERE status = 'pending' AND channel = ? ORDER BY CAST(platform_id AS BIGINT), id LIMIT ?",
        (channel, limit),
    )]


async def mark_done(conn: Connection, item_id: int, now: datetime, note: str = "",
                    sender: str = "", payload: str | None = None, response: str | None = None) -> None:
    """Handled (or deliberately not, saying why in `note`, e.g. flood-limited). The sender is
    kept so a resident's erasure can find their raw messages; `payload` replaces the stored one
    (what need not be kept once handled, e.g. the card a button was pressed on); `response` is
    WeChat's passive reply, written by the same statement, so a retry of
    the message gets the same answer."""
    await _settle(conn, item_id, InboxStatus.DONE, now, note, sender, payload, response)


async def mark_skipped(conn: Connection, item_id: int, now: datetime, reason: str,
                       sender: str = "", payload: str | None = None) -> None:
    """Not something the bot uses (an edit, a service message, a boost); `reason` says what."""
    await _settle(conn, item_id, InboxStatus.SKIPPED, now, reason, sender, payload)


async def park(conn: Connection, item_id: int, now: datetime, reason: str,
               sender: str = "", payload: str | None = None) -> None:
    """Parked at once: trying again cannot help (it cannot even be parsed)."""
    await _settle(conn, item_id, InboxStatus.FAILED, now, reason[:500], sender, payload)


async def _settle(conn: Connection, item_id: int, status: InboxStatus, now: datetime,
                  note: str, sender: str, payload: str | None, response: str | None = None) -> None:
    await write(
        conn,
        "UPDATE inbox SET status = ?, processed_at = ?, attempts = attempts + 1, error = ?,"
        " sender = ?, payload = COALESCE(?, payload), response = COALESCE(?, response) WHERE id = ?",
        (status.value, stamp(now), note, sender, payload, response, item_id),
    )


async def record_failure(conn: Connection, item_id: int, error: str, now: datetime,
                         sender: str = "", payload: str | None = None) -> bool:
    """Count a failed attempt; after MAX_ATTEMPTS the item is parked as failed (with `sender` and
    `payload` as for mark_done). True if parked."""
    await conn.execute(
        "UPDATE inbox SET attempts = attempts + 1, error = ?,"
        " status = CASE WHEN attempts + 1 >= ? THEN 'failed' ELSE 'pending' END,"
        " processed_at = ? WHERE id = ?",
        (error[:500], MAX_ATTEMPTS, stamp(now), item_id),
    )
    row = await fetch_one(conn, "SELECT status FROM inbox WHERE id = ?", (item_id,))
    parked = bool(row and row[0] == InboxStatus.FAILED)
    if parked:
        await conn.execute("UPDATE inbox SET sender = ?, payload = COALESCE(?, payload) WHERE id = ?",
                           (sender, payload, item_id))
    return parked


async def is_pending(conn: Connection, item_id: int) -> bool:
    """Still to be handled: with several instances another may have handled it meanwhile (each
    handles what any instance stored), so the handling transaction checks first."""
    row = await fetch_one(conn, "SELECT status FROM inbox WHERE id = ?", (item_id,))
    return row is not None and row[0] == "pending"
