"""Issue 13 (complaints) over the real channels: 不满意 asks why, the guide's card carries the
reason, and erasure reaches every level holding the ticket and every copy of the reason.

Telegram: the reason, typed with HTML and markdown, reaches the guide as plain text (no parse
mode, so nothing is laid out); the guide presses 受理 on that card (Telegram embeds the card in the
stored callback); the resident erases her data: the leader and the guide are both told, and no
text column of any table still holds the reason. WeChat: the same with numbered options and the
passive reply, the guide pushed to.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from bot.bootstrap import build_scheduler
from bot.config import Config
from storage.clock import FakeClock
from tests.e2e.test_erasure_reach import every_text_value, settled, squeeze, windows
from tests.e2e.test_erasure_reach_wechat import up_to_the_phone
from tests.e2e.test_wechat_e2e import option_number
from tests.fakes.wechat_api import FakeWeChatAPI
from tests.telegram_harness import TelegramRun
from tests.wechat_harness import WeChatRun, start_wechat

RESIDENT, LEADER, GUIDE = 1301, 2301, 2302
REASON = "<b>楼道灯换了第二天又坏了</b> *请再来看看*"
CANCELLED = "工单 #1 已被居民撤销，无需再处理。"


async def reason_leaks(run: TelegramRun | WeChatRun) -> list[str]:
    secrets = windows(REASON)
    return [f"{table}.{column}" for table, column, value in await every_text_value(run)
            if any(secret in squeeze(value) for secret in secrets)]


async def test_telegram_reason_reaches_the_guide_and_erasure_reaches_every_level(run: TelegramRun) -> None:
    fake = run.fake
    await run.bind(LEADER, "g01-leader")
    await run.bind(GUIDE, "g01-guide")
    mark = await run.file_report(RESIDENT, "楼道的灯坏了")
    await run.reply_to(LEADER, "新工单 #1", after=mark)
    fake.push_text(LEADER, "办结 1 已更换灯泡")
    await run.reply_to(RESIDENT, "已办结", after=mark)

    mark = len(fake.sent)
    await run.press(RESIDENT, "不满意")
    asked = await run.reply_to(RESIDENT, "哪里不满意", after=mark)
    assert [b["text"] for b in asked.buttons] == ["跳过", "取消"]
    fake.push_text(RESIDENT, REASON)
    await run.reply_to(RESIDENT, "已重新交办", after=mark)
    card = await run.reply_to(GUIDE, "【上报工单 #1】", after=mark)
    assert f"不满意的原因：{REASON}" in (card.text or "")
    assert "已办结：已更换灯泡" in (card.text or "")
    assert card.parse_mode is None  # shown as typed, never laid out
    await run.press(GUIDE, "受理")
    await run.reply_to(GUIDE, "已受理工单 #1", after=mark)
    await settled(run)
    assert await reason_leaks(run), "the scenario must have left copies of the reason"

    mark = await erase(run)
    # The ticket was open (reopened to the guide): both levels holding it are told.
    await run.reply_to(LEADER, CANCELLED, after=mark)
    await run.reply_to(GUIDE, CANCELLED, after=mark)
    await settled(run)
    await build_scheduler(run.app).run_due()
    left = await reason_leaks(run)
    assert not left, "the reason is still in:\n" + "\n".join(left)


async def erase(run: TelegramRun) -> int:
    fake, mark = run.fake, len(run.fake.sent)
    fake.push_text(RESIDENT, "我的数据")
    await run.reply_to(RESIDENT, "我的数据", after=mark)
    await run.press(RESIDENT, "删除我的数据")
    await run.reply_to(RESIDENT, "确定要删除", after=mark)
    await run.press(RESIDENT, "确认删除")
    await run.reply_to(RESIDENT, "已删除您的个人信息", after=mark)
    return mark


async def test_a_staff_note_quoting_her_reason_is_blanked(run: TelegramRun) -> None:
    """The guide's typed 办结 note quotes her reason: his inbox item holds it (no ticket id on
    it), found by content like a note quoting her phone."""
    fake = run.fake
    await run.bind(LEADER, "g01-leader")
    await run.bind(GUIDE, "g01-guide")
    mark = await run.file_report(RESIDENT, "楼道的灯坏了")
    fake.push_text(LEADER, "办结 1 已更换灯泡")
    await run.reply_to(RESIDENT, "已办结", after=mark)
    await run.press(RESIDENT, "不满意")
    await run.reply_to(RESIDENT, "哪里不满意", after=mark)
    fake.push_text(RESIDENT, REASON)
    await run.reply_to(GUIDE, "【上报工单 #1】", after=mark)
    fake.push_text(GUIDE, f"办结 1 居民说{REASON}，已换整条线路")
    await run.reply_to(RESIDENT, "已换整条线路", after=mark)
    await settled(run)
    await erase(run)
    await settled(run)
    await build_scheduler(run.app).run_due()
    left = await reason_leaks(run)
    assert not left, "the reason is still in:\n" + "\n".join(left)


WX_RESIDENT = "oResidentWhy0000000000001"
WX_LEADER = "oLeaderWhy000000000000001"
WX_GUIDE = "oGuideWhy0000000000000001"


@pytest.fixture
async def wechat(config: Config, wechat_fake: FakeWeChatAPI, clock: FakeClock, tmp_path: Path,
                 session: aiohttp.ClientSession) -> AsyncIterator[WeChatRun]:
    started = await start_wechat(config, wechat_fake, clock, tmp_path / "wx.db", session)
    yield started
    await started.close()


async def test_wechat_asks_why_with_numbered_options_and_pushes_the_reason(
    wechat: WeChatRun, wechat_fake: FakeWeChatAPI
) -> None:
    wx = wechat.platform
    assert "绑定成功" in (await wechat.bind(WX_LEADER, "g01-leader")).text
    assert "绑定成功" in (await wechat.bind(WX_GUIDE, "g01-guide")).text
    summary = await up_to_the_phone(wechat, WX_RESIDENT, "楼道的灯坏了")
    summary = await wx.text(WX_RESIDENT, option_number(summary.text, "不留电话"))
    assert "工单号 #1" in (await wx.text(WX_RESIDENT, option_number(summary.text, "提交"))).text
    await wx.text(WX_LEADER, "办结 1 已更换灯泡")
    notice = await wechat_fake.wait_for(lambda c: c.body is not None and c.body.get("touser") == WX_RESIDENT
                                        and "已办结" in c.body.get("text", {}).get("content", ""))
    asked = await wx.text(WX_RESIDENT, option_number(notice.body["text"]["content"], "不满意"))  # type: ignore[index]
    assert "哪里不满意" in asked.text
    assert option_number(asked.text, "跳过") and option_number(asked.text, "取消")
    answer = await wx.text(WX_RESIDENT, REASON)
    assert "已重新交办" in answer.text
    card = await wechat_fake.wait_for(lambda c: c.body is not None and c.body.get("touser") == WX_GUIDE
                                      and "上报工单 #1" in c.body.get("text", {}).get("content", ""))
    content = card.body["text"]["content"]  # type: ignore[index]
    [line] = [line for line in content.split("\n") if line.startswith("不满意的原因：")]
    assert "楼道灯换了第二天又坏了" in line and "<b>" not in content  # WeChat's renderer defuses the tags
    mine = await wx.text(WX_RESIDENT, "我的工单")
    detail = await wx.text(WX_RESIDENT, option_number(mine.text, "#1 水电维修 · 重新办理"))
    assert "评价：不满意（原因：" in detail.text and "已通知" not in detail.text
