"""Flooding: one resident sending 100 messages in 10 s, through the real WeChat callback server."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from bot.config import Config
from handlers.texts import ZH
from storage.clock import FakeClock
from tests.chat import query
from tests.e2e.test_wechat_e2e import option_number
from tests.fakes.wechat_api import FakeWeChatAPI
from tests.wechat_harness import WeChatRun, start_wechat

FLOODER = "oFlooder000000000000000001"
NEIGHBOUR = "oNeighbour0000000000000001"
NOTICE = ZH["flood_notice"]


@pytest.fixture
async def run(config: Config, wechat_fake: FakeWeChatAPI, clock: FakeClock, tmp_path: Path,
              session: aiohttp.ClientSession) -> AsyncIterator[WeChatRun]:
    started = await start_wechat(config, wechat_fake, clock, tmp_path / "wx.db", session)
    yield started
    await started.close()


class Reporter:
    """Walks the report flow by typing, as a WeChat follower does; remembers each answer."""

    def __init__(self, run: WeChatRun, openid: str) -> None:
        self.wx = run.platform
        self.openid = openid
        self.answers: list[str] = []
        self.last = ""

    async def step(self, index: int) -> str:
        """Step `index` (0–6) of one report; numbers are read from the last real answer."""
        if index == 0:
            answer = await self.wx.click(self.openid, "i:report")
        else:
            content = {
                1: lambda: option_number(self.last, "水电维修"),
                2: lambda: "楼道灯坏了",
                3: lambda: "龙池花园3号楼",
                4: lambda: option_number(self.last, "跳过"),  # the flat: the address was exact
                5: lambda: "13812345678",
                6: lambda: option_number(self.last, "仍然提交新反映" if "仍然提交" in self.last else "提交"),
            }[index]
            answer = await self.wx.text(self.openid, content() if self._in_flow() else "1")
        assert answer.status == 200
        self.answers.append(answer.text)
        if answer.text and answer.text != NOTICE:
            self.last = answer.text
        return answer.text

    def _in_flow(self) -> bool:
        return bool(self.last) and NOTICE not in self.last


async def test_a_flooding_resident_files_few_tickets_and_slows_nobody(
    run: WeChatRun, clock: FakeClock
) -> None:
    """Fault: one follower sends 100 messages in 10 s, walking the report flow over and over,
    while a neighbour reports once. Expected: the flooder gets at most a few tickets and one
    polite notice, the rest is stored but not handled; the neighbour's every answer is a
    real answer, none delayed to a push."""
    flooder, neighbour = Reporter(run, FLOODER), Reporter(run, NEIGHBOUR)
    neighbour_steps = iter(range(7))
    for n in range(100):
        clock.advance(seconds=0.1)
        try:
            await flooder.step(n % 7)
        except AssertionError:
            await flooder.wx.text(FLOODER, "1")  # an option vanished: the flooder types on anyway
        if n % 14 == 13:
            step = next(neighbour_steps, None)
            if step is not None:
                await neighbour.step(step)

    flooded = await query(run.app, "SELECT COUNT(*) FROM tickets t JOIN accounts a"
                          " ON a.resident_id = t.resident_id WHERE a.external_id = ?", FLOODER)
    assert 1 <= flooded[0][0] <= 3
    assert sum(1 for text in flooder.answers if "工单号" in text) == flooded[0][0]
    # One notice was written (a click repeated within the same second is WeChat's retry of the
    # same event, so it gets that stored answer again); everything was stored, 20 a minute handled.
    notices = await query(run.app, "SELECT COUNT(*) FROM inbox WHERE response = ?", NOTICE)
    assert notices[0][0] == 1 and NOTICE in flooder.answers
    stored, held_back = (await query(run.app, "SELECT COUNT(*), SUM(error = 'flood-limited') FROM inbox"))[0]
    assert held_back == stored - len(neighbour.answers) - 20

    assert len(neighbour.answers) == 7, neighbour.answers
    assert all(text and text != NOTICE and text != ZH["wechat_pushed_later"] for text in neighbour.answers), neighbour.answers
    assert "工单号" in neighbour.answers[-1]

    clock.advance(minutes=1)
    again = await run.platform.text(FLOODER, "我的工单")
    assert again.text and again.text != NOTICE  # the limit is a window, not a ban
