"""The outbox sender: delivers queued rows per channel, with rate limits, retries and dead letters."""

from __future__ import annotations

import asyncio
import logging
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from typing import Protocol

import aiosqlite

from bot.faults import CrashPoints
from handlers.types import Reply
from storage import outbox
from storage.clock import Clock
from storage.db import Database
from storage.outbox import OutboxRow, OutboxStatus

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 12
MAX_BACKOFF_SECONDS = 300.0
BATCH = 50
CONCURRENCY = 8


class DeliveryStatus(StrEnum):
    SENT = "sent"
    RETRY = "retry"  # not delivered: try again later
    FAILED = "failed"  # the platform refused it for good (400/403)
    UNCERTAIN = "uncertain"  # may have been delivered (read timeout): never resent blindly


@dataclass(frozen=True)
class Delivery:
    status: DeliveryStatus
    message_id: str = ""
    error: str = ""
    retry_after: float | None = None
    moved_to: str = ""  # the chat has a new id (a Telegram group became a supergroup): resend there
    gone: bool = False  # the bot may no longer post here (removed from the group, blocked)


class DeliveryFeedback(Protocol):
    """What a delivery teaches about a chat, recorded in the sender's transaction."""

    async def moved(self, conn: aiosqlite.Connection, row: OutboxRow, new_chat_id: str) -> None: ...

    async def gone(self, conn: aiosqlite.Connection, row: OutboxRow, reason: str) -> None: ...


class Transport(Protocol):
    """One channel's way of sending a Reply to a chat."""

    channel: str

    def slot(self, chat_id: str) -> AbstractAsyncContextManager[None]:
        """Wait until the platform's rate limits allow one more message to this chat."""
        ...

    async def deliver(self, chat_id: str, reply: Reply, *, kind: str = "reply",
                      ticket_id: int | None = None) -> Delivery:
        """Send one row; `kind` and `ticket_id` let a channel pick a fallback (a WeChat template)."""


def backoff_seconds(attempts: int) -> float:
    return min(2.0 ** max(attempts - 1, 0), MAX_BACKOFF_SECONDS)


class OutboxSender:
    def __init__(self, db: Database, clock: Clock, transport: Transport, wake: asyncio.Event,
                 crash_points: CrashPoints | None = None, feedback: DeliveryFeedback | None = None) -> None:
        self.db = db
        self.feedback = feedback
        self.crash_points = crash_points or CrashPoints()
        self.clock = clock
        self.transport = transport
        self.wake = wake
        self._slots = asyncio.Semaphore(CONCURRENCY)

    async def recover(self) -> int:
        """At start: rows a crash left mid-send become uncertain rather than being resent."""
        async with self.db.transaction() as conn:
            count = await outbox.recover_interrupted(conn, self.transport.channel)
        if count:
            log.warning("%s outbox: %d row(s) were interrupted mid-send; marked uncertain",
                        self.transport.channel, count)
        return count

    async def drain_once(self) -> int:
        """Deliver every row due now (one per chat at a time, in order); returns rows handled."""
        handled = 0
        while True:
            async with self.db.transaction() as conn:
                rows = await outbox.claim_due(conn, self.transport.channel, self.clock.now(), BATCH)
            if not rows:
                return handled
            await asyncio.gather(*(self._deliver(row) for row in rows))
            handled += len(rows)

    async def _deliver(self, row: OutboxRow) -> None:
        async with self._slots, self.transport.slot(row.chat_id):
            # Only now is the row on its way: a crash while it waited for a slot loses nothing.
            async with self.db.transaction() as conn:
                await outbox.mark_sending(conn, row.id)
            try:
                result = await self.transport.deliver(row.chat_id, Reply.from_payload(row.payload),
                                                      kind=row.kind, ticket_id=row.ticket_id)
            except Exception as exc:  # a transport bug must not stop the sender or lose the row
                log.exception("%s outbox row %d: unexpected error", self.transport.channel, row.id)
                result = Delivery(DeliveryStatus.RETRY, error=f"internal: {type(exc).__name__}")
        if result.status is DeliveryStatus.SENT:
            self.crash_points.reached("sender.after_send")
            self.crash_points.reached(f"sender.after_send.{row.kind}")
        await self._record(row, result)

    async def _record(self, row: OutboxRow, result: Delivery) -> None:
        now = self.clock.now()
        async with self.db.transaction() as conn:
            if result.status is DeliveryStatus.SENT:
                await outbox.mark_sent(conn, row.id, result.message_id, now)
                return
            if result.moved_to and row.attempts < MAX_ATTEMPTS:
                await outbox.move_row(conn, row.id, result.moved_to, now, result.error)
                if self.feedback is not None:
                    await self.feedback.moved(conn, row, result.moved_to)
                log.info("%s outbox row %d: chat moved; resending to the new id", self.transport.channel, row.id)
                return
            if result.gone and self.feedback is not None:
                await self.feedback.gone(conn, row, result.error)
            if result.status is DeliveryStatus.RETRY and row.attempts < MAX_ATTEMPTS:
                delay = result.retry_after if result.retry_after is not None else backoff_seconds(row.attempts)
                await outbox.mark_retry(conn, row.id, now + timedelta(seconds=delay), result.error)
                log.info("%s outbox row %d: retry in %.1fs (%s)", self.transport.channel, row.id,
                         delay, result.error)
                return
            status = OutboxStatus.UNCERTAIN if result.status is DeliveryStatus.UNCERTAIN else OutboxStatus.FAILED
            error = result.error if result.status is not DeliveryStatus.RETRY else f"gave up: {result.error}"
            await outbox.mark_final(conn, row.id, status, error)
            log.warning("%s outbox row %d (%s): %s — %s", self.transport.channel, row.id, row.kind,
                        status.value, error)

    async def seconds_until_due(self) -> float | None:
        async with self.db.read() as conn:
            due = await outbox.next_due_at(conn, self.transport.channel)
        if due is None:
            return None
        return max((due - self.clock.now()).total_seconds(), 0.0)

    async def run(self, stop: asyncio.Event, idle_poll: float = 30.0) -> None:
        """Deliver until `stop` is set; wakes on new rows and when a retry falls due."""
        await self.recover()
        while not stop.is_set():
            self.wake.clear()
            try:
                await self.drain_once()
            except Exception:
                log.exception("%s outbox: drain failed; retrying shortly", self.transport.channel)
                await _wait_any(stop, self.wake, 1.0)
                continue
            delay = await self.seconds_until_due()
            await _wait_any(stop, self.wake, idle_poll if delay is None else min(delay, idle_poll))


async def _wait_any(stop: asyncio.Event, wake: asyncio.Event, seconds: float) -> None:
    waiters = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(wake.wait())]
    try:
        await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()
