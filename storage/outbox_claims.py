"""Outbox claims shared by several instances on one PostgreSQL database.

SQLite has one process, which claims with storage.outbox.claim_due and recovers everything left
mid-send at start. With several instances, a claim also says by whom and until when
(claimed_by / claimed_until, migration 0029): the sender renews its claims while it holds them,
and a claim that ran out — its instance died — is due again for any sender, exactly as the
single process treats its own rows after a crash (storage.outbox.recover_interrupted).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from storage.clock import stamp
from storage.db import fetch_all
from storage.engine import Connection
from storage.outbox import _COLUMNS, INTERRUPTED, OutboxRow, _row

# One chat's rows go out in order across instances: a row is claimable only while no earlier row
# of its chat is pending, claimed or on the wire — whichever instance holds that one. Rows another
# instance is claiming right now are locked and skipped (SKIP LOCKED), never waited for; a row
# whose claim committed meanwhile is re-checked under its lock and no longer 'pending'.
_CLAIMABLE = (
    f"SELECT {', '.join('o.' + c.strip() for c in _COLUMNS.split(','))} FROM outbox AS o"
    " WHERE o.channel = ? AND o.status = 'pending' AND o.next_attempt_at <= ?"
    " AND NOT EXISTS (SELECT 1 FROM outbox AS p"
    "   WHERE p.channel = o.channel AND p.chat_id = o.chat_id AND p.id < o.id"
    "   AND p.status IN ('pending', 'claimed', 'sending'))"
    " ORDER BY o.kind NOT IN ('card', 'staff_notice'), o.id LIMIT ? FOR UPDATE OF o SKIP LOCKED"
)


async def claim_shared(conn: Connection, channel: str, now: datetime, holder: str, until: datetime,
                       limit: int = 50) -> list[OutboxRow]:
    """Due rows, at most one per chat and only its oldest unsent, claimed by `holder` until `until`
    (PostgreSQL only: SQLite has no row locks). Each row's `attempts` counts the try it is for."""
    rows = [_row(row) for row in await fetch_all(conn, _CLAIMABLE, (channel, stamp(now), limit))]
    if rows:
        await conn.executemany(
            "UPDATE outbox SET status = 'claimed', attempts = attempts + 1, claimed_by = ?, claimed_until = ?"
            " WHERE id = ?", [(holder, stamp(until), row.id) for row in rows],
        )
    return [replace(row, attempts=row.attempts + 1) for row in rows]


async def renew_claims(conn: Connection, channel: str, holder: str, until: datetime) -> int:
    """The holder still has these rows in hand (waiting for a slot, or on the wire): keep them."""
    cursor = await conn.execute(
        "UPDATE outbox SET claimed_until = ? WHERE channel = ? AND claimed_by = ?"
        " AND status IN ('claimed', 'sending')", (stamp(until), channel, holder),
    )
    return cursor.rowcount


async def reclaim_expired(conn: Connection, channel: str, now: datetime, max_attempts: int) -> tuple[int, int]:
    """Rows whose claim ran out (the instance that held them died): (rows to resend, given up on).

    As after a crash of the one process: a row only 'claimed' never reached the platform and is
    simply due again; one left 'sending' may have arrived and is sent again as a resend (the
    marker in a private chat), unless that was its last try."""
    expired = "channel = ? AND claimed_until < ?"
    await conn.execute(
        f"UPDATE outbox SET status = 'pending', attempts = attempts - 1, claimed_by = NULL,"
        f" claimed_until = NULL WHERE {expired} AND status = 'claimed'", (channel, stamp(now)),
    )
    gave_up = await conn.execute(
        f"UPDATE outbox SET status = 'uncertain', last_error = ?, claimed_by = NULL, claimed_until = NULL"
        f" WHERE {expired} AND status = 'sending' AND attempts >= ?",
        (f"gave up: {INTERRUPTED}", channel, stamp(now), max_attempts),
    )
    resent = await conn.execute(
        f"UPDATE outbox SET status = 'pending', last_error = ?, resends = resends + 1, claimed_by = NULL,"
        f" claimed_until = NULL WHERE {expired} AND status = 'sending'",
        (INTERRUPTED, channel, stamp(now)),
    )
    return resent.rowcount, gave_up.rowcount
