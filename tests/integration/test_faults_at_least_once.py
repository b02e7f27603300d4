"""At least once: a send whose outcome is unknown is sent again as the next try.

An unknown outcome is a read timeout (the platform got the request and answered too late), or a
connection dropped after the request went out. Each fault below really delivers the message, so
the recipient sees it again: a private chat with the marker 「（重发，如已收到请忽略）」 in front,
a group post as it is. The retry rules stay: MAX_ATTEMPTS tries with back-off 1, 2, 4 s…; a
platform whose answer never comes is given up on after them, recorded as uncertain.
Telegram (PTB over HTTP to the fake Bot API), WeChat pushes and WeCom robots (the fake WeChat
API), each through the real OutboxSender; time moves only with the FakeClock.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from datetime import timedelta

import aiohttp
import pytest

from bot.channels.splitters import split_for_channel
from bot.channels.wechat.api import WeChatAPI
from bot.channels.wechat.transport import WeChatTransport
from bot.config_channels import WeChatSettings
from bot.sender import MAX_ATTEMPTS, OutboxSender, backoff_seconds
from handlers.texts import ZH, Texts
from handlers.types import Reply
from storage import outbox
from storage import wechat as window
from storage.clock import FakeClock
from storage.db import Database
from tests.fakes.telegram_api import FakeTelegramAPI
from tests.fakes.wechat_api import CUSTOM_SEND, ROBOT_SEND, FakeWeChatAPI
from tests.integration.test_faults_platform import (
    RESIDENTS,
    Courier,
    Gate,
    open_courier,
    retry_until_final,
    stored,
)
from tests.integration.test_wechat_push import APP_ID, FOLLOWER
from tests.integration.test_wecom import KEYS, contents, make_transport

MARKER = "（重发，如已收到请忽略）"
GROUP = -100500


async def resends(db: Database, row_id: int) -> int:
    async with db.read() as conn, conn.execute("SELECT resends FROM outbox WHERE id = ?", (row_id,)) as cursor:
        found = await cursor.fetchone()
    assert found is not None
    return int(found[0])


def texts_to(fake: FakeTelegramAPI, chat_id: int) -> list[str | None]:
    return [m.text for m in fake.messages_to(chat_id)]


# ---------------------------------------------------------------- Telegram


@pytest.fixture
async def impatient_courier(db: Database, clock: FakeClock, fake: FakeTelegramAPI) -> AsyncIterator[Courier]:
    """The sender with a 0.2 s read timeout: an answer held longer is an unknown outcome."""
    built, bot = await open_courier(db, clock, fake, fake.url, read_timeout=0.2)
    yield built
    await bot.shutdown()


async def test_telegram_read_timeout_in_a_group_is_resent_as_it_is(impatient_courier: Courier,
                                                                   clock: FakeClock) -> None:
    """Fault: the Bot API posts to a group but answers after the read timeout. Expected: the
    next try (after the 1 s back-off) posts it again without any marker; the row is sent after
    2 attempts with one resend counted."""
    courier = impatient_courier
    courier.fake.delay_next("sendMessage", 1.0)
    row_id = await courier.queue(GROUP, "📢 明天 8-12 点停水")
    assert await courier.drain() == 1
    state, attempts, error, due = await courier.row(row_id)
    assert (state, attempts) == ("pending", 1) and "read timeout" in error
    assert due == clock.now() + timedelta(seconds=backoff_seconds(1))
    assert await courier.drain() == 0  # not before its back-off
    clock.advance(seconds=backoff_seconds(1))
    assert await courier.drain() == 1
    assert (await courier.row(row_id))[:2] == ("sent", 2) and await resends(courier.db, row_id) == 1
    assert texts_to(courier.fake, GROUP) == ["📢 明天 8-12 点停水", "📢 明天 8-12 点停水"]


async def test_a_platform_that_always_answers_too_late_is_bounded_and_recorded(
    impatient_courier: Courier, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    """Fault: every sendMessage is delivered but answered after the read timeout, for ever.
    Expected: exactly MAX_ATTEMPTS tries with back-off 1, 2, 4 s…; then the row is `uncertain`
    ("gave up: read timeout …") with a WARNING, and is never tried again; the copies the resident
    got are bounded by MAX_ATTEMPTS, every one after the first with the marker; the weekly
    digest's counts see the row and its resends."""
    courier = impatient_courier
    caplog.set_level(logging.WARNING, logger="bot.sender")
    courier.fake.delay_next("sendMessage", 0.5, times=10_000)
    row_id = await courier.queue(RESIDENTS[0], "工单 #7 已受理")
    (state, attempts, error, _), delays = await retry_until_final(
        courier.drain, lambda: courier.row(row_id), clock)
    assert (state, attempts) == ("uncertain", MAX_ATTEMPTS)
    assert error.startswith("gave up: read timeout")
    assert delays == [backoff_seconds(n) for n in range(1, MAX_ATTEMPTS)]
    assert await resends(courier.db, row_id) == MAX_ATTEMPTS - 1
    assert any("gave up" in r.getMessage() and r.levelno == logging.WARNING for r in caplog.records)
    clock.advance(days=1)
    assert await courier.drain() == 0
    assert texts_to(courier.fake, RESIDENTS[0]) == (
        ["工单 #7 已受理"] + [f"{MARKER}\n工单 #7 已受理"] * (MAX_ATTEMPTS - 1))
    async with courier.db.read() as conn:
        problems = await outbox.delivery_problems(conn, clock.now() - timedelta(days=2))
    assert (problems.get("uncertain"), problems.get("resent")) == (1, MAX_ATTEMPTS - 1)


async def test_a_resent_piece_of_a_long_text_still_fits_telegrams_limit(impatient_courier: Courier,
                                                                        clock: FakeClock) -> None:
    """Fault: the first piece of a 6000-character reply times out. Expected: its resend, marker
    included, is within Telegram's 4096 characters (the fake answers 400 beyond), so both pieces
    arrive; nothing is cut."""
    courier, long_text = impatient_courier, "\n".join(f"第{n}行：楼道灯已修好" for n in range(600))
    async with courier.db.transaction() as conn:
        ids = [await outbox.enqueue(conn, "telegram", str(RESIDENTS[0]), piece.to_payload(), clock.now())
               for piece in split_for_channel("telegram", Reply(long_text))]
    assert len(ids) == 2
    courier.fake.delay_next("sendMessage", 1.0)
    await courier.drain()
    clock.advance(seconds=1)
    for _ in range(3):
        await courier.drain()
    assert [(await courier.row(i))[0] for i in ids] == ["sent", "sent"]
    first, again, second = texts_to(courier.fake, RESIDENTS[0])
    assert again == f"{MARKER}\n{first}" and len(again or "") <= 4096
    assert f"{first}\n{second}" == long_text


async def test_telegram_connection_dropped_in_a_group_is_resent_as_it_is(gated: Courier, gate: Gate,
                                                                          clock: FakeClock) -> None:
    """Fault: the post reaches the group, the connection drops before the answer. Expected: posted
    again on the next try, no marker (a group post goes as it is)."""
    gate.swallow_answers = True
    row_id = await gated.queue(GROUP, "📢 停水通知")
    await gated.drain()
    gate.swallow_answers = False
    clock.advance(seconds=backoff_seconds(1))
    await gated.drain()
    assert (await gated.row(row_id))[:2] == ("sent", 2) and await resends(gated.db, row_id) == 1
    assert texts_to(gated.fake, GROUP) == ["📢 停水通知", "📢 停水通知"]


# ---------------------------------------------------------------- WeChat pushes


def wechat_sender(db: Database, clock: FakeClock, session: aiohttp.ClientSession, base_url: str,
                  app_secret: str) -> tuple[OutboxSender, WeChatAPI]:
    settings = WeChatSettings(app_id=APP_ID, api_base_url=base_url, timeout=1.0)
    api = WeChatAPI(session, db, clock, base_url, APP_ID, app_secret, timeout=1.0)
    transport = WeChatTransport(api, db, clock, settings, Texts(ZH), "Asia/Shanghai")
    return OutboxSender(db, clock, transport, asyncio.Event()), api


async def queue_push(db: Database, clock: FakeClock, text: str) -> int:
    async with db.transaction() as conn:
        return await outbox.enqueue(conn, "wechat", FOLLOWER, Reply(text).to_payload(), clock.now(),
                                    kind="resident_notice", ticket_id=7)


async def follower_wrote(db: Database, clock: FakeClock) -> None:
    async with db.transaction() as conn:
        await window.record_interaction(conn, FOLLOWER, window.Interaction.MESSAGE, clock.now())


def pushed(fake: FakeWeChatAPI) -> list[str]:
    return [m["text"]["content"] for m in fake.pushes(FOLLOWER)]


async def test_wechat_timeout_is_resent_with_the_marker_and_uses_a_window_slot(
    db: Database, clock: FakeClock, wechat_fake: FakeWeChatAPI, session: aiohttp.ClientSession
) -> None:
    """Fault: WeChat delivers a push but answers after the 1 s timeout. Expected: the next try
    pushes it again with the marker; both count against the follower's window (5 pushes after a
    message), so only three more pushes fit before the window is used up."""
    sender, _ = wechat_sender(db, clock, session, wechat_fake.url, wechat_fake.app_secret)
    await follower_wrote(db, clock)
    wechat_fake.delay_next(CUSTOM_SEND, 2.0)
    row_id = await queue_push(db, clock, "工单 #7 已受理")
    await sender.drain_once()
    assert (await stored(db, row_id))[:2] == ("pending", 1)
    clock.advance(seconds=backoff_seconds(1))
    await sender.drain_once()
    assert (await stored(db, row_id))[:2] == ("sent", 2) and await resends(db, row_id) == 1
    assert pushed(wechat_fake) == ["工单 #7 已受理", f"{MARKER}\n工单 #7 已受理"]
    later = [await queue_push(db, clock, f"通知 {n}") for n in range(4)]
    for _ in later:
        await sender.drain_once()
    assert [(await stored(db, r))[0] for r in later] == ["sent", "sent", "sent", "failed"]
    assert "quota" in (await stored(db, later[-1]))[2]


@pytest.fixture
async def wechat_gate(wechat_fake: FakeWeChatAPI) -> AsyncIterator[Gate]:
    relay = Gate(int(wechat_fake.url.rsplit(":", 1)[1]))
    await relay.open()
    yield relay
    await relay.shut()


async def test_wechat_connection_dropped_after_the_push_is_resent_with_the_marker(
    db: Database, clock: FakeClock, wechat_fake: FakeWeChatAPI, wechat_gate: Gate,
    session: aiohttp.ClientSession,
) -> None:
    """Fault: the push reaches WeChat, the connection drops before the answer. Expected: pushed
    again on the next try, with the marker; the row ends sent with one resend."""
    sender, api = wechat_sender(db, clock, session, wechat_gate.url, wechat_fake.app_secret)
    await api.access_token()  # the token call is not what this fault is about
    await follower_wrote(db, clock)
    wechat_gate.swallow_answers = True
    row_id = await queue_push(db, clock, "工单 #7 已办结")
    await sender.drain_once()
    wechat_gate.swallow_answers = False
    assert pushed(wechat_fake) == ["工单 #7 已办结"]
    assert (await stored(db, row_id))[0] == "pending"
    clock.advance(seconds=backoff_seconds(1))
    await sender.drain_once()
    assert (await stored(db, row_id))[:2] == ("sent", 2) and await resends(db, row_id) == 1
    assert pushed(wechat_fake) == ["工单 #7 已办结", f"{MARKER}\n工单 #7 已办结"]


# ---------------------------------------------------------------- WeCom robots


@pytest.fixture
async def robots() -> AsyncIterator[FakeWeChatAPI]:
    async with FakeWeChatAPI() as api:
        for key in KEYS.values():
            api.add_robot_key(key)
        yield api


async def queue_robot(db: Database, clock: FakeClock, text: str) -> int:
    async with db.transaction() as conn:
        return await outbox.enqueue(conn, "wecom", "g01", Reply(text).to_payload(), clock.now(),
                                    kind="announcement")


async def test_wecom_read_timeout_is_resent_as_it_is(db: Database, clock: FakeClock, robots: FakeWeChatAPI,
                                                    session: aiohttp.ClientSession) -> None:
    """Fault: the robot posts to its group but answers after the 0.2 s read timeout. Expected: the
    next try posts it again, no marker; sent after 2 attempts, one resend counted."""
    sender = OutboxSender(db, clock, make_transport(session, robots.url, timeout=0.2), asyncio.Event())
    robots.delay_next(ROBOT_SEND, 1.0)
    row_id = await queue_robot(db, clock, "📢 周六上午义诊")
    await sender.drain_once()
    assert (await stored(db, row_id))[:2] == ("pending", 1)
    clock.advance(seconds=backoff_seconds(1))
    await sender.drain_once()
    assert (await stored(db, row_id))[:2] == ("sent", 2) and await resends(db, row_id) == 1
    assert contents(robots) == ["📢 周六上午义诊", "📢 周六上午义诊"]


async def test_wecom_connection_dropped_after_the_post_is_resent_as_it_is(
    db: Database, clock: FakeClock, robots: FakeWeChatAPI, session: aiohttp.ClientSession
) -> None:
    """Fault: the post reaches the robot, the connection drops before the answer. Expected: an
    unknown outcome (counted as a resend), posted again on the next try without a marker."""
    relay = Gate(int(robots.url.rsplit(":", 1)[1]))
    await relay.open()
    try:
        sender = OutboxSender(db, clock, make_transport(session, relay.url), asyncio.Event())
        relay.swallow_answers = True
        row_id = await queue_robot(db, clock, "📢 停电通知")
        await sender.drain_once()
        relay.swallow_answers = False
        clock.advance(seconds=backoff_seconds(1))
        await sender.drain_once()
    finally:
        await relay.shut()
    assert (await stored(db, row_id))[:2] == ("sent", 2) and await resends(db, row_id) == 1
    assert contents(robots) == ["📢 停电通知", "📢 停电通知"]


async def test_wecom_unreachable_is_waited_out_like_the_other_platforms(
    db: Database, clock: FakeClock, session: aiohttp.ClientSession
) -> None:
    """Fault: the robot API refuses connections, and the row has already used its MAX_ATTEMPTS
    tries on it. Expected: the post keeps waiting (pending, backing off) as on Telegram and
    WeChat, until it is 24 h old; then it is given up on."""
    async with FakeWeChatAPI() as gone:
        url = gone.url
    sender = OutboxSender(db, clock, make_transport(session, url), asyncio.Event())
    row_id = await queue_robot(db, clock, "📢 停水通知")
    async with db.transaction() as conn:  # the earlier tries, each refused the same way
        await conn.execute("UPDATE outbox SET attempts = ? WHERE id = ?", (MAX_ATTEMPTS, row_id))
    assert await sender.drain_once() == 1
    state, attempts, error, due = await stored(db, row_id)
    assert (state, attempts) == ("pending", MAX_ATTEMPTS + 1) and error.startswith("network:")
    clock.advance(hours=25)
    assert await sender.drain_once() == 1
    state, _, error, _ = await stored(db, row_id)
    assert state == "failed" and error.startswith("gave up: network:")
