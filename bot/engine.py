"""Runs the dispatcher inside one database transaction per Incoming."""

from __future__ import annotations

import asyncio
import logging

from handlers.context import write_notifications
from handlers.dispatcher import Dispatcher
from handlers.types import Incoming, Reply
from storage import inbox, outbox
from storage.clock import Clock
from storage.db import Database

log = logging.getLogger(__name__)


class Engine:
    """The one place where handling, its outbox rows and its inbox mark commit together."""

    def __init__(self, db: Database, dispatcher: Dispatcher, clock: Clock) -> None:
        self.db = db
        self.dispatcher = dispatcher
        self.clock = clock
        self.outbox_ready = asyncio.Event()

    async def handle_direct(self, incoming: Incoming) -> list[Reply]:
        """Handle and return the replies to the caller (console); notifications go to the outbox."""
        now = self.clock.now()
        async with self.db.transaction() as conn:
            outcome = await self.dispatcher.handle(conn, incoming, now)
            await write_notifications(conn, outcome, now)
        if outcome.notifications:
            self.outbox_ready.set()
        return outcome.replies

    async def handle_stored(self, incoming: Incoming, inbox_id: int) -> None:
        """Handle an inbox item: replies, notifications and the done-mark in one commit.

        A crash before the commit leaves the item pending and nothing else written, so
        handling it again after a restart cannot create a second ticket.
        """
        now = self.clock.now()
        async with self.db.transaction() as conn:
            outcome = await self.dispatcher.handle(conn, incoming, now)
            for reply in outcome.replies:
                await outbox.enqueue(conn, incoming.channel, incoming.chat_id, reply.to_payload(), now)
            await write_notifications(conn, outcome, now)
            await inbox.mark_done(conn, inbox_id, now)
        self.outbox_ready.set()

    async def record_failure(self, inbox_id: int, error: BaseException) -> bool:
        """Count a failed handling attempt; True when the item was parked for good."""
        async with self.db.transaction() as conn:
            return await inbox.record_failure(conn, inbox_id, type(error).__name__, self.clock.now())
