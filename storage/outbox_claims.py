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
    """The holder still has these rows in hand (waiting for a slot, or on the wire): keep them.

    Rows locked right now — the sender recording their outcome on its main connection — are
    skipped, not waited for: waiting could deadlock with that transaction, and they are leaving
    the claim anyway (a claim lasts three heartbeats: the next one renews any still held)."""
    cursor = await conn.execute(
        "UPDATE outbox SET claimed_until = ? WHERE id IN (SELECT id FROM outbox WHERE channel = ?"
        " AND claimed_by = ? AND status IN ('claimed', 'sending') FOR UPDATE SKIP LOCKED)",
        (stamp(until), channel, holder),
    )
    return cursor.rowcount


async def reclaim_expired(conn: Connection, channel: str, now: datetime, max_attempts: int) -> tuple[int, int]:
    """Rows whose claim ran out (the instance that held them died): (rows to resend, given up on).

    As after a crash of the one process: a row only 'claimed' never reached the platform and is
    simply due again; one left 'sending' may have arrived and is sent again as a resend (the
    marker in a private chat), unless that was its last try."""
    return await _take_back(conn, "claimed_until < ?", (channel, stamp(now)), max_attempts)


async def release_claims(conn: Connection, channel: str, holder: str, max_attempts: int) -> tuple[int, int]:
    """The holder's own rows, after its delivery pass failed half-way (nothing of it is in flight
    any more): as if its claims had run out, but at once — a live sender keeps renewing its
    claims, so rows it dropped would otherwise wait for ever."""
    return await _take_back(conn, "claimed_by = ?", (channel, holder), max_attempts)


async def _take_back(conn: Connection, which: str, params: tuple[str, str], max_attempts: int) -> tuple[int, int]:
    # Locked rows are being recorded by their sender right now: skipped, never waited for.
    rows = f"id IN (SELECT id FROM outbox WHERE channel = ? AND {which} AND status = ? FOR UPDATE SKIP LOCKED)"
    cleared = "claimed_by = NULL, claimed_until = NULL"
    await conn.execute(
        f"UPDATE outbox SET status = 'pending', attempts = attempts - 1, {cleared} WHERE {rows}",
        (*params, "claimed"),
    )
    gave_up = await conn.execute(
        f"UPDATE outbox SET status = 'uncertain', last_error = ?, {cleared} WHERE {rows} AND attempts >= ?",
        (f"gave up: {INTERRUPTED}", *params, "sending", max_attempts),
    )
    resent = await conn.execute(
        f"UPDATE outbox SET status = 'pending', last_error = ?, resends = resends + 1, {cleared} WHERE {rows}",
        (INTERRUPTED, *params, "sending"),
    )
    return resent.rowcount, gave_up.rowcount
