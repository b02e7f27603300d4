"""Several instances on one PostgreSQL database, the inbox side (issue 17): an update stored by an
instance that then dies is handled by a surviving one within the lease, once, with no further
traffic; a chat's updates stored through two instances are handled in order."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from bot.app import App
from bot.bootstrap import build_app
from bot.channels.telegram.intake import TelegramIntake
from bot.channels.telegram.transport import build_bot
from bot.channels.wechat.intake import WeChatIntake
from bot.config import Config
from bot.run_channels import Plan, webhook_processing, wechat_leftovers
from storage import inbox, outbox
from storage.clock import FakeClock
from tests.fakes.telegram_api import FakeTelegramAPI
from tests.pg_cluster import Cluster
from tests.wechat_harness import message_xml

pytestmark = pytest.mark.timeout(60)


def command(update_id: int, chat: int, text: str) -> str:
    entities = [{"type": "bot_command", "offset": 0, "length": len(text)}] if text.startswith("/") else []
    return json.dumps({"update_id": update_id, "message": {
        "message_id": update_id, "date": 0, "chat": {"id": chat, "type": "private"},
        "from": {"id": chat, "is_bot": False, "first_name": "居民"}, "text": text, "entities": entities}})


class Beats:
    """Lease heartbeats that wait for the test to move the fake clock."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.beat = asyncio.Condition()

    async def sleep(self, seconds: float) -> None:
        async with self.beat:
            await self.beat.wait()

    async def tick(self, seconds: int) -> None:
        self.clock.advance(seconds=seconds)
        async with self.beat:
            self.beat.notify_all()
        for _ in range(10):  # let the woken loops do their beat's database work
            await asyncio.sleep(0.02)


@pytest.fixture
async def two_apps(pg_cluster: Cluster, sample_config: Config, tmp_path: Path,
                   fake: FakeTelegramAPI) -> AsyncIterator[tuple[list[App], list[TelegramIntake]]]:
    name, url = await pg_cluster.clone()
    on_pg = sample_config.model_copy(update={"storage": sample_config.storage.model_copy(update={"url": url})})
    clock = FakeClock()
    apps = [await build_app(on_pg, clock, tmp_path / "unused.db") for _ in range(2)]
    bots = [build_bot(fake.token, f"{fake.url}/bot", fake.file_url, 10.0) for _ in apps]
    for bot in bots:
        await bot.initialize()
    intakes = [TelegramIntake(bot, app.db, app.engine, app.services.texts, 1) for bot, app in zip(bots, apps, strict=True)]
    yield apps, intakes
    for bot in bots:
        await bot.shutdown()
    for app in apps:
        await app.close()
    await pg_cluster.drop(name)


async def _answers(app: App, chat: str) -> list[str]:
    async with app.db.read() as conn:
        return [row.payload["text"] for row in await outbox.rows_for(conn, "telegram", chat)]


async def test_an_update_left_by_a_killed_instance_is_handled_by_another_within_the_lease(
        two_apps: tuple[list[App], list[TelegramIntake]]) -> None:
    (a, b), (intake_a, intake_b) = two_apps
    clock = a.clock
    assert isinstance(clock, FakeClock)
    beats = Beats(clock)
    stop = asyncio.Event()
    loops = [webhook_processing(app, Plan(), intake, asyncio.Event(), beats.sleep)
             for app, intake in ((a, intake_a), (b, intake_b))]
    running_a = asyncio.create_task(loops[0](stop))
    await beats.tick(0)
    running_b = asyncio.create_task(loops[1](stop))
    await beats.tick(0)
    running_a.cancel()  # SIGKILL: no release, no handling of what it is about to store
    await asyncio.gather(running_a, return_exceptions=True)
    assert await intake_a.store([(41, command(41, 5001, "/help"))]) == 1  # its webhook's last commit
    died = clock.now()
    try:
        while not await _answers(b, "5001"):
            assert clock.now() - died <= timedelta(seconds=40), "not handled within the lease and a beat"
            await beats.tick(10)
        for _ in range(3):  # more looks do not handle it again
            await beats.tick(10)
    finally:
        stop.set()
        async with beats.beat:
            beats.beat.notify_all()
        await asyncio.wait_for(asyncio.gather(running_b, return_exceptions=True), 5)
    answers = await _answers(b, "5001")
    assert len(answers) == 1 and "使用说明" in answers[0]
    async with b.db.read() as conn:
        assert await inbox.pending(conn, "telegram") == []


async def test_a_chats_updates_stored_through_two_instances_are_handled_in_order(
        two_apps: tuple[list[App], list[TelegramIntake]]) -> None:
    """Each chat's two commands reach two instances at the same moment (a load balancer) and the
    later one is stored first; then both instances process, each woken by its webhook: the
    answers come in the updates' order, every time. (An update handled before an earlier one
    has even been stored cannot be helped: nobody knows of it yet.)"""
    (a, b), (intake_a, intake_b) = two_apps
    clock = a.clock
    assert isinstance(clock, FakeClock)
    beats = Beats(clock)
    chats = [6001 + n for n in range(8)]
    for n, chat in enumerate(chats):
        first, second = (intake_a, intake_b) if n % 2 else (intake_b, intake_a)
        assert await first.store([(101 + 2 * n, command(101 + 2 * n, chat, "/mytickets"))]) == 1
        assert await second.store([(100 + 2 * n, command(100 + 2 * n, chat, "/help"))]) == 1
    stop = asyncio.Event()
    wakes = [asyncio.Event(), asyncio.Event()]
    running = [asyncio.create_task(webhook_processing(app, Plan(), intake, wake, beats.sleep)(stop))
               for app, intake, wake in ((a, intake_a, wakes[0]), (b, intake_b, wakes[1]))]
    try:
        for wake in wakes:
            wake.set()
        await beats.tick(0)
        for _ in range(500):
            if all([len(await _answers(a, str(chat))) >= 2 for chat in chats]):
                break
            await asyncio.sleep(0.02)
    finally:
        stop.set()
        async with beats.beat:
            beats.beat.notify_all()
        await asyncio.wait_for(asyncio.gather(*running, return_exceptions=True), 5)
    for chat in chats:
        answers = await _answers(a, str(chat))
        assert len(answers) == 2 and "使用说明" in answers[0] and "使用说明" not in answers[1], (chat, answers)


async def test_a_wechat_message_left_by_a_killed_instance_is_handled_once_after_the_lease(
        two_apps: tuple[list[App], list[TelegramIntake]]) -> None:
    """A callback stored by A, whose handling (for the passive reply) never commits: B leaves it
    alone while A may merely be slow (younger than the lease), then pushes the answer, once."""
    (a, b), _ = two_apps
    clock = a.clock
    assert isinstance(clock, FakeClock)
    beats = Beats(clock)
    xml = message_xml({"ToUserName": "gh_x", "FromUserName": "o-slow-1", "CreateTime": 1, "MsgType": "text",
                       "Content": "你好", "MsgId": 9001})
    async with a.db.transaction() as conn:
        await inbox.store_or_find(conn, "wechat", "msg:9001", xml, clock.now())
    intake_b = WeChatIntake(b.db, b.engine, b.services.texts, 4.0, b.lease.length)
    stop = asyncio.Event()
    running = asyncio.create_task(wechat_leftovers(b, Plan(), intake_b, beats.sleep)(stop))
    try:
        await beats.tick(0)
        await beats.tick(10)
        assert await _wechat_answers(b) == [], "handled while its own instance may still be at it"
        stored = clock.now() - timedelta(seconds=10)
        while not await _wechat_answers(b):
            assert clock.now() - stored <= timedelta(seconds=40), "not handled within the lease and a beat"
            await beats.tick(10)
        for _ in range(3):
            await beats.tick(10)
    finally:
        stop.set()
        async with beats.beat:
            beats.beat.notify_all()
        await asyncio.wait_for(asyncio.gather(running, return_exceptions=True), 5)
    assert len(await _wechat_answers(b)) == 1
    async with b.db.read() as conn:
        assert await inbox.pending(conn, "wechat") == []


async def _wechat_answers(app: App) -> list[str]:
    async with app.db.read() as conn:
        return [row.payload["text"] for row in await outbox.rows_for(conn, "wechat", "o-slow-1")]
