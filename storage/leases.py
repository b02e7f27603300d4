"""Named leases: which instance does a one-at-a-time job (poll Telegram, send on a channel, run the
deadline sweep and the digest) while several instances share one database.

A lease is a row (name, holder, expires_at). It is taken — or renewed by its holder — with one
atomic statement that succeeds only when the lease is free, has run out, or is already ours, so
two instances can never both hold it. The holder renews it well before it runs out (a heartbeat);
when the holder dies, the lease runs out and the next instance to ask takes it over. Times come
from the caller's clock (storage/clock.py), so tests move them by hand.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from storage.clock import parse_stamp, stamp
from storage.db import fetch_one
from storage.engine import Connection

# Sorts before every stamp: a released lease has run out for everyone.
_RELEASED = ""


@dataclass(frozen=True)
class Lease:
    name: str
    holder: str
    expires_at: datetime | None  # None: released


async def take(conn: Connection, name: str, holder: str, now: datetime, length: timedelta) -> bool:
    """Take the lease or renew ours until now + length; False while another holder's is running.

    One statement (an upsert whose UPDATE is guarded by `expires_at < now OR holder = me`): on
    PostgreSQL the row lock makes concurrent takers wait and re-check, so only one wins."""
    row = await fetch_one(
        conn,
        "INSERT INTO leases (name, holder, expires_at) VALUES (?, ?, ?)"
        " ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at"
        " WHERE leases.expires_at < ? OR leases.holder = ? RETURNING holder",
        (name, holder, stamp(now + length), stamp(now), holder),
    )
    return row is not None


async def release(conn: Connection, name: str, holder: str) -> None:
    """Give the lease up at once (a clean stop): the next instance need not wait for it to run out."""
    await conn.execute("UPDATE leases SET expires_at = ? WHERE name = ? AND holder = ?", (_RELEASED, name, holder))


async def current(conn: Connection, name: str) -> Lease | None:
    row = await fetch_one(conn, "SELECT name, holder, expires_at FROM leases WHERE name = ?", (name,))
    if row is None:
        return None
    return Lease(row[0], row[1], parse_stamp(row[2]) if row[2] else None)
