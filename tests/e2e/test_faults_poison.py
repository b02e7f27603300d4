"""Poisonous updates against the real bot process: parked or skipped, never a crash loop."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.bootstrap import build_app
from bot.config import load_config
from storage import inbox
from storage.clock import SystemClock
from tests.chat import query
from tests.e2e.test_crash_recovery import BotProcess, press, reply, report_up_to_submit
from tests.fakes.telegram_api import FakeTelegramAPI
from tests.spec_updates import DATE, build, chat, message, user
from tests.telegram_harness import TelegramRun

pytestmark = pytest.mark.timeout(90)

RESIDENT = 1001
PINNER = 1002
BROKEN = 1003
GROUP = -4001


def poisons() -> dict[str, dict]:
    """Updates that stopped the old intake, or that it was never asked to survive."""
    old_message = {"chat": {"id": PINNER, "type": "private"}, "message_id": 1, "date": 0}
    return {
        # A resident pins a message older than 48 h: Telegram sends it as an InaccessibleMessage
        # (date 0), and PTB 22's to_dict() keeps a datetime in it, which json.dumps refuses.
        "pinned": {"message": message(PINNER, PINNER, True, 50, pinned_message=old_message)},
        "background": {"message": message(PINNER, PINNER, True, 51, chat_background_set=build(
            "ChatBackground", type=build("BackgroundTypeFill", fill=build("BackgroundFillSolid", color=0xFFFFFF),
                                         dark_theme_dimming=20)))},
        "boost": {"chat_boost": build("ChatBoostUpdated", chat=chat(GROUP, False), boost=build(
            "ChatBoost", boost_id="b1", add_date=DATE, expiration_date=DATE + 86400,
            source=build("ChatBoostSourcePremium", user=user(RESIDENT))))},
        "boost_removed": {"removed_chat_boost": build(
            "ChatBoostRemoved", chat=chat(GROUP, False), boost_id="b1", remove_date=DATE,
            source=build("ChatBoostSourcePremium", user=user(RESIDENT)))},
        # Not what Telegram sends, but what a broken proxy might: PTB cannot build a User from it.
        "malformed": {"message": {"message_id": 52, "date": DATE, "chat": chat(BROKEN, True),
                                  "from": {"first_name": "无名"}, "text": "你好"}},
        "unknown_field": {"message": message(PINNER, PINNER, True, 53, future_feature={"x": 1})},
    }


async def inbox_rows(bot: BotProcess) -> dict[str, tuple[str, str]]:
    """platform id → (status, error) read straight from the database file."""
    app = await build_app(load_config(bot.config_path), SystemClock(), bot.folder / "bot.db")
    try:
        async with app.db.read() as conn, conn.execute(
                "SELECT platform_id, status, error FROM inbox ORDER BY id") as cursor:
            return {row[0]: (row[1], row[2]) for row in await cursor.fetchall()}
    finally:
        await app.close()


async def test_poisonous_updates_are_parked_or_skipped_and_the_bot_keeps_serving(
    fake: FakeTelegramAPI, tmp_path: Path
) -> None:
    """Fault: updates that broke the old intake (an inaccessible pinned message, one PTB cannot
    parse) and kinds it never asked for (a background change, chat boosts, an unknown field) wait
    in getUpdates before the bot starts. Expected: each ends skipped or parked with its reason,
    Telegram is told they arrived, the bot starts once and files a normal report afterwards."""
    ids = {name: fake.push_queued_earlier(update) for name, update in poisons().items()}
    bot = BotProcess(fake, tmp_path)
    await bot.start()

    await report_up_to_submit(fake)
    press(fake, RESIDENT, "提交")
    await reply(fake, RESIDENT, "工单号 #1")
    apology = await reply(fake, BROKEN, "系统开了个小差")
    assert bot.process is not None and bot.process.returncode is None
    assert await bot.stop() == 0

    assert [method for method, _ in fake.calls].count("setMyCommands") == 1  # started once
    assert fake.confirmed_offset > max(ids.values())
    rows = await inbox_rows(bot)
    status = {name: rows[str(update_id)] for name, update_id in ids.items()}
    assert status["malformed"][0] == "failed" and "parse" in status["malformed"][1]
    for name in ("pinned", "background", "boost", "boost_removed"):
        assert status[name][0] == "skipped", (name, status[name])
    assert status["pinned"][1] == "service: pinned_message"
    assert status["background"][1] == "service: chat_background_set"
    assert status["boost"][1] == "update: chat_boost"
    # A field nobody knows yet is something the resident sent: answered, not dropped silently.
    assert status["unknown_field"][0] == "done"
    pinner = fake.messages_to(PINNER)  # service messages get no answer, the unknown field one
    assert len(pinner) == 1 and "菜单" in (pinner[0].text or "")
    assert len([m for m in fake.messages_to(BROKEN) if m.text == apology.text]) == 1
    assert {s for s, _ in rows.values()} <= {"done", "skipped", "failed"}


async def test_an_update_whose_handling_always_fails_is_parked_with_one_apology(run: TelegramRun) -> None:
    """Fault: the database refuses every new ticket (a trigger standing in for a corrupt table),
    so submitting a report fails on every try. Expected: after MAX_ATTEMPTS the update is parked
    with the error's type, the resident gets one apology (an outbox row, like every message),
    and the next update is served."""
    fake = run.fake
    async with run.app.db.transaction() as conn:
        await conn.execute("CREATE TRIGGER refuse_tickets BEFORE INSERT ON tickets"
                           " BEGIN SELECT RAISE(ABORT, 'refused by the test'); END")
    mark = await run.file_report(RESIDENT, "楼道灯坏了很久了")
    await run.reply_to(RESIDENT, "系统开了个小差", after=mark)
    rows = await query(run.app, "SELECT status, attempts, error FROM inbox ORDER BY id DESC LIMIT 1")
    assert rows == [("failed", inbox.MAX_ATTEMPTS, "IntegrityError")]
    apologies = await query(run.app, "SELECT chat_id FROM outbox WHERE payload LIKE '%小差%'")
    assert apologies == [(str(RESIDENT),)]
    assert await query(run.app, "SELECT COUNT(*) FROM tickets") == [(0,)]
    fake.push_text(RESIDENT, "/help")
    await run.reply_to(RESIDENT, "使用说明", after=mark)
    assert len([m for m in fake.messages_to(RESIDENT) if "小差" in (m.text or "")]) == 1
