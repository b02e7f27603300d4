"""Telegram: durable long-polling intake and outbox delivery, on python-telegram-bot's Bot."""

from __future__ import annotations

import logging
import warnings
from contextlib import AbstractAsyncContextManager

import aiohttp
import httpx
from telegram import Bot, InputFile
from telegram.error import (
    BadRequest,
    ChatMigrated,
    EndPointNotFound,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.warnings import PTBUserWarning

from bot.channels.telegram.http import AiohttpRequest
from bot.channels.telegram.media import AUDIO_PREFIX, file_id_of, upload
from bot.channels.telegram.render import CAPTION_LIMIT, NO_PREVIEW, reply_markup
from bot.media import MediaError, MediaKind, MediaStore
from bot.ratelimit import ChatRateLimits, refused
from bot.sender import Delivery, DeliveryStatus, media_failure
from handlers.types import Channel, Reply

log = logging.getLogger(__name__)

# getUpdates' own read timeout; a long poll adds its `timeout` to it.
POLL_READ_TIMEOUT = 10.0
# Sends are made raw (`do_api_request(..., return_type=None)`): all the sender keeps of the
# answer is the message id, and parsing it into a full PTB Message (chat, user, keyboard: a few
# hundred attribute sets) was a large share of the bot's CPU per update (docs/benchmarks.md).
RAW_SENDS = {"photo": "sendPhoto", "voice": "sendVoice", "audio": "sendAudio", "document": "sendDocument"}


def build_bot(token: str, base_url: str, base_file_url: str, read_timeout: float = 10.0) -> Bot:
    """A PTB Bot whose every call has a timeout; base URLs may point at a self-hosted server.
    Its requests go over aiohttp (bot/channels/telegram/http.py), not PTB's httpx default."""
    request = AiohttpRequest(connection_pool_size=16, read_timeout=read_timeout, write_timeout=10,
                             connect_timeout=5, pool_timeout=5)
    polling = AiohttpRequest(connection_pool_size=1, read_timeout=POLL_READ_TIMEOUT, connect_timeout=5,
                             pool_timeout=5)
    return Bot(token, base_url=base_url, base_file_url=base_file_url, request=request,
               get_updates_request=polling)


def retry_after_seconds(error: RetryAfter) -> float:
    with warnings.catch_warnings():  # PTB 22 warns that the type becomes timedelta; we accept both
        warnings.simplefilter("ignore")
        value = error.retry_after
    return value.total_seconds() if hasattr(value, "total_seconds") else float(value)


def _timed_out_before_sending(error: TimedOut) -> bool:
    """Connect and pool timeouts mean the request never reached Telegram; read timeouts may have."""
    cause = error.__cause__
    return isinstance(cause, httpx.ConnectTimeout | httpx.PoolTimeout | aiohttp.ConnectionTimeoutError) \
        or "Pool timeout" in str(error)


def _network_failure(error: NetworkError) -> Delivery:
    """Not connected: retry, patiently. The connection dropped after the request was written
    (no answer read): it may have been delivered — an unknown outcome, sent again as a resend."""
    reason = f"network: {error.message}"[:200]
    cause = error.__cause__
    if isinstance(cause, httpx.ConnectError | httpx.ConnectTimeout | aiohttp.ClientConnectorError):
        return Delivery(DeliveryStatus.RETRY, error=reason, unreached=True)
    # aiohttp (bot/channels/telegram/http.py): any other connection failure came after the
    # connection was made, so the request may have been written.
    if isinstance(cause, httpx.RemoteProtocolError | httpx.ReadError | aiohttp.ClientConnectionError
                  | aiohttp.ClientPayloadError):
        return Delivery(DeliveryStatus.UNCERTAIN, error=f"{reason}: may have been delivered")
    return Delivery(DeliveryStatus.RETRY, error=reason)


class TelegramTransport:
    channel = Channel.TELEGRAM.value

    def __init__(self, bot: Bot, menu_titles: tuple[str, ...], limits: ChatRateLimits | None = None,
                 media: MediaStore | None = None) -> None:
        self.bot = bot
        self.menu_titles = menu_titles
        self.limits = limits or ChatRateLimits()
        self.media = media or MediaStore()
        # PTB nudges raw calls of methods it wraps towards the wrappers; we mean it (see RAW_SENDS).
        warnings.filterwarnings("ignore", message=r"Please use 'Bot\.send", category=PTBUserWarning)

    def is_group(self, chat_id: str) -> bool:
        return chat_id.startswith("-")  # Telegram's group and channel ids are negative

    def slot(self, chat_id: str) -> AbstractAsyncContextManager[None]:
        return self.limits.slot(chat_id, is_group=self.is_group(chat_id))

    async def deliver(self, chat_id: str, reply: Reply, *, kind: str = "reply",
                      ticket_id: int | None = None) -> Delivery:
        try:
            media = await self._media(reply)
        except MediaError as exc:
            return media_failure(exc)
        return await self._send(chat_id, reply, media)

    async def _media(self, reply: Reply) -> tuple[str, str | InputFile] | None:
        """(send method, file) for a photo or recording: Telegram's own by file id, another
        platform's fetched there and uploaded (multipart) now."""
        if not reply.media:
            return None
        kind = MediaKind.PHOTO if reply.photo else MediaKind.VOICE
        if reply.media_from in ("", self.channel):
            if kind is MediaKind.PHOTO:
                return "photo", reply.photo
            return ("audio" if reply.voice.startswith(AUDIO_PREFIX) else "voice"), file_id_of(reply.voice)
        return upload(await self.media.fetch(reply.media_from, reply.media), kind)

    async def _call(self, method: str, params: dict[str, object]) -> str:
        """One send; the new message's id, read from the raw answer."""
        result = await self.bot.do_api_request(method, api_kwargs=params, return_type=None)
        if not isinstance(result, dict) or "message_id" not in result:
            raise TelegramError(f"{method}: no message id in the answer")
        return str(result["message_id"])

    async def _send(self, chat_id: str, reply: Reply, media: tuple[str, str | InputFile] | None) -> Delivery:
        markup = reply_markup(reply, self.menu_titles)
        try:
            if media is not None:
                method, file = media
                message_id = await self._call(RAW_SENDS[method], {
                    "chat_id": int(chat_id), method: file, "caption": reply.text[:CAPTION_LIMIT] or None,
                    "reply_markup": markup})
            else:
                message_id = await self._call("sendMessage", {
                    "chat_id": int(chat_id), "text": reply.text, "reply_markup": markup,
                    "link_preview_options": NO_PREVIEW})
        except RetryAfter as exc:
            refused()  # not a message Telegram counted: the slot goes to the next one
            return Delivery(DeliveryStatus.RETRY, error="429 flood control",
                            retry_after=retry_after_seconds(exc))
        except ChatMigrated as exc:
            return Delivery(DeliveryStatus.RETRY, error=f"chat migrated to {exc.new_chat_id}",
                            moved_to=str(exc.new_chat_id))
        except Forbidden as exc:
            return Delivery(DeliveryStatus.FAILED, error=f"403 {exc.message}", gone=True)
        except BadRequest as exc:
            # A file id Telegram refuses: the caption still goes, as words (media_failed).
            return Delivery(DeliveryStatus.FAILED, error=f"400 {exc.message}", media_failed=media is not None)
        except TimedOut as exc:
            if _timed_out_before_sending(exc):
                return Delivery(DeliveryStatus.RETRY, error="connect timeout", unreached=True)
            return Delivery(DeliveryStatus.UNCERTAIN, error="read timeout: may have been delivered")
        except (InvalidToken, EndPointNotFound):
            # A raw call turns a 401/404 into EndPointNotFound; our methods exist: the token it is.
            return Delivery(DeliveryStatus.RETRY, error="token rejected", retry_after=300)
        except NetworkError as exc:
            return _network_failure(exc)
        except TelegramError as exc:
            return Delivery(DeliveryStatus.FAILED, error=f"telegram: {exc.message}"[:200])
        return Delivery(DeliveryStatus.SENT, message_id=message_id)
