"""Telegram intake: updates are stored durably, as Telegram sent them, before Telegram is told;
then each is parsed and handled from the inbox inside the channel's error boundary."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import warnings
from collections.abc import Awaitable, Callable
from typing import Any

from telegram import Bot, BotCommand, Update
from telegram.error import (
    Conflict,
    EndPointNotFound,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.warnings import PTBUserWarning

from bot.channels.telegram.transport import POLL_READ_TIMEOUT, retry_after_seconds
from bot.channels.telegram.updates import USED_KINDS, Skip, private_chat_of, translate, without_card
from bot.engine import Engine
from bot.supervisor import ConfigurationError
from handlers.texts import Texts
from handlers.types import Channel
from storage import inbox, state
from storage.db import Database

log = logging.getLogger(__name__)

OFFSET_KEY = "telegram.offset"
ALLOWED_UPDATES = USED_KINDS  # message, callback_query, my_chat_member
COMMANDS = ("start", "menu", "report", "mytickets", "help", "bind")
# answerCallbackQuery calls in flight at once: they share the connection pool with the sends.
CALLBACK_ANSWERS = 4
TOKEN_REJECTED = "Telegram rejected the bot token (TELEGRAM_BOT_TOKEN)"
RawUpdate = tuple[int, str]  # (update_id, the update's JSON as Telegram sent it)


def raw_updates(result: Any) -> list[RawUpdate]:
    """getUpdates' raw result as (update_id, JSON) pairs. Nothing is parsed here: one update
    this PTB cannot read must not keep the others (or the offset) from being stored."""
    if not isinstance(result, list):
        raise TypeError(f"getUpdates answered {type(result).__name__}, not a list")
    updates = []
    for update in result:
        update_id = update.get("update_id") if isinstance(update, dict) else None
        if isinstance(update_id, int) and not isinstance(update_id, bool):
            updates.append((update_id, json.dumps(update, ensure_ascii=False)))
        else:
            log.warning("getUpdates returned an item without an update_id; ignored")
    return updates


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
        # getUpdates is read raw on purpose (see raw_updates); PTB's nudge towards the parsing
        # method would be logged on every start.
        warnings.filterwarnings("ignore", message=r"Please use 'Bot\.getUpdates'", category=PTBUserWarning)

    async def setup(self, webhook_url: str = "", secret: str = "") -> None:
        try:
            await self.bot.initialize()
        except InvalidToken as exc:
            raise ConfigurationError(TOKEN_REJECTED) from exc
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
            offset = int(await state.get_state(conn, OFFSET_KEY) or 0)
        params: dict[str, Any] = {"timeout": self.poll_timeout, "allowed_updates": list(ALLOWED_UPDATES)}
        if offset:
            params["offset"] = offset
        result = await self.bot.do_api_request(
            "getUpdates", api_kwargs=params, return_type=None,
            read_timeout=POLL_READ_TIMEOUT + self.poll_timeout,
        )
        updates = raw_updates(result)
        if not updates:
            return 0
        return await self.store(updates, str(max(update_id for update_id, _ in updates) + 1))

    async def store(self, updates: list[RawUpdate], new_offset: str = "") -> int:
        """Commit updates to the inbox (a repeated update_id is ignored); how many were new."""
        stored = 0
        now = self.engine.clock.now()
        async with self.db.transaction() as conn:
            for update_id, payload in updates:
                stored += await inbox.store(conn, Channel.TELEGRAM, str(update_id), payload, now)
            if new_offset:
                await state.set_state(conn, OFFSET_KEY, new_offset)
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

    async def process_pending(self, stop: asyncio.Event | None = None) -> int:
        """Handle pending updates until none is left, or `stop` (several instances: the lease was
        lost, and the next holder must not handle the same chat at the same time)."""
        processed = 0
        while stop is None or not stop.is_set():
            async with self.db.read() as conn:
                items = await inbox.pending_by_update(conn, Channel.TELEGRAM)
            if not items:
                return processed
            # Submitted together, in order (each queues its handling before its first pause), so
            # the engine handles them in one transaction; a chat's updates keep their order.
            await asyncio.gather(*(self._process(item.id, item.payload, item.platform_id) for item in items))
            processed += len(items)
        return processed

    async def _process(self, item_id: int, payload: str, update_id: str) -> None:
        """Parse and handle one stored update. Whatever it holds, it ends handled, skipped or
        parked: the loop never stops for one update."""
        raw: Any = None
        try:
            raw = json.loads(payload)
            update = Update.de_json(raw, self.bot)
            translated = translate(update, raw)
        except Exception as exc:
            # Parsing will fail the same way next time: parked at once, with the reason.
            log.warning("telegram update %s cannot be parsed (%s); parked", update_id, type(exc).__name__)
            chat = private_chat_of(raw) if isinstance(raw, dict) else None
            await self.engine.park(item_id, f"parse: {type(exc).__name__}: {exc}"[:300],
                                   apologise_to=(Channel.TELEGRAM, chat) if chat else None,
                                   payload=without_card(raw) if isinstance(raw, dict) else None)
            return
        kept = without_card(raw)
        if isinstance(translated, Skip):
            await self.engine.skip_stored(item_id, translated.reason, sender=translated.sender, payload=kept)
            return
        incoming = translated
        if update.callback_query is not None:
            # Here rather than at intake, so no outbound call delays storing or the webhook's 200.
            self._answer_in_background(update.callback_query.id)
        try:
            await self.engine.handle_stored(incoming, item_id, stored_payload=kept)
        except Exception as exc:
            # The channel's error boundary: log with context (no message text), apologise once.
            log.exception("telegram update %s from chat %s failed", update_id, incoming.chat_id)
            apologise = None if incoming.is_group else (Channel.TELEGRAM, incoming.chat_id)
            await self.engine.record_failure(item_id, exc, apologise_to=apologise, sender=incoming.user_id,
                                             payload=kept)

    async def run_processing(self, stop: asyncio.Event, wake: asyncio.Event, look: float | None = None) -> None:
        """Webhook mode: process the inbox whenever the webhook stores something, and also every
        `look` seconds if given (several instances: what the others stored wakes nobody here)."""
        while not stop.is_set():
            wake.clear()
            await self.process_pending(stop)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(_wait_either(stop, wake), timeout=look)

    def run_processing_loop(self, wake: asyncio.Event,
                            look: float | None = None) -> Callable[[asyncio.Event], Awaitable[None]]:
        async def loop(stop: asyncio.Event) -> None:
            await self.run_processing(stop, wake, look)
        return loop

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
            except InvalidToken as exc:
                raise ConfigurationError(TOKEN_REJECTED) from exc
            except EndPointNotFound as exc:
                # PTB reports a 401 after start-up as a missing endpoint: a revoked token.
                if "unauthorized" in str(exc.__cause__).lower():
                    raise ConfigurationError(TOKEN_REJECTED) from exc
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
