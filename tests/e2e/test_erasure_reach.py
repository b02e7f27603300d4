"""Erasure reaches every copy: after 我的数据 → 删除 over real Telegram, no text column of any
table still holds the resident's phone (in any written form), her description or what she added —
not in her own rows, and not in the copies the bot made for others: a neighbour's duplicate hint
(outbox) and his press on it (inbox, the message embedded), the leader's presses on her card
(inbox) and his typed 办结 note quoting her phone (inbox), the follower's notices (outbox)."""

from __future__ import annotations

import asyncio
import json
import re
import unicodedata

import pytest

from bot.app import App
from bot.bootstrap import build_scheduler
from storage import reads
from storage.clock import FakeClock
from tests.bot_run import BotRun
from tests.chat import ChatUser, bind, file_report, query, read
from tests.telegram_harness import TelegramRun

RESIDENT = 1101
NEIGHBOUR = 1102
LEADER = 2101
PHONE = "13812345678"
DESCRIPTION = "楼道声控灯坏了一个多星期，我是独居老人晚上下楼看不见，家住3栋2单元301"
ADDED = "门口的灯也一闪一闪的，我腿脚不好走路要扶墙"
LEADER_NOTE = "王女士电话 +86 138-1234-5678 已回访，她说灯已经亮了"
SETTLED = ("sent", "failed", "uncertain")


def squeeze(text: str) -> str:
    """What a copy reads as, whatever its form: NFKC, no separators, no +86."""
    return re.sub(r"[\s\-‐–—·.()（）+]", "", unicodedata.normalize("NFKC", text))


def windows(text: str, size: int = 8) -> set[str]:
    squeezed = squeeze(text)
    return {squeezed[i:i + size] for i in range(0, max(len(squeezed) - size, 0) + 1)}


SECRETS = {PHONE, "138****5678"} | windows(DESCRIPTION) | windows(ADDED)


async def every_text_value(run: BotRun) -> list[tuple[str, str, str]]:
    """(table, column, value) for every text value of every table, read from sqlite_master so a
    table added later is covered too."""
    found: list[tuple[str, str, str]] = []
    tables = [row[0] for row in await query(
        run.app, "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")]
    for table in tables:
        columns = [row[1] for row in await query(run.app, f'PRAGMA table_info("{table}")')]
        for row in await query(run.app, f'SELECT * FROM "{table}"'):
            found += [(table, column, value) for column, value in zip(columns, row, strict=True)
                      if isinstance(value, str)]
    return found


async def leaks(run: BotRun) -> list[str]:
    """Where a secret is still found: table.column and the secret."""
    found = []
    for table, column, value in await every_text_value(run):
        squeezed = squeeze(value)
        hits = sorted(secret for secret in SECRETS if secret in squeezed)
        if hits:
            found.append(f"{table}.{column}: {hits[0]!r} (+{len(hits) - 1} more)")
    return found


async def settled(run: BotRun) -> None:
    """Every queued message has left (so no copy is still in a sender's hands)."""
    for _ in range(250):
        busy = await query(run.app, "SELECT COUNT(*) FROM outbox WHERE status NOT IN (?, ?, ?)", *SETTLED)
        if busy == [(0,)]:
            return
        run.app.notifier.outbox_queued()
        await asyncio.sleep(0.02)
    raise AssertionError("the outbox never settled")


async def neighbour_up_to_phone(run: TelegramRun, mark: int) -> None:
    """The neighbour reports the same problem in the same building, up to the phone step."""
    fake = run.fake
    fake.push_text(NEIGHBOUR, "/report")
    await run.reply_to(NEIGHBOUR, "问题类别", after=mark)
    await run.press(NEIGHBOUR, "水电维修")
    await run.reply_to(NEIGHBOUR, "描述问题", after=mark)
    fake.push_text(NEIGHBOUR, "我们这层的灯也不亮")
    await run.reply_to(NEIGHBOUR, "哪个社区", after=mark)
    fake.push_text(NEIGHBOUR, "龙池花园3号楼")
    await run.reply_to(NEIGHBOUR, "单元和门牌号", after=mark)  # issue 13: the flat, optional
    await run.press(NEIGHBOUR, "跳过")
    await run.reply_to(NEIGHBOUR, "留个电话", after=mark)


async def neighbour_says_me_too(run: TelegramRun) -> None:
    """The neighbour reports the same problem in the same building: the summary carries the
    duplicate hint (category, time and state only since issue 10), and he presses 我也遇到."""
    mark = len(run.fake.sent)
    await neighbour_up_to_phone(run, mark)
    await run.press(NEIGHBOUR, "不留电话")
    await run.reply_to(NEIGHBOUR, "同一楼栋已有类似反映", after=mark)
    await run.press(NEIGHBOUR, "我也遇到")
    await run.reply_to(NEIGHBOUR, "已记录", after=mark)


async def test_erasure_reaches_the_copies_made_for_others(run: TelegramRun) -> None:
    fake = run.fake
    await run.bind(LEADER, "g01-leader")
    mark = await run.file_report(RESIDENT, DESCRIPTION, phone=PHONE)
    await run.reply_to(LEADER, "新工单 #1", after=mark)
    await neighbour_says_me_too(run)
    # She adds information; the leader gets it as a notice.
    mark = len(fake.sent)
    fake.push_callback(RESIDENT, "my:add:1")
    await run.reply_to(RESIDENT, "请发送要补充的文字", after=mark)
    fake.push_text(RESIDENT, ADDED)
    await run.reply_to(LEADER, "补充信息", after=mark)
    # The leader presses the card's buttons and types the 办结 note, quoting her phone.
    await run.press(LEADER, "受理")
    await run.reply_to(RESIDENT, "已由支部网格长", after=mark)
    await run.press(LEADER, "办结")
    await run.reply_to(LEADER, "办理结果", after=mark)
    fake.push_text(LEADER, LEADER_NOTE)
    await run.reply_to(RESIDENT, "已办结", after=mark)
    await settled(run)
    assert await leaks(run), "the scenario must have left copies to erase"
    inbox_rows = await query(run.app, "SELECT COUNT(*) FROM inbox")
    hint_rows = await query(run.app, "SELECT id, status FROM outbox WHERE chat_id = ? AND payload LIKE ?",
                            str(NEIGHBOUR), "%同一楼栋已有类似反映%")
    assert [status for _, status in hint_rows] == ["sent"]

    mark = len(fake.sent)
    fake.push_text(RESIDENT, "我的数据")
    await run.reply_to(RESIDENT, "我的数据", after=mark)
    await run.press(RESIDENT, "删除我的数据")
    await run.reply_to(RESIDENT, "确定要删除", after=mark)
    await run.press(RESIDENT, "确认删除")
    await run.reply_to(RESIDENT, "已删除您的个人信息", after=mark)
    await settled(run)
    await build_scheduler(run.app).run_due()  # what was still in flight is blanked once it has left

    left = await leaks(run)
    assert not left, "still there after erasure:\n" + "\n".join(left)
    # Copies are blanked, not deleted: the rows and their delivery state stay.
    assert await query(run.app, "SELECT COUNT(*) FROM inbox") >= inbox_rows
    assert await query(run.app, "SELECT id, status FROM outbox WHERE id = ?", hint_rows[0][0]) \
        == [(hint_rows[0][0], "sent")]


async def test_a_copy_still_to_be_delivered_goes_out_then_is_blanked(run: TelegramRun, clock: FakeClock) -> None:
    """The neighbour's summary with the hint is waiting out a 429 when she erases: it is still
    delivered (it is his message, mid-report). Since the hint names only category, time and
    state it holds nothing of hers, so it is kept as it is, and nothing of hers is left."""
    fake = run.fake
    await run.file_report(RESIDENT, DESCRIPTION, phone=PHONE)
    mark = len(fake.sent)
    await neighbour_up_to_phone(run, mark)
    fake.fail_next("sendMessage", status=429, retry_after=30, chat_id=NEIGHBOUR)
    await run.press(NEIGHBOUR, "不留电话")
    rows = await run.rows_when(NEIGHBOUR, lambda rows: rows[-1].attempts == 1 and rows[-1].status == "pending")
    hint = rows[-1]
    assert "同一楼栋已有类似反映" in hint.payload["text"]

    mark = len(fake.sent)
    fake.push_text(RESIDENT, "我的数据")
    await run.reply_to(RESIDENT, "我的数据", after=mark)
    await run.press(RESIDENT, "删除我的数据")
    await run.reply_to(RESIDENT, "确定要删除", after=mark)
    await run.press(RESIDENT, "确认删除")
    await run.reply_to(RESIDENT, "已删除您的个人信息", after=mark)
    clock.advance(seconds=31)
    run.app.notifier.outbox_queued()
    await run.reply_to(NEIGHBOUR, "同一楼栋已有类似反映", after=mark)
    await settled(run)
    await build_scheduler(run.app).run_due()
    [(status, payload)] = await query(run.app, "SELECT status, payload FROM outbox WHERE id = ?", hint.id)
    assert status == "sent" and "同一楼栋已有类似反映" in payload and DESCRIPTION[:8] not in payload
    left = await leaks(run)
    assert not left, "still there after erasure:\n" + "\n".join(left)


@pytest.mark.parametrize("written", [
    "138 1234 5678", "+8613812345678", "+86 138-1234-5678", "１３８１２３４５６７８", "138.1234.5678",
])
async def test_a_note_quoting_her_phone_in_any_form_is_blanked(app: App, written: str) -> None:
    """The leader's typed 办结 note (his inbox item and the notices quoting it) goes, whichever
    way he wrote her number; his other messages stay."""
    resident, leader = ChatUser(app, "resident-1"), ChatUser(app, "leader-g01")
    await bind(app, leader, "g01-leader")
    ticket = await file_report(resident, description="水管漏水好几天了", phone=PHONE)
    await leader.press_data(f"t:ack:{ticket}")
    await leader.say(f"办结 {ticket} 王女士{written}已回访")  # stored in the inbox, as every intake does
    await leader.say("今天下午开会")
    note_id, other_id = leader.stored[-2:]
    await resident.say("我的数据")
    await resident.press("删除我的数据")
    await resident.press("确认删除")

    stored = {item.id: item for item in await read(app, reads.inbox_items)}
    assert stored[note_id].payload == ""
    assert "今天下午开会" in stored[other_id].payload
    everything = json.dumps([[row.payload for row in await read(app, reads.outbox_rows)],
                             [(item.payload, item.response) for item in stored.values()]], ensure_ascii=False)
    assert squeeze(written) not in squeeze(everything) and PHONE not in squeeze(everything)
    assert "水管漏水" not in everything
