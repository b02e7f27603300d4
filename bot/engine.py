"""Runs the dispatcher inside a database transaction: an Incoming's handling, its outbox rows and
its inbox mark commit together (items handled at the same time share the transaction)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime

from bot.faults import CrashPoints
from bot.flood_guard import Admission, FloodGuard
from bot.group_commit import GroupCommit
from bot.notifier import Notifier
from handlers.dispatcher import Dispatcher
from handlers.types import Incoming, Notification, Outcome, Reply
from storage import inbox, outbox
from storage.clock import Clock
from storage.db import Database
from storage.engine import Connection
from storage.engine import Engine as StorageEngine

log = logging.getLogger(__name__)

# Channel hooks that run inside the handling transaction.
Prepare = Callable[[Connection, Incoming, datetime], Awaitable[Incoming]]


@dataclass(frozen=True)
class Sunk:
    """What a channel's reply sink did with the replies."""

    pushed: bool  # it queued outbox rows (pushes) for the sender to deliver
    response: str | None = None  # a passive reply, stored with the inbox item's done-mark


ReplySink = Callable[[Connection, list[Reply], datetime], Awaitable[Sunk]]
# A channel's cut of a long text into pieces that each fit one message; each channel's renderer
# has its own, and the wiring hands them to the engine (bot/channels/splitters.py).
TextSplitter = Callable[[str], list[str]]


def split_reply(reply: Reply, split: TextSplitter | None) -> list[Reply]:
    """Long texts become several rows at write time, so a retry never repeats a sent piece."""
    if reply.media or split is None:
        return [reply]
    pieces = split(reply.text)
    if len(pieces) == 1:
        return [reply]
    plain = [Reply(text=piece) for piece in pieces[:-1]]
    return [*plain, replace(reply, text=pieces[-1])]


class Engine:
    """The one place where handling, its outbox rows and its inbox mark commit together."""

    def __init__(self, db: Database, dispatcher: Dispatcher, clock: Clock,
                 crash_points: CrashPoints | None = None, flood_guard: FloodGuard | None = None, *,
                 splitters: Mapping[str, TextSplitter], notifier: Notifier | None = None) -> None:
        self.db = db
        self._shared = db.engine is StorageEngine.POSTGRESQL  # other instances may share the inbox
        self.dispatcher = dispatcher
        self.clock = clock
        self.crash_points = crash_points or CrashPoints()
        self.flood_guard = flood_guard or FloodGuard()
        self.splitters = splitters  # channel → its splitter; a channel without one takes any length
        # Work done at the same time (WeChat callbacks stored and handled, a poll's Telegram
        # updates handled) commits together: one flush for all of it.
        self.commits = GroupCommit(db, before_commit=lambda: self.crash_points.reached("engine.before_commit"))
        self.notifier = notifier or Notifier()

    def _after_commit(self, outcome: Outcome, queued: set[str]) -> None:
        """Wake the senders of the channels rows were queued for, the scheduler if announcements changed."""
        if queued:
            self.notifier.outbox_queued(queued)
        if outcome.schedule_changed:
            self.notifier.schedule_changed()

    async def _enqueue(self, conn: Connection, channel: str, chat_id: str, reply: Reply,
                       now: datetime, kind: str, ticket_id: int | None, run_id: int | None = None) -> None:
        for piece in split_reply(reply, self.splitters.get(channel)):
            await outbox.queue(conn, channel, chat_id, piece.to_payload(), now, kind=kind, ticket_id=ticket_id,
                               run_id=run_id)

    async def _write_notifications(self, conn: Connection, outcome: Outcome, now: datetime) -> None:
        await self.write_notifications(conn, outcome.notifications, now)

    async def write_notifications(self, conn: Connection, notifications: list[Notification],
                                  now: datetime) -> None:
        """Queue notifications inside the caller's transaction (handlers and timed jobs alike)."""
        for note in notifications:
            await self._enqueue(conn, note.recipient.channel, note.recipient.chat_id, note.reply, now,
                                note.kind, note.ticket_id, note.run_id)

    async def handle_stored(self, incoming: Incoming, inbox_id: int, *, prepare: Prepare | None = None,
                            replies_to: ReplySink | None = None, stored_payload: str | None = None) -> None:
        """Handle an inbox item: replies, notifications and the done-mark in one commit.

        A crash before the commit leaves the item pending and nothing else written, so
        handling it again after a restart cannot create a second ticket. `prepare` may rewrite
        the Incoming (a numbered choice); `replies_to` takes the replies instead of the outbox
        (WeChat's passive reply). `stored_payload` replaces the raw update with the done-mark
        (what need not be kept once handled).
        """
        now = self.clock.now()
        admission = self.flood_guard.admit(incoming.channel, incoming.user_id, now)

        async def work(conn: Connection) -> tuple[Outcome, set[str]]:
            # Several instances (PostgreSQL) each handle whatever any of them stored: under the
            # write lock, an item another instance handled meanwhile is left alone (once only).
            if self._shared and not await inbox.is_pending(conn, inbox_id):
                return Outcome(), set()
            if admission is not Admission.ALLOW:
                return Outcome(), await self._hold_back(conn, incoming, inbox_id, admission, now, prepare,
                                                        replies_to, stored_payload)
            return await self._handle(conn, incoming, inbox_id, now, prepare, replies_to, stored_payload)

        outcome, queued = await self.commits.run(work)
        self._after_commit(outcome, queued)

    async def _handle(self, conn: Connection, incoming: Incoming, inbox_id: int, now: datetime,
                      prepare: Prepare | None, replies_to: ReplySink | None,
                      stored_payload: str | None) -> tuple[Outcome, set[str]]:
        if prepare is not None:
            incoming = await prepare(conn, incoming, now)
        outcome = await self.dispatcher.handle(conn, incoming, now)
        queued = _channels(outcome.notifications)
        if replies_to is not None:
            sunk = await replies_to(conn, outcome.replies, now)
        else:
            for reply in outcome.replies:
                await self._enqueue(conn, incoming.channel, incoming.chat_id, reply, now, "reply", None)
            sunk = Sunk(bool(outcome.replies))
        if sunk.pushed:
            queued.add(incoming.channel)
        await self._write_notifications(conn, outcome, now)
        await inbox.mark_done(conn, inbox_id, now, sender=incoming.user_id, payload=stored_payload,
                              response=sunk.response)
        return outcome, queued

    async def _hold_back(self, conn: Connection, incoming: Incoming, inbox_id: int,
                         admission: Admission, now: datetime, prepare: Prepare | None,
                         replies_to: ReplySink | None, stored_payload: str | None) -> set[str]:
        """A message over the flood limit: marked done unhandled; the first one gets a notice."""
        # One warning per flood, not one per message: the log must not be floodable either.
        log.log(logging.WARNING if admission is Admission.NOTIFY else logging.DEBUG,
                "flood limit: %s messages from %s are not handled for now", incoming.channel, incoming.user_id)
        notice = [Reply(text=self.dispatcher.services.texts.t("flood_notice"))] \
            if admission is Admission.NOTIFY else []
        if prepare is not None:
            await prepare(conn, incoming, now)  # the channel's bookkeeping (WeChat's window)
        sunk = Sunk(False)
        if notice and replies_to is not None:
            sunk = await replies_to(conn, notice, now)
        elif notice:
            await self.enqueue_in(conn, incoming.channel, incoming.chat_id, notice, now)
            sunk = Sunk(True)
        await inbox.mark_done(conn, inbox_id, now, note="flood-limited", sender=incoming.user_id,
                              payload=stored_payload, response=sunk.response)
        return {incoming.channel} if sunk.pushed else set()

    async def enqueue_in(self, conn: Connection, channel: str, chat_id: str, replies: list[Reply],
                         now: datetime) -> None:
        """Queue replies as pushes inside the caller's transaction."""
        for reply in replies:
            await self._enqueue(conn, channel, chat_id, reply, now, "reply", None)

    async def enqueue_replies(self, channel: str, chat_id: str, replies: list[Reply]) -> None:
        """Replies that could not go back the way they came (WeChat's deadline passed) are pushed."""
        async with self.db.transaction() as conn:
            await self.enqueue_in(conn, channel, chat_id, replies, self.clock.now())
        self.notifier.outbox_queued({channel})

    async def skip_stored(self, inbox_id: int, reason: str = "", *, sender: str = "",
                          payload: str | None = None) -> None:
        """An update the bot does not use (an edit, a service message) is marked skipped, saying
        what it was; `sender` lets a resident's erasure find it."""
        async with self.db.transaction() as conn:
            await inbox.mark_skipped(conn, inbox_id, self.clock.now(), reason, sender, payload)

    async def record_failure(self, inbox_id: int, error: BaseException, *,
                             apologise_to: tuple[str, str] | None = None, sender: str = "",
                             payload: str | None = None) -> bool:
        """Count a failed handling attempt; True when the item was parked for good. A parked
        item's chat (`apologise_to`: channel, chat id) gets the apology once, through the outbox."""
        async with self.db.transaction() as conn:
            parked = await inbox.record_failure(conn, inbox_id, type(error).__name__, self.clock.now(),
                                                sender, payload)
            if parked and apologise_to is not None:
                await self._apology(conn, *apologise_to)
        if parked and apologise_to is not None:
            self.notifier.outbox_queued({apologise_to[0]})
        return parked

    async def park(self, inbox_id: int, reason: str, *, apologise_to: tuple[str, str] | None = None,
                   sender: str = "", payload: str | None = None) -> None:
        """Park an item that can never be handled (it cannot be parsed), apologising once."""
        async with self.db.transaction() as conn:
            await inbox.park(conn, inbox_id, self.clock.now(), reason, sender, payload)
            if apologise_to is not None:
                await self._apology(conn, *apologise_to)
        if apologise_to is not None:
            self.notifier.outbox_queued({apologise_to[0]})

    async def _apology(self, conn: Connection, channel: str, chat_id: str) -> None:
        text = self.dispatcher.services.texts.t("error")
        await self.enqueue_in(conn, channel, chat_id, [Reply(text=text)], self.clock.now())


def _channels(notifications: list[Notification]) -> set[str]:
    return {note.recipient.channel for note in notifications}
