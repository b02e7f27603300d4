"""WeCom group robots: posting, splitting, error mapping and outbox delivery, against the fake API."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from datetime import timedelta

import aiohttp
import pytest

from bot.channels.wecom import TEXT_LIMIT_BYTES, WeComTransport, split_text
from bot.config_channels import WeComRobot, WeComSettings
from bot.sender import DeliveryStatus, OutboxSender
from handlers.types import Option, Reply
from storage import outbox
from storage.clock import FakeClock, stamp
from storage.db import Database
from storage.outbox import OutboxStatus
from tests.fakes.timer import FakeTimer, settle
from tests.fakes.wechat_api import ROBOT_SEND, FakeWeChatAPI

KEYS = {"g01": "key-g01-SECRET", "g02": "key-g02-SECRET"}
ROBOTS = [WeComRobot(id="g01", name="一网格群", key_env="WECOM_G01_KEY"),
          WeComRobot(id="g02", name="二网格群", key_env="WECOM_G02_KEY"),
          WeComRobot(id="g03", name="三网格群", key_env="WECOM_G03_KEY")]  # no key in KEYS


@pytest.fixture
async def fake() -> AsyncIterator[FakeWeChatAPI]:
    async with FakeWeChatAPI() as api:
        for key in KEYS.values():
            api.add_robot_key(key)
        yield api


def make_transport(session: aiohttp.ClientSession, base_url: str, *, keys: dict[str, str] = KEYS,
                   per_minute: int | None = None, timeout: float = 10.0,
                   timer: FakeTimer | None = None) -> WeComTransport:
    settings = WeComSettings(api_base_url=base_url, robots=ROBOTS)
    # A timer nobody moves unless the test does: a post held by the rate limit waits for the
    # test, never for the wall clock (20 a minute lets 10 go at once, more than any test posts).
    return WeComTransport(session, settings, keys, per_minute=per_minute, timeout=timeout,
                          timer=timer or FakeTimer())


@pytest.fixture
def transport(session: aiohttp.ClientSession, fake: FakeWeChatAPI) -> WeComTransport:
    return make_transport(session, fake.url)


def contents(fake: FakeWeChatAPI, robot: str = "g01") -> list[str]:
    return [m["text"]["content"] for m in fake.robot_messages(KEYS[robot])]


async def test_text_and_link_are_posted_as_one_text_message(
    fake: FakeWeChatAPI, transport: WeComTransport
) -> None:
    reply = Reply(text="明天 8:00-12:00 停水", link="https://example.org/notice/1",
                  options=(Option("我知道了", "ack"),))
    result = await transport.deliver("g01", reply)
    assert result.status is DeliveryStatus.SENT
    assert fake.robot_messages(KEYS["g01"]) == [
        {"msgtype": "text", "text": {"content": "明天 8:00-12:00 停水\nhttps://example.org/notice/1"}}]
    assert fake.robot_messages(KEYS["g02"]) == []


async def test_long_text_arrives_split_without_broken_characters(
    fake: FakeWeChatAPI, transport: WeComTransport
) -> None:
    unbroken = "丰山社区😀" * 500  # 8000 bytes, no line ends: cut between characters
    assert (await transport.deliver("g01", Reply(text=unbroken))).status is DeliveryStatus.SENT
    parts = contents(fake)
    assert len(parts) == 4 and "".join(parts) == unbroken
    assert all(len(p.encode("utf-8")) <= TEXT_LIMIT_BYTES for p in parts)

    lines = "\n".join(f"第{n}条：丰山路{n}号楼道灯已修好" for n in range(200))
    assert (await transport.deliver("g02", Reply(text=lines))).status is DeliveryStatus.SENT
    parts = contents(fake, "g02")
    assert len(parts) > 1 and "\n".join(parts) == lines  # cut at line ends only
    assert all(len(p.encode("utf-8")) <= TEXT_LIMIT_BYTES for p in parts)


def test_split_text_edges() -> None:
    assert split_text("") == [] and split_text("\n \n") == []
    assert split_text("短消息") == ["短消息"]
    exact = "a" * (TEXT_LIMIT_BYTES - 4) + "😀"  # exactly the limit
    assert split_text(exact) == [exact]
    assert split_text(exact + "b") == [exact, "b"]
    assert split_text("a" * (TEXT_LIMIT_BYTES - 1) + "😀") == ["a" * (TEXT_LIMIT_BYTES - 1), "😀"]
    assert split_text("x\r\n" + "y" * TEXT_LIMIT_BYTES, limit=TEXT_LIMIT_BYTES) == ["x", "y" * TEXT_LIMIT_BYTES]


async def test_revoked_key_fails_without_leaking_it(
    fake: FakeWeChatAPI, session: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    async with FakeWeChatAPI() as other:  # knows no keys: every key is "invalid webhook url"
        result = await make_transport(session, other.url).deliver("g01", Reply(text="通知"))
    assert result.status is DeliveryStatus.FAILED
    assert result.error.startswith("93000 invalid webhook url")
    assert KEYS["g01"] not in result.error and KEYS["g01"] not in caplog.text


async def test_frequency_limit_retries_after_a_minute(
    fake: FakeWeChatAPI, transport: WeComTransport
) -> None:
    fake.fail_next(ROBOT_SEND, 45009)
    result = await transport.deliver("g01", Reply(text="通知"))
    assert (result.status, result.retry_after) == (DeliveryStatus.RETRY, 60.0)
    assert "45009" in result.error and contents(fake) == []


async def test_system_busy_and_5xx_retry_with_backoff(
    fake: FakeWeChatAPI, transport: WeComTransport
) -> None:
    fake.fail_next(ROBOT_SEND, -1)
    busy = await transport.deliver("g01", Reply(text="通知"))
    fake.http_error_next(ROBOT_SEND, 502)
    gateway = await transport.deliver("g01", Reply(text="通知"))
    assert (busy.status, busy.retry_after, busy.error) == (DeliveryStatus.RETRY, None, "-1 system busy")
    assert (gateway.status, gateway.retry_after, gateway.error) == (DeliveryStatus.RETRY, None, "HTTP 502")
    assert contents(fake) == []
    assert (await transport.deliver("g01", Reply(text="通知"))).status is DeliveryStatus.SENT


async def test_answer_slower_than_the_timeout_is_uncertain(
    fake: FakeWeChatAPI, session: aiohttp.ClientSession
) -> None:
    transport = make_transport(session, fake.url, timeout=0.2)
    fake.delay_next(ROBOT_SEND, 2.0)
    result = await transport.deliver("g01", Reply(text="可能已发出"))
    assert result.status is DeliveryStatus.UNCERTAIN and "may have been posted" in result.error
    assert contents(fake) == ["可能已发出"]  # it was in fact posted: a resend would duplicate it
    assert KEYS["g01"] not in result.error


async def test_unreachable_server_retries(session: aiohttp.ClientSession) -> None:
    async with FakeWeChatAPI() as gone:
        url = gone.url
    result = await make_transport(session, url).deliver("g01", Reply(text="通知"))
    assert result.status is DeliveryStatus.RETRY and result.error.startswith("network:")
    assert KEYS["g01"] not in result.error


async def test_unknown_robot_or_missing_key_fails_without_a_request(
    fake: FakeWeChatAPI, transport: WeComTransport
) -> None:
    unknown = await transport.deliver("g99", Reply(text="通知"))
    no_key = await transport.deliver("g03", Reply(text="通知"))
    assert (unknown.status, unknown.error) == (DeliveryStatus.FAILED, "unknown WeCom robot 'g99'")
    assert no_key.status is DeliveryStatus.FAILED and "WECOM_G03_KEY" in no_key.error
    assert fake.attempts == []


async def test_a_refused_later_part_makes_the_message_uncertain(
    session: aiohttp.ClientSession
) -> None:
    async with FakeWeChatAPI(robot_per_minute=1) as fake:
        fake.add_robot_key(KEYS["g01"])
        result = await make_transport(session, fake.url).deliver("g01", Reply(text="丰" * 1000))
        assert result.status is DeliveryStatus.UNCERTAIN
        assert result.error.startswith("posted 1 of 2 parts, then retry: 45009")
        assert contents(fake) == ["丰" * 682]


async def test_rate_limit_is_per_robot(fake: FakeWeChatAPI, session: aiohttp.ClientSession) -> None:
    timer = FakeTimer()
    transport = make_transport(session, fake.url, per_minute=4, timer=timer)  # bursts of 2, then 2 more per minute
    for n in range(2):
        assert (await transport.deliver("g01", Reply(text=f"g01-{n}"))).status is DeliveryStatus.SENT
    third = asyncio.create_task(transport.deliver("g01", Reply(text="g01-2")))
    try:
        # g01's bucket is full, g02's is not: g02 goes out while g01's third message waits
        # for the timer, which has not moved.
        assert (await transport.deliver("g02", Reply(text="g02-0"))).status is DeliveryStatus.SENT
        await settle()
        assert timer.sleeping == 1 and not third.done()
        assert contents(fake) == ["g01-0", "g01-1"] and contents(fake, "g02") == ["g02-0"]
        timer.advance(29.9)  # a slot drips back every 30 s
        await settle()
        assert not third.done()
        timer.advance(0.1)
        assert (await asyncio.wait_for(third, timeout=10)).status is DeliveryStatus.SENT
        assert contents(fake) == ["g01-0", "g01-1", "g01-2"]
    finally:
        third.cancel()
    with pytest.raises(ValueError, match="per_minute"):
        make_transport(session, fake.url, per_minute=21)


async def test_outbox_rows_are_delivered_and_retried_through_the_sender(
    fake: FakeWeChatAPI, transport: WeComTransport, db: Database, clock: FakeClock
) -> None:
    sender = OutboxSender(db, clock, transport, asyncio.Event())
    async with db.transaction() as conn:
        await outbox.enqueue(conn, "wecom", "g01", Reply(text="居民报事：3号楼漏水").to_payload(), clock.now())
        await outbox.enqueue(conn, "wecom", "g02", Reply(text="二网格通知").to_payload(), clock.now())
    fake.fail_next(ROBOT_SEND, 45009)  # whichever robot posts first is refused once
    assert await sender.drain_once() == 2
    async with db.read() as conn:
        rows = await outbox.rows_for(conn, "wecom", "g01") + await outbox.rows_for(conn, "wecom", "g02")
        async with conn.execute("SELECT next_attempt_at FROM outbox WHERE status = 'pending'") as cursor:
            [(due,)] = await cursor.fetchall()
    assert sorted(r.status for r in rows) == [OutboxStatus.PENDING, OutboxStatus.SENT]
    [pending] = [r for r in rows if r.status is OutboxStatus.PENDING]
    assert pending.last_error.startswith("45009") and due == stamp(clock.now() + timedelta(seconds=60))

    clock.advance(seconds=59)
    assert await sender.drain_once() == 0  # not due yet
    clock.advance(seconds=1)
    assert await sender.drain_once() == 1
    assert contents(fake) == ["居民报事：3号楼漏水"] and contents(fake, "g02") == ["二网格通知"]
    async with db.read() as conn:
        for robot in ("g01", "g02"):
            [row] = await outbox.rows_for(conn, "wecom", robot)
            assert row.status is OutboxStatus.SENT and row.last_error == ""


async def test_outbox_row_for_a_revoked_key_fails_for_good(
    fake: FakeWeChatAPI, session: aiohttp.ClientSession, db: Database, clock: FakeClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    transport = make_transport(session, fake.url, keys={"g01": "revoked-key"})  # rotated on the platform
    sender = OutboxSender(db, clock, transport, asyncio.Event())
    async with db.transaction() as conn:
        await outbox.enqueue(conn, "wecom", "g01", Reply(text="通知").to_payload(), clock.now())
    assert await sender.drain_once() == 1
    async with db.read() as conn:
        [row] = await outbox.rows_for(conn, "wecom", "g01")
    assert row.status is OutboxStatus.FAILED and row.last_error.startswith("93000")
    assert "revoked-key" not in caplog.text and "revoked-key" not in row.last_error
