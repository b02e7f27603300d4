"""Residents, their chat accounts, staff people from config, and one-time invite codes."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from storage.clock import parse_stamp, stamp
from storage.db import fetch_all, fetch_one, insert_id, optional_equals
from storage.dialogs import Dialog
from storage.engine import Connection, Row
from storage.pipeline import write

LAST_SEEN_STEP = timedelta(minutes=1)  # last_seen_at is kept to the minute
INVITE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: codes are typed by hand


@dataclass(frozen=True)
class Account:
    channel: str
    external_id: str
    chat_id: str
    resident_id: int
    person_id: str | None


@dataclass(frozen=True)
class Resident:
    id: int
    display_name: str
    phone: str
    phone_shared: bool
    community_id: str | None
    compound: str | None
    building: str | None
    grid_id: str | None


@dataclass(frozen=True)
class PersonRow:
    id: str
    name: str
    phone: str
    role: str
    grid_id: str | None
    community_id: str | None


@dataclass(frozen=True)
class StaffSeed:
    """A person from config, as stored."""

    id: str
    name: str
    phone: str
    role: str
    grid_id: str | None
    community_id: str | None
    telegram_id: int | None
    wechat_openid: str | None


async def sync_people(conn: Connection, people: list[StaffSeed], now: datetime) -> None:
    """Make the people table match config; accounts named in config are pre-bound.

    A binding that came from config is dropped first, so an account removed or changed in
    config stops acting for that person; bindings made with an invite code stay. People a
    workplace import added (source 'import', migration 0027) are not config's and stay as they
    are; a person config lists is config's from then on, imported before or not.
    """
    # Since when each config binding holds: kept across restarts while it binds the same person.
    since = {(str(r[0]), str(r[1])): (r[2], r[3]) for r in await fetch_all(
        conn, "SELECT channel, external_id, person_id, bound_at FROM accounts WHERE from_config = 1")}
    await conn.execute("UPDATE people SET active = 0 WHERE source = 'config'")
    await conn.execute("UPDATE accounts SET person_id = NULL, from_config = 0 WHERE from_config = 1")
    for person in people:
        await conn.execute(
            "INSERT INTO people (id, name, phone, role, grid_id, community_id, active, source)"
            " VALUES (?, ?, ?, ?, ?, ?, 1, 'config')"
            " ON CONFLICT (id) DO UPDATE SET name = excluded.name, phone = excluded.phone,"
            " role = excluded.role, grid_id = excluded.grid_id,"
            " community_id = excluded.community_id, active = 1, source = 'config'",
            (person.id, person.name, person.phone, person.role, person.grid_id, person.community_id),
        )
        for channel, external in (("telegram", person.telegram_id), ("wechat", person.wechat_openid)):
            if external is None:
                continue
            account = await ensure_account(conn, channel, str(external), str(external), person.name, now)
            before = since.get((channel, account.external_id))
            bound_at = before[1] if before is not None and before[0] == person.id and before[1] else stamp(now)
            await conn.execute(
                "UPDATE accounts SET person_id = ?, from_config = 1, bound_at = ?"
                " WHERE channel = ? AND external_id = ?",
                (person.id, bound_at, channel, account.external_id),
            )


_ACCOUNT_COLUMNS = "a.channel, a.external_id, a.chat_id, a.resident_id, a.person_id, a.last_seen_at"


async def ensure_account(
    conn: Connection,
    channel: str,
    external_id: str,
    chat_id: str,
    display_name: str,
    now: datetime,
) -> Account:
    """The account for a chat user, creating a resident for a first-time user."""
    row = await fetch_one(conn, f"SELECT {_ACCOUNT_COLUMNS} FROM accounts AS a WHERE a.channel = ? AND a.external_id = ?",
                          (channel, external_id))
    if row is not None:
        return await _seen(conn, row, now)
    return await _create(conn, channel, external_id, chat_id, display_name, now)


@dataclass(frozen=True)
class Arrival:
    """A chat user's account and, read in the same trip, the dialog stored for them."""

    account: Account
    dialog: Dialog | None
    dialog_read: bool  # False for a first-time user: their dialog was not looked up


async def ensure_account_with_dialog(
    conn: Connection, channel: str, external_id: str, chat_id: str, display_name: str, now: datetime
) -> Arrival:
    """ensure_account, with the user's stored dialog in the same query: every private message
    reads both, and a trip to the database thread costs far more than the join (issue 16)."""
    row = await fetch_one(
        conn, f"SELECT {_ACCOUNT_COLUMNS}, d.flow, d.step, d.data FROM accounts AS a"
        " LEFT JOIN dialogs AS d ON d.channel = a.channel AND d.user_id = a.external_id"
        " WHERE a.channel = ? AND a.external_id = ?",
        (channel, external_id),
    )
    if row is None:
        return Arrival(await _create(conn, channel, external_id, chat_id, display_name, now), None, False)
    dialog = Dialog(row[6], row[7], json.loads(row[8])) if row[6] is not None else None
    return Arrival(await _seen(conn, row, now), dialog, True)


async def _seen(conn: Connection, row: Row, now: datetime) -> Account:
    # At most once a minute: a write per message would cost a trip to the database on
    # every update for a moment nobody reads to the second (issue 16).
    seen = parse_stamp(row[5]) if row[5] else None
    if seen is None or abs(now - seen) >= LAST_SEEN_STEP:
        await write(
            conn,
            "UPDATE accounts SET last_seen_at = ? WHERE channel = ? AND external_id = ?",
            (stamp(now), row[0], row[1]),
        )
    return Account(*row[:5])


async def _create(conn: Connection, channel: str, external_id: str, chat_id: str, display_name: str,
                  now: datetime) -> Account:
    resident_id = await insert_id(
        conn, "INSERT INTO residents (display_name, created_at) VALUES (?, ?) RETURNING id",
        (display_name[:64], stamp(now)),
    )
    await conn.execute(
        "INSERT INTO accounts (channel, external_id, chat_id, resident_id, last_seen_at)"
        " VALUES (?, ?, ?, ?, ?)",
        (channel, external_id, chat_id, resident_id, stamp(now)),
    )
    return Account(channel, external_id, chat_id, int(resident_id or 0), None)


async def get_account(conn: Connection, channel: str, external_id: str) -> Account | None:
    row = await fetch_one(
        conn, "SELECT channel, external_id, chat_id, resident_id, person_id FROM accounts"
        " WHERE channel = ? AND external_id = ?",
        (channel, external_id),
    )
    return Account(*row) if row else None


async def get_resident(conn: Connection, resident_id: int) -> Resident:
    row = await fetch_one(
        conn, "SELECT id, display_name, phone, phone_shared, community_id, compound, building, grid_id"
        " FROM residents WHERE id = ?",
        (resident_id,),
    )
    if row is None:
        raise LookupError(f"resident {resident_id} not found")
    return Resident(row[0], row[1], row[2], bool(row[3]), row[4], row[5], row[6], row[7])


async def bind_address(
    conn: Connection,
    resident_id: int,
    community_id: str,
    compound: str,
    building: str,
    grid_id: str,
) -> None:
    await conn.execute(
        "UPDATE residents SET community_id = ?, compound = ?, building = ?, grid_id = ? WHERE id = ?",
        (community_id, compound, building, grid_id, resident_id),
    )


async def save_phone(conn: Connection, resident_id: int, phone: str, shared: bool) -> None:
    await conn.execute(
        "UPDATE residents SET phone = ?, phone_shared = ? WHERE id = ?",
        (phone, int(shared), resident_id),
    )


async def accounts_of_resident(conn: Connection, resident_id: int) -> list[Account]:
    return [Account(*row) for row in await fetch_all(
        conn, "SELECT channel, external_id, chat_id, resident_id, person_id FROM accounts"
        " WHERE resident_id = ? ORDER BY channel, external_id",
        (resident_id,),
    )]


async def accounts_of_person(conn: Connection, person_id: str) -> list[Account]:
    return [Account(*row) for row in await fetch_all(
        conn, "SELECT channel, external_id, chat_id, resident_id, person_id FROM accounts"
        " WHERE person_id = ? ORDER BY channel, external_id",
        (person_id,),
    )]


async def get_person(conn: Connection, person_id: str) -> PersonRow | None:
    row = await fetch_one(
        conn, "SELECT id, name, phone, role, grid_id, community_id FROM people"
        " WHERE id = ? AND active = 1",
        (person_id,),
    )
    return PersonRow(*row) if row else None


async def people_with_role(
    conn: Connection,
    role: str,
    *,
    grid_id: str | None = None,
    community_id: str | None = None,
) -> list[PersonRow]:
    area, values = optional_equals(grid_id=grid_id, community_id=community_id)
    sql = ("SELECT id, name, phone, role, grid_id, community_id FROM people"
           f" WHERE active = 1 AND role = ?{area} ORDER BY id")
    return [PersonRow(*row) for row in await fetch_all(conn, sql, (role, *values))]


async def create_invite(
    conn: Connection, person_id: str, now: datetime, valid_for: timedelta
) -> str:
    code = "".join(secrets.choice(INVITE_ALPHABET) for _ in range(8))
    await conn.execute(
        "INSERT INTO invites (code, person_id, created_at, expires_at) VALUES (?, ?, ?, ?)",
        (code, person_id, stamp(now), stamp(now + valid_for)),
    )
    return code


async def redeem_invite(
    conn: Connection, code: str, channel: str, external_id: str, now: datetime
) -> str | None:
    """Bind the account to the invite's person; the person id, or None if the code is not usable.

    A code whose person is no longer in config (people.active = 0) is not usable: it stays
    unused and the account is left as it was.
    """
    row = await fetch_one(
        conn, "SELECT invites.person_id FROM invites JOIN people ON people.id = invites.person_id"
        " WHERE invites.code = ? AND invites.used_at IS NULL AND invites.expires_at > ?"
        " AND people.active = 1",
        (code.strip().upper(), stamp(now)),
    )
    if row is None:
        return None
    person_id = str(row[0])
    await conn.execute(
        "UPDATE invites SET used_at = ?, used_by = ? WHERE code = ?",
        (stamp(now), f"{channel}:{external_id}", code.strip().upper()),
    )
    await conn.execute(
        "UPDATE accounts SET person_id = ?, bound_at = ? WHERE channel = ? AND external_id = ?",
        (person_id, stamp(now), channel, external_id),
    )
    return person_id


async def bind_account(
    conn: Connection, channel: str, external_id: str, person_id: str, name: str, now: datetime
) -> None:
    """Bind a chat account to a staff person directly (trusted local channels only)."""
    await ensure_account(conn, channel, external_id, external_id, name, now)
    await conn.execute(
        "UPDATE accounts SET person_id = ?, bound_at = ? WHERE channel = ? AND external_id = ?",
        (person_id, stamp(now), channel, external_id),
    )
