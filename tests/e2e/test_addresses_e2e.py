"""Issue 13 (part A) on the real channels: an exact address is taken at once, long lists page
with 「更多」/「上一页」 (a number, a typed word, a button), and 公共区域 routes to the place's grid."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from bot.config import Config
from storage.clock import FakeClock
from tests.chat import query
from tests.e2e.test_cli import write_config
from tests.e2e.test_console_intake import console, rows
from tests.e2e.test_wechat_e2e import option_number
from tests.fakes.wechat_api import FakeWeChatAPI
from tests.telegram_harness import TelegramRun
from tests.wechat_harness import WeChatRun, start_wechat

OPENID = "oResident0000000000000013"
TG_RESIDENT = 1013


@pytest.fixture
async def wechat(config: Config, wechat_fake: FakeWeChatAPI, clock: FakeClock, tmp_path: Path,
                 session: aiohttp.ClientSession) -> AsyncIterator[WeChatRun]:
    started = await start_wechat(config, wechat_fake, clock, tmp_path / "wx.db", session)
    yield started
    await started.close()


async def test_wechat_pages_buildings_by_number_and_word(wechat: WeChatRun) -> None:
    wx = wechat.platform
    answer = await wx.click(OPENID, "i:report")
    answer = await wx.text(OPENID, option_number(answer.text, "水电维修"))
    answer = await wx.text(OPENID, "楼道灯坏了")
    answer = await wx.text(OPENID, option_number(answer.text, "龙池社区"))
    answer = await wx.text(OPENID, option_number(answer.text, "龙池花园"))
    assert "9. 9栋" in answer.text and "10. 更多" in answer.text and "10栋" not in answer.text, answer
    answer = await wx.text(OPENID, "10")  # 更多, by its number
    assert "1. 10栋" in answer.text and "上一页" in answer.text, answer
    answer = await wx.text(OPENID, "更多")  # by the word
    assert "1. 19栋" in answer.text and "更多" not in answer.text, answer
    answer = await wx.text(OPENID, option_number(answer.text, "上一页"))
    assert "1. 10栋" in answer.text, answer
    answer = await wx.text(OPENID, option_number(answer.text, "12栋"))
    assert "单元和门牌号" in answer.text, answer
    answer = await wx.text(OPENID, option_number(answer.text, "跳过"))
    answer = await wx.text(OPENID, option_number(answer.text, "不留电话"))
    answer = await wx.text(OPENID, option_number(answer.text, "提交"))
    assert "工单号 #1" in answer.text, answer
    assert await query(wechat.app, "SELECT compound, building, grid_id FROM tickets") == [("龙池花园", "12栋", "G02")]


async def test_wechat_public_area_by_number_and_typed_label(wechat: WeChatRun) -> None:
    wx = wechat.platform
    answer = await wx.click(OPENID, "i:report")
    answer = await wx.text(OPENID, option_number(answer.text, "水电维修"))
    answer = await wx.text(OPENID, "菜场门口的水管漏了")
    answer = await wx.text(OPENID, option_number(answer.text, "公共区域"))
    assert "丰乐菜场" in answer.text, answer
    answer = await wx.text(OPENID, "丰乐菜场")  # the label typed in full
    assert "留个电话" in answer.text, answer
    answer = await wx.text(OPENID, option_number(answer.text, "不留电话"))
    assert "地址：丰乐菜场" in answer.text, answer
    answer = await wx.text(OPENID, option_number(answer.text, "提交"))
    assert "工单号 #1" in answer.text, answer
    assert await query(wechat.app, "SELECT compound, building, grid_id FROM tickets") == [("丰乐菜场", "", "G21")]


async def test_telegram_exact_address_and_pages_by_button_and_word(run: TelegramRun) -> None:
    fake, mark = run.fake, len(run.fake.sent)
    fake.push_text(TG_RESIDENT, "/report")
    await run.reply_to(TG_RESIDENT, "问题类别", after=mark)
    await run.press(TG_RESIDENT, "水电维修")
    await run.reply_to(TG_RESIDENT, "描述问题", after=mark)
    fake.push_text(TG_RESIDENT, "楼道灯坏了")
    await run.reply_to(TG_RESIDENT, "哪个社区", after=mark)
    await run.press(TG_RESIDENT, "龙池社区")
    await run.reply_to(TG_RESIDENT, "请选择小区", after=mark)
    await run.press(TG_RESIDENT, "龙池花园")
    first = await run.reply_to(TG_RESIDENT, "请选择楼栋", after=mark)
    assert [b["text"] for b in first.buttons][:10] == [*(f"{n}栋" for n in range(1, 10)), "更多"]
    step = len(fake.sent)  # counted before each message, so a quick answer is not missed
    await run.press(TG_RESIDENT, "更多")
    second = await run.reply_to(TG_RESIDENT, "请选择楼栋", after=step)
    assert "10栋" in [b["text"] for b in second.buttons]
    step = len(fake.sent)
    fake.push_text(TG_RESIDENT, "上一页")  # typed: Telegram's buttons are not numbered
    third = await run.reply_to(TG_RESIDENT, "请选择楼栋", after=step)
    assert "1栋" in [b["text"] for b in third.buttons]
    step = len(fake.sent)
    fake.push_text(TG_RESIDENT, "返回")
    await run.reply_to(TG_RESIDENT, "请选择小区", after=step)
    step = len(fake.sent)
    fake.push_text(TG_RESIDENT, "龙池花园5栋2单元302")  # exact, with the flat: no question
    await run.reply_to(TG_RESIDENT, "留个电话", after=step)
    await run.press(TG_RESIDENT, "不留电话")
    summary = await run.reply_to(TG_RESIDENT, "请确认", after=mark)
    assert "地址：龙池花园5栋2单元302" in (summary.text or "")
    assert not any("哪一个" in (m.text or "") for m in fake.messages_to(TG_RESIDENT))


def test_console_pages_and_takes_an_exact_address(tmp_path: Path) -> None:
    path = write_config(tmp_path)
    out = console(path, "/report", "1", "楼道灯坏了", "1", "1", "10", "更多", "上一页", "上一页", "返回",
                  "龙池花园5栋2单元302", "不留电话", "提交")
    assert "10. 更多" in out and "1. 19栋" in out and "哪一个" not in out
    assert "已提交" in out
    assert rows(tmp_path / "bot-console.db", "SELECT compound, building, detail, grid_id FROM tickets") == [
        ("龙池花园", "5栋", "2单元302", "G01")]
