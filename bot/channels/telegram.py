"""Telegram: durable long-polling intake and outbox delivery, on python-telegram-bot's Bot."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import warnings

import httpx
from telegram import Bot, BotCommand, Update
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Conflict,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.request import HTTPXRequest

from bot.channels.telegram_render import CAPTION_LIMIT, NO_PREVIEW, reply_markup
from bot.channels.telegram_updates import to_incoming
from bot.engine import Engine
from bot.ratelimit import ChatRateLimits
from bot.sender import Delivery, DeliveryStatus
from handlers.texts import Texts
from handlers.types import Channel, Reply
from storage import inbox
from storage.db import Database

log = logging.getLogger(__name__)

OFFSET_KEY = "telegram.offset"
ALLOWED_UPDATES = ("message", "callback_query")
COMMANDS = ("start", "menu", "report", "mytickets", "help", "bind")


def build_bot(token: str, base_url: str, base_file_url: str, read_timeout: float = 10.0) -> Bot:
    """A PTB Bot whose every call has a timeout; base URLs may point at a self-hosted server."""
    request = HTTPXRequest(connection_pool_size=16, read_timeout=read_timeout, write_timeout=10,
                           connect_timeout=5, pool_timeout=5)
    polling = HTTPXRequest(connection_pool_size=1, read_timeout=10, connect_timeout=5)
    return Bot(token, base_url=base_url, base_file_url=base_file_url, request=request,
               get_updates_request=polling)


def _retry_after_seconds(error: RetryAfter) -> float:
    with warnings.catch_warnings():  # PTB 22 warns that the type becomes timedelta; we accept both
        warnings.simplefilter("ignore")
        value = error.retry_after
    return value.total_seconds() if hasattr(value, "total_seconds") else float(value)


def _timed_out_before_sending(error: TimedOut) -> bool:
    """Connect and pool timeouts mean the request never reached Telegram; read timeouts may have."""
    cause = error.__cause__
    return isinstance(cause, httpx.ConnectTimeout | httpx.PoolTimeout) or "Pool timeout" in str(error)


class TelegramTransport:
    channel = Channel.TELEGRAM.value

    def __init__(self, bot: Bot, menu_titles: tuple[str, ...], limits: ChatRateLimits | None = None) -> None:
        self.bot = bot
        self.menu_titles = menu_titles
        self.limits = limits or ChatRateLimits()

    async def deliver(self, chat_id: str, reply: Reply) -> Delivery:
        async with self.limits.slot(chat_id, is_group=chat_id.startswith("-")):
            return await self._send(chat_id, reply)

    async def _send(self, chat_id: str, reply: Reply) -> Delivery:
        markup = reply_markup(reply, self.menu_titles)
        try:
            if reply.photo:
                message = await self.bot.send_photo(
                    chat_id=int(chat_id), photo=reply.photo, caption=reply.text[:CAPTION_LIMIT] or None,
                    reply_markup=markup,
                )
            else:
                message = await self.bot.send_message(
                    chat_id=int(chat_id), text=reply.text, reply_markup=markup,
                    link_preview_options=NO_PREVIEW,
                )
        except RetryAfter as exc:
            return Delivery(DeliveryStatus.RETRY, error="429 flood control",
                            retry_after=_retry_after_seconds(exc))
        except ChatMigrated as exc:
            return Delivery(DeliveryStatus.FAILED, error=f"chat migrated to {exc.new_chat_id}")
        except Forbidden as exc:
            return Delivery(DeliveryStatus.FAILED, error=f"403 {exc.message}")
        except BadRequest as exc:
            return Delivery(DeliveryStatus.FAILED, error=f"400 {exc.message}")
        except TimedOut as exc:
            if _timed_out_before_sending(exc):
                return Delivery(DeliveryStatus.RETRY, error="connect timeout")
            return Delivery(DeliveryStatus.UNCERTAIN, error="read timeout: may have been delivered")
        except InvalidToken:
            return Delivery(DeliveryStatus.RETRY, error="token rejected", retry_after=300)
        except NetworkError as exc:
            return Delivery(DeliveryStatus.RETRY, error=f"network: {exc.message}"[:200])
        except TelegramError as exc:
            return Delivery(DeliveryStatus.FAILED, error=f"telegram: {exc.message}"[:200])
        return Delivery(DeliveryStatus.SENT, message_id=str(message.message_id))


class TelegramIntake:
    """Stores each update with the new offset in one commit, then processes from the inbox.

    Telegram treats an update as received once getUpdates is called with a higher offset,
    and we only make that call after the commit: a crash can never lose an update.
    """

    def __init__(self, bot: Bot, db: Database, engine: Engine, texts: Texts, poll_timeout: int) -> None:
        self.bot = bot
        self.db = db
        self.engine = engine
        self.texts = texts
        self.poll_timeout = poll_timeout

    async def setup(self) -> None:
        await self.bot.initialize()
        # Polling and a webhook exclude each other; keep pending updates, they are residents' messages.
        await self.bot.delete_webhook(drop_pending_updates=False)
        await self.bot.set_my_commands(
            [BotCommand(name, self.texts.t(f"cmd_{name}")) for name in COMMANDS]
        )

    async def poll_once(self) -> int:
        """One getUpdates call; returns how many new updates were stored."""
        async with self.db.read() as conn:
            offset = int(await inbox.get_state(conn, OFFSET_KEY) or 0)
        updates = await self.bot.get_updates(
            offset=offset or None, timeout=self.poll_timeout, allowed_updates=list(ALLOWED_UPDATES)
        )
        if not updates:
            return 0
        stored = 0
        now = self.engine.clock.now()
        async with self.db.transaction() as conn:
            for update in updates:
                payload = json.dumps(update.to_dict(), ensure_ascii=False)
                stored += await inbox.store(conn, Channel.TELEGRAM, str(update.update_id), payload, now)
            await inbox.set_state(conn, OFFSET_KEY, str(max(u.update_id for u in updates) + 1))
        for update in updates:
            if update.callback_query is not None:
                await self._answer_callback(update.callback_query.id)
        return stored

    async def _answer_callback(self, query_id: str) -> None:
        """Stops the button's spinner; losing this is harmless, so it is not queued."""
        try:
            await self.bot.answer_callback_query(query_id)
        except TelegramError as exc:
            log.info("answerCallbackQuery failed: %s", exc.message)

    async def process_pending(self) -> int:
        processed = 0
        while True:
            async with self.db.read() as conn:
                items = await inbox.pending(conn, Channel.TELEGRAM)
            if not items:
                return processed
            for item in items:
                await self._process(item.id, item.payload, item.platform_id)
                processed += 1

    async def _process(self, item_id: int, payload: str, update_id: str) -> None:
        update = Update.de_json(json.loads(payload), self.bot)
        incoming = to_incoming(update) if update is not None else None
        if incoming is None:
            await self.engine.skip_stored(item_id)
            return
        try:
            await self.engine.handle_stored(incoming, item_id)
        except Exception as exc:
            # The channel's error boundary: log with context (no message text), apologise once.
            log.exception("telegram update %s from chat %s failed", update_id, incoming.chat_id)
            parked = await self.engine.record_failure(item_id, exc)
            if parked:
                await self._apologise(incoming.chat_id)

    async def _apologise(self, chat_id: str) -> None:
        try:
            await self.bot.send_message(int(chat_id), self.texts.t("error"))
        except TelegramError as exc:
            log.warning("could not send the error notice to chat %s: %s", chat_id, exc.message)

    async def run(self, stop: asyncio.Event) -> None:
        await self.process_pending()  # what a crash left behind goes first
        failures = 0
        while not stop.is_set():
            try:
                await self.poll_once()
                failures = 0
            except InvalidToken:
                log.error("Telegram rejected the bot token; stopping the Telegram channel")
                raise
            except RetryAfter as exc:
                await _sleep_unless(stop, _retry_after_seconds(exc))
                continue
            except (NetworkError, TimedOut, Conflict) as exc:
                failures += 1
                delay = min(2.0 ** failures, 60.0)
                log.warning("getUpdates failed (%s); retrying in %.0fs", exc.message, delay)
                await _sleep_unless(stop, delay)
                continue
            await self.process_pending()


async def _sleep_unless(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)
