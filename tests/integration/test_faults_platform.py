"""Fault injection on delivery: the fake Bot API (and WeChat API) misbehaves while the outbox works.

The sender (bot/sender.py) and the real Telegram transport (PTB over HTTP) talk to the fake Bot
API on 127.0.0.1; time only moves when the test moves the FakeClock. Each test names the fault
and what the resident, the admins and the outbox table must show afterwards.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import aiohttp
import pytest
from telegram import Bot

from bot.channels.telegram.transport import TelegramTransport, build_bot
from bot.config import Config
from bot.ratelimit import ChatRateLimits
from bot.sender import MAX_ATTEMPTS, MAX_BACKOFF_SECONDS, OutboxSender, backoff_seconds
from handlers.dispatcher import create_invite
from handlers.types import Reply
from storage import outbox
from storage.clock import FakeClock, parse_stamp
from storage.db import Database
from tests.fakes.telegram_api import FakeTelegramAPI
from tests.fakes.wechat_api import CUSTOM_SEND, FakeWeChatAPI
from tests.integration.test_wechat_push import FOLLOWER, Pusher, make_pusher
from tests.telegram_harness import TelegramRun, start_run

RESIDENTS = (1001, 1002, 1003)
CANARY = 4001  # a chat the fault does not touch: its delivery proves the sender ran a full pass
ADMIN = 2901
MENU_TITLES = ("微丰山", "微党建", "微服务")
MARKER = "（重发，如已收到请忽略）"


# ---------------------------------------------------------------- a TCP gate in front of the fake


class Gate:
    """A TCP relay between the bot and the fake Bot API.

    `shut()` stops listening and cuts live connections (the API is unreachable: connection
    refused); `open()` listens again on the same port. With `swallow_answers` set, requests still
    reach the fake but the connection is dropped before the answer comes back.
    """

    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.port = 0
        self.swallow_answers = False
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def open(self) -> None:
        self._server = await asyncio.start_server(self._relay, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def shut(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        self._writers |= {writer, up_writer}

        async def pump(source: asyncio.StreamReader, sink: asyncio.StreamWriter, answers: bool) -> None:
            try:
                while chunk := await source.read(65536):
                    if answers and self.swallow_answers:
                        writer.transport.abort()  # the request went through; its answer never comes
                        up_writer.transport.abort()
                        return
                    sink.write(chunk)
                    await sink.drain()
            except (ConnectionError, OSError):
                pass
            finally:
                sink.transport.abort()

        await asyncio.gather(pump(reader, up_writer, False), pump(up_reader, writer, True))
        self._writers -= {writer, up_writer}


# ---------------------------------------------------------------- the sender alone, stepped by hand


async def stored(db: Database, row_id: int) -> tuple[str, int, str, datetime]:
    """An outbox row's (status, attempts, last_error, next_attempt_at) as stored."""
    async with db.read() as conn, conn.execute(
        "SELECT status, attempts, last_error, next_attempt_at FROM outbox WHERE id = ?", (row_id,)
    ) as cursor:
        found = await cursor.fetchone()
    assert found is not None
    return found[0], found[1], found[2], parse_stamp(found[3])


@dataclass
class Courier:
    """An OutboxSender with the real Telegram transport; `drain()` is one pass of the sender."""

    db: Database
    clock: FakeClock
    fake: FakeTelegramAPI
    sender: OutboxSender

    async def queue(self, chat_id: int, text: str) -> int:
        async with self.db.transaction() as conn:
            return await outbox.enqueue(conn, "telegram", str(chat_id), Reply(text).to_payload(),
                                        self.clock.now())

    async def drain(self) -> int:
        return await self.sender.drain_once()

    async def row(self, row_id: int) -> tuple[str, int, str, datetime]:
        return await stored(self.db, row_id)

    def sends(self, chat_id: int) -> int:
        """sendMessage requests for a chat that reached the fake, answered or not."""
        return len([p for m, p in self.fake.calls if m == "sendMessage" and p.get("chat_id") == chat_id])

    def delivered(self, chat_id: int, text: str) -> int:
        return len([m for m in self.fake.messages_to(chat_id) if m.text == text])


async def open_courier(db: Database, clock: FakeClock, fake: FakeTelegramAPI, base: str,
                       read_timeout: float = 10.0) -> tuple[Courier, Bot]:
    bot = build_bot(fake.token, f"{base}/bot", fake.file_url, read_timeout)
    await bot.initialize()
    transport = TelegramTransport(bot, MENU_TITLES, ChatRateLimits(private_burst=100))
    return Courier(db, clock, fake, OutboxSender(db, clock, transport, asyncio.Event())), bot


@pytest.fixture
async def courier(db: Database, clock: FakeClock, fake: FakeTelegramAPI) -> AsyncIterator[Courier]:
    built, bot = await open_courier(db, clock, fake, fake.url)
    yield built
    await bot.shutdown()


# ---------------------------------------------------------------- the whole bot, running


@pytest.fixture
async def impatient(config: Config, fake: FakeTelegramAPI, clock: FakeClock,
                    tmp_path: Path) -> AsyncIterator[TelegramRun]:
    """The bot with a short read timeout (0.5 s), for answers that come too late."""
    started = await start_run(config, fake, clock, tmp_path / "tg.db", read_timeout=0.5)
    yield started
    await started.close()


def wake(run: TelegramRun) -> None:
    run.app.notifier.outbox_queued()


async def sender_pass(run: TelegramRun, n: int) -> None:
    """Wake the sender and wait until a canary row queued now has been sent: proof of one pass.

    A row due at this moment would have been claimed in the same claim as the canary (or before),
    so after this returns the outbox shows whatever that pass did to it.
    """
    canary = CANARY + n
    mark = len(run.fake.sent)
    run.fake.push_text(canary, "/help")
    await run.reply_to(canary, "使用说明", after=mark)
    await run.rows_when(canary, lambda rows: bool(rows) and rows[-1].status == "sent")


async def next_attempt_at(run: TelegramRun, chat_id: int) -> datetime:
    async with run.app.db.read() as conn, conn.execute(
        "SELECT next_attempt_at FROM outbox WHERE channel = 'telegram' AND chat_id = ?", (str(chat_id),)
    ) as cursor:
        [row] = await cursor.fetchall()
    return parse_stamp(row[0])


def help_sends(run: TelegramRun, chat_id: int) -> int:
    return len([p for m, p in run.fake.calls if m == "sendMessage" and p.get("chat_id") == chat_id])


# ---------------------------------------------------------------- 429


async def test_a_429_storm_is_waited_out_and_each_row_is_sent_once(run: TelegramRun, clock: FakeClock) -> None:
    """Fault: every sendMessage to three residents answers 429 retry_after=5 for three rounds.
    Expected: no retry before retry_after (next_attempt_at = failure time + 5 s), no request while
    the clock stands still however often the sender is woken, then each reply delivered once,
    with attempts = rounds + 1."""
    fake, rounds = run.fake, 3
    for resident in RESIDENTS:
        fake.fail_next("sendMessage", status=429, retry_after=5, times=rounds, chat_id=resident)
        fake.push_text(resident, "/help")
    for number in range(1, rounds + 1):
        for resident in RESIDENTS:
            rows = await run.rows_when(resident, lambda rows, n=number: bool(rows)
                                       and rows[0].attempts == n and rows[0].status == "pending")
            assert rows[0].last_error == "429 flood control"
            assert await next_attempt_at(run, resident) == clock.now() + timedelta(seconds=5)
        assert [help_sends(run, r) for r in RESIDENTS] == [number] * 3
        # The clock stands still: waking the sender over and over sends nothing to the storm chats.
        for _ in range(50):
            wake(run)
            await asyncio.sleep(0)
        await sender_pass(run, number * 10)
        clock.advance(seconds=4)  # retry_after not over yet
        await sender_pass(run, number * 10 + 1)
        assert [help_sends(run, r) for r in RESIDENTS] == [number] * 3
        assert all(not fake.messages_to(r) for r in RESIDENTS)
        clock.advance(seconds=1)
        wake(run)
    for resident in RESIDENTS:
        rows = await run.rows_when(resident, lambda rows: rows[0].status == "sent")
        assert [(r.status, r.attempts) for r in rows] == [("sent", rounds + 1)]
        assert rows[0].platform_message_id
        assert [m.text for m in fake.messages_to(resident)].count(rows[0].payload["text"]) == 1
        assert help_sends(run, resident) == rounds + 1


# ---------------------------------------------------------------- 5xx


async def test_server_errors_back_off_and_deliver_once(courier: Courier, clock: FakeClock) -> None:
    """Fault: sendMessage answers 500, 500, 502, then works.
    Expected: each failure schedules the next try after a back-off that grows, nothing is tried
    before it is due, and the message arrives exactly once."""
    courier.fake.fail_next("sendMessage", status=500, times=2)
    courier.fake.fail_next("sendMessage", status=502)
    row_id = await courier.queue(RESIDENTS[0], "工单 #7 已受理")
    delays = []
    for attempt, status in enumerate(["Internal Server Error", "Internal Server Error", "Bad Gateway"], 1):
        failed_at = clock.now()
        assert await courier.drain() == 1
        state, attempts, error, due = await courier.row(row_id)
        assert (state, attempts) == ("pending", attempt) and status in error
        delays.append((due - failed_at).total_seconds())
        clock.advance(seconds=delays[-1] - 0.5)
        assert await courier.drain() == 0  # not due yet: a back-off, not a busy loop
        clock.advance(seconds=0.5)
    assert delays == sorted(delays) and delays[0] >= 1 and delays[-1] > delays[0]
    assert await courier.drain() == 1
    state, attempts, error, _ = await courier.row(row_id)
    assert (state, attempts, error) == ("sent", 4, "")
    assert courier.delivered(RESIDENTS[0], "工单 #7 已受理") == 1
    assert courier.sends(RESIDENTS[0]) == 4


async def retry_until_final(drain: Callable[[], Awaitable[int]], row: Callable[[], Awaitable[tuple]],
                            clock: FakeClock) -> tuple[tuple, list[float]]:
    """Let the sender try, wait out each back-off, until the row is final; (row, back-offs)."""
    delays: list[float] = []
    for _ in range(MAX_ATTEMPTS * 3):
        failed_at = clock.now()
        assert await drain() == 1
        state = await row()
        if state[0] != "pending":
            return state, delays
        assert await drain() == 0  # between attempts nothing is tried: no busy loop
        delays.append((state[3] - failed_at).total_seconds())
        clock.advance(seconds=delays[-1])
    raise AssertionError(f"still pending after {MAX_ATTEMPTS * 3} attempts: no bound")


async def test_a_server_error_that_never_ends_gives_up_after_bounded_attempts(courier: Courier,
                                                                            clock: FakeClock) -> None:
    """Fault: sendMessage answers 500 forever.
    Expected: a bounded number of tries (about MAX_ATTEMPTS) with growing back-off, then the row is
    `failed` with the reason ("gave up: ..."), and it is never tried again."""
    courier.fake.fail_next("sendMessage", status=500, times=10_000)
    row_id = await courier.queue(RESIDENTS[0], "工单 #7 已受理")
    (state, attempts, error, _), delays = await retry_until_final(
        courier.drain, lambda: courier.row(row_id), clock)
    assert state == "failed" and MAX_ATTEMPTS <= attempts <= MAX_ATTEMPTS + 1
    assert error == "gave up: network: Internal Server Error"
    assert delays == sorted(delays) and max(delays) == MAX_BACKOFF_SECONDS
    clock.advance(days=1)
    assert await courier.drain() == 0
    assert courier.sends(RESIDENTS[0]) == attempts
    assert courier.fake.messages_to(RESIDENTS[0]) == []


async def test_attempts_and_back_off_follow_the_senders_limits(courier: Courier, clock: FakeClock) -> None:
    """Fault: sendMessage answers 500 forever. Expected: exactly MAX_ATTEMPTS tries, the n-th
    failure followed by backoff_seconds(n): 1, 2, 4, 8 ... s, capped at MAX_BACKOFF_SECONDS."""
    courier.fake.fail_next("sendMessage", status=500, times=10_000)
    row_id = await courier.queue(RESIDENTS[0], "工单 #7 已受理")
    (state, attempts, _, _), delays = await retry_until_final(courier.drain, lambda: courier.row(row_id), clock)
    assert (state, attempts) == ("failed", MAX_ATTEMPTS)
    assert delays == [backoff_seconds(n) for n in range(1, MAX_ATTEMPTS)]


# ---------------------------------------------------------------- unreachable


async def test_an_unreachable_api_is_retried_and_nothing_is_lost(gated: Courier, gate: Gate,
                                                                 clock: FakeClock) -> None:
    """Fault: the Bot API is unreachable (connection refused) for three attempts.
    Expected: each attempt is a network failure with back-off, the row stays pending (not lost,
    not dead-lettered), and once the API is back the message arrives exactly once."""
    await gate.shut()
    first = await gated.queue(RESIDENTS[0], "工单 #7 已受理")
    second = await gated.queue(RESIDENTS[0], "工单 #7 已办结")
    for attempt in range(1, 4):
        failed_at = clock.now()
        assert await gated.drain() == 1
        state, attempts, error, due = await gated.row(first)
        assert (state, attempts) == ("pending", attempt) and "ConnectError" in error
        assert due > failed_at
        assert await gated.drain() == 0
        clock.advance(seconds=(due - failed_at).total_seconds())
    assert (await gated.row(second))[:2] == ("pending", 0)  # the chat's order is kept
    assert gated.sends(RESIDENTS[0]) == 0
    await gate.open()
    assert await gated.drain() == 2
    assert [(await gated.row(r))[:2] for r in (first, second)] == [("sent", 4), ("sent", 1)]
    assert [m.text for m in gated.fake.messages_to(RESIDENTS[0])] == ["工单 #7 已受理", "工单 #7 已办结"]


async def test_an_hour_long_outage_loses_nothing(gated: Courier, gate: Gate, clock: FakeClock) -> None:
    """Fault: the Bot API is unreachable for an hour. Expected: the row waits (pending, backing
    off) and is delivered once when the API is back."""
    await gate.shut()
    row_id = await gated.queue(RESIDENTS[0], "工单 #7 已受理")
    outage_ends = clock.now() + timedelta(hours=1)
    while clock.now() < outage_ends:  # the sender tries whenever the row falls due
        await gated.drain()
        due = (await gated.row(row_id))[3]
        clock.advance(seconds=max((due - clock.now()).total_seconds(), 60))
    await gate.open()
    await gated.drain()
    assert (await gated.row(row_id))[0] == "sent"
    assert gated.delivered(RESIDENTS[0], "工单 #7 已受理") == 1


async def test_a_connection_dropped_before_the_answer_is_resent_with_the_marker(
        gated: Courier, gate: Gate, clock: FakeClock) -> None:
    """Fault: the request reaches the Bot API (the message is delivered) but the connection drops
    before the answer. Expected: its outcome is unknown, so it is sent again as the next try,
    after the usual back-off, with the marker 「（重发，如已收到请忽略）」; the resident has it twice."""
    gate.swallow_answers = True
    row_id = await gated.queue(RESIDENTS[0], "工单 #7 已受理")
    await gated.drain()
    assert gated.delivered(RESIDENTS[0], "工单 #7 已受理") == 1  # it did arrive
    state, attempts, error, due = await gated.row(row_id)
    assert (state, attempts) == ("pending", 1) and "may have been delivered" in error
    assert due == clock.now() + timedelta(seconds=backoff_seconds(1))
    gate.swallow_answers = False
    assert await gated.drain() == 0  # not before its back-off
    clock.advance(seconds=backoff_seconds(1))
    assert await gated.drain() == 1
    assert (await gated.row(row_id))[:2] == ("sent", 2)
    assert [m.text for m in gated.fake.messages_to(RESIDENTS[0])] == [
        "工单 #7 已受理", f"{MARKER}\n工单 #7 已受理"]


# ---------------------------------------------------------------- read timeout


async def test_a_read_timeout_is_resent_with_the_marker_and_reported_to_admins(
    impatient: TelegramRun, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    """Fault: the Bot API delivers the message but answers after the bot's read timeout (0.5 s).
    Expected: after one attempt the row waits its back-off (1 s) with a WARNING that it is resent,
    then is sent again with the marker 「（重发，如已收到请忽略）」, so the resident has it twice
    and nothing is lost; 我的工单 lists nothing about it; the Monday digest tells the
    subdistrict admins that 1 message was resent."""
    run, fake = impatient, impatient.fake
    async with run.app.db.transaction() as conn:
        code = await create_invite(conn, "sd-admin-1", clock.now())
    fake.push_text(ADMIN, f"/bind {code}")
    await run.reply_to(ADMIN, "绑定成功")
    caplog.set_level(logging.WARNING, logger="bot.sender")
    resident = RESIDENTS[0]
    fake.delay_next("sendMessage", 2.0)
    fake.push_text(resident, "/help")
    rows = await run.rows_when(resident, lambda rows: bool(rows) and rows[0].attempts == 1
                               and rows[0].status == "pending")
    assert "read timeout" in rows[0].last_error
    assert await next_attempt_at(run, resident) == clock.now() + timedelta(seconds=backoff_seconds(1))
    assert any("resend" in r.getMessage() and r.levelno == logging.WARNING for r in caplog.records)
    clock.advance(seconds=backoff_seconds(1))
    wake(run)
    rows = await run.rows_when(resident, lambda rows: rows[0].status == "sent")
    assert rows[0].attempts == 2
    assert help_sends(run, resident) == 2
    helps = [m.text or "" for m in fake.messages_to(resident) if "使用说明" in (m.text or "")]
    assert len(helps) == 2 and helps[1] == f"{MARKER}\n{helps[0]}"
    clock.advance(hours=1)
    await sender_pass(run, 1)
    assert help_sends(run, resident) == 2
    # Only notices that never arrived are listed to a resident; a resent one is not.
    mark = len(fake.sent)
    fake.push_text(resident, "/mytickets")
    answer = await run.reply_to(resident, "", after=mark)
    assert "您还没有反映过问题" in (answer.text or "") and "未能及时送达" not in (answer.text or "") and "使用说明" not in (answer.text or "")
    # The admins hear about it in the weekly digest (Monday 09:00 Beijing = 01:00 UTC).
    for _ in range(250):
        if run.app.notifier.schedule_watched:
            break
        await asyncio.sleep(0.02)
    clock.advance(hours=94)  # Thursday 11:00 → Monday 09:00, Beijing time
    run.app.notifier.schedule_changed()
    digest = await run.reply_to(ADMIN, "送达异常", after=mark)
    assert "0 条不确定是否送达" in (digest.text or "") and "1 次因送达情况不明而重发" in (digest.text or "")


# ---------------------------------------------------------------- 400 / 403


@pytest.mark.parametrize("status, reason", [
    (400, "400 Chat not found"),  # PTB drops Telegram's "Bad Request: " prefix
    (403, "403 Forbidden: bot was blocked by the user"),
])
async def test_a_refusal_is_dead_lettered_with_the_reason_and_not_retried(
    courier: Courier, clock: FakeClock, status: int, reason: str
) -> None:
    """Fault: sendMessage answers 400 (bad request) or 403 (the resident blocked the bot).
    Expected: the row is `failed` after one attempt with the platform's reason, and is never
    tried again however much time passes; the chat's next row is not held up by it."""
    courier.fake.fail_next("sendMessage", status=status, chat_id=RESIDENTS[0])
    row_id = await courier.queue(RESIDENTS[0], "工单 #7 已受理")
    assert await courier.drain() == 1
    state, attempts, error, _ = await courier.row(row_id)
    assert (state, attempts, error) == ("failed", 1, reason)
    clock.advance(days=2)
    assert await courier.drain() == 0
    assert courier.sends(RESIDENTS[0]) == 1
    later = await courier.queue(RESIDENTS[0], "工单 #7 已办结")
    assert await courier.drain() == 1
    assert (await courier.row(later))[0] == "sent"
    assert [m.text for m in courier.fake.messages_to(RESIDENTS[0])] == ["工单 #7 已办结"]


# ---------------------------------------------------------------- WeChat (what tests/test_wechat_push.py lacks)


@pytest.fixture
async def pusher(db: Database, clock: FakeClock) -> AsyncIterator[Pusher]:
    async with FakeWeChatAPI() as wechat, aiohttp.ClientSession() as session:
        built = make_pusher(db, clock, wechat, session)
        await built.follower_wrote()
        yield built


def custom_sends(pusher: Pusher) -> int:
    return len([a for a in pusher.fake.attempts if a.call.path == CUSTOM_SEND])


async def test_wechat_40001_once_is_refreshed_and_delivered(pusher: Pusher) -> None:
    """Fault: WeChat answers 40001 (token invalid, e.g. fetched elsewhere) to one send.
    Expected: one token refresh, one retry in the same attempt, the follower gets it once."""
    assert (await pusher.push(Reply("一"))).status == "sent"
    pusher.fake.fail_next(CUSTOM_SEND, 40001)
    row = await pusher.push(Reply("二"))
    assert (row.status, row.attempts) == ("sent", 1)
    assert pusher.fake.tokens_issued == 2
    assert [m["text"]["content"] for m in pusher.deliveries()] == ["一", "二"]
    assert custom_sends(pusher) == 3


async def queue_wechat(pusher: Pusher, text: str) -> int:
    async with pusher.db.transaction() as conn:
        return await outbox.enqueue(conn, "wechat", FOLLOWER, Reply(text).to_payload(), pusher.clock.now(),
                                    kind="resident_notice", ticket_id=7)


async def test_wechat_40001_forever_ends_failed_without_a_loop(pusher: Pusher) -> None:
    """Fault: every send answers 40001, refresh or not (the follower keeps writing, so the 48 h
    window's quota is not what stops it). Expected: per attempt one refresh and one retry (never
    more), back-off between attempts, and after a bounded number of attempts the row is `failed`
    ("gave up: WeChat 40001"); nothing delivered and no further calls."""
    pusher.fake.fail_always(CUSTOM_SEND, 40001)
    row_id = await queue_wechat(pusher, "一")
    (state, attempts, error, _), delays = await retry_until_final(
        lambda: writes_then_drain(pusher), lambda: stored(pusher.db, row_id), pusher.clock)
    assert state == "failed" and MAX_ATTEMPTS <= attempts <= MAX_ATTEMPTS + 1
    assert error.startswith("gave up: WeChat 40001")
    assert delays == sorted(delays) and delays[0] >= 1
    assert custom_sends(pusher) == 2 * attempts
    assert pusher.fake.tokens_issued == attempts + 1
    pusher.clock.advance(days=1)
    assert await pusher.sender.drain_once() == 0
    assert custom_sends(pusher) == 2 * attempts and pusher.deliveries() == []


async def test_wechat_system_busy_forever_is_bounded(pusher: Pusher) -> None:
    """Fault: every send answers -1 (system busy); the follower keeps writing. Expected: back-off
    between attempts, one call per attempt, `failed` after a bounded number of attempts with the
    reason; nothing delivered."""
    pusher.fake.fail_always(CUSTOM_SEND, -1)
    row_id = await queue_wechat(pusher, "一")
    (state, attempts, error, _), _ = await retry_until_final(
        lambda: writes_then_drain(pusher), lambda: stored(pusher.db, row_id), pusher.clock)
    assert state == "failed" and MAX_ATTEMPTS <= attempts <= MAX_ATTEMPTS + 1
    assert error == "gave up: WeChat -1 system error"
    assert custom_sends(pusher) == attempts and pusher.deliveries() == []


async def test_wechat_failed_attempts_do_not_use_up_the_window(pusher: Pusher) -> None:
    """Fault: WeChat answers -1 (system busy) five times, then works; the follower wrote once.
    Expected: the notice is delivered on the 6th attempt: failed calls are not pushes."""
    pusher.fake.fail_next(CUSTOM_SEND, -1, times=5)
    row_id = await queue_wechat(pusher, "工单 #7 已受理")
    (state, attempts, _, _), _ = await retry_until_final(
        pusher.sender.drain_once, lambda: stored(pusher.db, row_id), pusher.clock)
    assert (state, attempts) == ("sent", 6)
    assert [m["text"]["content"] for m in pusher.deliveries()] == ["工单 #7 已受理"]


async def writes_then_drain(pusher: Pusher) -> int:
    await pusher.follower_wrote()
    return await pusher.sender.drain_once()


# ---------------------------------------------------------------- the token (sends are raw API calls)


async def test_a_token_rejected_mid_run_is_retried_not_dead_lettered(courier: Courier, clock: FakeClock) -> None:
    """Fault: sendMessage answers 401 (the token was revoked and is being replaced).
    Expected: the row waits (retried in 5 minutes), it is not failed; once the API takes the
    token again it is delivered once, with Telegram's message id recorded."""
    courier.fake.fail_next("sendMessage", status=401, description="Unauthorized")
    row_id = await courier.queue(RESIDENTS[0], "工单 #7 已受理")
    failed_at = clock.now()
    assert await courier.drain() == 1
    state, attempts, error, due = await courier.row(row_id)
    assert (state, attempts, error, due) == ("pending", 1, "token rejected", failed_at + timedelta(seconds=300))
    clock.advance(seconds=300)
    assert await courier.drain() == 1
    assert (await courier.row(row_id))[0] == "sent"
    [message] = courier.fake.messages_to(RESIDENTS[0])
    async with courier.db.read() as conn, conn.execute(
            "SELECT platform_message_id FROM outbox WHERE id = ?", (row_id,)) as cursor:
        assert tuple(await cursor.fetchone()) == (str(message.message_id),)
