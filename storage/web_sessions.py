"""The staff workplace's one-time sign-in links and server-side sessions (migration 0020).

Tokens are random (secrets.token_urlsafe) and only their SHA-256 is stored. A link is for one
person, valid for a short time and used once; a session ends after an idle period, on sign-out,
and as soon as the person's binding (role, area, bound chat accounts, or presence in the config)
differs from what it was at sign-in. Times are the caller's (the injected clock).
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from storage.clock import parse_stamp, stamp
from storage.db import fetch_all, fetch_one
from storage.engine import Connection

WEB_ORIGIN = "web"


class LinkState(StrEnum):
    OK = "ok"
    UNKNOWN = "unknown"
    USED = "used"
    EXPIRED = "expired"


@dataclass(frozen=True)
class Redeemed:
    state: LinkState
    person_id: str | None = None


@dataclass(frozen=True)
class WebSession:
    person_id: str
    csrf: str
    last_seen_at: datetime


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


async def create_link(conn: Connection, person_id: str, now: datetime, valid_for: timedelta) -> str:
    token = secrets.token_urlsafe(32)
    await conn.execute(
        "INSERT INTO web_links (token_hash, person_id, created_at, expires_at) VALUES (?, ?, ?, ?)",
        (token_hash(token), person_id, stamp(now), stamp(now + valid_for)))
    return token


async def redeem_link(conn: Connection, token: str, now: datetime) -> Redeemed:
    """Use a link once: OK with its person, or why not (unknown, already used, expired)."""
    digest = token_hash(token)
    row = await fetch_one(conn, "SELECT person_id, expires_at, used_at FROM web_links WHERE token_hash = ?",
                          (digest,))
    if row is None:
        return Redeemed(LinkState.UNKNOWN)
    if row[2] is not None:
        return Redeemed(LinkState.USED)
    if parse_stamp(row[1]) <= now:
        return Redeemed(LinkState.EXPIRED)
    cursor = await conn.execute("UPDATE web_links SET used_at = ? WHERE token_hash = ? AND used_at IS NULL",
                                (stamp(now), digest))
    if cursor.rowcount != 1:
        return Redeemed(LinkState.USED)
    return Redeemed(LinkState.OK, str(row[0]))


async def binding_of(conn: Connection, person_id: str) -> str | None:
    """What a session is tied to: the active person's role and area and their bound accounts;
    None when the person is not (or no longer) in the config."""
    person = await fetch_one(conn, "SELECT role, grid_id, community_id FROM people WHERE id = ? AND active = 1",
                             (person_id,))
    if person is None:
        return None
    bound = await fetch_all(conn, "SELECT channel, external_id FROM accounts WHERE person_id = ?"
                            " ORDER BY channel, external_id", (person_id,))
    return json.dumps([list(person), [list(row) for row in bound]], ensure_ascii=False)


async def create_session(conn: Connection, person_id: str, binding: str, now: datetime
                         ) -> tuple[str, str]:
    """A new session: (cookie token, CSRF token)."""
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(24)
    await conn.execute(
        "INSERT INTO web_sessions (token_hash, person_id, csrf, binding, created_at, last_seen_at)"
        " VALUES (?, ?, ?, ?, ?, ?)", (token_hash(token), person_id, csrf, binding, stamp(now), stamp(now)))
    return token, csrf


async def current_session(conn: Connection, token: str, now: datetime, idle: timedelta
                          ) -> WebSession | None:
    """The live session of a cookie token, its idle clock restarted; an idle one, or one whose
    person's binding changed, is ended here and None returned."""
    digest = token_hash(token)
    row = await fetch_one(conn, "SELECT person_id, csrf, binding, last_seen_at FROM web_sessions"
                          " WHERE token_hash = ?", (digest,))
    if row is None:
        return None
    person_id, csrf, binding, seen = str(row[0]), str(row[1]), str(row[2]), parse_stamp(row[3])
    if now - seen >= idle or await binding_of(conn, person_id) != binding:
        await conn.execute("DELETE FROM web_sessions WHERE token_hash = ?", (digest,))
        return None
    await conn.execute("UPDATE web_sessions SET last_seen_at = ? WHERE token_hash = ?", (stamp(now), digest))
    return WebSession(person_id, csrf, now)


async def end_session(conn: Connection, token: str) -> None:
    await conn.execute("DELETE FROM web_sessions WHERE token_hash = ?", (token_hash(token),))


async def end_stale_sessions(conn: Connection) -> int:
    """End every session whose person's binding changed or who left the config (at start, after
    the config's people are synced); the number ended."""
    ended = 0
    for row in await fetch_all(conn, "SELECT token_hash, person_id, binding FROM web_sessions"):
        if await binding_of(conn, str(row[1])) != row[2]:
            await conn.execute("DELETE FROM web_sessions WHERE token_hash = ?", (row[0],))
            ended += 1
    return ended


async def sessions_of(conn: Connection, person_id: str) -> int:
    row = await fetch_one(conn, "SELECT COUNT(*) FROM web_sessions WHERE person_id = ?", (person_id,))
    return int(row[0]) if row else 0


async def last_event_id(conn: Connection) -> int:
    row = await fetch_one(conn, "SELECT COALESCE(MAX(id), 0) FROM ticket_events")
    return int(row[0]) if row else 0


async def mark_origin(conn: Connection, ticket_id: int, after_event: int, origin: str) -> int:
    """Mark the ticket's events written after `after_event` (this transaction's) as from
    `origin`; how many were marked."""
    cursor = await conn.execute(
        "INSERT INTO ticket_event_origins (event_id, origin)"
        " SELECT id, ? FROM ticket_events WHERE ticket_id = ? AND id > ?", (origin, ticket_id, after_event))
    return cursor.rowcount


async def origins_of(conn: Connection, ticket_id: int) -> dict[int, str]:
    rows = await fetch_all(
        conn, "SELECT o.event_id, o.origin FROM ticket_event_origins AS o"
        " JOIN ticket_events AS e ON e.id = o.event_id WHERE e.ticket_id = ?", (ticket_id,))
    return {int(r[0]): str(r[1]) for r in rows}


# 添加备注: an internal note by staff. An action of its own, which the resident's history
# (handlers/cards.history_text shows only actions with an `event_<action>` text) never shows.
STAFF_NOTE = "staff_note"


async def add_staff_note(conn: Connection, ticket_id: int, person_id: str, note: str,
                         now: datetime) -> None:
    await conn.execute(
        "INSERT INTO ticket_events (ticket_id, at, actor_kind, actor_id, action, note, data)"
        " VALUES (?, ?, 'person', ?, ?, ?, '{}')", (ticket_id, stamp(now), person_id, STAFF_NOTE, note))
