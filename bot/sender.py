"""The outbox sender: delivers queued rows per channel, with rate limits, retries and dead letters."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from datetime import timedelta

from bot.delivery import Delivery, DeliveryFeedback, DeliveryStatus, Transport
from bot.delivery import media_failure as media_failure  # the transports' import, kept working
from bot.faults import CrashPoints
from bot.group_commit import GroupCommit
from bot.lease_loop import instance_name
from handlers.texts import ZH, Texts
from handlers.types import Reply
from storage import outbox, outbox_claims
from storage.clock import Clock
from storage.db import Database
from storage.engine import Connection, Engine
from storage.outbox import OutboxRow, OutboxStatus

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 12
MAX_BACKOFF_SECONDS = 300.0
# While the platform cannot be reached at all (the request never left), a row keeps waiting —
# an outage must not turn every queued message into a failure — but not for ever.
UNREACHABLE_PATIENCE = timedelta(hours=24)
BATCH = 50
# Rows on the wire at once per channel: a crash can leave at most this many with an unknown
# outcome, so at most this many duplicates per crash.
CONCURRENCY = 8
# Room each text leaves for the resend marker (written as "marker\ntext"), in UTF-8 bytes — which
# also bounds Telegram's UTF-16 units: long texts are split this much short of the limits.
RESEND_MARKER_ROOM = 64
# Tries to fetch and pass on a photo or recording before the recipient gets the words instead.
MEDIA_ATTEMPTS = 3
# Several instances (PostgreSQL): how long a claim holds a row for its sender, renewed every
# CLAIM_HEARTBEAT while the row is in hand; a claim of an instance that died runs out and the row
# is due again for any sender (a resend if it was on the wire).
CLAIM_LEASE = timedelta(seconds=30)
CLAIM_HEARTBEAT = 10.0
# Several instances: rows queued by another instance wake nobody here (the notifier is in-process),
# so the sender also looks this often (one indexed query; LISTEN/NOTIFY would spare it).
SHARED_POLL = 0.25


def backoff_seconds(attempts: int) -> float:
    return min(2.0 ** max(attempts - 1, 0), MAX_BACKOFF_SECONDS)


def marked(reply: Reply, marker: str) -> Reply:
    """The reply as a resend to a private chat: the marker first, where it is seen (and where
    Telegram's caption limit cannot cut it off)."""
    return replace(reply, text=f"{marker}\n{reply.text}" if reply.text else marker)


class OutboxSender:
    def __init__(self, db: Database, clock: Clock, transport: Transport, wake: asyncio.Event,
                 crash_points: CrashPoints | None = None, feedback: DeliveryFeedback | None = None,
                 texts: Texts | None = None, holder: str = "", claim_lease: timedelta = CLAIM_LEASE,
                 heartbeat: float = CLAIM_HEARTBEAT, lease_db: Database | None = None) -> None:
        self.db = db
        # Claim renewals and take-backs on their own connection (Database.companion), so they
        # never wait behind deliveries' marks and handling on the main one.
        self.lease_db = lease_db or db
        # PostgreSQL: other instances may send from the same outbox, so claims are row-locked
        # and leased (storage/outbox_claims.py); SQLite's one process keeps its simpler path.
        self.shared = db.engine is Engine.POSTGRESQL
        self.holder = holder or instance_name()
        self.claim_lease = claim_lease
        self.heartbeat_seconds = heartbeat
        self.texts = texts or Texts(ZH)
        self.marker = self.texts.t("resend_marker")
        if len(self.marker.encode()) + 1 > RESEND_MARKER_ROOM:
            raise ValueError("the resend marker does not fit the room texts leave for it")
        self.feedback = feedback
        self.crash_points = crash_points or CrashPoints()
        self.clock = clock
        self.transport = transport
        self.wake = wake
        self._slots = asyncio.Semaphore(CONCURRENCY)
        # Concurrent deliveries' small marks commit together, not one flush each.
        self._commits = GroupCommit(db)

    async def recover(self) -> int:
        """At start: rows a crash left mid-send may have arrived or not; they are sent again
        (at least once), unless that was their last try. Returns the rows to resend.

        With several instances only rows whose claim ran out are taken back: the others are in
        the hands of a live sender."""
        if self.shared:
            async with self.lease_db.transaction(exclusive=False) as conn:
                resent, gave_up = await outbox_claims.reclaim_expired(
                    conn, self.transport.channel, self.clock.now(), MAX_ATTEMPTS)
        else:
            async with self.db.transaction() as conn:
                resent, gave_up = await outbox.recover_interrupted(conn, self.transport.channel, MAX_ATTEMPTS)
        if resent or gave_up:
            log.warning("%s outbox: %d row(s) were interrupted mid-send: %d resent now, %d out of tries"
                        " (uncertain)", self.transport.channel, resent + gave_up, resent, gave_up)
        return resent

    async def drain_once(self, stop: asyncio.Event | None = None) -> int:
        """Deliver every row due now (one per chat at a time, in order); returns rows handled.

        A pipeline rather than batches: rows queued meanwhile are claimed as soon as they are
        woken for, so a card never waits for the slowest row of an earlier batch (a message to
        a group at its per-minute limit). Once `stop` is set nothing new is claimed; rows in
        flight finish and are recorded. A row whose outcome could not be recorded is raised only
        once the others are done: cancelling them mid-send would leave them 'sending'."""
        handled = 0
        in_flight: set[asyncio.Task[None]] = set()
        failure: BaseException | None = None
        claim = True
        try:
            while True:
                if claim and not (stop is not None and stop.is_set()) and len(in_flight) < BATCH:
                    self.wake.clear()
                    rows = await self._claim(BATCH - len(in_flight))
                    in_flight |= {asyncio.create_task(self._deliver(row)) for row in rows}
                if not in_flight:
                    if failure is not None:
                        raise failure
                    return handled
                woken = asyncio.ensure_future(self.wake.wait())
                done, _ = await asyncio.wait({*in_flight, woken}, return_when=asyncio.FIRST_COMPLETED)
                woken.cancel()
                finished = done - {woken}
                in_flight -= finished
                handled += len(finished)
                failure = failure or next((t.exception() for t in finished if t.exception()), None)
                # Claim again when rows were queued, or (a finished row's chat may have its next
                # one due) when half the room is free: one claim per finished row would cost a
                # transaction each, every handling waiting behind them, under a fan-out.
                claim = failure is None and (
                    self.wake.is_set() or (bool(finished) and len(in_flight) <= BATCH // 2))
        finally:
            if in_flight:
                for task in in_flight:
                    task.cancel()
                await asyncio.gather(*in_flight, return_exceptions=True)

    async def _claim(self, limit: int) -> list[OutboxRow]:
        now = self.clock.now()
        if self.shared:
            async with self.db.transaction(exclusive=False) as conn:
                return await outbox_claims.claim_shared(conn, self.transport.channel, now, self.holder,
                                                        now + self.claim_lease, limit)
        # The claims' UPDATEs go out with the COMMIT, the BEGIN with the SELECT: two trips.
        async with self.db.held_transaction() as conn:
            return await outbox.claim_due(conn, self.transport.channel, now, limit)

    async def _drop_claims(self) -> None:
        """Several instances: a failed pass leaves rows claimed (or 'sending', outcome unknown) in
        our name, which our heartbeat would keep for ever: they go back now, as after a crash."""
        if not self.shared:
            return
        try:
            async with self.lease_db.transaction(exclusive=False) as conn:
                await outbox_claims.release_claims(conn, self.transport.channel, self.holder, MAX_ATTEMPTS)
        except Exception:  # the heartbeat stops renewing nothing; the claims run out on their own
            log.exception("%s outbox: could not give claims back", self.transport.channel)

    async def heartbeat(self) -> int:
        """Several instances: keep our claims and take back rows whose claim ran out (an instance
        died); returns the rows taken back (due now)."""
        if not self.shared:
            return 0
        async with self.lease_db.transaction(exclusive=False) as conn:
            await outbox_claims.renew_claims(conn, self.transport.channel, self.holder,
                                             self.clock.now() + self.claim_lease)
        taken = await self.recover()
        if taken:
            self.wake.set()
        return taken

    async def _heartbeats(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            await _wait_any(stop, asyncio.Event(), self.heartbeat_seconds)
            if stop.is_set():
                return
            try:
                await self.heartbeat()
            except Exception:  # the next beat tries again; the claims last three beats
                log.exception("%s outbox: claim heartbeat failed", self.transport.channel)

    async def _deliver(self, row: OutboxRow) -> None:
        reply = Reply.from_payload(row.payload)
        if row.resends and not self.transport.is_group(row.chat_id):
            reply = marked(reply, self.marker)  # an earlier try may have arrived: say so
        # The concurrency slot is held until the outcome is recorded, so at most CONCURRENCY
        # rows are ever 'sending': all a crash can make us send twice.
        async with self._slots:
            async with self.transport.slot(row.chat_id):
                # Only now is the row on its way: a crash while it waited for a slot loses nothing.
                await self._commits.run(lambda conn: outbox.mark_sending(conn, row.id), atomic=True)
                try:
                    result = await self.transport.deliver(row.chat_id, reply, kind=row.kind,
                                                          ticket_id=row.ticket_id)
                except Exception as exc:  # a transport bug must not stop the sender or lose the row
                    log.exception("%s outbox row %d: unexpected error", self.transport.channel, row.id)
                    result = Delivery(DeliveryStatus.RETRY, error=f"internal: {type(exc).__name__}")
            if result.status is DeliveryStatus.SENT:
                self.crash_points.reached("sender.after_send")
                self.crash_points.reached(f"sender.after_send.{row.kind}")
            # A sent row's record is one UPDATE (mark_sent): no savepoint needed for it.
            queued = await self._commits.run(lambda conn: self._record(conn, row, result),
                                             atomic=result.status is DeliveryStatus.SENT)
        if queued:
            self.wake.set()  # the words in place of a photo: due now

    async def _record(self, conn: Connection, row: OutboxRow, result: Delivery) -> bool:
        """Record the outcome; True when a row was queued in its place (a photo's fallback)."""
        now = self.clock.now()
        if result.status is DeliveryStatus.SENT:
            await outbox.mark_sent(conn, row.id, result.message_id, now)
            return False
        if result.media_failed and (result.status is DeliveryStatus.FAILED or row.attempts >= MEDIA_ATTEMPTS):
            await self._words_instead(conn, row, result.error)
            return True
        if result.moved_to and row.attempts < MAX_ATTEMPTS:
            await outbox.move_row(conn, row.id, result.moved_to, now, result.error)
            if self.feedback is not None:
                await self.feedback.moved(conn, row, result.moved_to)
            log.info("%s outbox row %d: chat moved; resending to the new id", self.transport.channel, row.id)
            return False
        if result.gone and self.feedback is not None:
            await self.feedback.gone(conn, row, result.error)
        if result.status is DeliveryStatus.RETRY and (
            row.attempts < MAX_ATTEMPTS or (result.unreached and now - row.created_at < UNREACHABLE_PATIENCE)
        ):
            delay = result.retry_after if result.retry_after is not None else backoff_seconds(row.attempts)
            await outbox.mark_retry(conn, row.id, now + timedelta(seconds=delay), result.error)
            log.info("%s outbox row %d: retry in %.1fs (%s)", self.transport.channel, row.id,
                     delay, result.error)
            return False
        if result.status is DeliveryStatus.UNCERTAIN and row.attempts < MAX_ATTEMPTS:
            # A try like any other: repeated after the same back-off, but it may have arrived.
            delay = backoff_seconds(row.attempts)
            await outbox.mark_resend(conn, row.id, now + timedelta(seconds=delay), result.error)
            log.warning("%s outbox row %d (%s): outcome unknown (%s); resend in %.1fs",
                        self.transport.channel, row.id, row.kind, result.error, delay)
            return False
        # Out of tries (or refused): uncertain if any try may have arrived, else failed.
        maybe_arrived = result.status is DeliveryStatus.UNCERTAIN or row.resends > 0
        status = OutboxStatus.UNCERTAIN if maybe_arrived else OutboxStatus.FAILED
        error = result.error if result.status is DeliveryStatus.FAILED else f"gave up: {result.error}"
        await outbox.mark_final(conn, row.id, status, error)
        log.warning("%s outbox row %d (%s): %s — %s", self.transport.channel, row.id, row.kind,
                    status.value, error)
        return False

    async def _words_instead(self, conn: Connection, row: OutboxRow, error: str) -> None:
        """The photo or recording could not be passed on: the row is recorded failed with why,
        and the recipient gets its caption with a note, so the message is never lost."""
        reply = Reply.from_payload(row.payload)
        key = "media_unavailable_photo" if reply.photo else "media_unavailable_voice"
        words = replace(reply, text=f"{reply.text}\n{self.texts.t(key)}".strip(), photo="", voice="",
                        media_from="")
        await outbox.mark_final(conn, row.id, OutboxStatus.FAILED, error)
        await outbox.enqueue(conn, row.channel, row.chat_id, words.to_payload(), self.clock.now(),
                             kind=row.kind, ticket_id=row.ticket_id)
        log.warning("%s outbox row %d (%s): media not passed on (%s); the text goes instead",
                    self.transport.channel, row.id, row.kind, error)

    async def seconds_until_due(self) -> float | None:
        async with self.db.read() as conn:
            due = await outbox.next_due_at(conn, self.transport.channel)
        if due is None:
            return None
        return max((due - self.clock.now()).total_seconds(), 0.0)

    async def run(self, stop: asyncio.Event, idle_poll: float = 30.0) -> None:
        """Deliver until `stop` is set; wakes on new rows and when a retry falls due."""
        if self.shared:
            idle_poll = min(idle_poll, SHARED_POLL)
        await self.recover()
        beats = asyncio.create_task(self._heartbeats(stop)) if self.shared else None
        try:
            await self._run(stop, idle_poll)
        finally:
            if beats is not None:
                beats.cancel()
                await asyncio.gather(beats, return_exceptions=True)

    async def _run(self, stop: asyncio.Event, idle_poll: float) -> None:
        while not stop.is_set():
            self.wake.clear()
            try:
                await self.drain_once(stop)
            except Exception:
                log.exception("%s outbox: drain failed; retrying shortly", self.transport.channel)
                await self._drop_claims()
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
