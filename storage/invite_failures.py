"""Refused invite codes by account and time, so guessing can be capped and noticed (never the code)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from storage.clock import parse_stamp, stamp
from storage.db import fetch_one
from storage.engine import Connection
from storage.state import get_state, set_state

SPIKE_ALERTED_KEY = "invites:spike_alerted_at"


@dataclass(frozen=True)
class FailureCounts:
    accounts: int  # distinct accounts that sent a wrong code
    attempts: int


async def failures_of(conn: Connection, channel: str, external_id: str, since: datetime) -> int:
    row = await fetch_one(
        conn, "SELECT COUNT(*) FROM invite_failures WHERE channel = ? AND external_id = ? AND at > ?",
        (channel, external_id, stamp(since)))
    return int(row[0]) if row else 0


async def record_failure(conn: Connection, channel: str, external_id: str, now: datetime,
                         since: datetime) -> None:
    """Count one refused code; rows from before `since` are no longer needed and go."""
    await conn.execute("DELETE FROM invite_failures WHERE at <= ?", (stamp(since),))
    await conn.execute("INSERT INTO invite_failures (channel, external_id, at) VALUES (?, ?, ?)",
                       (channel, external_id, stamp(now)))


async def failures_since(conn: Connection, since: datetime) -> FailureCounts:
    row = await fetch_one(
        conn, "SELECT COUNT(DISTINCT channel || ':' || external_id), COUNT(*) FROM invite_failures WHERE at > ?",
        (stamp(since),))
    return FailureCounts(int(row[0]), int(row[1])) if row else FailureCounts(0, 0)


async def spike_alerted_at(conn: Connection) -> datetime | None:
    value = await get_state(conn, SPIKE_ALERTED_KEY)
    return parse_stamp(value) if value else None


async def set_spike_alerted(conn: Connection, now: datetime) -> None:
    await set_state(conn, SPIKE_ALERTED_KEY, stamp(now))
