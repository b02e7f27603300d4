"""Received platform updates, stored before the platform is told they arrived."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import aiosqlite

from storage.clock import stamp
from storage.db import fetch_all, fetch_one

MAX_ATTEMPTS = 3


@dataclass(frozen=True)
class InboxItem:
    id: int
    channel: str
    platform_id: str
    payload: str
    attempts: int


async def store(
    conn: aiosqlite.Connection, channel: str, platform_id: str, payload: str, now: datetime
) -> bool:
    """Store one update; False if it was already stored (a platform retry)."""
    cursor = await conn.execute(
        "INSERT OR IGNORE INTO inbox (channel, platform_id, payload, received_at) VALUES (?, ?, ?, ?)",
        (channel, platform_id, payload, stamp(now)),
    )
    return cursor.rowcount == 1


@dataclass(frozen=True)
class StoredItem:
    id: int
    status: str
    response: str | None  # WeChat's passive reply, kept for the platform's retries


async def by_platform_id(conn: aiosqlite.Connection, channel: str, platform_id: str) -> StoredItem | None:
    row = await fetch_one(
        conn, "SELECT id, status, response FROM inbox WHERE channel = ? AND platform_id = ?",
        (channel, platform_id),
    )
    return StoredItem(*row) if row else None


async def save_response(conn: aiosqlite.Connection, item_id: int, response: str) -> None:
    """The passive reply, so a platform retry of the same message gets the same answer."""
    await conn.execute("UPDATE inbox SET response = ? WHERE id = ?", (response, item_id))


async def pending(conn: aiosqlite.Connection, channel: str, limit: int = 50) -> list[InboxItem]:
    return [InboxItem(*row) for row in await fetch_all(
        conn, "SELECT id, channel, platform_id, payload, attempts FROM inbox"
        " WHERE status = 'pending' AND channel = ? ORDER BY id LIMIT ?",
        (channel, limit),
    )]


async def mark_done(conn: aiosqlite.Connection, item_id: int, now: datetime, note: str = "",
                    sender: str = "") -> None:
    """Handled (or deliberately not, saying why in `note`, e.g. flood-limited). The sender is
    kept so a resident's erasure can find their raw messages."""
    await conn.execute(
        "UPDATE inbox SET status = 'done', processed_at = ?, attempts = attempts + 1, error = ?,"
        " sender = ? WHERE id = ?",
        (stamp(now), note, sender, item_id),
    )


async def record_failure(conn: aiosqlite.Connection, item_id: int, error: str, now: datetime) -> bool:
    """Count a failed attempt; after MAX_ATTEMPTS the item is parked as failed. True if parked."""
    await conn.execute(
        "UPDATE inbox SET attempts = attempts + 1, error = ?,"
        " status = CASE WHEN attempts + 1 >= ? THEN 'failed' ELSE 'pending' END,"
        " processed_at = ? WHERE id = ?",
        (error[:500], MAX_ATTEMPTS, stamp(now), item_id),
    )
    row = await fetch_one(conn, "SELECT status FROM inbox WHERE id = ?", (item_id,))
    return bool(row and row[0] == "failed")


async def get_state(conn: aiosqlite.Connection, key: str) -> str | None:
    row = await fetch_one(conn, "SELECT value FROM channel_state WHERE key = ?", (key,))
    return str(row[0]) if row else None


async def set_state(conn: aiosqlite.Connection, key: str, value: str) -> None:
    await conn.execute(
        "INSERT INTO channel_state (key, value) VALUES (?, ?)"
        " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        (key, value),
    )
