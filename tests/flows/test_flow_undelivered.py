"""Notices the platform refused for good (WeChat's window closed …) are shown once in 我的工单."""

from __future__ import annotations

import pytest

from bot.app import App
from storage import outbox, reads
from storage.clock import FakeClock
from storage.outbox import OutboxRow, OutboxStatus
from tests.chat import ChatUser, bind, file_report, pause, read

HEADER = "以下通知未能及时送达："


@pytest.fixture
def neighbour(app: App) -> ChatUser:
    return ChatUser(app, "resident-2")


async def rows(app: App) -> list[OutboxRow]:
    return await read(app, reads.outbox_rows)


async def failed_row(app: App, chat_id: str, kind: str, text: str, ticket_id: int | None = None) -> None:
    """A message the platform refused for good, as the sender records it."""
    async with app.db.transaction() as conn:
        row_id = await outbox.enqueue(conn, "console", chat_id, {"text": text}, app.clock.now(), kind=kind,
                                      ticket_id=ticket_id)
        await outbox.mark_final(conn, row_id, OutboxStatus.FAILED, "window closed")


async def fail_notices(app: App, user: ChatUser) -> None:
    """What the sender does when WeChat refuses a push for good."""
    async with app.db.transaction() as conn:
        await conn.execute(
            "UPDATE outbox SET status = 'failed', last_error = 'window closed'"
            " WHERE kind = 'resident_notice' AND chat_id = ?", (user.user_id,))


async def test_missed_notices_are_shown_once(
    app: App, clock: FakeClock, resident: ChatUser, leader: ChatUser
) -> None:
    await bind(app, leader, "g01-leader")
    await file_report(resident)
    await leader.say("受理 1")
    await leader.say("办结 1 已更换灯泡")
    await fail_notices(app, resident)
    clock.advance(hours=3)

    await resident.say("/mytickets")
    missed, listing = resident.seen[-2:]
    assert missed.text == (
        f"{HEADER}\n"
        "#1 您反映的问题 #1（水电维修）已由支部网格长 万秀英 受理，正在处理。\n"
        "#1 您反映的问题 #1（水电维修）已办结：已更换灯泡 请您评价：")
    assert listing.text == "您最近的工单（点击查看详情）："
    assert {row.shown_at for row in await rows(app) if row.status == "failed"} == {clock.now()}

    await resident.say("/mytickets")  # once only
    assert HEADER not in resident.text
    assert resident.text == "您最近的工单（点击查看详情）："


async def test_menu_entry_shows_them_too(app: App, resident: ChatUser, leader: ChatUser) -> None:
    await bind(app, leader, "g01-leader")
    await file_report(resident)
    await leader.say("受理 1")
    await fail_notices(app, resident)
    await resident.say("微服务")
    await resident.press("我的工单")
    assert resident.text.startswith(f"{HEADER}\n#1 您反映的问题 #1")


async def test_other_residents_failed_notices_are_never_shown(
    app: App, resident: ChatUser, neighbour: ChatUser, leader: ChatUser
) -> None:
    await bind(app, leader, "g01-leader")
    await file_report(resident)
    await file_report(neighbour, category="环境卫生", description="楼下垃圾桶满了", address="龙池花园5栋")
    await leader.say("受理 2")
    await fail_notices(app, neighbour)

    await resident.say("/mytickets")
    assert HEADER not in resident.text
    assert [row for row in await rows(app) if row.shown_at] == []

    await neighbour.say("/mytickets")
    assert neighbour.seen[-2].text == (
        f"{HEADER}\n#2 您反映的问题 #2（环境卫生/垃圾分类）已由支部网格长 万秀英 受理，正在处理。")


async def test_all_the_residents_accounts_count_and_a_notice_is_listed_once(
    app: App, resident: ChatUser, leader: ChatUser
) -> None:
    await bind(app, leader, "g01-leader")
    await file_report(resident)
    await leader.say("受理 1")
    async with app.db.transaction() as conn:  # the same resident also reached on another channel
        await conn.execute("INSERT INTO accounts (channel, external_id, chat_id, resident_id)"
                           " SELECT 'wechat', 'openid-1', 'openid-1', resident_id FROM accounts"
                           " WHERE external_id = 'resident-1'")
        await conn.execute("INSERT INTO outbox (channel, chat_id, kind, ticket_id, payload, status,"
                           " next_attempt_at, created_at) SELECT 'wechat', 'openid-1', kind, ticket_id,"
                           " payload, status, next_attempt_at, created_at FROM outbox"
                           " WHERE kind = 'resident_notice'")
        await conn.execute("UPDATE outbox SET status = 'failed' WHERE kind = 'resident_notice'")
    await resident.say("/mytickets")
    assert resident.seen[-2].text == (
        f"{HEADER}\n#1 您反映的问题 #1（水电维修）已由支部网格长 万秀英 受理，正在处理。")
    assert [row.channel for row in await rows(app) if row.shown_at] == ["console", "wechat"]


async def test_delivered_notices_and_other_kinds_are_not_listed(
    app: App, resident: ChatUser, leader: ChatUser
) -> None:
    await bind(app, leader, "g01-leader")
    await file_report(resident)
    await leader.say("受理 1")  # a resident_notice that stays pending (not failed)
    await failed_row(app, "resident-1", "reply", "hi")  # a failed reply and a failed staff card
    async with app.db.transaction() as conn:
        await conn.execute("UPDATE outbox SET status = 'failed' WHERE kind = 'card'")
    await resident.say("/mytickets")
    assert HEADER not in resident.text
    await leader.say("/mytickets")
    assert HEADER not in leader.text


async def test_many_missed_notices_are_summarised(app: App, resident: ChatUser, leader: ChatUser) -> None:
    await bind(app, leader, "g01-leader")
    for n in range(12):
        await file_report(resident, description=f"{n + 1}栋楼道灯坏了，晚上很黑", address=f"龙池花园{n % 8 + 1}栋")
        pause(app)
    for ticket_id in range(1, 13):
        await leader.say(f"受理 {ticket_id}")
    await fail_notices(app, resident)

    await resident.say("/mytickets")
    lines = resident.seen[-2].text.splitlines()
    assert lines[0] == HEADER
    assert lines[1].startswith("#3 ") and lines[10].startswith("#12 ")  # the newest ten
    assert lines[11] == "……另有 2 条较早的通知，点工单可查看处理记录。"
    assert [row for row in await rows(app) if row.shown_at is None and row.status == "failed"] == []


async def test_a_follower_without_own_tickets_sees_them_too(
    app: App, resident: ChatUser, neighbour: ChatUser, leader: ChatUser
) -> None:
    await bind(app, leader, "g01-leader")
    await file_report(resident)
    await neighbour.say("/mytickets")  # registers the neighbour's account
    # A 我也遇到 notice that WeChat refused.
    await failed_row(app, "resident-2", "resident_notice", "您反映的问题 #1 已转交 醉翁小区网格 处理。", ticket_id=1)
    await neighbour.say("/mytickets")
    assert neighbour.text == (f"{HEADER}\n#1 您反映的问题 #1 已转交 醉翁小区网格 处理。\n"
                              "您还没有反映过问题。需要反映请发送「我要反映」。")


async def test_a_notice_given_up_on_with_its_outcome_unknown_is_shown_too(
    app: App, resident: ChatUser, leader: ChatUser
) -> None:
    """A notice whose every try ended unknown (the platform always answered too late) may never
    have arrived: the sender gave up on it as uncertain, and 我的工单 lists it like a failed one."""
    await bind(app, leader, "g01-leader")
    await file_report(resident)
    await leader.say("受理 1")
    async with app.db.transaction() as conn:
        await conn.execute(
            "UPDATE outbox SET status = 'uncertain', last_error = 'gave up: read timeout'"
            " WHERE kind = 'resident_notice' AND chat_id = ?", (resident.user_id,))
    await resident.say("/mytickets")
    assert resident.seen[-2].text.startswith(f"{HEADER}\n#1 您反映的问题 #1（水电维修）已由支部网格长")
