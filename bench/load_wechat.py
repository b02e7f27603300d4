"""The WeChat side of bench/load.py: followers on a schedule, with think time, filing one report each.

Each follower starts at its planned second: follows the account, taps 微服务 → 我要反映, then
answers what each passive reply asks (category number, description, typed address, the
building's number, 不留电话, 提交) after a human think time — signed, AES-encrypted callbacks
as tests/wechat_harness.py posts them (safe mode). The 提交 callback's send time and MsgId are
kept: the time starts the card latency, the MsgId finds the bot's inbox row for it.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

from bench.load_plan import THINK_MAX, THINK_MIN, Resident
from bench.load_telegram import Submission
from bench.wechat_flow import DEADLINE_TEXT, SUBMITTED, number_of
from bot.channels.wechat.messages import platform_id
from tests.wechat_harness import Answer, WeChatPlatform

MAX_STEPS = 10  # a report takes 8 answers after the tap; more means the flow went wrong


def next_message(resident: Resident, text: str) -> str | None:
    """What this resident sends after reading `text`; None if the bot asked something unplanned."""
    if text.startswith("请选择要反映的问题类别"):
        return number_of(text, resident.category)
    if text.startswith("请简单描述问题"):
        return resident.description
    if text.startswith("问题在哪个社区"):
        return resident.address
    if text.startswith("您说的是下面哪一个"):
        return number_of(text, resident.address)
    if text.startswith("请补充单元和门牌号"):  # issue 13's optional flat question
        return number_of(text, "跳过")
    if text.startswith("留个电话"):
        return number_of(text, "不留电话")
    if text.startswith("请确认"):
        # A similar open report would offer 「我也遇到」 first; the plan avoids it, so 提交 is it.
        return number_of(text, "提交")
    return None


@dataclass
class WeChatCrowd:
    wx: WeChatPlatform
    residents: list[Resident]
    submitted: dict[int, Submission] = field(default_factory=dict)
    tickets: dict[int, int] = field(default_factory=dict)
    latencies: list[float] = field(default_factory=list)  # every callback's round trip
    sent_at: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    replies: int = 0  # answers with a text in the HTTP response (WeChat's passive reply)
    deadline_replies: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def finished(self) -> int:
        return len(self.tickets)

    async def run(self, t0: float) -> None:
        await asyncio.gather(*(self._walk(r, t0) for r in self.residents))

    async def _post(self, fields: dict[str, str | int]) -> Answer:
        self.sent_at.append(time.monotonic())
        answer = await self.wx.post(fields)
        self.latencies.append(answer.seconds)
        self.statuses[answer.status] = self.statuses.get(answer.status, 0) + 1
        self.replies += bool(answer.text)
        if answer.text.strip() == DEADLINE_TEXT:
            self.deadline_replies += 1
        return answer

    async def _walk(self, resident: Resident, t0: float) -> None:
        loop = asyncio.get_running_loop()
        await asyncio.sleep(max(t0 + resident.start - loop.time(), 0.0))
        rng = resident.think_times()
        openid = resident.openid
        await self._post(self.wx.base(openid, "event") | {"Event": "subscribe", "EventKey": ""})
        await asyncio.sleep(rng.uniform(THINK_MIN, THINK_MAX))
        answer = await self._post(self.wx.base(openid, "event") | {"Event": "CLICK", "EventKey": "i:report"})
        for _ in range(MAX_STEPS):
            if found := SUBMITTED.search(answer.text):
                self.tickets[resident.index] = int(found.group(1))
                return
            message = next_message(resident, answer.text)
            if message is None:
                first = (answer.text or answer.body or f"HTTP {answer.status}").splitlines()[0][:60]
                self.errors.append(f"wechat resident {resident.index}: unexpected {first!r}")
                return
            await asyncio.sleep(rng.uniform(THINK_MIN, THINK_MAX))
            fields = self.wx.text_fields(openid, message)
            if answer.text.startswith("请确认"):
                key = platform_id({k: str(v) for k, v in fields.items()})  # as the bot's inbox keys it
                self.submitted[resident.index] = Submission(time.monotonic(), key)
            answer = await self._post(fields)
        self.errors.append(f"wechat resident {resident.index}: no ticket after {MAX_STEPS} steps")
