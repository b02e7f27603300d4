"""A ticket's attachments: photos and voice recordings, each kept by its id on the platform it
was sent on (table ticket_photos; its kind column since migration 0016)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from storage.clock import stamp
from storage.db import fetch_all
from storage.engine import Connection


class AttachmentKind(StrEnum):
    PHOTO = "photo"
    VOICE = "voice"  # a voice message without a transcript


@dataclass(frozen=True)
class Attachment:
    """A photo or a recording, kept by its id on the platform it was sent on (`channel`)."""

    channel: str
    ref: str
    kind: AttachmentKind


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
