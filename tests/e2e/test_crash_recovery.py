"""kill -9 at named points of a real bot process: nothing is lost, nothing is duplicated."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import pytest
import yaml

from bot.bootstrap import build_app
from bot.config import load_config
from bot.sender import CONCURRENCY
from handlers.dispatcher import create_invite
from storage import groups, inbox, outbox, tickets
from storage.clock import SystemClock
from tests.bot_run import storage_section
from tests.conftest import ROOT
from tests.fakes.telegram_api import FakeTelegramAPI, SentMessage

RESIDENT = 1001
LEADER = 2001
MARKER = "（重发，如已收到请忽略）"
pytestmark = pytest.mark.timeout(90)


class BotProcess:
    """`python -m bot run` against the fake Bot API, as a child process."""

    def __init__(self, fake: FakeTelegramAPI, folder: Path, url: str | None = None) -> None:
        self.fake = fake
        self.folder = folder
        data = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
        data["telegram"] = {"base_url": f"{fake.url}/bot", "base_file_url": fake.file_url,
                            "bot_username": fake.bot_username, "poll_timeout": 1}
        data["storage"] = storage_section(folder, url)  # SQLite, or the test's PostgreSQL database
        data["http"] = {"host": "127.0.0.1", "port": 0}  # the workplace's server: a port of the OS's choosing
        self.config_path = folder / "config.yaml"
        self.config_path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
        self.process: asyncio.subprocess.Process | None = None

    async def start(self, crash_at: str = "") -> None:
        env = {**os.environ, "TELEGRAM_BOT_TOKEN": self.fake.token, "FENGSHAN_CRASH_AT": crash_at}
        mark = len(self.fake.calls)
        self.process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "--config", str(self.config_path), "run",
            env=env, cwd=str(ROOT), stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        await self.fake.wait_for_call("setMyCommands", timeout=30, after=mark)

    async def stop(self) -> int:
        assert self.process is not None
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
        await asyncio.wait_for(self.process.wait(), timeout=20)
        return self.process.returncode or 0

    async def killed(self) -> int:
        """Wait for the process to die at its crash point; its exit code."""
        assert self.process is not None
        return await asyncio.wait_for(self.process.wait(), timeout=20)


async def reply(fake: FakeTelegramAPI, chat_id: int, contains: str, after: int = 0) -> SentMessage:
    return await fake.wait_for(lambda m: m.chat_id == chat_id and contains in (m.text or ""),
                               timeout=15, after=after)


def press(fake: FakeTelegramAPI, user_id: int, label: str) -> int:
    for message in reversed(fake.messages_to(user_id)):
        for button in message.buttons:
            if label in button.get("text", "") and "callback_data" in button:
                return fake.push_callback(user_id, button["callback_data"], message_id=message.message_id)
    raise AssertionError(f"no button {label!r}")


async def prepare_leader_invite(bot: BotProcess) -> str:
    config = load_config(bot.config_path)
    app = await build_app(config, SystemClock(), bot.folder / "bot.db")
    try:
        async with app.db.transaction() as conn:
            return await create_invite(conn, "g01-leader", app.clock.now())
    finally:
        await app.close()


async def db_counts(bot: BotProcess) -> tuple[int, list[str], list[str]]:
    """(tickets, inbox statuses, outbox statuses) read straight from the database file."""
    config = load_config(bot.config_path)
    app = await build_app(config, SystemClock(), bot.folder / "bot.db")
    try:
        async with app.db.read() as conn:
            async with conn.execute("SELECT COUNT(*) FROM tickets") as cursor:
                count = (await cursor.fetchone())[0]
            async with conn.execute("SELECT status FROM inbox ORDER BY id") as cursor:
                inbox_statuses = [r[0] for r in await cursor.fetchall()]
            async with conn.execute("SELECT status FROM outbox ORDER BY id") as cursor:
                outbox_statuses = [r[0] for r in await cursor.fetchall()]
        return count, inbox_statuses, outbox_statuses
    finally:
        await app.close()


@pytest.mark.both_engines  # on PostgreSQL the server rolls back what the killed process left open
@pytest.mark.parametrize("crash_at", ["intake.after_store", "engine.before_commit"])
async def test_kill_during_handling_loses_nothing_and_duplicates_nothing(
    fake: FakeTelegramAPI, tmp_path: Path, crash_at: str, pg_url: str | None
) -> None:
    """Fault: kill -9 right after the inbox commit (Telegram not yet told: it will send the
    update again), or in the middle of handling (nothing of it committed). Expected: after a
    restart the report becomes exactly one ticket, one card, one confirmation."""
    bot = BotProcess(fake, tmp_path, pg_url)
    code = await prepare_leader_invite(bot)
    await bot.start()
    fake.push_text(LEADER, f"/bind {code}")
    await reply(fake, LEADER, "绑定成功")
    await report_up_to_submit(fake)
    assert await bot.stop() == 0

    # The submit press is stored, then the process dies before the handling commits.
    await bot.start(crash_at=crash_at)
    submit_update = press(fake, RESIDENT, "提交")
    assert await bot.killed() == -signal.SIGKILL
    tickets_after_crash, inbox_after_crash, _ = await db_counts(bot)
    assert tickets_after_crash == 0
    assert inbox_after_crash[-1] == "pending"

    # PostgreSQL never rolls back an identity counter: the number the killed transaction drew
    # stays used, and the one ticket gets the next (SQLite's ids come from the rows: #1).
    number = 2 if pg_url is not None and crash_at == "engine.before_commit" else 1
    mark = len(fake.sent)
    await bot.start()
    await reply(fake, LEADER, f"新工单 #{number}", after=mark)
    await reply(fake, RESIDENT, f"工单号 #{number}", after=mark)
    fake.push_text(RESIDENT, "/mytickets")  # proves the loop went on past the replayed update
    await reply(fake, RESIDENT, "最近的工单", after=mark)
    assert await bot.stop() == 0

    count, inbox_statuses, outbox_statuses = await db_counts(bot)
    assert count == 1
    assert set(inbox_statuses) == {"done"}
    assert set(outbox_statuses) == {"sent"}
    cards = [m for m in fake.sent if m.chat_id == LEADER and "新工单 #" in (m.text or "")]
    confirmations = [m for m in fake.sent if m.chat_id == RESIDENT and "工单号" in (m.text or "")]
    assert len(cards) == 1 and len(confirmations) == 1
    assert fake.confirmed_offset > submit_update
    assert (tmp_path / "bot.db").exists() == (pg_url is None)  # the engine under test held it all


async def test_kill_after_a_send_resends_it_with_the_marker(
    fake: FakeTelegramAPI, tmp_path: Path
) -> None:
    """Fault: kill -9 after Telegram accepted a reply, before the sender recorded it (the row is
    left 'sending': its outcome unknown). Expected: after a restart it is sent again, with the
    marker 「（重发，如已收到请忽略）」 in front, and recorded as sent with one resend."""
    bot = BotProcess(fake, tmp_path)
    await bot.start(crash_at="sender.after_send")
    fake.push_text(RESIDENT, "/help")
    await reply(fake, RESIDENT, "使用说明")
    assert await bot.killed() == -signal.SIGKILL

    mark = len(fake.sent)
    await bot.start()
    await reply(fake, RESIDENT, MARKER, after=mark)
    fake.push_text(RESIDENT, "/menu")
    await reply(fake, RESIDENT, "请选择", after=mark)
    assert await bot.stop() == 0
    _, inbox_statuses, outbox_statuses = await db_counts(bot)
    assert inbox_statuses == ["done", "done"]
    assert outbox_statuses == ["sent", "sent"]
    helps = [m.text or "" for m in fake.sent if "使用说明" in (m.text or "")]
    assert len(helps) == 2 and helps[1] == f"{MARKER}\n{helps[0]}"
    assert await outbox_resends(bot) == [1, 0]


async def outbox_resends(bot: BotProcess) -> list[int]:
    config = load_config(bot.config_path)
    app = await build_app(config, SystemClock(), bot.folder / "bot.db")
    try:
        async with app.db.read() as conn, conn.execute("SELECT resends FROM outbox ORDER BY id") as cursor:
            return [row[0] for row in await cursor.fetchall()]
    finally:
        await app.close()


async def report_up_to_submit(fake: FakeTelegramAPI) -> None:
    """The resident's report in 龙池花园3栋 (grid G01), typed and tapped up to 请确认."""
    fake.push_text(RESIDENT, "/report")
    await reply(fake, RESIDENT, "问题类别")
    press(fake, RESIDENT, "水电维修")
    await reply(fake, RESIDENT, "描述问题")
    fake.push_text(RESIDENT, "楼道灯坏了很久了")
    await reply(fake, RESIDENT, "哪个社区")
    fake.push_text(RESIDENT, "龙池花园3栋")
    await reply(fake, RESIDENT, "单元和门牌号")  # issue 13: the flat, optional
    press(fake, RESIDENT, "跳过")
    await reply(fake, RESIDENT, "留个电话")
    press(fake, RESIDENT, "不留电话")
    await reply(fake, RESIDENT, "请确认")


async def test_kill_with_a_card_on_the_wire_resends_it_after_restart(
    fake: FakeTelegramAPI, tmp_path: Path
) -> None:
    """Fault: kill -9 while the leader's card is on the wire — Telegram has the request (the fake
    recorded the message) but holds its answer, so the bot never read it. Expected: after a
    restart the leader has the card twice, the second with the marker; the resident's ticket is
    intact (one ticket, routed to G01, in their 我的工单) and every outbox row ends sent."""
    bot = BotProcess(fake, tmp_path)
    code = await prepare_leader_invite(bot)
    await bot.start()
    fake.push_text(LEADER, f"/bind {code}")
    await reply(fake, LEADER, "绑定成功")
    await report_up_to_submit(fake)

    mark = len(fake.sent)
    fake.delay_next("sendMessage", 5.0, times=2)  # the card and the confirmation: answers held
    press(fake, RESIDENT, "提交")
    card = await reply(fake, LEADER, "新工单 #1", after=mark)
    await reply(fake, RESIDENT, "工单号 #1", after=mark)
    assert bot.process is not None
    bot.process.kill()  # SIGKILL, with both requests written and no answer read
    assert await bot.killed() == -signal.SIGKILL
    config = load_config(bot.config_path)
    app = await build_app(config, SystemClock(), bot.folder / "bot.db")
    try:
        async with app.db.read() as conn, conn.execute(
                "SELECT status FROM outbox WHERE kind = 'card'") as cursor:
            assert [row[0] for row in await cursor.fetchall()] == ["sending"]
    finally:
        await app.close()

    restart = len(fake.sent)
    await bot.start()
    again = await reply(fake, LEADER, MARKER, after=restart)
    assert again.text == f"{MARKER}\n{card.text}"
    fake.push_text(RESIDENT, "/mytickets")
    await reply(fake, RESIDENT, "最近的工单", after=restart)
    assert await bot.stop() == 0

    cards = [m.text for m in fake.sent if m.chat_id == LEADER and "新工单 #1" in (m.text or "")]
    assert cards == [card.text, again.text]
    count, inbox_statuses, outbox_statuses = await db_counts(bot)
    assert count == 1 and set(inbox_statuses) == {"done"} and set(outbox_statuses) == {"sent"}
    config = load_config(bot.config_path)
    app = await build_app(config, SystemClock(), bot.folder / "bot.db")
    try:
        async with app.db.read() as conn:
            ticket = await tickets.get_ticket(conn, 1)
    finally:
        await app.close()
    assert ticket is not None and ticket.grid_id == "G01" and ticket.status == "routed"
    assert ticket.description == "楼道灯坏了很久了"


async def test_storage_survives_reopen_with_pending_rows(tmp_path: Path) -> None:
    """A crash between intake and handling leaves a pending inbox row that a new process sees."""
    config = load_config(ROOT / "config.yaml")
    app = await build_app(config, SystemClock(), tmp_path / "bot.db")
    async with app.db.transaction() as conn:
        assert await inbox.store(conn, "telegram", "42", "{}", app.clock.now())
        await outbox.enqueue(conn, "telegram", "1", {"text": "hi"}, app.clock.now())
    await app.close()
    reopened = await build_app(config, SystemClock(), tmp_path / "bot.db")
    async with reopened.db.read() as conn:
        assert [i.platform_id for i in await inbox.pending(conn, "telegram")] == ["42"]
        assert await tickets.get_ticket(conn, 1) is None
    await reopened.close()


FANOUT_GROUPS = [-3001 - n for n in range(40)]  # many more groups than sends in flight
ADMIN = 9001


async def prepare_invite(bot: BotProcess, person_id: str) -> str:
    config = load_config(bot.config_path)
    app = await build_app(config, SystemClock(), bot.folder / "bot.db")
    try:
        async with app.db.transaction() as conn:
            return await create_invite(conn, person_id, app.clock.now())
    finally:
        await app.close()


async def bind_groups(bot: BotProcess, chat_ids: list[int]) -> None:
    """Groups bound to 龙池社区 as /bindgroup does (one admin typing it in 40 groups would meet
    the flood guard's 20 messages a minute)."""
    config = load_config(bot.config_path)
    app = await build_app(config, SystemClock(), bot.folder / "bot.db")
    try:
        async with app.db.transaction() as conn:
            for chat_id in chat_ids:
                await groups.bind_group(conn, "telegram", str(chat_id), f"群{chat_id}", "longchi", None,
                                        "sd-admin-1", app.clock.now())
    finally:
        await app.close()


async def announcement_rows(bot: BotProcess) -> dict[str, str]:
    config = load_config(bot.config_path)
    app = await build_app(config, SystemClock(), bot.folder / "bot.db")
    try:
        async with app.db.read() as conn, conn.execute(
                "SELECT chat_id, status FROM outbox WHERE kind = 'announcement'") as cursor:
            return {row[0]: row[1] for row in await cursor.fetchall()}
    finally:
        await app.close()


async def test_kill_in_the_middle_of_a_fan_out(fake: FakeTelegramAPI, tmp_path: Path) -> None:
    """Fault: kill -9 while an announcement goes out to 40 groups, right after the second group's
    post was accepted and before it was recorded. Expected: after a restart every group has the
    post; a group has it twice only if its post was on the wire at the crash, so at most the
    sender's concurrency (CONCURRENCY) duplicates; no group post carries the resend marker; the
    announcement ran once."""
    bot = BotProcess(fake, tmp_path)
    code = await prepare_invite(bot, "sd-admin-1")
    await bind_groups(bot, FANOUT_GROUPS[10:])
    await bot.start(crash_at="sender.after_send.announcement@2")
    fake.push_text(ADMIN, f"/bind {code}")
    await reply(fake, ADMIN, "绑定成功")
    for chat_id in FANOUT_GROUPS[:10]:
        fake.push_text(ADMIN, "/bindgroup longchi", chat_id=chat_id, chat_type="group")
        await reply(fake, chat_id, "已绑定")
    for text in ("/announce", "紧急停水通知"):
        fake.push_text(ADMIN, text)
    await reply(fake, ADMIN, "发到哪些群")
    press(fake, ADMIN, "全部群")
    await reply(fake, ADMIN, "什么时候发送")
    press(fake, ADMIN, "立即发送")
    await reply(fake, ADMIN, "需要报名吗")
    press(fake, ADMIN, "不需要报名")
    await reply(fake, ADMIN, "请确认公告")
    press(fake, ADMIN, "确认发布")
    assert await bot.killed() == -signal.SIGKILL  # after the second group got it

    at_crash = await announcement_rows(bot)
    on_the_wire = {int(c) for c, status in at_crash.items() if status == "sending"}
    assert len(at_crash) == len(FANOUT_GROUPS) and 1 <= len(on_the_wire) <= CONCURRENCY
    had_it = {m.chat_id for m in fake.sent if "紧急停水通知" in (m.text or "")}
    restart = len(fake.sent)
    await bot.start()
    # What the restart owes: every group that had no post yet, and a resend to each on the wire.
    for chat_id in (set(FANOUT_GROUPS) - had_it) | on_the_wire:
        await fake.wait_for(lambda m, c=chat_id: m.chat_id == c and "紧急停水通知" in (m.text or ""),
                            timeout=15, after=restart)
    assert await bot.stop() == 0
    assert set((await announcement_rows(bot)).values()) == {"sent"}

    posts = [m for m in fake.sent if m.chat_id in FANOUT_GROUPS and "紧急停水通知" in (m.text or "")]
    received = {c: len([m for m in posts if m.chat_id == c]) for c in FANOUT_GROUPS}
    assert min(received.values()) == 1  # every group has it
    duplicated = {c for c, n in received.items() if n > 1}
    assert max(received.values()) == 2 and duplicated <= set(on_the_wire)
    assert 1 <= len(duplicated) <= CONCURRENCY  # the crashed send's group, at least, got it again
    assert not [m for m in posts if "重发" in (m.text or "")]  # group posts go as they are
    config = load_config(bot.config_path)
    app = await build_app(config, SystemClock(), bot.folder / "bot.db")
    try:
        async with app.db.read() as conn, conn.execute(
                "SELECT COUNT(*) FROM announcement_runs") as cursor:
            assert (await cursor.fetchone())[0] == 1
    finally:
        await app.close()
