"""Admins type announcement and activity times as they say them (issue 13), on every channel."""

from __future__ import annotations

import pytest

from bot.app import App
from handlers.types import Channel
from storage import announcements
from storage.clock import stamp
from tests.chat import ChatUser, bind, read

CHANNELS = [Channel.CONSOLE, Channel.TELEGRAM, Channel.WECHAT]


async def admin_at_when_step(app: App, channel: Channel) -> ChatUser:
    admin = ChatUser(app, f"admin-{channel.value}", channel=channel)
    await bind(app, admin, "sd-admin-1")
    await admin.say("发布公告")
    await admin.say("社区义诊")
    await admin.press("全部群")
    assert "什么时候发送" in admin.text
    return admin


@pytest.mark.parametrize("channel", CHANNELS)
@pytest.mark.parametrize(("typed", "shown", "utc", "cron"), [
    # The FakeClock starts on Thursday 26 November 2026, 10:00 in Beijing.
    ("周六上午九点", "11-28 09:00", "2026-11-28T01:00", ""),
    ("下周六 9:00", "12-05 09:00", "2026-12-05T01:00", ""),
    ("明天9点", "11-27 09:00", "2026-11-27T01:00", ""),
    ("12月6日下午3点", "12-06 15:00", "2026-12-06T07:00", ""),
    ("每周六早上8点", "每周六早上8点（首次 11-28 08:00）", "2026-11-28T00:00", "0 8 * * sat"),
])
async def test_spoken_times_schedule_the_announcement(app: App, channel: Channel, typed: str, shown: str,
                                                      utc: str, cron: str) -> None:
    admin = await admin_at_when_step(app, channel)
    await admin.say(typed)
    if "需要报名吗" in admin.text:
        await admin.press("不需要报名")
    assert "请确认公告" in admin.text and f"时间：{shown}" in admin.text, admin.text
    await admin.press("确认发布")
    [stored] = await read(app, announcements.recent)
    assert (stamp(stored.next_run_at)[:16], stored.cron) == (utc, cron)  # type: ignore[arg-type]


@pytest.mark.parametrize("channel", CHANNELS)
@pytest.mark.parametrize(("typed", "said"), [
    ("今天上午9点", "这个时间已经过去了（现在是 11月26日 10:00）"),
    ("明天3点", "是上午还是下午"),
    ("周六", "请说明几点"),
    ("下个月吧", "没看懂这个时间"),
])
async def test_a_past_or_ambiguous_time_is_said_and_asked_again(app: App, channel: Channel, typed: str,
                                                                said: str) -> None:
    admin = await admin_at_when_step(app, channel)
    await admin.say(typed)
    assert said in admin.text, admin.text
    await admin.say("明天下午3点")  # still at the same step
    assert "需要报名吗" in admin.text
    assert await read(app, announcements.recent) == []


async def test_an_activity_start_as_people_say_it(app: App) -> None:
    admin = await admin_at_when_step(app, Channel.CONSOLE)
    await admin.say("立即")
    await admin.say("30 周六上午九点")
    assert "报名 30 人，活动 11-28 09:00 开始" in admin.text, admin.text
