"""A ticket's attachments: photos and voice recordings, each kept by its id on the platform it
was sent on (table ticket_photos; its kind column since migration 0016). A photo uploaded in the
workplace has no platform: its bytes are kept in web_photos (migration 0023) and ticket_photos
names it as channel "web" with that row's id as its ref."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from storage.clock import parse_stamp, stamp
from storage.db import fetch_all, fetch_one, insert_id
from storage.engine import Connection

WEB_SOURCE = "web"  # ticket_photos.channel of a photo uploaded in the workplace


class AttachmentKind(StrEnum):
    PHOTO = "photo"
    VOICE = "voice"  # a voice message without a transcript


@dataclass(frozen=True)
class Attachment:
    """A photo or a recording, kept by its id on the platform it was sent on (`channel`)."""

    channel: str
    ref: str
    kind: AttachmentKind


@dataclass(frozen=True)
class StoredAttachment:
    """An attachment with its row id (the workplace serves it by that id, under its ticket)."""

    id: int
    attachment: Attachment
    added_by: str
    added_at: datetime


@dataclass(frozen=True)
class WebPhoto:
    data: bytes
    content_type: str


async def add_photo(
    conn: Connection, ticket_id: int, channel: str, ref: str, added_by: str, now: datetime,
    kind: AttachmentKind = AttachmentKind.PHOTO,
) -> None:
    """Keep an attachment (a photo unless `kind` says otherwise) by its platform id."""
    await conn.execute(
        "INSERT INTO ticket_photos (ticket_id, channel, ref, added_by, added_at, kind) VALUES (?, ?, ?, ?, ?, ?)",
        (ticket_id, channel, ref, added_by, stamp(now), kind.value),
    )


async def photos_of(conn: Connection, ticket_id: int) -> list[tuple[str, str]]:
    """(channel, ref) of each photo of a ticket."""
    return [(a.channel, a.ref) for a in await attachments_of(conn, ticket_id) if a.kind is AttachmentKind.PHOTO]


async def attachments_of(conn: Connection, ticket_id: int) -> list[Attachment]:
    """Every photo and recording of a ticket, oldest first."""
    rows = await fetch_all(conn, "SELECT channel, ref, kind FROM ticket_photos WHERE ticket_id = ? ORDER BY id",
                           (ticket_id,))
    return [Attachment(row[0], row[1], AttachmentKind(row[2])) for row in rows]


async def attachment_of(conn: Connection, ticket_id: int, attachment_id: int) -> StoredAttachment | None:
    """One attachment of one ticket: None when the id is another ticket's (or no one's)."""
    row = await fetch_one(conn, f"SELECT {_STORED} FROM ticket_photos WHERE id = ? AND ticket_id = ?",
                          (attachment_id, ticket_id))
    return None if row is None else _stored(row)


async def stored_attachments_of(conn: Connection, ticket_id: int) -> list[StoredAttachment]:
    rows = await fetch_all(conn, f"SELECT {_STORED} FROM ticket_photos WHERE ticket_id = ? ORDER BY id", (ticket_id,))
    return [_stored(row) for row in rows]


_STORED = "id, channel, ref, kind, added_by, added_at"


def _stored(row: Sequence[object]) -> StoredAttachment:
    return StoredAttachment(int(row[0]), Attachment(str(row[1]), str(row[2]), AttachmentKind(str(row[3]))),
                            str(row[4]), parse_stamp(str(row[5])))


async def store_web_photo(conn: Connection, ticket_id: int, data: bytes, content_type: str,
                          now: datetime) -> str:
    """Keep an uploaded photo's bytes; its ref for ticket_photos (channel WEB_SOURCE)."""
    made = await insert_id(
        conn, "INSERT INTO web_photos (ticket_id, content_type, data, added_at) VALUES (?, ?, ?, ?) RETURNING id",
        (ticket_id, content_type, data, stamp(now)))
    assert made is not None  # no conflict is possible: a new row
    return str(made)


async def drop_web_photo(conn: Connection, ref: str) -> None:
    """An upload whose 办结 did not happen: its bytes go (no ticket_photos row names it)."""
    if ref.isdigit():
        await conn.execute("DELETE FROM web_photos WHERE id = ?", (int(ref),))


async def web_photo(conn: Connection, ref: str) -> WebPhoto | None:
    if not ref.isdigit():
        return None
    row = await fetch_one(conn, "SELECT data, content_type FROM web_photos WHERE id = ?", (int(ref),))
    return None if row is None else WebPhoto(bytes(row[0]), str(row[1]))


async def delete_web_photos(conn: Connection, ticket_id: int) -> None:
    """Erasure and retention: the uploaded bytes go with the ticket's other photos."""
    await conn.execute("DELETE FROM web_photos WHERE ticket_id = ?", (ticket_id,))
