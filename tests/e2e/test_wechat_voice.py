"""Issue 13 (适老化): WeChat voice messages, with and without WeChat's own transcript.

Signed, encrypted callbacks go to the real server; what the resident reads is the passive reply,
what the leader gets is what reached the fake WeChat API.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from bot.config import Config
from storage import tickets
from storage.clock import FakeClock
from tests.e2e.test_wechat_e2e import option_number
from tests.fakes.wechat_api import FakeWeChatAPI
from tests.wechat_harness import WeChatRun, start_wechat

RESIDENT = "oResidentVoice00000000001"
LEADER = "oLeaderVoice0000000000001"


@pytest.fixture
async def run(config: Config, wechat_fake: FakeWeChatAPI, clock: FakeClock, tmp_path: Path,
              session: aiohttp.ClientSession) -> AsyncIterator[WeChatRun]:
    started = await start_wechat(config, wechat_fake, clock, tmp_path / "wx.db", session)
    yield started
    await started.close()


async def test_a_transcribed_voice_counts_as_typed(run: WeChatRun) -> None:
    """语音识别: the Recognition is a menu word, an answer to the step, a description — and
    WeChat's trailing 「。」 is not part of what was said."""
    wx = run.platform
    answer = await wx.voice(RESIDENT, "VOICE-1", "你好。")
    assert "微服务" in answer.text and "作为反映" not in answer.text, answer
    answer = await wx.voice(RESIDENT, "VOICE-2", "我要反映。")
    assert "问题类别" in answer.text, answer
    answer = await wx.voice(RESIDENT, "VOICE-3", "水电维修。")
    assert "描述问题" in answer.text, answer
    answer = await wx.voice(RESIDENT, "VOICE-4", "楼道灯坏了好几天了。")
    assert "哪个社区" in answer.text, answer
    answer = await wx.text(RESIDENT, "龙池花园3号楼")
    answer = await wx.text(RESIDENT, option_number(answer.text, "龙池花园3栋"))
    answer = await wx.text(RESIDENT, option_number(answer.text, "跳过"))
    answer = await wx.text(RESIDENT, option_number(answer.text, "不留电话"))
    assert "描述：楼道灯坏了好几天了\n" in answer.text and "语音" not in answer.text, answer
    answer = await wx.voice(RESIDENT, "VOICE-5", "提交。")
    assert "工单号 #1" in answer.text, answer
    async with run.app.db.read() as conn:
        ticket = await tickets.get_ticket(conn, 1)
        kept = await tickets.attachments_of(conn, 1)
    assert ticket is not None and ticket.description == "楼道灯坏了好几天了"
    assert kept == []  # a transcribed voice is words, not an attachment
