"""Three real bot processes on one PostgreSQL database, Telegram in webhook mode behind a "load
balancer" (each update posted to a random instance, seeded; an instance that does not answer is
skipped, as a balancer would): 300 residents' reports, the instance holding the Telegram sender's
lease SIGKILLed mid-run. Every report is exactly one ticket, every card reaches the leader at
least once (a duplicate only for a send in flight at the kill: at most the sender's concurrency),
a scheduled announcement is posted once per group. And in polling mode the polling lease is taken
over when its holder is SIGKILLed (leases of 6 s instead of 30: storage.lease_seconds)."""

from __future__ import annotations

import asyncio
import os
import random
import re
import signal
import time
from collections import defaultdict
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import aiohttp
import pytest

from bot.bootstrap import build_app
from bot.config import load_config
from handlers.dispatcher import create_invite
from storage import announcements, groups, reads
from storage.announcements import NewAnnouncement, TargetKind
from storage.clock import SystemClock
from tests.fakes.telegram_api import FakeTelegramAPI
from tests.instances_harness import (
    LEASE_SECONDS,
    SECRET,
    Inboxes,
    Instance,
    free_port,
    holder_of,
    lease_holder_pid,
    write_config,
)
from tests.pg_cluster import Cluster

pytestmark = pytest.mark.timeout(600)

RESIDENTS = int(os.environ.get("SEVERAL_INSTANCES_RESIDENTS", "300"))
LEADER = 9001  # + the grid's number - 1: one leader per grid, so no chat's 1 msg/s limit is the bottleneck
GROUPS = (-2001, -2002)
SENDER_CONCURRENCY = 8  # bot/sender.py CONCURRENCY: all a kill can leave on the wire


@dataclass
class Balancer:
    """Posts each update to a random live instance; one that does not answer is passed over."""

    instances: list[Instance]
    session: aiohttp.ClientSession
    pick: random.Random
    next_id: int = 1

    async def post(self, update: dict) -> None:
        update = {"update_id": self.next_id, **update}
        self.next_id += 1
        for _ in range(50):
            instance = self.pick.choice(self.instances)
            try:
                async with self.session.post(
                        f"http://127.0.0.1:{instance.port}/telegram/webhook", json=update,
                        headers={"X-Telegram-Bot-Api-Secret-Token": SECRET},
                        timeout=aiohttp.ClientTimeout(total=10)) as answer:
                    if answer.status == 200:
                        return
            except (aiohttp.ClientError, TimeoutError):
                pass
            await asyncio.sleep(0.05)
        raise AssertionError("no instance took the update")


def phase(name: str) -> None:
    if os.environ.get("SEVERAL_DEBUG"):
        print(f"{time.strftime('%X')} {name}")


def text(user_id: int, words: str) -> dict:
    message = {"message_id": 1, "date": int(time.time()), "text": words,
               "from": {"id": user_id, "is_bot": False, "first_name": "居民"},
               "chat": {"id": user_id, "type": "private", "first_name": "居民"}}
    if words.startswith("/"):
        message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(words.split()[0])}]
    return {"message": message}


def press(user_id: int, data: str, serial: int) -> dict:
    message = {"message_id": 1, "date": int(time.time()), "text": "…",
               "chat": {"id": user_id, "type": "private", "first_name": "居民"}}
    return {"callback_query": {"id": f"cq{user_id}-{serial}", "chat_instance": "1", "data": data,
                               "from": {"id": user_id, "is_bot": False, "first_name": "居民"},
                               "message": message}}


def addresses(config: Path) -> list[str]:
    """An exact address in each grid, in grid order (「清流苑1栋」): taken at once."""
    return [f"{grid.compounds[0].name}{grid.compounds[0].buildings[0]}" for grid in load_config(config).grids]


async def report(lb: Balancer, inboxes: Inboxes, user: int, address: str) -> int:
    """The shortest report (7 updates: an exact address, no flat, no phone); its ticket number."""
    seen = 0
    steps: list[tuple[dict, str]] = [
        (text(user, "/report"), "问题类别"), (press(user, "r:cat:repair", 1), "描述问题"),
        (text(user, f"楼道灯坏了很久了（{user}）"), "哪个社区"), (text(user, address), "单元和门牌号"),
        (press(user, "r:flat:skip", 2), "留个电话"), (press(user, "r:ph:skip", 3), "请确认"),
        (press(user, "r:submit", 4), "工单号 #"),
    ]
    for update, expected in steps:
        t0 = time.monotonic()
        await lb.post(update)
        t1 = time.monotonic()
        seen = await inboxes.wait(user, expected, seen)
        if os.environ.get("SEVERAL_DEBUG"):
            print(f"{time.strftime('%X')} {user} {expected} post {t1 - t0:.2f}s reply {time.monotonic() - t1:.2f}s")
    found = re.search(r"工单号 #(\d+)", inboxes.chats[user][seen - 1].text or "")
    assert found is not None
    return int(found.group(1))


async def prepare(url: str, config: Path) -> list[str]:
    """Before any instance: each grid leader's invite, two bound groups and an announcement due
    at once."""
    loaded = load_config(config)
    app = await build_app(loaded, SystemClock(), config.parent / "unused.db")
    try:
        now = app.clock.now()
        async with app.db.transaction() as conn:
            codes = [await create_invite(conn, grid.leaders[0].id, now) for grid in loaded.grids]
            for chat in GROUPS:
                await groups.bind_group(conn, "telegram", str(chat), f"群{chat}", "longchi", None,
                                        "sd-admin-1", now)
            await announcements.create(conn, NewAnnouncement(
                "本周六上午社区义诊", TargetKind.COMMUNITY, "longchi", "", now + timedelta(seconds=1),
                "sd-admin-1", "cli"), now)
        return codes
    finally:
        await app.close()

@pytest.fixture
async def database(pg_cluster: Cluster) -> AsyncIterator[str]:
    name = f"several_{os.getpid()}"
    url = await pg_cluster.create(name)
    yield url
    await pg_cluster.drop(name)


@pytest.mark.timeout(600)
async def test_three_instances_one_killed(database: str, fake: FakeTelegramAPI, tmp_path: Path) -> None:
    phase("start")
    instances = [Instance(write_config(fake, tmp_path, database, port, "webhook"), port)
                 for port in (free_port() for _ in range(3))]
    codes = await prepare(database, instances[0].config)
    places = addresses(instances[0].config)
    leaders = [LEADER + n for n in range(len(codes))]
    inboxes = Inboxes(fake)
    follower = asyncio.create_task(inboxes.follow())
    started = time.monotonic()
    async with aiohttp.ClientSession() as session:
        try:
            for instance in instances:
                await instance.start(fake.token)
            for instance in instances:
                await instance.ready(session)
            phase("ready")
            lb = Balancer(instances, session, random.Random(17))

            async def bind(leader: int, code: str) -> None:
                await lb.post(text(leader, f"/bind {code}"))
                await inboxes.wait(leader, "绑定成功", 0)

            await asyncio.gather(*(bind(leader, code) for leader, code in zip(leaders, codes, strict=True)))

            tickets: list[int] = []
            gate = asyncio.Semaphore(100)
            killed = asyncio.Event()

            async def resident(user: int) -> None:
                async with gate:
                    tickets.append(await report(lb, inboxes, user, places[user % len(places)]))
                if len(tickets) == RESIDENTS // 2 and not killed.is_set():
                    killed.set()

            users = [100_000 + n for n in range(RESIDENTS)]
            running = [asyncio.create_task(resident(user)) for user in users]
            await killed.wait()
            victim = await holder_of(instances, "sender-telegram")
            victim.process.send_signal(signal.SIGKILL)  # type: ignore[union-attr]
            await victim.process.wait()  # type: ignore[union-attr]
            phase("killed")
            await asyncio.gather(*running)
            phase("reports done")
            cards = await cards_for(inboxes, leaders, tickets)
            phase("cards")
        finally:
            follower.cancel()
            for instance in instances:
                await instance.end()
    elapsed = time.monotonic() - started
    phase("ended")

    app = await build_app(load_config(instances[0].config), SystemClock(), tmp_path / "unused.db")
    try:
        async with app.db.read() as conn:
            stored = await reads.all_tickets(conn)
            runs = await reads.announcement_runs(conn)
    finally:
        await app.close()
    # Every report exactly one ticket: one per resident, none twice.
    assert len(stored) == RESIDENTS and sorted(tickets) == sorted(t.id for t in stored)
    assert len({t.description for t in stored}) == RESIDENTS
    # Every card reached the leader; a duplicate only for a send in flight at the kill.
    duplicates = sum(count - 1 for count in cards.values())
    assert set(cards) == set(tickets) and duplicates <= SENDER_CONCURRENCY, duplicates
    # The scheduled announcement ran once, and each group has it once.
    assert [(outcome, targets) for _, outcome, targets in runs] == [("sent", 2)]
    for chat in GROUPS:
        assert [m.text for m in fake.messages_to(chat)].count("本周六上午社区义诊") <= 1
        assert any("本周六上午社区义诊" in (m.text or "") for m in fake.messages_to(chat))
    print(f"three instances: {RESIDENTS} reports in {elapsed:.1f}s, {duplicates} duplicate card(s)")


async def cards_for(inboxes: Inboxes, leaders: list[int], tickets: list[int]) -> dict[int, int]:
    """Ticket number → how many times its card reached its leader (waiting for the last ones)."""
    deadline = time.monotonic() + 30
    while True:
        counts: dict[int, int] = defaultdict(int)
        for message in (m for leader in leaders for m in inboxes.chats[leader]):
            found = re.search(r"新工单 #(\d+)", message.text or "")
            if found:
                counts[int(found.group(1))] += 1
        if set(counts) >= set(tickets) or time.monotonic() > deadline:
            return counts
        await asyncio.sleep(0.2)


@pytest.mark.timeout(90)
async def test_the_polling_lease_is_taken_over_when_its_holder_is_killed(
        database: str, fake: FakeTelegramAPI, tmp_path: Path) -> None:
    instances = [Instance(write_config(fake, tmp_path, database, port, "polling"), port)
                 for port in (free_port() for _ in range(2))]
    inboxes = Inboxes(fake)
    follower = asyncio.create_task(inboxes.follow())
    async with aiohttp.ClientSession() as session:
        try:
            for instance in instances:
                await instance.start(fake.token)
            for instance in instances:
                await instance.ready(session)
            victim = await holder_of(instances, "telegram-polling")
            survivor = next(i for i in instances if i is not victim)
            fake.push_text(1001, "/help")
            seen = await inboxes.wait(1001, "使用说明", 0)
            victim.process.send_signal(signal.SIGKILL)  # type: ignore[union-attr]
            await victim.process.wait()  # type: ignore[union-attr]
            killed_at = time.monotonic()
            fake.push_text(1001, "/help")
            await inboxes.wait(1001, "使用说明", seen, timeout=LEASE_SECONDS * 5)
            taken_after = time.monotonic() - killed_at
            assert await lease_holder_pid(instances[0].config, "telegram-polling") == survivor.pid
        finally:
            follower.cancel()
            for instance in instances:
                await instance.end()
    # The lease (6 s here) ran out and the standby, asking every second, took over.
    assert taken_after < LEASE_SECONDS * 4, taken_after
    print(f"polling taken over {taken_after:.1f}s after the kill")
