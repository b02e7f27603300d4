"""WeChat intake: store each callback once, answer within WeChat's deadline, push what is late."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import Enum

from bot.channels.wechat.messages import WeChatMessage, to_message
from bot.channels.wechat.render import render_texts
from bot.channels.wechat.security import parse_xml
from bot.engine import Engine, Prepare, ReplySink, Sunk
from handlers.formatting import parse_id
from handlers.texts import Texts
from handlers.types import Channel, Incoming, Reply
from storage import inbox
from storage import wechat as state
from storage.db import Database
from storage.engine import Connection

log = logging.getLogger(__name__)

CLAIMED_GRACE = 0.7  # a reply already being committed gets this long past the deadline
RETRY_DELAY = 1.0  # a failed item is tried again (up to inbox.MAX_ATTEMPTS) after this


class Slot(Enum):
    """Where the answer goes; decided exactly once, without awaiting in between."""

    OPEN = "open"
    CLAIMED = "claimed"  # the handler is committing a passive reply
    ANSWERED = "answered"  # the passive reply is ready for the HTTP response
    ABANDONED = "abandoned"  # the deadline passed first: every reply is pushed
    LATE = "late"  # the deadline passed while committing: the passive reply is pushed afterwards


@dataclass
class Job:
    inbox_id: int
    message: WeChatMessage
    slot: Slot = Slot.OPEN
    text: str | None = None
    task: asyncio.Task[None] | None = None  # the handling; done once it is committed (or failed)


class WeChatIntake:
    def __init__(self, db: Database, engine: Engine, texts: Texts, deadline: float,
                 settled: timedelta | None = None) -> None:
        self.db = db
        # Several instances (PostgreSQL): a live callback is handled by the instance it reached
        # (the passive reply goes back on its HTTP answer), so another takes a pending item only
        # once it is `settled` old (the lease's length: its instance died or was stuck that long).
        # Its own failed items this instance retries at once. None (SQLite): every pending item.
        self.settled = settled
        self._retry: set[int] = set()
        self.engine = engine
        self.texts = texts
        self.deadline = deadline
        self._jobs: dict[str, Job] = {}
        self._tasks: set[asyncio.Task] = set()
        self.wake = asyncio.Event()

    async def receive(self, platform_id: str, xml: str, message: WeChatMessage) -> str | None:
        """Store the callback (a retry is recognised) and return the passive reply text, if any."""
        started = asyncio.get_running_loop().time()
        job = self._jobs.get(platform_id)
        if job is None:
            # Stored in the engine's group commit: with the handlings of earlier callbacks, one
            # flush. One statement, so no savepoint of its own, and held: it goes out with the
            # next unit's trip or the COMMIT (bot/group_commit.py, storage/pipeline.py).
            later = await self.engine.commits.run(
                lambda conn: inbox.store_later(conn, Channel.WECHAT, platform_id, xml, self.engine.clock.now()),
                atomic=True)
            item = inbox.stored(later) or await self._stored_before(platform_id)
            job = self._jobs.get(platform_id)  # a concurrent duplicate may have started it meanwhile
            if job is None:
                if item.status != "pending":
                    return item.response or None  # a retry of a handled message: same answer
                job = self._start(platform_id, Job(item.id, message))
        remaining = self.deadline - (asyncio.get_running_loop().time() - started)
        return await self._answer(job, remaining)

    async def _stored_before(self, platform_id: str) -> inbox.StoredItem:
        """A retry WeChat sent of a callback stored earlier: that row, as it is now."""
        async with self.db.read() as conn:
            found = await inbox.by_platform_id(conn, Channel.WECHAT, platform_id)
        assert found is not None, "ignored as a duplicate, so it is there"
        return found

    def _start(self, platform_id: str, job: Job) -> Job:
        self._jobs[platform_id] = job
        job.task = task = asyncio.create_task(self._run(platform_id, job), name=f"wechat-{job.inbox_id}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return job

    async def _answer(self, job: Job, seconds: float) -> str | None:
        # asyncio.wait leaves the handling running when the time is up (no shield, no extra task).
        assert job.task is not None
        await asyncio.wait((job.task,), timeout=max(seconds, 0.0))
        if job.slot is Slot.OPEN:
            job.slot = Slot.ABANDONED
            return self.texts.t("wechat_pushed_later")
        if job.slot is Slot.CLAIMED:
            await asyncio.wait((job.task,), timeout=CLAIMED_GRACE)
            if job.slot is Slot.CLAIMED:
                job.slot = Slot.LATE
                return None
        return job.text if job.slot is Slot.ANSWERED else None

    async def _run(self, platform_id: str, job: Job) -> None:
        try:
            await self._handle(job)
        finally:
            self._jobs.pop(platform_id, None)

    async def _handle(self, job: Job) -> None:
        incoming = job.message.incoming
        if incoming is None:
            await self.engine.skip_stored(job.inbox_id, "event: not used", sender=job.message.openid)
            job.slot = Slot.ANSWERED if job.slot is Slot.OPEN else job.slot  # nothing to say
            return
        try:
            await self.engine.handle_stored(
                incoming, job.inbox_id, prepare=self._prepare(job), replies_to=self._replies_to(job))
        except Exception as exc:
            # The channel's error boundary: context without the message text, one polite answer.
            log.exception("wechat callback %d from %s failed", job.inbox_id, _short(job.message.openid))
            parked = await self.engine.record_failure(job.inbox_id, exc)
            apology = self.texts.t("error" if parked else "wechat_pushed_later")
            if job.slot in (Slot.OPEN, Slot.CLAIMED):
                job.slot, job.text = Slot.ANSWERED, apology
            elif parked:
                await self.engine.enqueue_replies(Channel.WECHAT, job.message.openid, [Reply(apology)])
            if not parked:
                self._retry.add(job.inbox_id)
                asyncio.get_running_loop().call_later(RETRY_DELAY, self.wake.set)
            else:
                self._retry.discard(job.inbox_id)
            return
        self._retry.discard(job.inbox_id)
        if job.slot is Slot.LATE and job.text:
            await self.engine.enqueue_replies(Channel.WECHAT, job.message.openid, [Reply(job.text)])
        elif job.slot in (Slot.OPEN, Slot.CLAIMED):
            job.slot = Slot.ANSWERED

    def _prepare(self, job: Job) -> Prepare:
        message = job.message

        async def prepare(conn: Connection, incoming: Incoming, now: datetime) -> Incoming:
            choices = None
            if message.interaction is not None:
                # The window's write brings the last list back with it: one trip for both.
                choices = await state.record_interaction(conn, message.openid, message.interaction, now)
            return await resolve_choice(conn, incoming, message.menu_item_id, choices)

        return prepare

    def _replies_to(self, job: Job) -> ReplySink:
        openid = job.message.openid

        async def replies_to(conn: Connection, replies: list[Reply], now: datetime) -> Sunk:
            rendered = render_texts([r for r in replies if not r.media], self.texts)
            await state.save_choices(conn, openid, list(rendered.options), now)
            pushes = [Reply(text=piece) for piece in rendered.pieces if piece]
            response = None
            if pushes and job.slot is Slot.OPEN:
                job.slot = Slot.CLAIMED
                job.text = response = pushes.pop(0).text
            pushes += [r for r in replies if r.media]
            await self.engine.enqueue_in(conn, Channel.WECHAT, openid, pushes, now)
            # The passive reply is written with the done-mark, in this same transaction: a retry
            # of this message gets the same answer, and a crash before the commit neither.
            return Sunk(bool(pushes), response)

        return replies_to

    async def process_pending(self, *, leftovers: bool = True) -> int:
        """Items a crash or a failure left pending are handled now; their replies are pushed.
        Several instances: this instance's own failed items, and (`leftovers`) those settled."""
        async with self.db.read() as conn:
            if self.settled is None:
                items = await inbox.pending(conn, Channel.WECHAT)
            else:
                items = [item for item in await inbox.pending(conn, Channel.WECHAT) if item.id in self._retry]
                if leftovers:
                    cutoff = self.engine.clock.now() - self.settled
                    seen = {item.id for item in items}
                    items += [item for item in await inbox.pending_received_by(conn, Channel.WECHAT, cutoff)
                              if item.id not in seen]
                    items.sort(key=lambda item: item.id)
        started = 0
        for item in items:
            if item.platform_id in self._jobs:
                continue
            try:
                message = to_message(item.payload, parse_xml(item.payload))
            except Exception as exc:
                log.exception("wechat inbox item %d cannot be read; parked", item.id)
                await self.engine.park(item.id, f"parse: {type(exc).__name__}")
                continue
            job = self._start(item.platform_id, Job(item.id, message, slot=Slot.ABANDONED))
            assert job.task is not None
            await asyncio.wait((job.task,))
            started += 1
        return started

    async def run(self, stop: asyncio.Event) -> None:
        """Handle what was left pending at start and after failures, until `stop`. Several
        instances: this instance's own failures only (the leftovers are `sweep`'s)."""
        await self._loop(stop, leftovers=self.settled is None, look=None)

    def sweep(self, look: float) -> Callable[[asyncio.Event], Awaitable[None]]:
        """Several instances: settled leftovers of any instance, looked for every `look` seconds
        (run under a lease, so by one instance at a time)."""
        async def loop(stop: asyncio.Event) -> None:
            await self._loop(stop, leftovers=True, look=look)
        return loop

    async def _loop(self, stop: asyncio.Event, *, leftovers: bool, look: float | None) -> None:
        while not stop.is_set():
            self.wake.clear()
            await self.process_pending(leftovers=leftovers)
            waiters = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(self.wake.wait())]
            try:
                await asyncio.wait(waiters, timeout=look, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for waiter in waiters:
                    waiter.cancel()

    async def drain(self) -> None:
        """Wait for handling in flight (at shutdown, so nothing is cut mid-transaction)."""
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)


async def resolve_choice(conn: Connection, incoming: Incoming, menu_item_id: int | None,
                         choices: state.Choices | None = None) -> Incoming:
    """A msgmenu tap or a typed number from the last list becomes the option's button.
    `choices`: the last list if the caller has read it already (None: read it here if needed)."""
    if menu_item_id is not None:
        data = await state.menu_item(conn, incoming.user_id, menu_item_id)
        if data is not None:
            return replace(incoming, button=data, text="")
    text = incoming.text.strip().translate(FULLWIDTH_DIGITS)
    if not text or incoming.button:
        return incoming
    if choices is None:
        choices = await state.last_choices(conn, incoming.user_id)
    number = parse_id(text, max_digits=2)
    if number is not None and 1 <= number <= len(choices):
        return replace(incoming, button=choices[number - 1][1], text="")
    match = next((data for label, data in choices if label == text), None)
    return incoming if match is None else replace(incoming, button=match, text="")


FULLWIDTH_DIGITS = str.maketrans("０１２３４５６７８９", "0123456789")


def _short(openid: str) -> str:
    """Enough of an openid to follow one follower in the logs, not to identify them elsewhere."""
    return f"{openid[:6]}…" if len(openid) > 6 else openid
