"""Telegram files: fetch one by file id (getFile, then the file download) and the limits and
methods for sending a fetched one (sendPhoto / sendVoice / sendDocument, multipart)."""

from __future__ import annotations

from telegram import Bot, InputFile
from telegram.error import BadRequest, TelegramError

from bot.media import MB, Media, MediaError, MediaKind, check_size, content_type_of, extension_of

DOWNLOAD_LIMIT = 20 * MB  # getFile serves files up to 20 MB
PHOTO_LIMIT = 10 * MB  # sendPhoto by upload
FILE_LIMIT = 50 * MB  # sendVoice / sendDocument by upload
# sendVoice plays OGG/Opus, MP3 and M4A; anything else (WeChat's AMR) goes as a document,
# which every Telegram client still plays or saves.
VOICE_TYPES = frozenset({"audio/ogg", "audio/mpeg", "audio/mp4"})
# An audio file (not a voice note) is kept as "audio:<file id>": its file id is sent back with
# sendAudio, which is the only method Telegram accepts it with.
AUDIO_PREFIX = "audio:"


def file_id_of(ref: str) -> str:
    return ref.removeprefix(AUDIO_PREFIX)


class TelegramMedia:
    """The fetcher the other channels use for a photo or a recording sent on Telegram."""

    def __init__(self, bot: Bot) -> None:
        self.bot = bot

    async def fetch(self, ref: str) -> Media:
        try:
            file = await self.bot.get_file(file_id_of(ref))
        except BadRequest as exc:  # an id Telegram does not know (or not this bot's)
            raise MediaError(f"telegram getFile: {exc.message}", permanent=True) from exc
        except TelegramError as exc:
            raise MediaError(f"telegram getFile: {type(exc).__name__}") from exc
        if file.file_size is not None and file.file_size > DOWNLOAD_LIMIT:
            raise MediaError(f"telegram file of {file.file_size} bytes is over the 20 MB download limit",
                             permanent=True)
        try:
            data = bytes(await file.download_as_bytearray())
        except TelegramError as exc:
            raise MediaError(f"telegram download: {type(exc).__name__}") from exc
        name = (file.file_path or "file").rsplit("/", 1)[-1]
        return Media(data, content_type_of(name), name)


def upload(media: Media, kind: MediaKind) -> tuple[str, InputFile]:
    """The send method and the multipart file for a fetched photo or recording; MediaError if
    Telegram would refuse it for its size."""
    if kind is MediaKind.PHOTO:
        check_size(media, PHOTO_LIMIT, "Telegram sendPhoto")
        return "photo", InputFile(media.data, filename=_name(media))
    check_size(media, FILE_LIMIT, "Telegram sendVoice")
    method = "voice" if media.content_type.split(";", 1)[0] in VOICE_TYPES else "document"
    return method, InputFile(media.data, filename=_name(media))


def _name(media: Media) -> str:
    return media.filename if "." in media.filename else f"{media.filename}{extension_of(media.content_type)}"
