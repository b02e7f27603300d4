"""Telegram webhook mode: real aiohttp server, secret checked, 200 only after the commit."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest

from bot.app import App
from bot.bootstrap import build_app
from bot.config import Config
from bot.config_channels import HttpSettings, TelegramSettings
from bot.http_server import HttpServer
from bot.ratelimit import ChatRateLimits
from bot.run_channels import run_channels
from bot.settings import Settings
from storage.clock import FakeClock
from tests.chat import query
from tests.fakes.telegram_api import FakeTelegramAPI
from tests.telegram_harness import config_for

SECRET = "webhook-secret_0123456789"
PUBLIC_URL = "https://bot.example.org/telegram/webhook"
RESIDENT = 1001


def user(user_id: int) -> dict:
    return {"id": user_id, "is_bot": False, "first_name": "居民"}


def text_update(update_id: int, user_id: int, text: str) -> dict:
    message = {"message_id": update_id, "date": 1764100000, "from": user(user_id),
               "chat": {"id": user_id, "type": "private", "first_name": "居民"}, "text": text}
    if text.startswith("/"):
        message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
    return {"update_id": update_id, "message": message}


def press_update(update_id: int, user_id: int, data: str) -> dict:
    message = {"message_id": 1, "date": 1764100000, "text": "…",
               "chat": {"id": user_id, "type": "private", "first_name": "居民"}}
    return {"update_id": update_id, "callback_query": {
        "id": f"cq{update_id}", "from": user(user_id), "chat_instance": "1", "data": data,
        "message": message}}


@dataclass
class WebhookRun:
    fake: FakeTelegramAPI
    app: App
    server: HttpServer
    session: aiohttp.ClientSession

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.port}/telegram/webhook"

    async def post(self, update: object, secret: str | None = SECRET, raw: bytes | None = None) -> int:
        headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret is not None else {}
        if raw is not None:
            async with self.session.post(self.url, data=raw, headers=headers) as response:
                return response.status
        async with self.session.post(self.url, json=update, headers=headers) as response:
            return response.status


@pytest.fixture
async def hook(config: Config, clock: FakeClock, tmp_path: Path) -> AsyncIterator[WebhookRun]:
    async with FakeTelegramAPI() as fake, aiohttp.ClientSession() as session:
        base = config_for(config, fake)
        telegram = TelegramSettings.model_validate(
            {**base.telegram.model_dump(), "mode": "webhook", "webhook_public_url": PUBLIC_URL})
        webhook_config = base.model_copy(update={"telegram": telegram})
        app = await build_app(webhook_config, clock, tmp_path / "hook.db")
        server = HttpServer(HttpSettings(host="127.0.0.1", port=0))
        stop = asyncio.Event()
        settings = Settings(telegram_token=fake.token, telegram_webhook_secret=SECRET)
        task = asyncio.create_task(run_channels(app, settings, stop, ChatRateLimits(private_burst=100), server))
        await fake.wait_for_call("setWebhook")
        yield WebhookRun(fake, app, server, session)
        stop.set()
        await asyncio.wait_for(task, timeout=10)
        await app.close()


async def test_webhook_is_registered_with_the_secret(hook: WebhookRun) -> None:
    params = await hook.fake.wait_for_call("setWebhook")
    assert params["url"] == PUBLIC_URL and params["secret_token"] == SECRET
    async with hook.session.get(f"http://127.0.0.1:{hook.server.port}/healthz") as response:
        body = await response.json()
    assert response.status == 200 and body["status"] == "ok"
    assert {name: h["state"] for name, h in body["channels"].items()} == {
        "telegram-intake": "running", "telegram-sender": "running"}


async def test_wrong_or_missing_secret_and_bad_bodies_store_nothing(hook: WebhookRun) -> None:
    update = text_update(1, RESIDENT, "/start")
    assert await hook.post(update, secret="wrong-secret_0123456789") == 401
    assert await hook.post(update, secret=None) == 401
    assert await hook.post(None, raw=b"{not json") == 400
    assert await hook.post({"message": {}}) == 400
    assert await hook.post(None, raw=b"{" + b" " * (300 * 1024) + b"}") == 413
    assert await query(hook.app, "SELECT COUNT(*) FROM inbox") == [(0,)]
    assert hook.fake.messages_to(RESIDENT) == []


async def test_a_retried_update_is_handled_once(hook: WebhookRun) -> None:
    update = text_update(7, RESIDENT, "/help")
    statuses = await asyncio.gather(*(hook.post(update) for _ in range(4)))
    assert statuses == [200, 200, 200, 200]
    await hook.fake.wait_for(lambda m: m.chat_id == RESIDENT and "使用说明" in (m.text or ""))
    assert await query(hook.app, "SELECT platform_id FROM inbox") == [("7",)]
    # 200 was answered after the commit: the row is there even before handling finished.
    assert len([m for m in hook.fake.messages_to(RESIDENT) if "使用说明" in (m.text or "")]) == 1


async def test_report_through_the_webhook_creates_one_ticket(hook: WebhookRun) -> None:
    steps = [text_update(10, RESIDENT, "/report"), press_update(11, RESIDENT, "r:cat:repair"),
             text_update(12, RESIDENT, "楼道灯坏了很久了"), text_update(13, RESIDENT, "龙池花园3栋")]
    for update in steps:
        assert await hook.post(update) == 200
    # An exact address is taken without 「您说的是哪一个」 (issue 13): the flat is asked next.
    await hook.fake.wait_for(lambda m: m.chat_id == RESIDENT and "单元和门牌号" in (m.text or ""))
    for update in (press_update(15, RESIDENT, "r:flat:skip"), press_update(16, RESIDENT, "r:ph:skip")):
        assert await hook.post(update) == 200
    await hook.fake.wait_for(lambda m: m.chat_id == RESIDENT and "请确认" in (m.text or ""))
    submit = press_update(17, RESIDENT, "r:submit")
    assert await asyncio.gather(hook.post(submit), hook.post(submit)) == [200, 200]
    await hook.fake.wait_for(lambda m: m.chat_id == RESIDENT and "工单号 #1" in (m.text or ""))
    assert await query(hook.app, "SELECT COUNT(*) FROM tickets") == [(1,)]
    assert "answerCallbackQuery" in [method for method, _ in hook.fake.calls]


async def test_an_update_arriving_in_many_chunks_is_read_whole(hook: WebhookRun) -> None:
    body = json.dumps(text_update(21, RESIDENT, "/help " + "很" * 4000), ensure_ascii=False).encode()

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(body), 1000):
            yield body[start:start + 1000]

    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
    async with hook.session.post(hook.url, data=chunks(), headers=headers) as response:
        assert response.status == 200
    await hook.fake.wait_for(lambda m: m.chat_id == RESIDENT and "使用说明" in (m.text or ""))
    assert await query(hook.app, "SELECT platform_id FROM inbox") == [("21",)]


async def test_an_update_that_cannot_be_parsed_is_stored_and_parked(hook: WebhookRun) -> None:
    """Fault: a body with an update_id that PTB cannot build an Update from (a sender without an
    id). Expected: 200 (Telegram must not retry it forever), stored as sent, parked with the
    reason at handling, one apology to the private chat, and the next update is served."""
    broken = text_update(31, RESIDENT, "你好")
    broken["message"]["from"] = {"first_name": "无名"}
    assert await hook.post(broken) == 200
    assert await hook.post(text_update(32, RESIDENT, "/help")) == 200
    await hook.fake.wait_for(lambda m: m.chat_id == RESIDENT and "使用说明" in (m.text or ""))
    await hook.fake.wait_for(lambda m: m.chat_id == RESIDENT and "小差" in (m.text or ""))
    [(status, error, payload)] = await query(hook.app, "SELECT status, error, payload FROM inbox"
                                                       " WHERE platform_id = '31'")
    assert status == "failed" and error.startswith("parse: TypeError")
    assert json.loads(payload) == broken
