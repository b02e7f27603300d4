"""Who an announcement will reach, said before it is sent (issue 13): the preview counts groups
(Telegram, WeCom robots) and WeChat followers, warns at zero with how to bind a group; a one-time
bind code lets a WeChat or console admin bind a Telegram group; a run that reached nobody is shown
as 「没有可送达的群」, never 「已发送」."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.app import App
from bot.bootstrap import build_app, build_scheduler
from bot.config import Config
from bot.run_channels import sync_robots
from bot.settings import Settings
from handlers.types import Channel
from storage import groups
from storage.clock import FakeClock
from tests.chat import ChatUser, bind, file_report, read

ADMIN_CHANNELS = [Channel.CONSOLE, Channel.WECHAT, Channel.TELEGRAM]


async def admin_on(app: App, channel: Channel) -> ChatUser:
    user = ChatUser(app, f"admin-{channel.value}", channel=channel)
    await bind(app, user, "sd-admin-1")
    return user


async def preview(admin: ChatUser, target: str = "龙池社区") -> str:
    await admin.say("发布公告")
    await admin.say("停水通知")
    await admin.press(target)
    await admin.say("立即")
    await admin.press("不需要报名")
    assert "请确认公告" in admin.text, admin.text
    return admin.text


@pytest.mark.parametrize("channel", ADMIN_CHANNELS)
async def test_a_post_that_reaches_nobody_is_said_before_and_after(app: App, channel: Channel) -> None:
    admin = await admin_on(app, channel)
    shown = await preview(admin)
    assert "⚠️ 目前没有可送达的群或关注者" in shown
    assert "/bindgroup longchi" in shown and "绑群码 longchi" in shown and "wecom.robots" in shown
    await admin.press("确认发布")
    assert "已安排" in admin.text and "目前没有可送达的群" in admin.text
    await build_scheduler(app).run_due()
    assert any("没有可送达的群，没有发出" in r.text for r in await admin.inbox())
    await admin.say("公告列表")
    assert admin.options[0] == "#1 停水通知 · 没有可送达的群", admin.options
    await admin.press("#1")
    assert "状态：没有可送达的群" in admin.text and "其中 1 次没有可送达的群" in admin.text
    assert "已发送" not in admin.text


async def test_the_preview_counts_groups_robots_and_followers(config: Config, clock: FakeClock,
                                                              tmp_path: Path) -> None:
    wechat = config.wechat.model_copy(update={"app_id": "wx0123456789abcdef", "announce_to_followers": True})
    app = await build_app(config.model_copy(update={"wechat": wechat}), clock, tmp_path / "reach.db")
    try:
        admin = await admin_on(app, Channel.TELEGRAM)
        for chat in ("-1001", "-1002"):
            await admin.say_in_group("/bindgroup longchi", chat, title="龙池群")
        await admin.say_in_group("/bindgroup nanqiao", "-1003", title="南桥群")
        await sync_robots(app, Settings(wecom_robot_keys={"longchi-huayuan": "key"}))  # as `run` does at start
        await file_report(ChatUser(app, "oLongchi", channel=Channel.WECHAT))  # a follower who lives in 龙池
        assert "将送达：Telegram 群 2 个、企业微信群 1 个、微信关注者 1 人。" in await preview(admin)
        await admin.press("确认发布")
        assert "将送达：Telegram 群 2 个" in admin.text
        await build_scheduler(app).run_due()
        await admin.say("公告列表")
        assert admin.options[0] == "#1 停水通知 · 已发送", admin.options
    finally:
        await app.close()


@pytest.mark.parametrize("channel", [Channel.WECHAT, Channel.CONSOLE])
async def test_a_wechat_or_console_admin_binds_a_telegram_group_with_a_one_time_code(
        app: App, clock: FakeClock, channel: Channel) -> None:
    admin = await admin_on(app, channel)
    await admin.say("绑群码")
    assert "请发送「绑群码 社区或网格」" in admin.text
    await admin.say("绑群码 G1")  # the grid typed short
    assert "龙池花园第一网格" in admin.text and "只能用一次" in admin.text and "企业微信群机器人" in admin.text
    code = admin.text.split("一次性绑群码：")[1].split("\n")[0]
    someone = ChatUser(app, "tg-member", channel=Channel.TELEGRAM)  # not an admin: the code is the authority
    [answer] = await someone.say_in_group(f"/bindgroup {code.lower()}", "-1005", title="龙池花园一网格群")
    assert "本群已绑定到「龙池花园第一网格」" in answer.text
    [again] = await someone.say_in_group(f"/bindgroup {code}", "-1006", title="另一个群")
    assert "绑群码无效、已用过或已过期" in again.text
    assert [(t.chat_id, t.community_id, t.grid_id) for t in await read(app, groups.all_targets)] == [
        ("-1005", "longchi", "G01")]
    await admin.say("绑群码 longchi")
    late = admin.text.split("一次性绑群码：")[1].split("\n")[0]
    clock.advance(hours=24, seconds=1)
    [expired] = await someone.say_in_group(f"/bindgroup {late}", "-1007", title="晚了的群")
    assert "绑群码无效" in expired.text
    assert "将送达：Telegram 群 1 个。" in await preview(admin, "龙池社区")
    resident = ChatUser(app, "r1", channel=channel)
    await resident.say("绑群码 longchi")
    assert "只有街道管理员可以绑定群" in resident.text
