"""我的数据, erasure on request and retention (PIPL): transcripts plus the database they leave."""

from __future__ import annotations

import json
from dataclasses import replace

from bot.app import App
from bot.bootstrap import build_scheduler
from handlers.texts import ZH
from handlers.types import Channel, Incoming
from storage import inbox, outbox, reads, tickets
from storage.clock import FakeClock
from storage.privacy import add_tag, resident_data
from tests.chat import ChatUser, all_tickets, audit, bind, file_report, pause, read, ticket_row


async def tag(app: App, user: ChatUser, *tags: str) -> None:
    resident_id = (await user.account()).resident_id
    async with app.db.transaction() as conn:
        for name in tags:
            await add_tag(conn, resident_id, name, app.clock.now())


async def audit_rows(app: App) -> list[tuple]:
    """Every audit row but its free-text note (the one field erasure may blank)."""
    return [(e.id, e.ticket_id, e.at, e.actor_kind, e.actor_id, e.action, e.data) for e in await audit(app)]


async def test_my_data_shows_what_is_kept_only_in_private(app: App, resident: ChatUser) -> None:
    await file_report(resident, phone="13812345678")
    await tag(app, resident, "空巢老人")
    await resident.say("我的数据")
    text = resident.text
    assert "138****5678" in text and "13812345678" not in text
    assert "龙池花园3栋" in text and "共 1 件，办理中 1 件" in text
    assert "空巢老人" in text and "仅您本人可见" in text
    assert resident.options == ["修改地址", "删除我的数据", "打开菜单"]  # issue 13: 修改地址 added

    await resident.say("/mydata", group=True)
    assert "空巢老人" not in resident.text and "138" not in resident.text
    await resident.press_data("pd:ask", group=True)
    assert "空巢老人" not in resident.text and "确定要删除" not in resident.text


async def test_erasure_removes_personal_data_everywhere_and_keeps_the_audit(
    app: App, resident: ChatUser, leader: ChatUser
) -> None:
    """A resident with an open and a closed ticket, a photo, added text, a care tag and raw
    messages asks for erasure: every personal field goes, open tickets are withdrawn and
    their leader told, the audit log keeps every row."""
    await bind(app, leader, "g01-leader")
    closed = await file_report(resident, description="楼道灯坏了，我是独居老人", phone="13812345678")
    await leader.press_data(f"t:ack:{closed}")
    await leader.press_data(f"t:res:{closed}")
    await leader.say("已更换灯泡，张阿姨家门口")
    await resident.press_data(f"rate:{closed}:satisfied")
    pause(app)
    opened = await file_report(resident, category="环境卫生", description="垃圾没人收")
    await resident.press_data(f"my:add:{opened}")
    await resident.photo("photo-of-my-door")
    await resident.press_data(f"my:add:{opened}")
    await resident.say("我住在3单元502")
    await tag(app, resident, "残疾人")
    # A raw message in the inbox, handled through the engine like a channel's update.
    async with app.db.transaction() as conn:
        await inbox.store(conn, "console", "raw-1", json.dumps({"text": "我的身份证 340102199001011234"}),
                          app.clock.now())
        stored = await inbox.by_platform_id(conn, "console", "raw-1")
    assert stored is not None
    await app.engine.handle_stored(Incoming(Channel.CONSOLE, resident.user_id, resident.user_id,
                                            text="我的身份证 340102199001011234"), stored.id)
    events_before = await audit_rows(app)

    await resident.say("我的数据")
    await resident.press("删除我的数据")
    assert "1 件工单在办理中" in resident.text
    await resident.press("确认删除")
    assert "已删除您的个人信息（涉及 2 件工单的内容）" in resident.text

    resident_id = (await resident.account()).resident_id
    home = await resident.resident()
    assert (home.display_name, home.phone, home.compound, home.building) == ("", "", None, None)
    assert await read(app, reads.erased_residents) == [resident_id]
    assert (await read(app, resident_data, resident_id)).tags == ()
    for ticket_id in (closed, opened):
        row = await ticket_row(app, ticket_id)
        assert (row.description, row.phone, row.result_note) == ("", "", "")
    assert (await ticket_row(app, opened)).status.value == "cancelled"
    assert await read(app, reads.photos) == []
    assert [e.note for e in await audit(app) if e.note] == []
    # The audit log keeps every row it had, unchanged but for the notes; the withdrawal is added.
    events_after = await audit_rows(app)
    assert events_after[:len(events_before)] == events_before
    assert [e[5] for e in events_after[len(events_before):]] == ["cancelled"]
    assert [item.payload for item in await read(app, reads.inbox_items) if item.platform_id == "raw-1"] == [""]
    assert (await leader.inbox())[-1].text == ZH["card_cancelled"].format(id=opened)
    everything = str(await all_tickets(app)) + json.dumps(
        [row.payload for row in await read(app, outbox.rows_for, "console", resident.user_id)], ensure_ascii=False)
    for secret in ("独居老人", "13812345678", "3单元502", "张阿姨", "340102199001011234", "残疾人"):
        assert secret not in everything

    await resident.say("我的数据")
    assert "称呼：（无）" in resident.text and "共 2 件，办理中 0 件" in resident.text


async def test_keeping_changes_nothing(app: App, resident: ChatUser) -> None:
    await file_report(resident, phone="13812345678")
    await resident.say("我的数据")
    await resident.press("删除我的数据")
    await resident.press("保留")
    assert resident.text == "好的，您的数据保持不变。"
    assert (await ticket_row(app, 1)).phone == "13812345678"


async def test_retention_purges_old_closed_tickets_only_and_keeps_the_counts(
    app: App, clock: FakeClock, resident: ChatUser, leader: ChatUser
) -> None:
    """Closed tickets older than privacy.retention_days lose their personal fields at the next
    scheduler run; newer and open ones keep them; the 三率 and the audit rows stay."""
    await bind(app, leader, "g01-leader")
    old = await file_report(resident, description="旧的反映", phone="13812345678")
    await leader.press_data(f"t:ack:{old}")
    await leader.press_data(f"t:res:{old}")
    await leader.say("已处理")
    await resident.press_data(f"rate:{old}:satisfied")
    clock.advance(days=app.config.privacy.retention_days - 10)
    still_open = await file_report(ChatUser(app, "resident-2"), description="仍在办理", address="翠园3栋")
    events = await read(app, tickets.events_of, old)
    scheduler = build_scheduler(app)

    await scheduler.run_due()
    assert (await ticket_row(app, old)).description == "旧的反映"  # not yet: 355 days
    clock.advance(days=11)
    await scheduler.run_due()
    purged = await ticket_row(app, old)
    assert (purged.description, purged.phone, purged.result_note) == ("", "", "")
    assert purged.status.value == "closed" and purged.rating is not None
    assert (await ticket_row(app, still_open)).description == "仍在办理"
    # Every audit row stays; only the leader's free-text note was blanked.
    assert [replace(e, note="") for e in await read(app, tickets.events_of, old)] \
        == [replace(e, note="") for e in events]
    assert [e.note for e in await read(app, tickets.events_of, old) if e.note] == []
    assert "旧的反映" not in str([row.payload for row in await read(app, reads.outbox_rows) if row.ticket_id == old])
