"""Pushes to WeChat followers through the outbox: the window, templates and each error code."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass

import aiohttp
import pytest

from bot.channels.wechat.api import WeChatAPI
from bot.channels.wechat.transport import WeChatTransport
from bot.config_channels import WeChatSettings
from bot.sender import OutboxSender
from handlers.texts import ZH, Texts
from handlers.types import Option, Reply
from storage import outbox
from storage import wechat as state
from storage.clock import FakeClock
from storage.db import Database
from storage.outbox import OutboxRow
from tests.fakes.wechat_api import CUSTOM_SEND, FakeWeChatAPI

FOLLOWER = "oFollower000000000000000001"
APP_ID = "wx0123456789abcdef"


@dataclass
class Pusher:
    db: Database
    clock: FakeClock
    fake: FakeWeChatAPI
    sender: OutboxSender

    async def push(self, reply: Reply, kind: str = "resident_notice", ticket_id: int | None = 7) -> OutboxRow:
        """Queue one row, let the sender try once, and return the row as stored."""
        async with self.db.transaction() as conn:
            row_id = await outbox.enqueue(conn, "wechat", FOLLOWER, reply.to_payload(), self.clock.now(),
                                          kind=kind, ticket_id=ticket_id)
        await self.sender.drain_once()
        return await self.row(row_id)

    async def row(self, row_id: int) -> OutboxRow:
        async with self.db.read() as conn:
            return next(r for r in await outbox.rows_for(conn, "wechat", FOLLOWER) if r.id == row_id)

    async def follower_wrote(self, tap: bool = False) -> None:
        async with self.db.transaction() as conn:
            kind = state.Interaction.TAP if tap else state.Interaction.MESSAGE
            await state.record_interaction(conn, FOLLOWER, kind, self.clock.now())

    def deliveries(self) -> list[dict]:
        return self.fake.pushes(FOLLOWER)


def make_pusher(db: Database, clock: FakeClock, fake: FakeWeChatAPI, session: aiohttp.ClientSession,
                **settings: object) -> Pusher:
    wechat = WeChatSettings(app_id=APP_ID, api_base_url=fake.url, timeout=1.0, **settings)  # type: ignore[arg-type]
    api = WeChatAPI(session, db, clock, fake.url, APP_ID, fake.app_secret, timeout=1.0)
    transport = WeChatTransport(api, db, clock, wechat, Texts(ZH), "Asia/Shanghai")
    return Pusher(db, clock, fake, OutboxSender(db, clock, transport, asyncio.Event()))


@pytest.fixture
async def fake() -> AsyncIterator[FakeWeChatAPI]:
    async with FakeWeChatAPI() as api:
        yield api


@pytest.fixture
async def pusher(db: Database, clock: FakeClock, fake: FakeWeChatAPI) -> AsyncIterator[Pusher]:
    async with aiohttp.ClientSession() as session:
        yield make_pusher(db, clock, fake, session)


async def test_a_push_in_the_window_is_a_customer_service_message(pusher: Pusher) -> None:
    await pusher.follower_wrote()
    row = await pusher.push(Reply("工单 #7 已办结", options=(Option("满意", "rate:7:satisfied"),)))
    assert row.status == "sent"
    [message] = pusher.deliveries()
    assert message["msgtype"] == "text"
    assert message["text"]["content"] == "工单 #7 已办结\n\n1. 满意\n回复 1 选择"


async def test_window_closed_without_template_is_recorded_and_not_retried(pusher: Pusher) -> None:
    row = await pusher.push(Reply("工单 #7 已受理"))
    assert row.status == "failed" and "no message" in row.last_error and "no template" in row.last_error
    await pusher.follower_wrote()
    pusher.clock.advance(hours=49)
    row = await pusher.push(Reply("工单 #7 已办结"))
    assert row.status == "failed" and "window closed" in row.last_error
    assert pusher.fake.attempts == [] or all(a.call.path != CUSTOM_SEND for a in pusher.fake.attempts)


async def test_five_pushes_per_message_then_the_quota_is_respected(pusher: Pusher) -> None:
    await pusher.follower_wrote()
    rows = [await pusher.push(Reply(f"通知 {n}")) for n in range(6)]
    assert [r.status for r in rows] == ["sent"] * 5 + ["failed"]
    assert "quota" in rows[-1].last_error
    assert len(pusher.deliveries()) == 5
    await pusher.follower_wrote()  # the resident writes again: the window reopens
    assert (await pusher.push(Reply("通知 6"))).status == "sent"


async def test_a_menu_tap_allows_three_pushes_within_a_minute(pusher: Pusher) -> None:
    await pusher.follower_wrote(tap=True)
    rows = [await pusher.push(Reply(f"通知 {n}")) for n in range(4)]
    assert [r.status for r in rows] == ["sent"] * 3 + ["failed"]
    await pusher.follower_wrote(tap=True)
    pusher.clock.advance(seconds=61)
    assert (await pusher.push(Reply("晚了"))).status == "failed"


async def test_template_is_used_when_the_window_is_closed(db: Database, clock: FakeClock,
                                                          fake: FakeWeChatAPI) -> None:
    async with aiohttp.ClientSession() as session:
        pusher = make_pusher(db, clock, fake, session, templates={"resident_notice": "TPL-progress"})
        row = await pusher.push(Reply("工单 #7 已受理\n网格长会尽快处理"), ticket_id=7)
        card = await pusher.push(Reply("新工单 #8"), kind="card", ticket_id=8)
    assert row.status == "sent"
    [template] = fake.templates(FOLLOWER)
    assert template["template_id"] == "TPL-progress"
    assert template["data"]["first"]["value"] == "工单 #7 已受理"
    assert template["data"]["keyword1"]["value"] == "#7"
    assert template["data"]["remark"]["value"] == "网格长会尽快处理"
    assert card.status == "failed" and "no template for card" in card.last_error


@pytest.mark.parametrize("code", [45015, 45047])
async def test_platform_says_window_closed_no_retry_loop(pusher: Pusher, code: int) -> None:
    await pusher.follower_wrote()
    pusher.fake.fail_next(CUSTOM_SEND, code)
    row = await pusher.push(Reply("工单 #7 已受理"))
    assert row.status == "failed" and str(code) in row.last_error
    sends = [a for a in pusher.fake.attempts if a.call.path == CUSTOM_SEND]
    assert len(sends) == 1
    # WeChat is believed until the resident writes again: the next push does not even try.
    assert (await pusher.push(Reply("再试"))).status == "failed"
    assert len([a for a in pusher.fake.attempts if a.call.path == CUSTOM_SEND]) == 1


async def test_system_busy_backs_off_and_then_delivers(pusher: Pusher) -> None:
    await pusher.follower_wrote()
    pusher.fake.fail_next(CUSTOM_SEND, -1)
    row = await pusher.push(Reply("工单 #7 已受理"))
    assert row.status == "pending" and row.attempts == 1 and "-1" in row.last_error
    assert await pusher.sender.drain_once() == 0  # not due yet: a back-off, not a busy loop
    pusher.clock.advance(seconds=2)
    await pusher.sender.drain_once()
    assert (await pusher.row(row.id)).status == "sent"


async def test_daily_quota_waits_for_the_next_day(pusher: Pusher) -> None:
    await pusher.follower_wrote()
    pusher.fake.fail_next(CUSTOM_SEND, 45009)
    row = await pusher.push(Reply("工单 #7 已受理"))
    assert row.status == "pending"
    pusher.clock.advance(hours=1)
    assert await pusher.sender.drain_once() == 0
    pusher.clock.advance(hours=20)  # FakeClock starts 10:00 Beijing time; quota resets at midnight
    assert await pusher.sender.drain_once() == 1


async def test_expired_token_is_refreshed_once(pusher: Pusher) -> None:
    await pusher.follower_wrote()
    assert (await pusher.push(Reply("一"))).status == "sent"
    pusher.fake.expire_tokens()
    assert (await pusher.push(Reply("二"))).status == "sent"
    assert pusher.fake.tokens_issued == 2


async def test_token_rejected_forever_is_bounded(pusher: Pusher) -> None:
    await pusher.follower_wrote()
    pusher.fake.fail_always(CUSTOM_SEND, 40001)
    row = await pusher.push(Reply("一"))
    assert row.status == "pending" and "40001" in row.last_error
    sends = [a for a in pusher.fake.attempts if a.call.path == CUSTOM_SEND]
    assert len(sends) == 2  # the call, one refresh, one retry; then the outbox backs off
    assert pusher.fake.tokens_issued == 2


async def test_the_token_is_shared_through_storage(db: Database, clock: FakeClock, fake: FakeWeChatAPI) -> None:
    async with aiohttp.ClientSession() as session:
        first = WeChatAPI(session, db, clock, fake.url, APP_ID, fake.app_secret)
        second = WeChatAPI(session, db, clock, fake.url, APP_ID, fake.app_secret)
        assert await first.access_token() == await second.access_token()
        clock.advance(seconds=7200 - 200)  # inside the refresh margin: renewed before it expires
        renewed = await second.access_token()
    assert fake.tokens_issued == 2 and renewed


async def test_timeout_is_resent_on_the_next_try_with_the_marker(pusher: Pusher) -> None:
    await pusher.follower_wrote()
    pusher.fake.delay_next(CUSTOM_SEND, 2.0)
    row = await pusher.push(Reply("工单 #7 已受理"))
    assert (row.status, row.attempts) == ("pending", 1) and "TimeoutError" in row.last_error
    pusher.clock.advance(seconds=1)
    await pusher.sender.drain_once()
    assert (await pusher.row(row.id)).status == "sent"
    assert [m["text"]["content"] for m in pusher.deliveries()] == [
        "工单 #7 已受理", "（重发，如已收到请忽略）\n工单 #7 已受理"]


async def test_msgmenu_options_come_back_as_taps(db: Database, clock: FakeClock, fake: FakeWeChatAPI) -> None:
    async with aiohttp.ClientSession() as session:
        pusher = make_pusher(db, clock, fake, session, msgmenu=True)
        await pusher.follower_wrote()
        await pusher.push(Reply("工单 #7 已办结，请评价", options=(
            Option("满意", "rate:7:satisfied"), Option("不满意", "rate:7:unsatisfied"))))
    [message] = fake.pushes(FOLLOWER)
    assert message["msgtype"] == "msgmenu"
    items = message["msgmenu"]["list"]
    assert [i["content"] for i in items] == ["满意", "不满意"]
    async with db.read() as conn:
        assert await state.menu_item(conn, FOLLOWER, int(items[1]["id"])) == "rate:7:unsatisfied"
        assert await state.menu_item(conn, "oSomeoneElse", int(items[1]["id"])) is None


async def test_server_errors_and_unreachable_api_are_retried(pusher: Pusher) -> None:
    await pusher.follower_wrote()
    pusher.fake.http_error_next(CUSTOM_SEND, 502)
    row = await pusher.push(Reply("一"))
    assert row.status == "pending" and "HTTP 502" in row.last_error
    await pusher.fake.stop()
    pusher.clock.advance(seconds=5)
    await pusher.sender.drain_once()
    row = await pusher.row(row.id)
    assert row.status == "pending" and "ClientConnectorError" in row.last_error and row.attempts == 2


async def test_an_unfollowed_resident_is_not_retried(pusher: Pusher) -> None:
    await pusher.follower_wrote()
    pusher.fake.fail_next(CUSTOM_SEND, 43004)
    row = await pusher.push(Reply("一"))
    assert row.status == "failed" and "follower gone" in row.last_error


async def test_an_announcement_outside_the_window_uses_its_template(db: Database, clock: FakeClock,
                                                                     fake: FakeWeChatAPI) -> None:
    async with aiohttp.ClientSession() as session:
        pusher = make_pusher(db, clock, fake, session, templates={"announcement": "TPL-notice"})
        row = await pusher.push(Reply("📢 龙池社区停水通知\n明天 8-12 点"), kind="announcement", ticket_id=None)
    assert row.status == "sent"
    [template] = fake.templates(FOLLOWER)
    assert template["template_id"] == "TPL-notice"
    assert template["data"]["first"]["value"] == "📢 龙池社区停水通知"
