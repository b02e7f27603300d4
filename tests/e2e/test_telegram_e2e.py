"""The Telegram channel end to end: real PTB over real HTTP to a fake Bot API on 127.0.0.1."""

from __future__ import annotations

import time

import pytest

from storage import outbox, tickets
from storage.clock import FakeClock
from tests.telegram_harness import TelegramRun

RESIDENT = 1001
LEADER = 2001
OUTSIDER = 3001
GROUP = -5001


async def report_in_longchi(run: TelegramRun) -> float:
    """A resident files a report in 7 messages/taps; returns when the last one was pushed."""
    await run.file_report(RESIDENT, "3栋楼道灯坏了 <b>快来</b> [link](tg://x)")
    return time.monotonic()


@pytest.mark.both_engines
async def test_resident_report_reaches_leader_who_handles_it(run: TelegramRun) -> None:
    fake = run.fake
    await run.bind(LEADER, "g01-leader")
    pushed_at = await report_in_longchi(run)
    card = await run.reply_to(LEADER, "新工单 #1")
    assert time.monotonic() - pushed_at < 2.0
    confirmation = await run.reply_to(RESIDENT, "工单号 #1")
    assert "龙池花园第一网格" in (confirmation.text or "")
    # Resident text is relayed as plain text: no parse mode, previews off, phone masked.
    assert card.parse_mode is None
    assert card.link_preview_options == {"is_disabled": True}
    assert "<b>快来</b>" in (card.text or "") and "电话：13812345678" in (card.text or "")  # issue 13
    assert [b["text"] for b in card.buttons] == ["受理", "办结", "转派"]

    mark = len(fake.sent)
    await run.press(LEADER, "受理")
    await run.reply_to(RESIDENT, "已由支部网格长", after=mark)
    await run.press(LEADER, "办结")
    await run.reply_to(LEADER, "办理结果", after=mark)
    fake.push_text(LEADER, "已更换灯泡")
    rating = await run.reply_to(RESIDENT, "已办结", after=mark)
    assert [b["text"] for b in rating.buttons] == ["满意", "基本满意", "不满意"]
    await run.press(RESIDENT, "满意")
    await run.reply_to(RESIDENT, "感谢您的评价", after=mark)
    async with run.app.db.read() as conn:
        ticket = await tickets.get_ticket(conn, 1)
        actions = [e.action for e in await tickets.events_of(conn, 1)]
    assert ticket is not None and ticket.status == "closed" and ticket.rating == "satisfied"
    assert actions == ["created", "routed", "notified", "acknowledged", "resolved", "rated", "closed"]
    assert len([m for m in fake.messages_to(LEADER) if "新工单 #1" in (m.text or "")]) == 1


async def test_press_by_someone_outside_the_grid_changes_nothing(run: TelegramRun) -> None:
    fake = run.fake
    await run.bind(LEADER, "g01-leader")
    await report_in_longchi(run)
    card = await run.reply_to(LEADER, "新工单 #1")
    ack = next(b["callback_data"] for b in card.buttons if b["text"] == "受理")
    mark = len(fake.sent)
    fake.push_callback(OUTSIDER, ack, message_chat_id=OUTSIDER)
    await run.reply_to(OUTSIDER, "不归您处理", after=mark)
    async with run.app.db.read() as conn:
        ticket = await tickets.get_ticket(conn, 1)
        actions = [e.action for e in await tickets.events_of(conn, 1)]
    assert ticket is not None and ticket.status == "routed"
    assert actions == ["created", "routed", "notified"]
    assert not [m for m in fake.messages_to(RESIDENT)[-1:] if "受理" in (m.text or "")]


async def test_group_gets_menus_but_reports_move_to_private_chat(run: TelegramRun) -> None:
    fake = run.fake
    fake.push_text(RESIDENT, "/report@weifengshan_bot", chat_id=GROUP, chat_type="supergroup")
    redirect = await run.reply_to(GROUP, "私聊")
    urls = [b.get("url") for b in redirect.buttons]
    assert urls == ["https://t.me/weifengshan_bot?start=report"]
    fake.push_text(RESIDENT, "/menu", chat_id=GROUP, chat_type="supergroup")
    menu = await run.reply_to(GROUP, "请选择")
    assert [b["text"] for b in menu.buttons] == ["微丰山", "微党建", "微服务"]
    # The deep link starts the report in private chat.
    fake.push_text(RESIDENT, "/start report")
    await run.reply_to(RESIDENT, "问题类别")


async def test_commands_registered_and_main_keyboard_is_persistent(run: TelegramRun) -> None:
    fake = run.fake
    assert {c["command"] for c in fake.commands} >= {"start", "menu", "report", "mytickets", "help", "bind"}
    fake.push_text(RESIDENT, "/start")
    welcome = await run.reply_to(RESIDENT, "欢迎")
    assert welcome.reply_markup is not None and welcome.reply_markup.get("is_persistent") is True
    fake.push_text(RESIDENT, "微党建")
    menu = await run.reply_to(RESIDENT, "【微党建】")
    assert len(menu.buttons) <= 5


async def test_429_is_retried_after_retry_after_and_sent_once(run: TelegramRun, clock: FakeClock) -> None:
    fake = run.fake
    fake.fail_next("sendMessage", status=429, retry_after=7, chat_id=RESIDENT)
    fake.push_text(RESIDENT, "/help")
    rows = await run.rows_when(RESIDENT, lambda rows: bool(rows) and rows[0].attempts == 1
                               and rows[0].status == "pending")
    assert rows[0].last_error == "429 flood control"
    clock.advance(seconds=6)
    run.app.notifier.outbox_queued()
    await run.rows_when(RESIDENT, lambda rows: rows[0].status == "pending")
    assert fake.messages_to(RESIDENT) == []  # not before retry_after has passed
    clock.advance(seconds=1)
    run.app.notifier.outbox_queued()
    await run.reply_to(RESIDENT, "使用说明")
    rows = await run.rows_when(RESIDENT, lambda rows: rows[0].status == "sent")
    assert [(r.status, r.attempts) for r in rows] == [("sent", 2)]
    assert len([m for m in fake.messages_to(RESIDENT) if "使用说明" in (m.text or "")]) == 1


async def test_403_is_recorded_as_failed_with_the_reason(run: TelegramRun) -> None:
    fake = run.fake
    fake.fail_next("sendMessage", status=403, chat_id=RESIDENT)
    fake.push_text(RESIDENT, "/help")
    rows = await run.rows_when(RESIDENT, lambda rows: bool(rows) and rows[0].status == "failed")
    assert "403" in rows[0].last_error and rows[0].attempts == 1
    assert fake.messages_to(RESIDENT) == []


async def test_photo_and_location_reach_the_leader_with_the_card(run: TelegramRun) -> None:
    fake = run.fake
    await run.bind(LEADER, "g01-leader")
    mark = len(fake.sent)
    fake.push_text(RESIDENT, "/report")
    await run.reply_to(RESIDENT, "问题类别", after=mark)
    await run.press(RESIDENT, "环境卫生")
    await run.reply_to(RESIDENT, "描述问题", after=mark)
    fake.push_photo(RESIDENT, "PHOTO-FILE-1", caption="垃圾堆在楼道口好几天了")
    await run.reply_to(RESIDENT, "哪个社区", after=mark)
    fake.push_location(RESIDENT, 32.30123, 118.31456)
    await run.reply_to(RESIDENT, "已添加位置", after=mark)
    fake.push_text(RESIDENT, "龙池花园5栋")
    await run.reply_to(RESIDENT, "单元和门牌号", after=mark)  # issue 13: the flat, optional
    await run.press(RESIDENT, "跳过")
    await run.reply_to(RESIDENT, "留个电话", after=mark)
    await run.press(RESIDENT, "不留电话")
    summary = await run.reply_to(RESIDENT, "请确认", after=mark)
    assert "照片：1 张" in (summary.text or "") and "位置：已添加" in (summary.text or "")
    await run.press(RESIDENT, "提交")
    card = await run.reply_to(LEADER, "新工单 #1", after=mark)
    assert "32.30123, 118.31456" in (card.text or "")
    photo = await fake.wait_for(lambda m: m.chat_id == LEADER and m.method == "sendPhoto", after=mark)
    assert photo.photo == "PHOTO-FILE-1" and "#1" in (photo.text or "")


async def test_a_card_does_not_wait_for_a_slow_send_already_in_flight(run: TelegramRun) -> None:
    """A send whose answer is slow (2 s) holds only itself: a card queued meanwhile goes out at
    once instead of after it (the sender claims new rows while others are in flight)."""
    fake = run.fake
    fake.delay_next("sendMessage", 2.0)
    async with run.app.db.transaction() as conn:
        await outbox.enqueue(conn, "telegram", str(RESIDENT), {"text": "慢的回复"}, run.app.clock.now())
    run.app.notifier.outbox_queued()
    await run.reply_to(RESIDENT, "慢的回复")  # recorded at once; its answer comes 2 s later
    async with run.app.db.transaction() as conn:
        await outbox.enqueue(conn, "telegram", str(LEADER), {"text": "【新工单 #9】"}, run.app.clock.now(),
                             kind="card")
    run.app.notifier.outbox_queued()
    started = time.monotonic()
    await fake.wait_for(lambda m: m.chat_id == LEADER and "新工单 #9" in (m.text or ""), timeout=1.5)
    assert time.monotonic() - started < 1.5
    rows = await run.rows_when(RESIDENT, lambda rows: rows[0].status in ("sending", "sent"))
    assert rows[0].status == "sending"  # the slow one was still waiting for its answer
