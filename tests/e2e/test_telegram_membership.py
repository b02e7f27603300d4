"""Groups the bot is added to or removed from (my_chat_member), and whose button a press is."""

from __future__ import annotations

import asyncio
import json
import logging

import pytest

from tests.chat import query
from tests.spec_updates import DATE, build, chat, user
from tests.telegram_harness import TelegramRun

ADMIN = 9001
GROUP = -5001
LEADER = 2001
RESIDENT = 1001
OTHER = 1002


def membership(actor: int, group: int, old: str, new: str) -> dict:
    bot = {"id": 123456, "is_bot": True, "first_name": "微丰山", "username": "weifengshan_bot"}
    status = {"left": "ChatMemberLeft", "kicked": "ChatMemberBanned", "member": "ChatMemberMember",
              "administrator": "ChatMemberAdministrator"}
    extra = {"kicked": {"until_date": 0}}
    return {"my_chat_member": build(
        "ChatMemberUpdated", chat=chat(group, False), date=DATE, **{"from": user(actor)},
        old_chat_member=build(status[old], user=bot, **extra.get(old, {})),
        new_chat_member=build(status[new], user=bot, **extra.get(new, {})))}


async def final_status(run: TelegramRun, update_id: int) -> tuple[str, str]:
    """(status, error) of an update once it is no longer pending."""
    for _ in range(400):
        rows = await query(run.app, "SELECT status, error FROM inbox WHERE platform_id = ?", str(update_id))
        if rows and rows[0][0] != "pending":
            return rows[0]
        await asyncio.sleep(0.025)
    raise AssertionError(f"update {update_id} still pending")


async def test_a_group_that_adds_the_bot_is_greeted_with_how_to_bind_it(run: TelegramRun) -> None:
    run.fake.push_raw(membership(RESIDENT, GROUP, "left", "member"))
    greeting = await run.reply_to(GROUP, "/bindgroup")
    assert "管理员" in (greeting.text or "")
    assert await query(run.app, "SELECT chat_id, status, changed_by FROM chat_memberships") == [
        (str(GROUP), "member", str(RESIDENT))]
    assert await query(run.app, "SELECT status, error FROM inbox") == [("done", "")]


async def test_a_group_that_removes_the_bot_is_unbound_at_once_and_the_admins_told(run: TelegramRun) -> None:
    fake = run.fake
    await run.bind(ADMIN, "sd-admin-1")
    fake.push_raw(membership(ADMIN, GROUP, "left", "member"))
    await run.reply_to(GROUP, "/bindgroup")
    fake.push_text(ADMIN, "/bindgroup longchi", chat_id=GROUP, chat_type="supergroup")
    await run.reply_to(GROUP, "已绑定")
    sent_to_group = len(fake.messages_to(GROUP))

    mark = len(fake.sent)
    fake.push_raw(membership(RESIDENT, GROUP, "member", "kicked"))
    notice = await run.reply_to(ADMIN, "移出", after=mark)
    assert "测试群" in (notice.text or "")
    assert await query(run.app, "SELECT status FROM group_targets WHERE chat_id = ?", str(GROUP)) == [("disabled",)]
    assert await query(run.app, "SELECT status FROM chat_memberships WHERE chat_id = ?", str(GROUP)) == [("left",)]
    assert len(fake.messages_to(GROUP)) == sent_to_group  # learnt without a 403
    # Told once, even if Telegram repeats itself.
    fake.push_raw(membership(RESIDENT, GROUP, "member", "left"))
    fake.push_text(ADMIN, "/help")
    await run.reply_to(ADMIN, "使用说明", after=mark)
    assert len([m for m in fake.messages_to(ADMIN) if "移出" in (m.text or "")]) == 1


async def test_a_press_on_a_message_in_another_persons_chat_is_refused(
    run: TelegramRun, caplog: pytest.LogCaptureFixture
) -> None:
    """Issue 10, item 9: replies followed message.chat, not the presser. A leader pressing 受理
    with the message placed in the resident's private chat acknowledged the ticket and answered
    into the resident's chat."""
    fake = run.fake
    await run.bind(LEADER, "g01-leader")
    await run.file_report(RESIDENT, "楼道灯坏了很久了")
    card = await run.reply_to(LEADER, "新工单 #1")
    ack = next(b["callback_data"] for b in card.buttons if b["text"] == "受理")
    await run.rows_when(RESIDENT, lambda rows: rows and all(r.status == "sent" for r in rows))
    before = len(fake.messages_to(RESIDENT))
    outbox_before = await query(run.app, "SELECT COUNT(*) FROM outbox")

    caplog.set_level(logging.INFO)
    update_id = fake.push_callback(LEADER, ack, message_chat_id=RESIDENT, message_id=card.message_id)
    rows = await final_status(run, update_id)
    assert rows == ("skipped", "refused: pressed on a message in another private chat")
    assert await query(run.app, "SELECT status FROM tickets WHERE id = 1") == [("routed",)]
    assert await query(run.app, "SELECT COUNT(*) FROM outbox") == outbox_before
    assert len(fake.messages_to(RESIDENT)) == before
    refusals = [r for r in caplog.records if "refused" in r.getMessage()]
    assert len(refusals) == 1 and ack not in refusals[0].getMessage()
    assert "楼道灯" not in refusals[0].getMessage()
    # The same leader pressing in their own chat still works.
    mark = len(fake.sent)
    await run.press(LEADER, "受理")
    await run.reply_to(RESIDENT, "已由支部网格长", after=mark)


async def test_a_handled_press_keeps_no_copy_of_the_card(run: TelegramRun) -> None:
    """Issue 10: the card a button was attached to holds the resident's text; the stored press
    keeps only which chat and message it was."""
    fake = run.fake
    await run.bind(LEADER, "g01-leader")
    await run.file_report(RESIDENT, "楼道灯坏了很久了")
    card = await run.reply_to(LEADER, "新工单 #1")
    mark = len(fake.sent)
    update_id = await run.press(LEADER, "受理")
    await run.reply_to(RESIDENT, "已由支部网格长", after=mark)
    [(status, payload)] = await query(run.app, "SELECT status, payload FROM inbox WHERE platform_id = ?",
                                      str(update_id))
    assert status == "done" and "楼道灯" not in payload
    stored = json.loads(payload)["callback_query"]
    assert stored["message"] == {"message_id": card.message_id, "chat": {"id": LEADER, "type": "private"}}
    assert stored["data"].startswith("t:") and stored["from"]["id"] == LEADER
