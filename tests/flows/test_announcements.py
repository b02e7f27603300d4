"""Announcements: scheduled in chat by an admin, sent to bound groups on time, once, and reported."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.app import App
from bot.bootstrap import build_app, build_scheduler
from bot.config import Config
from handlers.types import Channel
from storage import announcements, groups, reads
from storage.clock import FakeClock, stamp
from tests.chat import ChatUser, bind, file_report, pause, read

GROUPS = {"-1001": "longchi", "-1002": "nanqiao", "-1003": "G01"}


async def in_group(app: App, user: ChatUser, chat_id: str, text: str) -> list[str]:
    return [r.text for r in await user.say_in_group(text, chat_id, title=f"群{chat_id}")]


@pytest.fixture
async def admin(app: App) -> ChatUser:
    user = ChatUser(app, "9001", channel=Channel.TELEGRAM)
    await bind(app, user, "sd-admin-1")
    for chat_id, area in GROUPS.items():
        [answer] = await in_group(app, user, chat_id, f"/bindgroup {area}")
        assert "已绑定" in answer
    return user


async def group_posts(app: App) -> list[tuple[str, str]]:
    return [(row.chat_id, row.payload["text"]) for row in await read(app, reads.outbox_rows)
            if row.kind == "announcement"]


async def runs(app: App) -> list[tuple[str, int]]:
    """(outcome, targets) of every announcement run, in the order they ran."""
    return [(outcome, targets) for _, outcome, targets in await read(app, reads.announcement_runs)]


async def schedule(admin: ChatUser, text: str, target: str, when: str, signup: str = "") -> int:
    await admin.say("/announce")
    await admin.say(text)
    if target in ("全部群", "龙池社区", "南桥社区"):
        await admin.press(target)
    else:
        await admin.say(target)
    await admin.say(when)
    if signup:
        await admin.say(signup)
    elif "需要报名吗" in admin.text:  # repeating posts skip the sign-up step
        await admin.press("不需要报名")
    assert "请确认公告" in admin.text, admin.text
    await admin.press("确认发布")
    assert "已安排" in admin.text, admin.text
    return int(admin.text.split("#")[1].split(" ")[0])


async def test_only_admins_bind_groups(app: App) -> None:
    resident = ChatUser(app, "5001", channel=Channel.TELEGRAM)
    assert "只有街道管理员" in (await in_group(app, resident, "-1009", "/bindgroup longchi"))[0]
    leader = ChatUser(app, "5002", channel=Channel.TELEGRAM)
    await bind(app, leader, "g01-leader")
    assert "只有街道管理员" in (await in_group(app, leader, "-1009", "/bindgroup longchi"))[0]
    assert await read(app, groups.all_targets) == []


async def test_one_off_reaches_every_group_at_its_minute_once(app: App, admin: ChatUser, clock: FakeClock) -> None:
    # FakeClock starts at 10:00 Beijing time.
    await schedule(admin, "周六上午社区义诊，欢迎参加", "全部群", "10:02")
    scheduler = build_scheduler(app)
    assert await scheduler.run_due() == 0
    clock.advance(seconds=119)
    await scheduler.run_due()
    assert await group_posts(app) == []
    clock.advance(seconds=1)
    await scheduler.run_due()
    await scheduler.run_due()
    posts = await group_posts(app)
    assert sorted(chat for chat, _ in posts) == sorted(GROUPS)
    assert all(text == "📢 周六上午社区义诊，欢迎参加" for _, text in posts)


async def test_a_restart_keeps_what_was_scheduled(config: Config, clock: FakeClock, tmp_path: Path) -> None:
    first = await build_app(config, clock, tmp_path / "restart.db")
    admin = ChatUser(first, "9001", channel=Channel.TELEGRAM)
    await bind(first, admin, "sd-admin-1")
    await in_group(first, admin, "-1001", "/bindgroup longchi")
    await schedule(admin, "停水通知：明天 8-12 点", "龙池社区", "明天 07:00")
    await first.close()
    clock.advance(hours=21)  # 07:00 the next day
    second = await build_app(config, clock, tmp_path / "restart.db")
    try:
        await build_scheduler(second).run_due()
        assert await group_posts(second) == [("-1001", "📢 停水通知：明天 8-12 点")]
    finally:
        await second.close()


async def test_targets_follow_community_and_grid(app: App, admin: ChatUser, clock: FakeClock) -> None:
    await schedule(admin, "龙池社区通知", "龙池社区", "立即")
    pause(app)
    await schedule(admin, "G01 网格通知", "G01", "立即")
    pause(app)
    await schedule(admin, "南桥社区通知", "南桥社区", "立即")
    await build_scheduler(app).run_due()
    posts = await group_posts(app)
    assert sorted(c for c, t in posts if "龙池社区通知" in t) == ["-1001", "-1003"]  # the G01 group is in longchi
    assert sorted(c for c, t in posts if "G01 网格通知" in t) == ["-1001", "-1003"]
    assert [c for c, t in posts if "南桥社区通知" in t] == ["-1002"]


async def test_repeating_rule_runs_every_week(app: App, admin: ChatUser, clock: FakeClock) -> None:
    await schedule(admin, "太极拳教学，南湖公园", "南桥社区", "每周六 08:00")
    scheduler = build_scheduler(app)
    clock.advance(days=1, hours=22)  # Saturday 08:00
    await scheduler.run_due()
    assert len(await group_posts(app)) == 1
    clock.advance(days=6, hours=23)
    await scheduler.run_due()
    assert len(await group_posts(app)) == 1
    clock.advance(hours=1)
    await scheduler.run_due()
    assert len(await group_posts(app)) == 2
    assert await runs(app) == [("sent", 1), ("sent", 1)]


async def test_a_run_missed_past_the_grace_is_reported_not_dropped(app: App, admin: ChatUser,
                                                                   clock: FakeClock) -> None:
    announcement = await schedule(admin, "会议通知", "全部群", "10:30")
    clock.advance(hours=2)  # the bot was down; grace is 60 minutes
    await build_scheduler(app).run_due()
    assert await group_posts(app) == []
    assert [outcome for outcome, _ in await runs(app)] == ["missed"]
    notices = [r.text for r in await admin.inbox()]
    assert any(f"公告 #{announcement}" in n and "未能按时发送" in n for n in notices), notices


async def test_a_run_late_within_the_grace_is_still_sent(app: App, admin: ChatUser, clock: FakeClock) -> None:
    await schedule(admin, "会议通知", "全部群", "10:30")
    clock.advance(minutes=85)
    await build_scheduler(app).run_due()
    assert len(await group_posts(app)) == 3


async def test_admin_sees_delivery_per_target_and_can_cancel(app: App, admin: ChatUser, clock: FakeClock) -> None:
    first = await schedule(admin, "公告一", "全部群", "立即")
    await build_scheduler(app).run_due()
    async with app.db.transaction() as conn:
        await conn.execute("UPDATE outbox SET status = 'sent' WHERE kind = 'announcement' AND chat_id != '-1002'")
        await conn.execute("UPDATE outbox SET status = 'failed', last_error = '403 Forbidden: bot was kicked'"
                           " WHERE kind = 'announcement' AND chat_id = '-1002'")
    await admin.say("/announcements")
    await admin.press(f"#{first}")
    assert "成功 2" in admin.text and "失败 1" in admin.text
    assert "-1002" in admin.text and "bot was kicked" in admin.text
    second = await schedule(admin, "公告二", "全部群", "明天 09:00")
    await admin.press_data(f"an:c:{second}")
    assert "确定取消公告" in admin.text  # issue 13: cancelling asks for confirmation first
    await admin.press("确定取消")
    assert f"公告 #{second} 已取消" in admin.text
    clock.advance(days=1)
    await build_scheduler(app).run_due()
    assert not [t for _, t in await group_posts(app) if "公告二" in t]


async def test_bad_inputs_change_nothing(app: App, admin: ChatUser) -> None:
    await admin.say("/announce")
    await admin.say("通知")
    await admin.say("G99")
    assert "没有找到这个社区或网格" in admin.text
    await admin.press("全部群")
    await admin.say("昨天 09:00")
    assert "这个时间已经过去了" in admin.text  # issue 13: a past time is said so, not 「没看懂」
    await admin.say("2020-01-01 09:00")
    assert "这个时间已经过去了" in admin.text
    await admin.say("九点钟吧")
    assert "没看懂这个时间" in admin.text
    await admin.press("取消")
    assert await read(app, announcements.recent) == []
    resident = ChatUser(app, "5001", channel=Channel.TELEGRAM)
    await resident.say("/announce")
    assert "只有街道管理员" in resident.text
    await resident.press_data("an:c:1")
    assert "只有街道管理员" in resident.text


async def test_sign_up_capacity_cancel_reminder_and_list(app: App, admin: ChatUser, clock: FakeClock) -> None:
    announcement = await schedule(admin, "爱心义剪", "全部群", "立即", signup="2 明天 15:00")
    await build_scheduler(app).run_due()
    [(_, post)] = [p for p in await group_posts(app) if p[0] == "-1001"]
    assert f"报名 {announcement}" in post and "名额 2 人" in post
    residents = [ChatUser(app, f"70{n}") for n in range(3)]
    # Issue 13: a sign-up asks for a name and phone first (optional: 跳过).
    await residents[0].say(f"报名 {announcement}")
    await residents[0].press("跳过")
    assert "报名成功" in residents[0].text
    await residents[1].say(f"/start signup-{announcement}")
    await residents[1].press("跳过")
    assert "报名成功" in residents[1].text
    await residents[2].say(f"报名 {announcement}")
    assert "名额已满" in residents[2].text
    await residents[1].say(f"取消报名 {announcement}")
    await residents[2].say(f"报名 {announcement}")
    await residents[2].press("跳过")
    assert "报名成功" in residents[2].text
    await admin.press_data(f"su:l:{announcement}")
    assert "报名 2/2 人" in admin.text and "700" in admin.text and "702" in admin.text
    await residents[0].press_data(f"su:l:{announcement}")
    assert "只有活动发布人" in residents[0].text
    clock.advance(hours=26, minutes=59)  # 12:59 the next day: not yet (reminder at 13:00)
    await build_scheduler(app).run_due()
    assert not [r for r in await residents[0].inbox() if "活动提醒" in r.text]
    clock.advance(minutes=1)
    await build_scheduler(app).run_due()
    await build_scheduler(app).run_due()
    reminded = {u.user_id: [r.text for r in await u.inbox() if "活动提醒" in r.text] for u in residents}
    assert {k: len(v) for k, v in reminded.items()} == {"700": 1, "701": 0, "702": 1}
    clock.advance(hours=1, minutes=1)  # sign-up closed an hour before the start
    late = ChatUser(app, "799")
    await late.say(f"报名 {announcement}")
    assert "报名已截止" in late.text


async def test_admin_help_lists_the_admin_tools(app: App, admin: ChatUser) -> None:
    await admin.say("/help")
    assert "/announce" in admin.text and "/bindgroup" in admin.text and "/stats" in admin.text
    resident = ChatUser(app, "5001")
    await resident.say("/help")
    assert "/announce" not in resident.text


async def test_typed_admin_commands_work_without_slashes(app: App) -> None:
    admin = ChatUser(app, "admin-console")  # the console channel, like WeChat: no slash commands
    await bind(app, admin, "sd-admin-1")
    await admin.say("发布公告")
    assert "公告内容" in admin.text
    await admin.press("取消")
    await admin.say("公告列表")
    assert "还没有公告" in admin.text
    await admin.say("统计")
    assert "响应率" in admin.text


async def test_wechat_followers_in_the_area_get_it_too(config: Config, clock: FakeClock, tmp_path: Path) -> None:
    wechat = config.wechat.model_copy(update={"app_id": "wx0123456789abcdef", "announce_to_followers": True})
    app = await build_app(config.model_copy(update={"wechat": wechat}), clock, tmp_path / "followers.db")
    try:
        admin = ChatUser(app, "admin-console")
        await bind(app, admin, "sd-admin-1")
        longchi = ChatUser(app, "oLongchi", channel=Channel.WECHAT)
        nanqiao = ChatUser(app, "oNanqiao", channel=Channel.WECHAT)
        leader = ChatUser(app, "oLeader", channel=Channel.WECHAT)
        await bind(app, leader, "g01-leader")  # staff are not sent resident announcements
        await file_report(longchi)  # 龙池花园3栋: the address tells where the follower lives
        await file_report(nanqiao, address="南桥新村1栋")
        await schedule(admin, "龙池社区停水通知", "龙池社区", "立即")
        await build_scheduler(app).run_due()
        rows = [(row.channel, row.chat_id, row.payload["text"]) for row in await read(app, reads.outbox_rows)
                if row.kind == "announcement"]
        assert rows == [("wechat", "oLongchi", "📢 龙池社区停水通知")]
    finally:
        await app.close()


async def test_a_time_that_passes_during_the_preview_is_asked_again(app: App, admin: ChatUser,
                                                                    clock: FakeClock) -> None:
    await admin.say("/announce")
    await admin.say("通知")
    await admin.press("全部群")
    await admin.say("10:05")
    await admin.press("不需要报名")
    clock.advance(minutes=10)  # the admin answered the phone before confirming
    await admin.press("确认发布")
    assert "时间已经过去" in admin.text and "什么时候发送" in admin.text
    assert [a for a in await read(app, announcements.recent) if a.source == "chat"] == []
    await admin.press("立即发送")
    await admin.press("不需要报名")
    clock.advance(hours=2)  # 「立即」 means when confirmed, not when chosen: nothing is missed
    await admin.press("确认发布")
    await build_scheduler(app).run_due()
    assert len(await group_posts(app)) == 3
    assert [outcome for outcome, _ in await runs(app)] == ["sent"]


async def test_config_announcements_follow_config_changes(config: Config, clock: FakeClock, tmp_path: Path) -> None:
    first = await build_app(config, clock, tmp_path / "declared.db")
    await build_scheduler(first).sync_config()
    await first.close()
    items = [a.model_copy(update={"target": "nanqiao", "when": "每周六 08:00", "text": "太极拳改到周六"})
             if a.key == "taichi-weekly" else a for a in config.announcements[:1]]
    second = await build_app(config.model_copy(update={"announcements": items}), clock, tmp_path / "declared.db")
    try:
        await build_scheduler(second).sync_config()
        rows = [(a.config_key, a.status, a.text, a.target_kind, a.target_id, a.cron,
                 a.next_run_at and stamp(a.next_run_at)) for a in reversed(await read(second, announcements.recent))]
        assert rows == [
            ("taichi-weekly", "active", "太极拳改到周六", "community", "nanqiao", "0 8 * * sat",
             "2026-11-28T00:00:00.000000+00:00"),
            ("party-day-monthly", "cancelled", rows[1][2], "all", "", "0 9 1 * *", None),
        ]
    finally:
        await second.close()



async def test_a_repeating_post_carries_no_sign_up(app: App, admin: ChatUser) -> None:
    await admin.say("/announce")
    await admin.say("太极拳教学")
    await admin.press("全部群")
    await admin.say("每周六 08:00")
    assert "请确认公告" in admin.text and "报名：不需要报名" in admin.text
    await admin.press("返回")
    assert "什么时候发送" in admin.text
