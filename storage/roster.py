"""People as the workplace manages them (migration 0027): the roster with each person's bound
chat accounts, imported staff and care tags, the import records, invites as the roster shows
them, revoking a binding, and the people actions' audit rows."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from storage.clock import parse_stamp, stamp
from storage.db import fetch_all, fetch_one, insert_id
from storage.engine import Connection

IMPORTED = "import"
DRAFT_KEPT = timedelta(days=1)  # an unconfirmed dry run's rows are dropped after this


class ImportStatus(StrEnum):
    CHECKED = "checked"  # dry run passed, waiting for the admin's confirmation
    REFUSED = "refused"  # dry run found problems: nothing kept but the counts
    DONE = "done"


@dataclass(frozen=True)
class Binding:
    channel: str
    external_id: str
    bound_at: datetime | None
    from_config: bool


@dataclass(frozen=True)
class RosterPerson:
    id: str
    name: str
    phone: str
    role: str
    grid_id: str | None
    community_id: str | None
    source: str
    bindings: tuple[Binding, ...]


@dataclass(frozen=True)
class ImportRecord:
    id: int
    kind: str
    person_id: str
    created_at: datetime
    status: str
    rows: int
    problems: int
    added: int
    updated: int
    payload: str


@dataclass(frozen=True)
class StaffRecord:
    id: str
    name: str
    phone: str
    role: str
    grid_id: str | None
    community_id: str


async def roster(conn: Connection, *, community_id: str | None = None, grid_id: str | None = None,
                 person_id: str | None = None) -> list[RosterPerson]:
    """Active people (one community, one grid, one person, or all) with their bindings."""
    where, values = ["active = 1"], []
    for column, value in (("community_id", community_id), ("grid_id", grid_id), ("id", person_id)):
        if value is not None:
            where.append(f"{column} = ?")
            values.append(value)
    people = await fetch_all(
        conn, "SELECT id, name, phone, role, grid_id, community_id, source FROM people"
        f" WHERE {' AND '.join(where)} ORDER BY community_id, grid_id, role, id", tuple(values))
    bound: dict[str, list[Binding]] = {}
    for row in await fetch_all(
            conn, "SELECT a.person_id, a.channel, a.external_id, a.bound_at, a.from_config FROM accounts AS a"
            " JOIN people AS p ON p.id = a.person_id"
            f" WHERE {' AND '.join('p.' + w for w in where)} ORDER BY a.channel, a.external_id", tuple(values)):
        bound.setdefault(str(row[0]), []).append(
            Binding(str(row[1]), str(row[2]), parse_stamp(row[3]) if row[3] else None, bool(row[4])))
    return [RosterPerson(str(r[0]), r[1], r[2], r[3], r[4], r[5], r[6], tuple(bound.get(str(r[0]), ())))
            for r in people]


async def names(conn: Connection) -> dict[str, str]:
    """Every person's name by id, config's and imported, those who left too (records name them)."""
    return {str(r[0]): str(r[1]) for r in await fetch_all(conn, "SELECT id, name FROM people")}


async def imported_ids(conn: Connection) -> set[str]:
    return {str(r[0]) for r in await fetch_all(conn, "SELECT id FROM people WHERE source = ?", (IMPORTED,))}


async def write_staff(conn: Connection, people: list[StaffRecord]) -> tuple[int, int]:
    """Add or update imported people (never a person config.yaml lists); (added, updated)."""
    known = await imported_ids(conn)
    added = updated = 0
    for person in people:
        cursor = await conn.execute(
            "INSERT INTO people (id, name, phone, role, grid_id, community_id, active, source)"
            " VALUES (?, ?, ?, ?, ?, ?, 1, ?)"
            " ON CONFLICT (id) DO UPDATE SET name = excluded.name, phone = excluded.phone,"
            " role = excluded.role, grid_id = excluded.grid_id, community_id = excluded.community_id,"
            " active = 1, source = excluded.source"
            " WHERE people.source = excluded.source OR people.active = 0",
            (person.id, person.name, person.phone, person.role, person.grid_id, person.community_id, IMPORTED))
        if cursor.rowcount != 1:
            raise ValueError(f"person {person.id} is config's")  # checked before; never half-written
        if person.id in known:
            updated += 1
        else:
            added += 1
    return added, updated


async def residents_by_phone(conn: Connection, phones: tuple[str, ...]) -> dict[str, tuple[int, ...]]:
    found: dict[str, list[int]] = {}
    for phone in phones:
        rows = await fetch_all(conn, "SELECT id FROM residents WHERE phone = ? AND erased_at IS NULL ORDER BY id",
                               (phone,))
        found[phone] = [int(r[0]) for r in rows]
    return {phone: tuple(ids) for phone, ids in found.items()}


async def existing_residents(conn: Connection, ids: tuple[int, ...]) -> frozenset[int]:
    found = set()
    for resident_id in ids:
        if await fetch_one(conn, "SELECT 1 FROM residents WHERE id = ? AND erased_at IS NULL", (resident_id,)):
            found.add(resident_id)
    return frozenset(found)


async def write_tags(conn: Connection, tags: list[tuple[int, tuple[str, ...]]], now: datetime) -> int:
    """Add care tags (a tag already recorded stays as it was); how many were new."""
    added = 0
    for resident_id, names in tags:
        for tag in names:
            cursor = await conn.execute("INSERT INTO resident_tags (resident_id, tag, added_at) VALUES (?, ?, ?)"
                                        " ON CONFLICT DO NOTHING", (resident_id, tag, stamp(now)))
            added += max(cursor.rowcount, 0)
    return added


async def tags_of(conn: Connection, resident_id: int) -> tuple[str, ...]:
    return tuple(str(r[0]) for r in await fetch_all(
        conn, "SELECT tag FROM resident_tags WHERE resident_id = ? ORDER BY tag", (resident_id,)))


async def record_import(conn: Connection, kind: str, person_id: str, now: datetime, rows: int, problems: int,
                        payload: object | None) -> int:
    """A dry run's record; its checked rows kept (JSON) for the confirmation when it passed."""
    # Unconfirmed rows (phones among them) are not kept longer than a day.
    await conn.execute("UPDATE roster_imports SET payload = '', status = ? WHERE status = ? AND created_at < ?",
                       (ImportStatus.REFUSED.value, ImportStatus.CHECKED.value, stamp(now - DRAFT_KEPT)))
    status = ImportStatus.CHECKED if payload is not None and not problems else ImportStatus.REFUSED
    text = json.dumps(payload, ensure_ascii=False) if status is ImportStatus.CHECKED else ""
    return int(await insert_id(
        conn, "INSERT INTO roster_imports (kind, person_id, created_at, status, row_count, problem_count, payload)"
        " VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
        (kind, person_id, stamp(now), status.value, rows, problems, text)) or 0)


async def get_import(conn: Connection, import_id: int) -> ImportRecord | None:
    row = await fetch_one(conn, "SELECT id, kind, person_id, created_at, status, row_count, problem_count, added,"
                          " updated, payload FROM roster_imports WHERE id = ?", (import_id,))
    if row is None:
        return None
    return ImportRecord(int(row[0]), row[1], row[2], parse_stamp(row[3]), row[4], int(row[5]), int(row[6]),
                        int(row[7]), int(row[8]), row[9])


async def claim_import(conn: Connection, import_id: int, now: datetime) -> bool:
    """Take a checked import for writing (its rows blanked); False if it was not waiting (a
    replayed confirmation). The caller writes the rows in the same transaction."""
    cursor = await conn.execute(
        "UPDATE roster_imports SET status = ?, payload = '', done_at = ? WHERE id = ? AND status = ?",
        (ImportStatus.DONE.value, stamp(now), import_id, ImportStatus.CHECKED.value))
    return cursor.rowcount == 1


async def count_import(conn: Connection, import_id: int, added: int, updated: int) -> None:
    await conn.execute("UPDATE roster_imports SET added = ?, updated = ? WHERE id = ?", (added, updated, import_id))


async def recent_imports(conn: Connection, limit: int = 10) -> list[ImportRecord]:
    rows = await fetch_all(conn, "SELECT id FROM roster_imports ORDER BY id DESC LIMIT ?", (limit,))
    return [found for r in rows if (found := await get_import(conn, int(r[0]))) is not None]


async def revoke_binding(conn: Connection, person_id: str, channel: str, external_id: str) -> bool:
    """Unbind one chat account from its person and end the person's web sessions; False when
    that binding does not exist (any more) or came from config.yaml (the next start would
    bring it back: it is removed there)."""
    cursor = await conn.execute(
        "UPDATE accounts SET person_id = NULL, bound_at = NULL"
        " WHERE person_id = ? AND channel = ? AND external_id = ? AND from_config = 0",
        (person_id, channel, external_id))
    if cursor.rowcount != 1:
        return False
    await conn.execute("DELETE FROM web_sessions WHERE person_id = ?", (person_id,))
    return True


async def invite_person(conn: Connection, code: str, now: datetime) -> str | None:
    """The person of an invite code that can still be used."""
    row = await fetch_one(conn, "SELECT person_id FROM invites WHERE code = ? AND used_at IS NULL AND expires_at > ?",
                          (code, stamp(now)))
    return str(row[0]) if row else None


async def record_event(conn: Connection, now: datetime, actor_id: str, action: str, person_id: str | None,
                       detail: str = "") -> None:
    await conn.execute("INSERT INTO people_events (at, actor_id, action, person_id, detail) VALUES (?, ?, ?, ?, ?)",
                       (stamp(now), actor_id, action, person_id, detail))


async def events_of(conn: Connection, person_id: str) -> list[tuple[datetime, str, str, str]]:
    return [(parse_stamp(r[0]), str(r[1]), str(r[2]), str(r[3])) for r in await fetch_all(
        conn, "SELECT at, actor_id, action, detail FROM people_events WHERE person_id = ? ORDER BY id", (person_id,))]
