"""Several instances on one database: leases have one holder and pass on when it dies; two
outbox senders on one PostgreSQL database send every row once and each chat's rows in order; a
claim of an instance that died is sent by another once its lease has run out; two schedulers
post a scheduled announcement once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient

from bot.bootstrap import build_app, build_scheduler
from bot.config import Config
from bot.lease_loop import LeasedLoop, LeaseTiming
from handlers.types import Channel, Incoming
from storage import announcements, groups, inbox, leases, outbox, reads
from storage.announcements import NewAnnouncement, TargetKind
from storage.clock import FakeClock
from storage.db import Database
from storage.outbox import OutboxStatus
from tests.fakes.telegram_api import FakeTelegramAPI
from tests.integration.test_faults_platform import Courier, open_courier
from tests.pg_cluster import Cluster
from tests.web_harness import page, sign_in, workplace

pytestmark = pytest.mark.timeout(60)

LENGTH = timedelta(seconds=30)


async def test_a_lease_has_one_holder_until_it_runs_out(db: Database, clock: FakeClock) -> None:
    async def take(holder: str) -> bool:
        async with db.transaction(exclusive=False) as conn:
            return await leases.take(conn, "telegram-polling", holder, clock.now(), LENGTH)

    assert await take("a")
    assert not await take("b")
    clock.advance(seconds=20)
    assert await take("a")  # renewed: 30 s from now
    clock.advance(seconds=29)
    assert not await take("b")
    clock.advance(seconds=2)  # a did not renew: it died
    assert await take("b")
    assert not await take("a")
    async with db.transaction(exclusive=False) as conn:
        await leases.release(conn, "telegram-polling", "b")
    assert await take("a")  # released: no need to wait it out
    async with db.read() as conn:
        held = await leases.current(conn, "telegram-polling")
    assert held is not None and held.holder == "a"


async def test_a_standby_takes_the_loop_over_when_its_holder_dies(db: Database, clock: FakeClock) -> None:
    """The holder is killed (its task cancelled: no release, as kill -9); the standby, asking
    every heartbeat, runs the loop once the lease has run out — measured on the fake clock."""
    timing = LeaseTiming(LENGTH, 10.0)
    beat = asyncio.Condition()
    entered = [0]  # heartbeats begun: each live loop begins one per tick

    async def sleep(seconds: float) -> None:  # the heartbeat waits for the test to move time
        async with beat:
            entered[0] += 1
            await beat.wait()

    async def tick(seconds: int, live: int) -> None:
        clock.advance(seconds=seconds)
        target = entered[0] + live
        async with beat:
            beat.notify_all()
        for _ in range(500):  # until each live loop has done its beat's work and waits again
            if entered[0] >= target:
                return
            await asyncio.sleep(0.01)
        raise AssertionError("a lease loop did not come back to its heartbeat")

    ran: list[str] = []

    def loop_of(name: str):  # noqa: ANN202
        async def loop(stop: asyncio.Event) -> None:
            ran.append(name)
            await stop.wait()
        return loop

    first = LeasedLoop(db, clock, "telegram-polling", "a", timing, sleep)
    second = LeasedLoop(db, clock, "telegram-polling", "b", timing, sleep)
    stop = asyncio.Event()
    a = asyncio.create_task(first.run(loop_of("a"), stop))
    await tick(0, 1)
    b = asyncio.create_task(second.run(loop_of("b"), stop))
    await tick(0, 1)
    for _ in range(3):
        await tick(10, 2)
    assert ran == ["a"] and first.holding and not second.holding
    a.cancel()  # killed
    await asyncio.gather(a, return_exceptions=True)
    died = clock.now()
    while "b" not in ran:
        await tick(10, 1)
        assert clock.now() - died <= timedelta(seconds=40), "no takeover within the lease and a beat"
    assert second.holding
    stop.set()
    await asyncio.wait_for(b, 5)


# ---------------------------------------------------------------- PostgreSQL: two instances


@pytest.fixture
async def shared_url(pg_cluster: Cluster) -> AsyncIterator[str]:
    name, url = await pg_cluster.clone()
    yield url
    await pg_cluster.drop(name)


@pytest.fixture
async def two_couriers(shared_url: str, fake: FakeTelegramAPI) -> AsyncIterator[tuple[Courier, Courier]]:
    clock = FakeClock()
    couriers, bots, dbs = [], [], []
    for _ in range(2):
        db = await Database.open(shared_url, clock)
        built, bot = await open_courier(db, clock, fake, fake.url)
        couriers.append(built)
        bots.append(bot)
        dbs.append(db)
    yield couriers[0], couriers[1]
    for bot in bots:
        await bot.shutdown()
    for db in dbs:
        await db.close()


async def test_two_senders_send_every_row_once_and_each_chat_in_order(
        two_couriers: tuple[Courier, Courier], fake: FakeTelegramAPI) -> None:
    a, b = two_couriers
    chats = [100 + n for n in range(12)]
    for step in range(5):
        for chat in chats:
            await a.queue(chat, f"{chat}-{step}")
    fake.delay_next("sendMessage", 0.02, times=30)  # slow answers: the two senders' claims interleave
    stop = asyncio.Event()
    running = [asyncio.create_task(c.sender.run(stop, idle_poll=0.05)) for c in (a, b)]
    try:
        for _ in range(1000):
            if len(fake.sent) >= 60:
                break
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.2)  # a duplicate would show now
    finally:
        stop.set()
        await asyncio.gather(*running)
    assert len(fake.sent) == 60
    for chat in chats:
        assert [m.text for m in fake.messages_to(chat)] == [f"{chat}-{step}" for step in range(5)]
    async with a.db.read() as conn:
        rows = await reads.outbox_rows(conn)
    assert {r.status for r in rows} == {OutboxStatus.SENT} and len(rows) == 60
    holders = {r for (r,) in await _claimers(a.db)}
    assert holders == {a.sender.holder, b.sender.holder}, "both senders took part"


async def _claimers(db: Database) -> list[tuple[str]]:
    async with db.read() as conn:
        return [tuple(r) for r in await conn.execute_fetchall("SELECT DISTINCT claimed_by FROM outbox")]


async def test_a_dead_instances_claims_are_sent_by_another_after_the_lease(
        two_couriers: tuple[Courier, Courier], fake: FakeTelegramAPI) -> None:
    a, b = two_couriers
    for chat in (201, 202):
        await a.queue(chat, f"card {chat}")
    rows = await a.sender._claim(10)  # a claims both and dies: one on the wire, one waiting
    assert len(rows) == 2
    async with a.db.transaction() as conn:
        await outbox.mark_sending(conn, rows[0].id)
    a.clock.advance(seconds=20)
    assert await b.sender.heartbeat() == 0  # still a's
    await b.sender.drain_once()
    assert fake.sent == []
    a.clock.advance(seconds=11)  # a's claims have run out
    assert await b.sender.heartbeat() == 1  # one resend (was on the wire), one simply due again
    await b.sender.drain_once()
    texts = {m.chat_id: m.text for m in fake.sent}
    assert texts[rows[1].chat_id and int(rows[1].chat_id)] == f"card {rows[1].chat_id}"
    assert texts[int(rows[0].chat_id)].startswith(b.sender.marker), "a resend says so"
    assert len(fake.sent) == 2


async def test_a_live_senders_claims_are_kept_by_its_heartbeat(
        two_couriers: tuple[Courier, Courier], fake: FakeTelegramAPI) -> None:
    a, b = two_couriers
    await a.queue(301, "waiting for a slot")
    assert len(await a.sender._claim(10)) == 1
    for _ in range(4):  # a keeps renewing: its row is never taken from it
        a.clock.advance(seconds=10)
        await a.sender.heartbeat()
        assert await b.sender.heartbeat() == 0
    await b.sender.drain_once()
    assert fake.sent == []


async def test_two_schedulers_post_a_scheduled_announcement_once(shared_url: str, sample_config: Config,
                                                                  tmp_path: Path) -> None:
    on_pg = sample_config.model_copy(update={"storage": sample_config.storage.model_copy(update={"url": shared_url})})
    clock = FakeClock()
    apps = [await build_app(on_pg, clock, tmp_path / "unused.db") for _ in range(2)]
    try:
        async with apps[0].db.transaction() as conn:
            for chat in ("-1001", "-1002"):
                await groups.bind_group(conn, "telegram", chat, f"群{chat}", "longchi", None, "sd-admin-1",
                                        clock.now())
            await announcements.create(conn, NewAnnouncement(
                "周六义诊", TargetKind.COMMUNITY, "longchi", "", clock.now() + timedelta(minutes=1),
                "sd-admin-1", "cli"), clock.now())
        schedulers = [build_scheduler(app) for app in apps]
        assert schedulers[0].holder != schedulers[1].holder
        clock.advance(minutes=1)
        for _ in range(3):
            await asyncio.gather(*(s.run_due() for s in schedulers))
        async with apps[1].db.read() as conn:
            runs = await reads.announcement_runs(conn)
            posts = [(r.chat_id, r.payload["text"]) for r in await reads.outbox_rows(conn)
                     if r.kind == "announcement"]
            sweeper = await leases.current(conn, "scheduler-sweep")
    finally:
        for app in apps:
            await app.close()
    assert [(outcome, targets) for _, outcome, targets in runs] == [("sent", 2)]
    assert sorted(chat for chat, _ in posts) == ["-1001", "-1002"]
    assert sweeper is not None and sweeper.holder in {s.holder for s in schedulers}



async def test_a_workplace_session_from_one_instance_works_on_another(shared_url: str, sample_config: Config,
                                                                       tmp_path: Path) -> None:
    """Signed in through instance A, the cookie opens the board on instance B; 退出 on B ends it on A."""
    on_pg = sample_config.model_copy(update={"storage": sample_config.storage.model_copy(update={"url": shared_url})})
    clock = FakeClock()
    apps = [await build_app(on_pg, clock, tmp_path / "unused.db") for _ in range(2)]
    try:
        async with workplace(apps[0]) as a, workplace(apps[1]) as b:
            csrf = await sign_in(a, apps[0], "g01-leader")
            cookie = {"Cookie": f"fengshan_staff={_cookie(a)}"}
            on_b = await b.get("/staff/", headers=cookie)
            assert on_b.status == 200 and "万秀英" in await on_b.text()
            out = await b.post("/staff/logout", data={"csrf": csrf}, headers=cookie, allow_redirects=False)
            assert out.status == 200 and "Max-Age=0" in out.headers.get("Set-Cookie", "")
            assert (await page(a, "/staff/"))[0] == 401
    finally:
        for app in apps:
            await app.close()


def _cookie(client: TestClient) -> str:
    found = client.session.cookie_jar.filter_cookies(client.make_url("/staff/")).get("fengshan_staff")
    assert found is not None
    return found.value


async def test_an_update_two_instances_pick_up_is_handled_once(shared_url: str, sample_config: Config,
                                                                tmp_path: Path) -> None:
    """Stored by one instance, picked up by both (each processes whatever any stored): one
    handling, one answer."""
    on_pg = sample_config.model_copy(update={"storage": sample_config.storage.model_copy(update={"url": shared_url})})
    clock = FakeClock()
    apps = [await build_app(on_pg, clock, tmp_path / "unused.db") for _ in range(2)]
    try:
        async with apps[0].db.transaction() as conn:
            await inbox.store(conn, "telegram", "41", '{"update_id": 41}', clock.now())
        async with apps[0].db.read() as conn:
            [item] = await inbox.pending(conn, "telegram")
        said = Incoming(Channel.TELEGRAM, "5001", "5001", text="/help", command="help")
        await asyncio.gather(*(app.engine.handle_stored(said, item.id) for app in apps))
        async with apps[1].db.read() as conn:
            answers = await outbox.rows_for(conn, "telegram", "5001")
    finally:
        for app in apps:
            await app.close()
    assert len(answers) == 1 and "使用说明" in answers[0].payload["text"]
