"""近期活动 with more than nine activities on the real channels (issue 13, big, clear options):
WeChat numbers the options, so 「10」 after nine activities is 更多; Telegram shows 更多 as a
button and takes it typed too."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from bot.app import App
from bot.config import Config
from handlers.announce import new_announcement, parse_signup
from handlers.domain.schedule_rules import parse_when
from storage import announcements as store
from storage.clock import FakeClock
from tests.e2e.test_wechat_e2e import RESIDENT as WX_RESIDENT
from tests.e2e.test_wechat_e2e import option_number
from tests.fakes.wechat_api import FakeWeChatAPI
from tests.telegram_harness import TelegramRun
from tests.wechat_harness import WeChatRun, start_wechat

TG_RESIDENT = 1001


async def ten_activities(app: App) -> list[int]:
    """Ten activities with a sign-up, as an admin posts them (the data the list is read from)."""
    now, tz = app.clock.now(), app.config.subdistrict.timezone
    when = parse_when("立即", now, tz)
    signup = parse_signup("5 周六上午九点", now, tz, when.first_run_at)
    assert signup is not None
    async with app.db.transaction() as conn:
        return [await store.create(conn, new_announcement(app.config, f"活动{n}", ("all", ""), when, "sd-admin-1",
                                                          "chat", signup), now) for n in range(1, 11)]


@pytest.fixture
async def wx_run(config: Config, wechat_fake: FakeWeChatAPI, clock: FakeClock, tmp_path: Path,
                 session: aiohttp.ClientSession) -> AsyncIterator[WeChatRun]:
    started = await start_wechat(config, wechat_fake, clock, tmp_path / "wx.db", session)
    yield started
    await started.close()


async def test_wechat_ten_is_more_after_nine_activities(wx_run: WeChatRun) -> None:
    ids = await ten_activities(wx_run.app)
    wx = wx_run.platform
    answer = await wx.text(WX_RESIDENT, "近期活动")
    assert "（第 1/2 页）" in answer.text
    assert option_number(answer.text, "更多") == "10"
    assert f"#{ids[8]} 活动9" in answer.text and f"#{ids[9]} " not in answer.text
    answer = await wx.text(WX_RESIDENT, "10")  # 更多, not a tenth activity
    assert "（第 2/2 页）" in answer.text and f"#{ids[9]} 活动10" in answer.text
    assert option_number(answer.text, "上一页") == "2"
    answer = await wx.text(WX_RESIDENT, "上一页")  # the label typed works like its number
    assert "（第 1/2 页）" in answer.text
    answer = await wx.text(WX_RESIDENT, "10")
    answer = await wx.text(WX_RESIDENT, "1")  # the tenth activity, joined from the second page
    assert "请留下姓名和电话" in answer.text


async def test_telegram_more_as_a_button_and_typed(run: TelegramRun) -> None:
    ids = await ten_activities(run.app)
    fake = run.fake
    mark = len(fake.sent)
    fake.push_text(TG_RESIDENT, "近期活动")
    first = await run.reply_to(TG_RESIDENT, "（第 1/2 页）", after=mark)
    labels = [b["text"] for b in first.buttons]
    assert len(labels) == 10 and labels[-1] == "更多"
    mark = len(fake.sent)
    await run.press(TG_RESIDENT, "更多")
    second = await run.reply_to(TG_RESIDENT, "（第 2/2 页）", after=mark)
    assert [b["text"] for b in second.buttons][-1] == "上一页"
    assert [b["text"] for b in second.buttons][0].startswith(f"#{ids[9]} 活动10")
    mark = len(fake.sent)
    fake.push_text(TG_RESIDENT, "上一页")  # typed: the list shown is remembered
    await run.reply_to(TG_RESIDENT, "（第 1/2 页）", after=mark)
