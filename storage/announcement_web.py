"""What the workplace keeps about announcements (migration 0026): the actions taken there, the
create form's one-time tokens, and each run's deliveries per target with their resends."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from storage.clock import parse_stamp, stamp
from storage.db import fetch_all, fetch_one
from storage.engine import Connection

TOKENS_KEPT = timedelta(days=7)  # a form's one-time token, used or not


class TokenState(StrEnum):
    FRESH = "fresh"  # claimed now by this post: go ahead
    USED = "used"  # an earlier post used it: show what it made, make nothing
    UNKNOWN = "unknown"  # not issued, or to someone else


@dataclass(frozen=True)
class TokenUse:
    state: TokenState
    announcement_id: int | None = None  # what the earlier post made (USED)


@dataclass(frozen=True)
class AnnouncementAction:
    person_id: str
    action: str
    origin: str
    at: datetime


@dataclass(frozen=True)
class TargetDelivery:
    """One outbox row of one run: where it went (a group's title when it is a bound group)."""

    run_id: int
    scheduled_for: datetime
    channel: str
    chat_id: str
    title: str
    status: str
    resends: int
    last_error: str


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


async def record_action(conn: Connection, announcement_id: int, person_id: str, action: str, origin: str,
                        now: datetime) -> None:
    await conn.execute(
        "INSERT INTO announcement_actions (announcement_id, person_id, action, origin, at) VALUES (?, ?, ?, ?, ?)",
        (announcement_id, person_id, action, origin, stamp(now)))


async def actions_of(conn: Connection, announcement_id: int) -> list[AnnouncementAction]:
    rows = await fetch_all(conn, "SELECT person_id, action, origin, at FROM announcement_actions"
                           " WHERE announcement_id = ? ORDER BY id", (announcement_id,))
    return [AnnouncementAction(str(r[0]), str(r[1]), str(r[2]), parse_stamp(r[3])) for r in rows]


async def issue_form_token(conn: Connection, person_id: str, now: datetime) -> str:
    # Forms left open longer are refused (their post says the form is stale): the table stays small.
    await conn.execute("DELETE FROM web_form_tokens WHERE created_at < ?", (stamp(now - TOKENS_KEPT),))
    token = secrets.token_urlsafe(24)
    await conn.execute("INSERT INTO web_form_tokens (token_hash, person_id, created_at) VALUES (?, ?, ?)",
                       (_hash(token), person_id, stamp(now)))
    return token


async def use_form_token(conn: Connection, token: str, person_id: str, now: datetime) -> TokenUse:
    """Claim the token for this post (inside the transaction that then creates the announcement)."""
    key = _hash(token)
    cursor = await conn.execute(
        "UPDATE web_form_tokens SET used_at = ? WHERE token_hash = ? AND person_id = ? AND used_at IS NULL",
        (stamp(now), key, person_id))
    if cursor.rowcount > 0:
        return TokenUse(TokenState.FRESH)
    row = await fetch_one(conn, "SELECT announcement_id FROM web_form_tokens WHERE token_hash = ? AND person_id = ?",
                          (key, person_id))
    if row is None:
        return TokenUse(TokenState.UNKNOWN)
    return TokenUse(TokenState.USED, int(row[0]) if row[0] is not None else None)


async def token_made(conn: Connection, token: str, announcement_id: int) -> None:
    await conn.execute("UPDATE web_form_tokens SET announcement_id = ? WHERE token_hash = ?",
                       (announcement_id, _hash(token)))


async def target_deliveries(conn: Connection, announcement_id: int, limit: int = 500) -> list[TargetDelivery]:
    """Every run's outbox rows, the newest run first."""
    rows = await fetch_all(
        conn, "SELECT r.id, r.scheduled_for, o.channel, o.chat_id, COALESCE(g.title, ''), o.status, o.resends,"
        " o.last_error FROM announcement_runs AS r JOIN outbox AS o ON o.run_id = r.id"
        " LEFT JOIN group_targets AS g ON g.channel = o.channel AND g.chat_id = o.chat_id"
        " WHERE r.announcement_id = ? ORDER BY r.id DESC, o.id LIMIT ?", (announcement_id, limit))
    return [TargetDelivery(int(r[0]), parse_stamp(r[1]), str(r[2]), str(r[3]), str(r[4]), str(r[5]), int(r[6]),
                           str(r[7] or "")) for r in rows]


async def delivery_rows(conn: Connection, from_id: int) -> list[tuple[int, str, bool, int]]:
    """(announcement id, outbox status, resent?, how many) counted per announcement from `from_id` on: the
    list's delivery column in one query, not one per announcement."""
    rows = await fetch_all(
        conn, "SELECT r.announcement_id, o.status, CASE WHEN o.resends > 0 THEN 1 ELSE 0 END, COUNT(*)"
        " FROM announcement_runs AS r JOIN outbox AS o ON o.run_id = r.id WHERE r.announcement_id >= ?"
        " GROUP BY r.announcement_id, o.status, CASE WHEN o.resends > 0 THEN 1 ELSE 0 END", (from_id,))
    return [(int(r[0]), str(r[1]), bool(r[2]), int(r[3])) for r in rows]


async def runs_to_none(conn: Connection, from_id: int) -> dict[int, int]:
    """Runs that found no target, per announcement from `from_id` on."""
    rows = await fetch_all(
        conn, "SELECT announcement_id, COUNT(*) FROM announcement_runs WHERE announcement_id >= ?"
        " AND outcome = 'sent' AND targets = 0 GROUP BY announcement_id", (from_id,))
    return {int(r[0]): int(r[1]) for r in rows}
