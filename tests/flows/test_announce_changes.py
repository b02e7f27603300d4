"""An activity changes after people signed up (issue 13): cancelling asks first and tells everyone
signed up or waiting; editing its text, time or places tells them too, each once; someone who
left the sign-up is not told."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.app import App
from bot.bootstrap import build_scheduler
from bot.cli_announce import announcements as announcements_cli
from bot.config import Config
from handlers.types import Channel
from storage import announcements
from storage.clock import stamp
from tests.chat import ChatUser, bind, read
from tests.flows.test_signups import activity, join


@pytest.fixture
async def admin(app: App) -> ChatUser:
    user = ChatUser(app, "admin-1", channel=Channel.TELEGRAM)
    await bind(app, user, "sd-admin-1")
    return user


@pytest.fixture
async def people(app: App, admin: ChatUser) -> tuple[int, ChatUser, ChatUser, ChatUser]:
    """(activity with 1 place, signed up, waiting, left): on three channels."""
    announcement = await activity(admin, "爱心义剪", 1)
    joined, waiting, left = (ChatUser(app, "r-in", channel=Channel.WECHAT), ChatUser(app, "r-wait"),
                             ChatUser(app, "r-left", channel=Channel.TELEGRAM))
    await join(left, announcement)
    await left.say(f"取消报名 {announcement}")
    await join(joined, announcement)
    await waiting.say(f"报名 {announcement}")
    await waiting.press("排队候补")
    await waiting.press("跳过")
    assert "候补名单" in waiting.text
    return announcement, joined, waiting, left


async def notices(user: ChatUser, words: str) -> list[str]:
    return [r.text for r in await user.inbox() if words in r.text]


async def test_cancelling_asks_first_then_tells_everyone_signed_up(app: App, admin: ChatUser, people) -> None:
    announcement, joined, waiting, left = people
    await build_scheduler(app).run_due()  # posted already: the activity itself can still be called off
    await admin.say("/announcements")
    await admin.press(f"#{announcement}")
    await admin.press("取消公告")
    assert "确定取消公告" in admin.text and "已有 2 人报名（含候补），会通知他们" in admin.text
    await admin.press("不取消")
    assert [a.status for a in await read(app, announcements.recent)] == ["finished"]
    assert await notices(joined, "已取消") == []
    await admin.press("取消公告")
    await admin.press("确定取消")
    assert f"公告 #{announcement} 已取消，已通知 2 位" in admin.text
    for user in (joined, waiting):
        assert await notices(user, "已取消") == ["😔 很抱歉，您报名的活动「爱心义剪」（原定 11-28 09:00）已取消。"]
    assert await notices(left, "已取消") == []
    await admin.press_data(f"an:cx:{announcement}")  # pressed again: nobody is told twice
    assert "不能再修改" in admin.text
    assert len(await notices(joined, "已取消")) == 1
    await joined.say(f"报名 {announcement}")
    assert "没有找到这个报名活动" in joined.text


async def test_editing_text_time_and_places_tells_those_signed_up_once(app: App, admin: ChatUser, people) -> None:
    announcement, joined, waiting, left = people
    await admin.press_data(f"an:v:{announcement}")
    await admin.press("修改内容")
    await admin.say("爱心义剪（地点改到龙池社区党群服务中心）")
    assert "已更新" in admin.text and "已通知 2 位" in admin.text
    for user in (joined, waiting):
        assert len(await notices(user, "活动内容已更新为：爱心义剪（地点改到龙池社区党群服务中心）")) == 1
    await admin.press_data(f"an:v:{announcement}")
    await admin.press("修改活动时间")
    await admin.say("下周六 9:00")
    assert "活动时间已改为 12-05 09:00，已通知 2 位" in admin.text
    [stored] = await read(app, announcements.recent)
    assert stamp(stored.starts_at)[:16] == "2026-12-05T01:00"  # type: ignore[arg-type]
    assert stamp(stored.remind_at)[:16] == "2026-12-04T23:00"  # type: ignore[arg-type]
    for user in (joined, waiting):
        assert len(await notices(user, "活动时间改为 12-05 09:00")) == 1
    await admin.press_data(f"an:v:{announcement}")
    await admin.press("修改名额")
    await admin.say("0")
    assert "名额要是不少于已报名人数（1）" in admin.text
    await admin.say("2")
    assert "名额已改为 2 人" in admin.text
    assert len(await notices(waiting, "候补成功")) == 1  # moved up: that notice, not the places one too
    assert await notices(waiting, "名额改为") == []
    assert len(await notices(joined, "名额改为 2 人")) == 1
    assert [r.text for r in await left.inbox()] == []  # left the sign-up: told nothing at all
    await admin.press_data(f"su:l:{announcement}")
    assert "报名 2/2 人" in admin.text


async def test_cancelling_from_the_command_line_tells_them_too(app: App, config: Config, people,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    """`fengshan-bot announcements --cancel N` on the bot's database: the same notices as in chat."""
    announcement, joined, waiting, left = people
    assert await announcements_cli(config, Path(app.db.path), announcement) == 0
    assert f"公告 #{announcement} 已取消，已通知 2 位报名的居民" in capsys.readouterr().out
    for user in (joined, waiting):
        assert len(await notices(user, "您报名的活动「爱心义剪」（原定 11-28 09:00）已取消")) == 1
    assert await notices(left, "已取消") == []
