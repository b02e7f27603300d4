"""Every Update kind and every Message field of the Bot API, through the real intake.

The cases come from the vendored spec (tests/spec_updates.py), in a private chat and in a group,
plus a field the installed PTB does not know. Each one must end handled or skipped in the inbox,
the bot must stay up, and private content the bot cannot use gets a short answer with the menu.
"""

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
from tests.spec_updates import (
    build,
    chat,
    message,
    message_field_value,
    message_fields,
    update_fields,
    update_value,
)
from tests.telegram_harness import TelegramRun, config_for

UNKNOWN_FIELD = "field_from_a_future_api"
SECRET = "webhook-secret_0123456789"


@dataclass(frozen=True)
class Case:
    name: str
    chat_id: int
    private: bool
    update: dict


def message_cases(first_user: int) -> list[Case]:
    """One message per Message field (and one with a field nobody knows), private and in a group."""
    cases = []
    names = [f.name for f in message_fields()] + [UNKNOWN_FIELD]
    for offset, name in enumerate(names):
        value = {"x": 1} if name == UNKNOWN_FIELD else message_field_value(name)
        for private in (True, False):
            user_id = first_user + 2 * offset + (0 if private else 1)
            chat_id = user_id if private else -user_id
            cases.append(Case(name, chat_id, private,
                              {"message": message(chat_id, user_id, private, 1, **{name: value})}))
    # The other kind of MaybeInaccessibleMessage: a pin of a message older than 48 hours.
    for private in (True, False):
        user_id = first_user + 2 * len(names) + (0 if private else 1)
        chat_id = user_id if private else -user_id
        old = build("InaccessibleMessage", chat=chat(chat_id, private), message_id=1)
        cases.append(Case("pinned_message", chat_id, private,
                          {"message": message(chat_id, user_id, private, 2, pinned_message=old)}))
    return cases


def update_cases(first_user: int) -> list[Case]:
    """One update per Update field, private and in a group (where the kind has a chat)."""
    cases = []
    for offset, name in enumerate(update_fields()):
        for private in (True, False):
            user_id = first_user + 2 * offset + (0 if private else 1)
            chat_id = user_id if private else -user_id
            cases.append(Case(name, chat_id, private,
                              {name: update_value(name, chat_id, user_id, private, 1)}))
    return cases


async def settled(app: App, count: int) -> dict[str, tuple[str, str]]:
    """platform id → (status, error) once `count` items are stored and none is pending."""
    rows: list[tuple] = []
    for _ in range(400):
        rows = await query(app, "SELECT platform_id, status, error FROM inbox")
        if len(rows) >= count and all(status != "pending" for _, status, _ in rows):
            return {row[0]: (row[1], row[2]) for row in rows}
        await asyncio.sleep(0.025)
    raise AssertionError(f"inbox did not settle: {rows}")


STARTS_A_REPORT = {"photo", "location", "voice", "audio"}  # issue 13: voice and audio too


def user_content(name: str) -> bool:
    return name == UNKNOWN_FIELD or next(f for f in message_fields() if f.name == name).is_user_content


def service(name: str) -> bool:
    return name != UNKNOWN_FIELD and next(f for f in message_fields() if f.name == name).is_service


async def test_every_message_field_ends_handled_or_skipped(run: TelegramRun) -> None:
    fake = run.fake
    cases = message_cases(first_user=100_000)
    ids = {fake.push_queued_earlier(case.update): case for case in cases}
    rows = await settled(run.app, len(ids))

    outcome = {update_id: rows[str(update_id)] for update_id in ids}
    assert {status for status, _ in outcome.values()} <= {"done", "skipped"}, \
        [(ids[i].name, ids[i].private, s) for i, s in outcome.items() if s[0] not in ("done", "skipped")]
    for update_id, case in ids.items():
        status, reason = outcome[update_id]
        if case.private and service(case.name):
            assert (status, reason) == ("skipped", f"service: {case.name}"), case.name
    # Private content the bot cannot use here gets a short answer pointing to the menu, never
    # silence. A photo or a location outside a report starts one with it attached (issue 13).
    content = [c for c in cases if c.private and user_content(c.name)]
    assert {"sticker", "voice", "dice", "video", "document", "photo", UNKNOWN_FIELD} <= {c.name for c in content}
    for case in content:
        answer = await fake.wait_for(lambda m, c=case.chat_id: m.chat_id == c, timeout=10)
        if case.name in STARTS_A_REPORT:
            assert answer.text in ("已添加照片（共 1 张）。", "已添加位置。", "已收到语音（共 1 条），会转给网格员收听。"), \
                (case.name, answer.text)
            continue
        assert "菜单" in (answer.text or "") and any(b.get("callback_data") == "menu" for b in answer.buttons)
    # Service messages get no answer at all; nothing reaches a group unasked.
    for case in cases:
        if (case.private and service(case.name)) or not case.private:
            assert fake.messages_to(case.chat_id) == [], (case.name, case.private)
    mark = len(fake.sent)
    fake.push_text(1001, "/help")  # still serving
    await run.reply_to(1001, "使用说明", after=mark)


async def test_every_update_kind_ends_handled_or_skipped_when_polling(run: TelegramRun) -> None:
    fake = run.fake
    cases = update_cases(first_user=300_000)
    ids = {fake.push_queued_earlier(case.update): case for case in cases}
    rows = await settled(run.app, len(ids))
    outcome = {update_id: rows[str(update_id)] for update_id in ids}
    assert {status for status, _ in outcome.values()} <= {"done", "skipped"}, outcome
    for update_id, case in ids.items():
        if case.name not in ("message", "callback_query", "my_chat_member"):
            assert outcome[update_id] == ("skipped", f"update: {case.name}")
    assert {"message", "callback_query", "my_chat_member"} <= set(fake.allowed_updates or [])
    mark = len(fake.sent)
    fake.push_text(1001, "/help")
    await run.reply_to(1001, "使用说明", after=mark)


@pytest.fixture
async def hook(config: Config, clock: FakeClock, tmp_path: Path) -> AsyncIterator[tuple]:
    async with FakeTelegramAPI() as fake, aiohttp.ClientSession() as session:
        base = config_for(config, fake)
        telegram = TelegramSettings.model_validate(
            {**base.telegram.model_dump(), "mode": "webhook",
             "webhook_public_url": "https://bot.example.org/telegram/webhook"})
        app = await build_app(base.model_copy(update={"telegram": telegram}), clock, tmp_path / "hook.db")
        server = HttpServer(HttpSettings(host="127.0.0.1", port=0))
        stop = asyncio.Event()
        settings = Settings(telegram_token=fake.token, telegram_webhook_secret=SECRET)
        task = asyncio.create_task(run_channels(app, settings, stop, ChatRateLimits(private_burst=100), server))
        await fake.wait_for_call("setWebhook")
        yield fake, app, session, f"http://127.0.0.1:{server.port}/telegram/webhook"
        stop.set()
        await asyncio.wait_for(task, timeout=10)
        await app.close()


async def test_every_update_kind_through_the_webhook_is_stored_as_sent(hook: tuple) -> None:
    fake, app, session, url = hook
    cases = update_cases(first_user=500_000)
    bodies = {}
    for number, case in enumerate(cases, start=1):
        # Telegram's own spacing and key order; the inbox keeps the body as it came.
        body = json.dumps({"update_id": number, **case.update}, ensure_ascii=False, indent=1)
        bodies[str(number)] = body
        async with session.post(url, data=body.encode(), headers={
                "X-Telegram-Bot-Api-Secret-Token": SECRET, "Content-Type": "application/json"}) as answer:
            assert answer.status == 200, case.name
    rows = await settled(app, len(cases))
    assert {status for status, _ in rows.values()} <= {"done", "skipped"}, rows
    assert "my_chat_member" in (fake.allowed_updates or [])
    stored = dict(await query(app, "SELECT platform_id, payload FROM inbox WHERE payload NOT LIKE '%callback_query%'"))
    assert stored and all(stored[key] == bodies[key] for key in stored)


async def test_a_skipped_update_goes_with_the_residents_data(run: TelegramRun) -> None:
    """An edit the bot does not act on still holds what the resident typed: erasure finds it."""
    fake = run.fake
    edited = message(1001, 1001, True, 7, text="我家电话 13812345678", edit_date=1764100100)
    update_id = fake.push_queued_earlier({"edited_message": edited})
    rows = await settled(run.app, 1)
    assert rows[str(update_id)] == ("skipped", "update: edited_message")
    mark = len(fake.sent)
    fake.push_text(1001, "我的数据")
    await run.reply_to(1001, "我的数据", after=mark)
    await run.press(1001, "删除我的数据")
    await run.reply_to(1001, "确定要删除", after=mark)
    await run.press(1001, "确认删除")
    await run.reply_to(1001, "已删除您的个人信息", after=mark)
    assert await query(run.app, "SELECT payload FROM inbox WHERE platform_id = ?", str(update_id)) == [("",)]
