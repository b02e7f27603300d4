"""Photos and recordings across platforms: one small interface to fetch a file from the platform
that holds it, by the id the ticket keeps (a resident's WeChat photo for a Telegram leader, a
leader's Telegram photo for a WeChat resident).

The outbox transports use it at send time (fetch, then upload to their own platform); the web
workplace can use the same `MediaStore.fetch(channel, ref)` to show a ticket's photos. Each
channel registers its fetcher (bot/channels/telegram/media.py, bot/channels/wechat/media.py).
"""

from __future__ import annotations

import mimetypes
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from storage.attachments import WEB_SOURCE, web_photo
from storage.db import Database

MB = 1024 * 1024


class MediaKind(StrEnum):
    PHOTO = "photo"
    VOICE = "voice"


@dataclass(frozen=True)
class Media:
    """A fetched file: its bytes, its MIME type and a file name to upload it under."""

    data: bytes
    content_type: str
    filename: str = "file"


class MediaError(Exception):
    """A file could not be fetched or uploaded. `permanent`: retrying cannot help (too big, a
    format the other platform refuses, an id the platform does not know)."""

    def __init__(self, reason: str, *, permanent: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent


class Fetcher(Protocol):
    async def fetch(self, ref: str) -> Media:
        """The file behind a platform id; raises MediaError."""
        ...


class MediaStore:
    """The fetchers of the running channels, by channel name."""

    def __init__(self) -> None:
        self._fetchers: dict[str, Fetcher] = {}

    def register(self, channel: str, fetcher: Fetcher) -> None:
        self._fetchers[channel] = fetcher

    async def fetch(self, channel: str, ref: str) -> Media:
        fetcher = self._fetchers.get(channel)
        if fetcher is None:
            raise MediaError(f"no {channel} channel running to fetch the file from", permanent=True)
        return await fetcher.fetch(ref)


# Extensions mimetypes does not know (Telegram keeps voice notes as .oga).
_TYPES = {".oga": "audio/ogg", ".opus": "audio/ogg", ".amr": "audio/amr", ".m4a": "audio/mp4"}


def content_type_of(filename: str, default: str = "application/octet-stream") -> str:
    """A MIME type from a file name, for platforms that serve every file as octet-stream."""
    dot = filename.rfind(".")
    extension = filename[dot:].lower() if dot >= 0 else ""
    return _TYPES.get(extension) or mimetypes.guess_type(filename)[0] or default


def extension_of(content_type: str) -> str:
    """A file extension for a MIME type (platforms want a file name on upload)."""
    base = content_type.split(";", 1)[0].strip().lower()
    known = {"audio/amr": ".amr", "audio/ogg": ".ogg", "audio/mpeg": ".mp3", "audio/mp4": ".m4a",
             "image/jpeg": ".jpg"}
    return known.get(base) or mimetypes.guess_extension(base) or ".bin"


def check_size(media: Media, limit: int, platform: str) -> None:
    """Refuse a file over a platform's limit, saying which (recorded with the outbox row)."""
    if len(media.data) > limit:
        raise MediaError(f"{len(media.data)} bytes is over {platform}'s limit of {limit // MB} MB",
                         permanent=True)


class WebPhotos:
    """The fetcher of photos uploaded in the workplace (source "web"): their bytes are in the
    database, so the outbox uploads them to a resident's platform like any other platform's."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def fetch(self, ref: str) -> Media:
        async with self.db.read() as conn:
            photo = await web_photo(conn, ref)
        if photo is None:  # erased since the notice was queued
            raise MediaError("web photo no longer stored", permanent=True)
        return Media(photo.data, photo.content_type, f"photo{extension_of(photo.content_type)}")


def with_web_photos(store: MediaStore, db: Database) -> MediaStore:
    """`store` with the workplace's uploads registered (the channels' transports and the
    workplace share one store)."""
    store.register(WEB_SOURCE, WebPhotos(db))
    return store
