"""转派 and the 三率 words on the real channels (issue 13): the grid list as Telegram buttons and as
WeChat numbered options (a number or the label typed), paged; the period after /stats."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from bot.config import Config
from storage.clock import FakeClock
from tests.chat import query
from tests.e2e.test_wechat_e2e import LEADER as WX_LEADER
from tests.e2e.test_wechat_e2e import option_number, report_in_longchi
from tests.fakes.wechat_api import FakeWeChatAPI
from tests.telegram_harness import TelegramRun
from tests.wechat_harness import WeChatRun, start_wechat

RESIDENT = 1001
LEADER = 2001
ADMIN = 4001
# The shared paging (handlers/paging.py): 9 grids a page, then 更多 (上一页) and 取消.
FIRST_PAGE = ["G02 龙池花园第二网格", "G03 龙池花园第三网格", "G04 清流苑第一网格", "G05 清流苑第二网格",
              "G06 琅琊新村第一网格", "G07 琅琊新村第二网格", "G08 醉翁小区网格", "G09 丰山苑网格",
              "G10 紫薇小区网格", "更多", "取消"]


async def grid_and_reason(run: TelegramRun | WeChatRun) -> list[tuple]:
    rows = await query(run.app, "SELECT grid_id FROM tickets WHERE id = 1")
    notes = await query(run.app, "SELECT note FROM ticket_events WHERE ticket_id = 1 AND action = 'reassigned'")
    return rows + notes


async def test_telegram_reassign_list_is_buttons_paged(run: TelegramRun) -> None:
    fake = run.fake
    await run.bind(LEADER, "g01-leader")
    await run.file_report(RESIDENT, "3栋楼道灯坏了")
    await run.reply_to(LEADER, "新工单 #1")
    mark = len(fake.sent)
    await run.press(LEADER, "转派")
    first = await run.reply_to(LEADER, "转派到哪个网格", after=mark)
    assert [b["text"] for b in first.buttons] == FIRST_PAGE
    assert "（第 1/5 页）" in (first.text or "")

    mark = len(fake.sent)
    await run.press(LEADER, "更多")
    second = await run.reply_to(LEADER, "（第 2/5 页）", after=mark)
    labels = [b["text"] for b in second.buttons]
    assert labels[:3] == ["G11 南桥新村第一网格（南桥社区）", "G12 南桥新村第二网格（南桥社区）",
                          "G13 西涧二村第一网格（南桥社区）"]
    assert labels[-3:] == ["更多", "上一页", "取消"] and len(labels) == 12

    mark = len(fake.sent)
    await run.press(LEADER, "G08")
    await run.reply_to(LEADER, "转派到「醉翁小区网格」的原因是？", after=mark)
    fake.push_text(LEADER, "问题在醉翁小区")
    await run.reply_to(LEADER, "工单 #1 已转派到 醉翁小区网格。", after=mark)
    assert await grid_and_reason(run) == [("G08",), ("问题在醉翁小区",)]


async def test_telegram_a_forged_grid_button_changes_nothing(run: TelegramRun) -> None:
    fake = run.fake
    await run.bind(LEADER, "g01-leader")
    await run.file_report(RESIDENT, "3栋楼道灯坏了")
    await run.reply_to(LEADER, "新工单 #1")
    mark = len(fake.sent)
    await run.press(LEADER, "转派")
    await run.reply_to(LEADER, "转派到哪个网格", after=mark)
    fake.push_callback(LEADER, "rg:1:G99")
    await run.reply_to(LEADER, "没有找到网格「G99」", after=mark)
    fake.push_callback(LEADER, "rg:1:G01")
    await run.reply_to(LEADER, "工单已经在这个网格了", after=mark)
    assert await grid_and_reason(run) == [("G01",)]


async def test_telegram_stats_with_a_period(run: TelegramRun) -> None:
    await run.bind(ADMIN, "sd-admin-1")
    mark = len(run.fake.sent)
    run.fake.push_text(ADMIN, "/stats 上月")
    await run.reply_to(ADMIN, "【三率】丰山街道 · 2026年10月", after=mark)
    run.fake.push_text(ADMIN, "统计 2026-13")
    await run.reply_to(ADMIN, "看不懂时段「2026-13」", after=mark)


# -- WeChat: numbered options ------------------------------------------------------------------


@pytest.fixture
async def wx_run(config: Config, wechat_fake: FakeWeChatAPI, clock: FakeClock, tmp_path: Path,
                 session: aiohttp.ClientSession) -> AsyncIterator[WeChatRun]:
    started = await start_wechat(config, wechat_fake, clock, tmp_path / "wx.db", session)
    yield started
    await started.close()


async def card_pushed(wx_run: WeChatRun, fake: FakeWeChatAPI) -> None:
    """The leader has the card (pushed by the sender, numbered 受理/办结/转派) before acting: a
    numbered list the bot sends later is the one its numbers refer to."""
    await report_in_longchi(wx_run)
    await fake.wait_for(lambda c: c.body is not None and c.body.get("touser") == WX_LEADER
                        and "新工单 #1" in c.body.get("text", {}).get("content", ""))


async def test_wechat_reassign_list_by_number_and_by_label(wx_run: WeChatRun, wechat_fake: FakeWeChatAPI) -> None:
    wx = wx_run.platform
    await wx_run.bind(WX_LEADER, "g01-leader")
    await card_pushed(wx_run, wechat_fake)
    answer = await wx.text(WX_LEADER, "转派 1")
    assert "转派到哪个网格" in answer.text
    assert [option_number(answer.text, label) for label in FIRST_PAGE] == [str(n) for n in range(1, 12)]
    answer = await wx.text(WX_LEADER, "10")  # after 9 grids, 10 is 更多 (not a tenth grid)
    assert "（第 2/5 页）" in answer.text and option_number(answer.text, "上一页") == "11"
    answer = await wx.text(WX_LEADER, "上一页")  # the label typed works like its number
    assert "（第 1/5 页）" in answer.text
    answer = await wx.text(WX_LEADER, option_number(answer.text, "G03 龙池花园第三网格"))
    assert "转派到「龙池花园第三网格」的原因是？" in answer.text
    answer = await wx.text(WX_LEADER, "楼栋不归我们管")
    assert "工单 #1 已转派到 龙池花园第三网格。" in answer.text
    assert await grid_and_reason(wx_run) == [("G03",), ("楼栋不归我们管",)]


async def test_wechat_a_name_for_several_grids_then_a_number(wx_run: WeChatRun, wechat_fake: FakeWeChatAPI) -> None:
    wx = wx_run.platform
    await wx_run.bind(WX_LEADER, "g01-leader")
    await card_pushed(wx_run, wechat_fake)
    answer = await wx.text(WX_LEADER, "转派 1 龙池花园 楼栋不归我们管")
    assert "有 2 个网格符合" in answer.text and "楼栋不归我们管" in answer.text
    answer = await wx.text(WX_LEADER, option_number(answer.text, "G02 龙池花园第二网格"))
    assert "工单 #1 已转派到 龙池花园第二网格。" in answer.text
    assert await grid_and_reason(wx_run) == [("G02",), ("楼栋不归我们管",)]
