"""Messages to send, written in the same transaction as the change that caused them."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from storage.clock import parse_stamp, stamp
from storage.db import fetch_all, fetch_one, insert_id
from storage.engine import Connection, Row
from storage.pipeline import write


class OutboxStatus(StrEnum):
    PENDING = "pending"
    CLAIMED = "claimed"  # picked by the sender, waiting for a rate-limit slot: not on the wire yet
    SENDING = "sending"  # on the wire: a crash now leaves the outcome unknown, so it is resent
    SENT = "sent"
    FAILED = "failed"
    UNCERTAIN = "uncertain"  # given up on after its last try, whose outcome was unknown


@dataclass(frozen=True)
class OutboxRow:
    id: int
    channel: str
    chat_id: str
    kind: str
    ticket_id: int | None
    payload: dict
    status: OutboxStatus
    attempts: int
    last_error: str
    platform_message_id: str | None
    created_at: datetime
    resends: int = 0  # tries made after one whose outcome was unknown (it may have arrived)
    shown_at: datetime | None = None  # a failed notice listed to its resident (我的工单)


_COLUMNS = (
    "id, channel, chat_id, kind, ticket_id, payload, status, attempts, last_error,"
    " platform_message_id, created_at, resends, shown_at"
)


def _row(row: Row) -> OutboxRow:
    return OutboxRow(
        row[0], row[1], row[2], row[3], row[4], json.loads(row[5]), OutboxStatus(row[6]),
        row[7], row[8], row[9], parse_stamp(row[10]), row[11], parse_stamp(row[12]) if row[12] else None,
    )


_INSERT = ("INSERT INTO outbox (channel, chat_id, kind, ticket_id, run_id, payload, next_attempt_at, created_at)"
           " VALUES (?, ?, ?, ?, ?, ?, ?, ?)")


async def enqueue(
    conn: Connection,
    channel: str,
    chat_id: str,
    payload: dict,
    now: datetime,
    *,
    kind: str = "reply",
    ticket_id: int | None = None,
    run_id: int | None = None,
) -> int:
    made = await insert_id(conn, _INSERT + " RETURNING id",
                           _values(channel, chat_id, payload, now, kind, ticket_id, run_id))
    return int(made or 0)


async def queue(conn: Connection, channel: str, chat_id: str, payload: dict, now: datetime, *,
                kind: str = "reply", ticket_id: int | None = None, run_id: int | None = None) -> None:
    """`enqueue` where nobody needs the row's id: in a handling it rides with the next trip."""
    await write(conn, _INSERT, _values(channel, chat_id, payload, now, kind, ticket_id, run_id))


def _values(channel: str, chat_id: str, payload: dict, now: datetime, kind: str, ticket_id: int | None,
            run_id: int | None) -> tuple[object, ...]:
    return (channel, chat_id, kind, ticket_id, run_id, json.dumps(payload, ensure_ascii=False), stamp(now),
            stamp(now))


async def claim_due(
    conn: Connection, channel: str, now: datetime, limit: int = 50
) -> list[OutboxRow]:
    """Due rows, at most one per chat and only the chat's oldest unsent, marked as claimed.

    Each row's `attempts` counts the try it is claimed for."""
    rows = [_row(row) for row in await fetch_all(
        conn, f"SELECT {_COLUMNS} FROM outbox AS o WHERE o.channel = ? AND o.status = 'pending'"
        " AND o.next_attempt_at <= ? AND NOT EXISTS (SELECT 1 FROM outbox AS p"
        "   WHERE p.channel = o.channel AND p.chat_id = o.chat_id AND p.id < o.id"
        "   AND p.status IN ('pending', 'claimed', 'sending'))"
        # Staff first: when the platform's limit is the bottleneck, a leader's card or deadline
        # notice does not queue behind every resident's reply (each chat keeps its own order).
        " ORDER BY o.kind NOT IN ('card', 'staff_notice'), o.id LIMIT ?",
        (channel, stamp(now), limit),
    )]
    for row in rows:
        await write(conn, "UPDATE outbox SET status = 'claimed', attempts = attempts + 1 WHERE id = ?", (row.id,))
    return [replace(row, attempts=row.attempts + 1) for row in rows]


async def mark_sending(conn: Connection, row_id: int) -> None:
    """Right before the platform call: from here a crash leaves the outcome unknown."""
    await conn.execute("UPDATE outbox SET status = 'sending' WHERE id = ?", (row_id,))


async def next_due_at(conn: Connection, channel: str) -> datetime | None:
    row = await fetch_one(
        conn, "SELECT MIN(next_attempt_at) FROM outbox WHERE channel = ? AND status = 'pending'",
        (channel,),
    )
    return parse_stamp(row[0]) if row and row[0] else None


async def mark_sent(
    conn: Connection, row_id: int, platform_message_id: str, now: datetime
) -> None:
    await conn.execute(
        "UPDATE outbox SET status = 'sent', platform_message_id = ?, sent_at = ?, last_error = ''"
        " WHERE id = ?",
        (platform_message_id, stamp(now), row_id),
    )


async def mark_retry(conn: Connection, row_id: int, at: datetime, error: str) -> None:
    await conn.execute(
        "UPDATE outbox SET status = 'pending', next_attempt_at = ?, last_error = ? WHERE id = ?",
        (stamp(at), error[:500], row_id),
    )


async def mark_resend(conn: Connection, row_id: int, at: datetime, error: str) -> None:
    """The try's outcome is unknown (it may have arrived): the row goes again at `at`, as a resend."""
    await conn.execute(
        "UPDATE outbox SET status = 'pending', next_attempt_at = ?, last_error = ?, resends = resends + 1"
        " WHERE id = ?",
        (stamp(at), error[:500], row_id),
    )


async def move_row(conn: Connection, row_id: int, chat_id: str, now: datetime, error: str) -> None:
    """The chat got a new id: the row goes there, due now."""
    await conn.execute(
        "UPDATE outbox SET chat_id = ?, status = 'pending', next_attempt_at = ?, last_error = ? WHERE id = ?",
        (chat_id, stamp(now), error[:500], row_id),
    )


async def mark_final(
    conn: Connection, row_id: int, status: OutboxStatus, error: str
) -> None:
    """Failed (refused: 400/403, or out of tries) or uncertain (out of tries, and it may have arrived)."""
    await conn.execute(
        "UPDATE outbox SET status = ?, last_error = ? WHERE id = ?", (status, error[:500], row_id)
    )


INTERRUPTED = "interrupted while sending: may have been delivered"


async def recover_interrupted(conn: Connection, channel: str, max_attempts: int) -> tuple[int, int]:
    """At start, after a crash: (rows to resend, rows given up on).

    Rows only 'claimed' never reached the platform: they are simply due again. Rows left
    'sending' may or may not have arrived: nothing can tell, so each is sent again (at least
    once), its interrupted try counted, unless that was its last try: then it is uncertain."""
    await conn.execute(
        "UPDATE outbox SET status = 'pending', attempts = attempts - 1 WHERE channel = ? AND status = 'claimed'",
        (channel,),
    )
    gave_up = await conn.execute(
        "UPDATE outbox SET status = 'uncertain', last_error = ?"
        " WHERE channel = ? AND status = 'sending' AND attempts >= ?",
        (f"gave up: {INTERRUPTED}", channel, max_attempts),
    )
    # Its next_attempt_at was due when it was claimed, so it is due again now, first in its chat.
    resent = await conn.execute(
        "UPDATE outbox SET status = 'pending', last_error = ?, resends = resends + 1"
        " WHERE channel = ? AND status = 'sending'",
        (INTERRUPTED, channel),
    )
    return resent.rowcount, gave_up.rowcount


async def rows_for(conn: Connection, channel: str, chat_id: str, *, after: int = 0) -> list[OutboxRow]:
    """The chat's rows, oldest first; only those written after row `after` when it is given."""
    return [_row(row) for row in await fetch_all(
        conn, f"SELECT {_COLUMNS} FROM outbox WHERE channel = ? AND chat_id = ? AND id > ? ORDER BY id",
        (channel, chat_id, after),
    )]


@dataclass(frozen=True)
class Undelivered:
    """A notice that may never have arrived (refused for good, or given up on with its outcome
    unknown), not yet shown to its resident."""

    id: int
    ticket_id: int
    text: str
    last_error: str


UNDELIVERED_KIND = "resident_notice"


async def undelivered_for(
    conn: Connection, accounts: list[tuple[str, str]], limit: int = 50
) -> list[Undelivered]:
    """Failed or uncertain, never-shown ticket notices to any of these (channel, chat_id) accounts, oldest first."""
    found: list[Undelivered] = []
    for channel, chat_id in accounts:  # a resident has one account per channel: a few queries
        rows = await fetch_all(
            conn, "SELECT id, ticket_id, payload, last_error FROM outbox"
            " WHERE channel = ? AND chat_id = ? AND status IN ('failed', 'uncertain') AND shown_at IS NULL"
            " AND ticket_id IS NOT NULL AND kind = ? ORDER BY id LIMIT ?",
            (channel, chat_id, UNDELIVERED_KIND, limit),
        )
        found += [Undelivered(row[0], row[1], json.loads(row[2]).get("text", ""), row[3]) for row in rows]
    return sorted(found, key=lambda notice: notice.id)[:limit]


async def mark_shown(conn: Connection, ids: list[int], now: datetime) -> None:
    await conn.executemany(
        "UPDATE outbox SET shown_at = ? WHERE id = ? AND shown_at IS NULL",
        [(stamp(now), row_id) for row_id in ids],
    )


async def delivery_problems(conn: Connection, since: datetime) -> dict[str, int]:
    """Since `since`: rows that ended failed or uncertain, resends of rows whose outcome was unknown
    ("resent", a count of tries), and inbox items parked as failed."""
    counts = {row[0]: int(row[1]) for row in await fetch_all(
        conn, "SELECT status, COUNT(*) FROM outbox WHERE created_at >= ? AND status IN ('failed', 'uncertain')"
        " GROUP BY status", (stamp(since),),
    )}
    row = await fetch_one(conn, "SELECT COALESCE(SUM(resends), 0) FROM outbox WHERE resends > 0 AND created_at >= ?",
                          (stamp(since),))
    counts["resent"] = int(row[0]) if row else 0
    row = await fetch_one(conn, "SELECT COUNT(*) FROM inbox WHERE status = 'failed' AND received_at >= ?", (stamp(since),))
    counts["parked"] = int(row[0]) if row else 0
    return counts
