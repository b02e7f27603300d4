"""Telegram intake: updates are stored durably before Telegram is told, then processed from the inbox."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging

from telegram import Bot, BotCommand, Update
from telegram.error import Conflict, InvalidToken, NetworkError, RetryAfter, TelegramError, TimedOut

from bot.channels.telegram import retry_after_seconds
from bot.channels.telegram_updates import to_incoming
from bot.engine import Engine
from handlers.texts import Texts
from handlers.types import Channel
from storage import inbox
from storage.db import Database

log = logging.getLogger(__name__)

OFFSET_KEY = "telegram.offset"
ALLOWED_UPDATES = ("message", "callback_query")
COMMANDS = ("start", "menu", "report", "mytickets", "help", "bind")
# answerCallbackQuery calls in flight at once: they share the connection pool with the sends.
CALLBACK_ANSWERS = 4


class TelegramIntake:
    """Stores updates in the inbox before Telegram considers them received, then processes them.

    Polling: Telegram treats an update as received once getUpdates is called with a higher
    offset, and we only make that call after the commit. Webhook: the 2xx answer is sent only
    after the commit. Either way a crash can never lose an update.
    """

    def __init__(self, bot: Bot, db: Database, engine: Engine, texts: Texts, poll_timeout: int) -> None:
        self.bot = bot
        self.db = db
        self.engine = engine
        self.texts = texts
        self.poll_timeout = poll_timeout
        self._answering: set[asyncio.Task[None]] = set()
        self._answer_slots = asyncio.Semaphore(CALLBACK_ANSWERS)

    async def setup(self, webhook_url: str = "", secret: str = "") -> None:
        await self.bot.initialize()
        # Polling and a webhook exclude each other; pending updates are residents' messages: kept.
        if webhook_url:
            await self.bot.set_webhook(webhook_url, secret_token=secret,
                                       allowed_updates=list(ALLOWED_UPDATES), drop_pending_updates=False)
        else:
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
        offset = str(max(u.update_id for u in updates) + 1)
        return await self.store([u.to_dict() for u in updates], offset)

    async def store(self, updates: list[dict], new_offset: str = "") -> int:
        """Commit updates to the inbox (a repeated update_id is ignored); how many were new."""
        stored = 0
        now = self.engine.clock.now()
        async with self.db.transaction() as conn:
            for update in updates:
                payload = json.dumps(update, ensure_ascii=False)
                stored += await inbox.store(conn, Channel.TELEGRAM, str(update["update_id"]), payload, now)
            if new_offset:
                await inbox.set_state(conn, OFFSET_KEY, new_offset)
        self.engine.crash_points.reached("intake.after_store")
        return stored

    def _answer_in_background(self, query_id: str) -> None:
        """The handling does not wait for the spinner's answer: a round trip per button press
        in this one-at-a-time loop would otherwise cap every resident's throughput."""
        task = asyncio.create_task(self._answer_callback(query_id))
        self._answering.add(task)
        task.add_done_callback(self._answering.discard)

    async def _answer_callback(self, query_id: str) -> None:
        """Stops the button's spinner; losing this is harmless, so it is not queued."""
        async with self._answer_slots:
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
            # Submitted together, in order (each queues its handling before its first pause), so
            # the engine handles them in one transaction; a chat's updates keep their order.
            await asyncio.gather(*(self._process(item.id, item.payload, item.platform_id) for item in items))
            processed += len(items)

    async def _process(self, item_id: int, payload: str, update_id: str) -> None:
        update = Update.de_json(json.loads(payload), self.bot)
        incoming = to_incoming(update) if update is not None else None
        if incoming is None:
            await self.engine.skip_stored(item_id)
            return
        if update is not None and update.callback_query is not None:
            # Here rather than at intake, so no outbound call delays storing or the webhook's 200.
            self._answer_in_background(update.callback_query.id)
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

    async def run_processing(self, stop: asyncio.Event, wake: asyncio.Event) -> None:
        """Webhook mode: process the inbox whenever the webhook stores something."""
        while not stop.is_set():
            wake.clear()
            await self.process_pending()
            await _wait_either(stop, wake)

    async def run(self, stop: asyncio.Event) -> None:
        """Polling mode: poll, store, process, repeat."""
        try:
            await self._run(stop)
        finally:
            for task in self._answering:  # spinners still turning are harmless; no stray tasks
                task.cancel()

    async def _run(self, stop: asyncio.Event) -> None:
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
                await _sleep_unless(stop, retry_after_seconds(exc))
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


async def _wait_either(stop: asyncio.Event, wake: asyncio.Event) -> None:
    waiters = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(wake.wait())]
    try:
        await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()
