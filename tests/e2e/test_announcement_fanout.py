"""Announcement fan-out end to end: real PTB to a fake Bot API, with 429s, 403s and a migration."""

from __future__ import annotations

from pathlib import Path

from bot.bootstrap import build_scheduler
from bot.config import Config
from storage.clock import FakeClock
from tests.chat import query
from tests.fakes.telegram_api import FakeTelegramAPI
from tests.telegram_harness import TelegramRun, start_run

ADMIN = 9001
GROUPS = {-1001: "longchi", -1002: "nanqiao", -1003: "gaoan"}
TEXT = "本周六上午 9 点社区义诊"


async def bind_groups(run: TelegramRun) -> None:
    await run.bind(ADMIN, "sd-admin-1")
    for chat_id, area in GROUPS.items():
        mark = len(run.fake.sent)
        run.fake.push_text(ADMIN, f"/bindgroup {area}", chat_id=chat_id, chat_type="group")
        await run.reply_to(chat_id, "已绑定", after=mark)


async def schedule_two_minutes_ahead(run: TelegramRun) -> None:
    fake = run.fake
    mark = len(fake.sent)
    fake.push_text(ADMIN, "/announce")
    await run.reply_to(ADMIN, "公告内容", after=mark)
    fake.push_text(ADMIN, TEXT)
    await run.reply_to(ADMIN, "发到哪些群", after=mark)
    await run.press(ADMIN, "全部群")
    await run.reply_to(ADMIN, "什么时候发送", after=mark)
    fake.push_text(ADMIN, "10:02")  # the fake clock reads 10:00 Beijing time
    await run.reply_to(ADMIN, "需要报名吗", after=mark)
    await run.press(ADMIN, "不需要报名")
    await run.reply_to(ADMIN, "请确认公告", after=mark)
    await run.press(ADMIN, "确认发布")
    await run.reply_to(ADMIN, "已安排", after=mark)


def posts_to(fake: FakeTelegramAPI, chat_id: int) -> list[str]:
    return [m.text or "" for m in fake.messages_to(chat_id) if TEXT in (m.text or "")]


async def test_arrives_once_in_every_group_despite_a_restart_and_a_429(
        config: Config, fake: FakeTelegramAPI, clock: FakeClock, tmp_path: Path) -> None:
    db = tmp_path / "fanout.db"
    run = await start_run(config, fake, clock, db)
    await bind_groups(run)
    await schedule_two_minutes_ahead(run)
    await run.close()  # a restart between scheduling and the scheduled minute

    clock.advance(minutes=1, seconds=59)
    run = await start_run(config, fake, clock, db)
    try:
        scheduler = build_scheduler(run.app)
        await scheduler.run_due()
        assert all(posts_to(fake, chat) == [] for chat in GROUPS)  # not before its minute
        fake.fail_next("sendMessage", status=429, retry_after=3, chat_id=-1002)
        clock.advance(seconds=1)
        await scheduler.run_due()
        await fake.wait_for(lambda m: m.chat_id == -1001 and TEXT in (m.text or ""))
        await fake.wait_for(lambda m: m.chat_id == -1003 and TEXT in (m.text or ""))
        rows = await run.rows_when(-1002, lambda rs: any("429" in r.last_error for r in rs))
        assert [r.status for r in rows if r.kind == "announcement"] == ["pending"]
        clock.advance(seconds=3)  # retry_after honoured on the injected clock
        run.app.notifier.outbox_queued()
        await fake.wait_for(lambda m: m.chat_id == -1002 and TEXT in (m.text or ""))
        await scheduler.run_due()
        assert {chat: len(posts_to(fake, chat)) for chat in GROUPS} == {-1001: 1, -1002: 1, -1003: 1}
        assert await query(run.app, "SELECT status, COUNT(*) FROM outbox WHERE kind = 'announcement'"
                                    " GROUP BY status") == [("sent", 3)]
    finally:
        await run.close()


async def test_a_group_upgraded_to_a_supergroup_is_followed(config: Config, fake: FakeTelegramAPI,
                                                            clock: FakeClock, tmp_path: Path) -> None:
    run = await start_run(config, fake, clock, tmp_path / "migrate.db")
    try:
        await bind_groups(run)
        await schedule_two_minutes_ahead(run)
        fake.fail_next("sendMessage", status=400, chat_id=-1003, migrate_to_chat_id=-1009003)
        clock.advance(minutes=2)
        await build_scheduler(run.app).run_due()
        await fake.wait_for(lambda m: m.chat_id == -1009003 and TEXT in (m.text or ""))
        targets = await query(run.app, "SELECT chat_id, status FROM group_targets WHERE community_id = 'gaoan'")
        assert targets == [("-1009003", "active")]
        await fake.wait_for(lambda m: m.chat_id == ADMIN and "超级群" in (m.text or ""))
    finally:
        await run.close()


async def test_a_group_that_removed_the_bot_is_disabled_and_admins_told(
        config: Config, fake: FakeTelegramAPI, clock: FakeClock, tmp_path: Path) -> None:
    run = await start_run(config, fake, clock, tmp_path / "kicked.db")
    try:
        await bind_groups(run)
        await schedule_two_minutes_ahead(run)
        fake.fail_next("sendMessage", status=403, description="Forbidden: bot was kicked from the group chat",
                       chat_id=-1002)
        clock.advance(minutes=2)
        await build_scheduler(run.app).run_due()
        notice = await fake.wait_for(lambda m: m.chat_id == ADMIN and "已停用" in (m.text or ""))
        assert "-1002" in (notice.text or "") and "kicked" in (notice.text or "")
        assert await query(run.app, "SELECT status FROM group_targets WHERE chat_id = '-1002'") == [("disabled",)]
        rows = await run.rows_when(-1002, lambda rs: any(r.status == "failed" for r in rs))
        assert [r.attempts for r in rows if r.kind == "announcement"] == [1]  # no retry loop
    finally:
        await run.close()
