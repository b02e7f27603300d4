"""Issue 13: a photo crossing platforms goes through the outbox like every message. The real
Telegram transport and sender, the real WeChat fetcher, both fakes on 127.0.0.1, the injected
clock: a fetch that keeps failing is retried, then the caption goes with a note and the failed
row keeps why; a file over the receiving platform's limit is not tried again."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass

import aiohttp
import pytest

from bot.channels.telegram.media import TelegramMedia
from bot.channels.telegram.transport import TelegramTransport, build_bot
from bot.channels.wechat.api import WeChatAPI
from bot.channels.wechat.media import WeChatMedia
from bot.media import MB, MediaStore
from bot.ratelimit import ChatRateLimits
from bot.sender import MEDIA_ATTEMPTS, OutboxSender, backoff_seconds
from handlers.types import Reply
from storage import outbox
from storage.clock import FakeClock
from storage.db import Database
from tests.fakes.telegram_api import FakeTelegramAPI
from tests.fakes.wechat_api import MEDIA_GET, FakeWeChatAPI

LEADER = 600001
WORDS = "工单 #1 的照片\n（照片暂时无法转发，可在工作台查看）"


@dataclass
class Relay:
    db: Database
    clock: FakeClock
    sender: OutboxSender

    async def queue(self, reply: Reply) -> None:
        async with self.db.transaction() as conn:
            await outbox.enqueue(conn, "telegram", str(LEADER), reply.to_payload(), self.clock.now(), kind="card",
                                 ticket_id=1)

    async def rows(self) -> list[outbox.OutboxRow]:
        async with self.db.read() as conn:
            return await outbox.rows_for(conn, "telegram", str(LEADER))


@pytest.fixture
async def relay(db: Database, clock: FakeClock, fake: FakeTelegramAPI, wechat_fake: FakeWeChatAPI,
                session: aiohttp.ClientSession) -> AsyncIterator[Relay]:
    bot = build_bot(fake.token, f"{fake.url}/bot", fake.file_url)
    await bot.initialize()
    store = MediaStore()
    store.register("telegram", TelegramMedia(bot))
    api = WeChatAPI(session, db, clock, wechat_fake.url, wechat_fake.app_id, wechat_fake.app_secret)
    store.register("wechat", WeChatMedia(api, session))
    transport = TelegramTransport(bot, (), ChatRateLimits(private_burst=100), store)
    yield Relay(db, clock, OutboxSender(db, clock, transport, asyncio.Event()))
    await bot.shutdown()


async def test_a_fetch_that_keeps_failing_is_retried_then_the_words_go(
        relay: Relay, fake: FakeTelegramAPI, wechat_fake: FakeWeChatAPI) -> None:
    wechat_fake.fail_always(MEDIA_GET, -1)  # WeChat busy, and the photo has no PicUrl
    await relay.queue(Reply(text="工单 #1 的照片", photo="WXPIC-9", media_from="wechat"))
    for attempt in range(1, MEDIA_ATTEMPTS):
        await relay.sender.drain_once()
        [row] = await relay.rows()
        assert (row.status, row.attempts) == ("pending", attempt)
        assert row.last_error == "media: wechat media/get: -1 system error"
        relay.clock.advance(seconds=backoff_seconds(attempt))
    assert fake.messages_to(LEADER) == []
    await relay.sender.drain_once()  # the last try fails too: the words are queued and sent
    await relay.sender.drain_once()
    failed, words = await relay.rows()
    assert (failed.status, failed.attempts) == ("failed", MEDIA_ATTEMPTS)
    assert failed.last_error == "media: wechat media/get: -1 system error"
    assert (words.status, words.kind, words.ticket_id) == ("sent", "card", 1)
    [sent] = fake.messages_to(LEADER)
    assert (sent.method, sent.text) == ("sendMessage", WORDS)


async def test_a_photo_over_telegrams_limit_is_refused_at_once_with_its_reason(
        relay: Relay, fake: FakeTelegramAPI, wechat_fake: FakeWeChatAPI) -> None:
    wechat_fake.add_media("WXPIC-BIG", b"\xff\xd8" + b"x" * (10 * MB), "image/jpeg")
    await relay.queue(Reply(text="工单 #1 的照片", photo="WXPIC-BIG", media_from="wechat"))
    await relay.sender.drain_once()
    await relay.sender.drain_once()
    failed, words = await relay.rows()
    assert (failed.status, failed.attempts) == ("failed", 1)
    assert failed.last_error == "media: 10485762 bytes is over Telegram sendPhoto's limit of 10 MB"
    assert words.status == "sent"
    assert [(m.method, m.text) for m in fake.messages_to(LEADER)] == [("sendMessage", WORDS)]


async def test_a_wechat_recording_reaches_telegram_as_a_document_and_a_photo_as_a_photo(
        relay: Relay, fake: FakeTelegramAPI, wechat_fake: FakeWeChatAPI) -> None:
    """WeChat records AMR, which sendVoice does not play: it goes as a document (still playable)."""
    wechat_fake.add_media("WXVOICE-1", b"#!AMR\nhello", "audio/amr")
    wechat_fake.add_media("WXPIC-1", b"\xff\xd8 jpeg", "image/jpeg")
    await relay.queue(Reply(text="工单 #1 的语音", voice="WXVOICE-1", media_from="wechat"))
    await relay.queue(Reply(text="工单 #1 的照片", photo="WXPIC-1", media_from="wechat"))
    await relay.sender.drain_once()
    assert {r.status for r in await relay.rows()} == {"sent"}
    sent = {m.method: m for m in fake.messages_to(LEADER)}
    assert set(sent) == {"sendDocument", "sendPhoto"}
    assert fake.files[sent["sendDocument"].photo or ""] == b"#!AMR\nhello"
    assert sent["sendDocument"].text == "工单 #1 的语音"
    assert fake.files[sent["sendPhoto"].photo or ""] == b"\xff\xd8 jpeg"
