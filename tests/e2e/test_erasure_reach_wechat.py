"""Erasure reaches the copies on WeChat too: the neighbour's passive reply with the duplicate hint
(inbox.response), the leader's typed 「办结」 quoting her phone (the callback XML in the inbox)
and the pushes quoting her (outbox) — after 我的数据 → 删除, nothing holds her phone or text."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from bot.bootstrap import build_scheduler
from bot.config import Config
from storage.clock import FakeClock
from tests.e2e.test_erasure_reach import DESCRIPTION, PHONE, leaks, settled
from tests.e2e.test_wechat_e2e import option_number
from tests.fakes.wechat_api import FakeWeChatAPI
from tests.wechat_harness import Answer, WeChatRun, start_wechat

RESIDENT = "oResidentErase00000000001"
NEIGHBOUR = "oNeighbourErase0000000001"
LEADER = "oLeaderErase0000000000001"


@pytest.fixture
async def run(config: Config, wechat_fake: FakeWeChatAPI, clock: FakeClock, tmp_path: Path,
              session: aiohttp.ClientSession) -> AsyncIterator[WeChatRun]:
    started = await start_wechat(config, wechat_fake, clock, tmp_path / "wx.db", session)
    yield started
    await started.close()


async def up_to_the_phone(run: WeChatRun, openid: str, description: str) -> Answer:
    wx = run.platform
    answer = await wx.click(openid, "i:report")
    answer = await wx.text(openid, option_number(answer.text, "水电维修"))
    answer = await wx.text(openid, description)
    answer = await wx.text(openid, "龙池花园3号楼")
    answer = await wx.text(openid, option_number(answer.text, "跳过"))  # issue 13: the flat
    assert "留个电话" in answer.text, answer
    return answer


async def test_erasure_reaches_the_copies_on_wechat(run: WeChatRun) -> None:
    wx = run.platform
    assert "绑定成功" in (await run.bind(LEADER, "g01-leader")).text
    await up_to_the_phone(run, RESIDENT, DESCRIPTION)
    summary = await wx.text(RESIDENT, PHONE)
    assert "工单号 #1" in (await wx.text(RESIDENT, option_number(summary.text, "提交"))).text
    asked = await up_to_the_phone(run, NEIGHBOUR, "我们这层的灯也不亮")
    hint = await wx.text(NEIGHBOUR, option_number(asked.text, "不留电话"))
    assert "同一楼栋已有类似反映" in hint.text and DESCRIPTION[:10] not in hint.text
    assert "已记录" in (await wx.text(NEIGHBOUR, option_number(hint.text, "我也遇到 #1"))).text
    assert "已受理" in (await wx.text(LEADER, "受理 1")).text
    await wx.text(LEADER, "办结 1 王女士电话 138 1234 5678 已回访")
    await settled(run)
    assert await leaks(run), "the scenario must have left copies to erase"

    mine = await wx.text(RESIDENT, "我的数据")
    confirm = await wx.text(RESIDENT, option_number(mine.text, "删除我的数据"))
    assert "已删除您的个人信息" in (await wx.text(RESIDENT, option_number(confirm.text, "确认删除"))).text
    await settled(run)
    await build_scheduler(run.app).run_due()
    left = await leaks(run)
    assert not left, "still there after erasure:\n" + "\n".join(left)
