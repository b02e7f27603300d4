"""The follower side of bench.wechat_callbacks: one WeChat follower walking the report flow.

Each follower follows the account, then files reports as a resident would (tap 微服务 → 我要反映,
pick a category by number, describe, type an address, pick the building, phone, 提交), reading
each passive reply to decide the next message. Every callback it sent is recorded, so the
baseline can replay the same payloads against the bare endpoint.
"""

from __future__ import annotations

import asyncio
import re
import time
from dataclasses import dataclass, field

from tests.wechat_harness import Answer, WeChatPlatform

DEADLINE_TEXT = "正在处理，稍后把结果发给您。"
CATEGORIES = ("水电维修", "矛盾化解", "环境卫生/垃圾分类", "民情收集", "其他")
COMPOUND = "龙池花园"  # grid G01: buildings 1栋–8栋, the grid whose leader is bound
BUILDINGS = tuple(range(1, 9))
SUBMITTED = re.compile(r"工单号 #(\d+)")
MAX_STEPS = 12  # a report takes 8–9 callbacks; more means the flow went wrong
# The engine's flood guard handles at most 20 messages a minute per sender, so a client files
# this many reports (≈ 18 callbacks with the follow) as one follower, then goes on as a new one.
REPORTS_PER_FOLLOWER = 2


def number_of(text: str, label: str) -> str | None:
    """The number of the option `label` in a numbered list ("3. 水电维修")."""
    for line in text.splitlines():
        number, dot, rest = line.partition(". ")
        if dot and number.isdigit() and rest == label:
            return number
    return None


@dataclass
class Stats:
    """What every follower saw; latencies are the HTTP round trips of the callbacks."""

    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    deadline_replies: int = 0
    tickets: dict[int, str] = field(default_factory=dict)  # ticket id -> description filed

    def record(self, answer: Answer) -> None:
        self.latencies.append(answer.seconds)
        if answer.status != 200:
            self.errors.append(f"HTTP {answer.status}")
        if answer.text.strip() == DEADLINE_TEXT:
            self.deadline_replies += 1


@dataclass
class Follower:
    """One client: a follower (then, every REPORTS_PER_FOLLOWER reports, a new one) filing reports."""

    wx: WeChatPlatform
    index: int
    stats: Stats
    openid: str = ""
    sent: list[dict[str, str | int]] = field(default_factory=list)
    _last_tap: int = -1

    async def _post(self, fields: dict[str, str | int]) -> Answer:
        self.sent.append(fields)
        answer = await self.wx.post(fields)
        self.stats.record(answer)
        return answer

    async def text(self, content: str) -> Answer:
        return await self._post(self.wx.text_fields(self.openid, content))

    async def subscribe(self) -> Answer:
        return await self._post(self.wx.base(self.openid, "event") | {"Event": "subscribe", "EventKey": ""})

    async def tap(self, key: str) -> Answer:
        # WeChat's retry key for an event is sender + CreateTime (whole seconds) + event + key, so
        # two taps of one button within a second are one event: a person does not refile that fast.
        if int(time.time()) == self._last_tap:
            await asyncio.sleep(self._last_tap + 1.001 - time.time())
        self._last_tap = int(time.time())
        return await self._post(self.wx.base(self.openid, "event") | {"Event": "CLICK", "EventKey": key})

    def _next(self, text: str, n: int) -> str | None:
        """The message a resident sends after reading `text`, for report number `n`."""
        category = CATEGORIES[(self.index + n) % len(CATEGORIES)]
        building = BUILDINGS[(self.index * 3 + n) % len(BUILDINGS)]
        if text.startswith("请选择要反映的问题类别"):
            return number_of(text, category)
        if text.startswith("请简单描述问题"):
            return f"{building}栋楼道灯坏了好几天了，晚上很黑（住户{self.index:02d}第{n}次反映）"
        if "登记的地址" in text:
            return number_of(text, "换一个地址")
        if text.startswith("问题在哪个社区"):
            return f"{COMPOUND}{building}号楼"
        if text.startswith("您说的是下面哪一个"):
            return number_of(text, f"{COMPOUND}{building}栋")
        if text.startswith("请补充单元和门牌号"):  # issue 13's optional flat question
            return number_of(text, "跳过") or "跳过"
        if text.startswith("留个电话"):
            return f"139{self.index:04d}{n:04d}"
        if "类似反映" in text:
            return number_of(text, "仍然提交新反映")
        if text.startswith("请确认"):
            return number_of(text, "提交")
        return None

    async def report(self, n: int) -> None:
        """One report from the menu tap to the ticket number."""
        answer = await self.tap("i:report")
        for _ in range(MAX_STEPS):
            if found := SUBMITTED.search(answer.text):
                ticket = int(found.group(1))
                if ticket in self.stats.tickets:
                    self.stats.errors.append(f"ticket #{ticket} answered twice")
                self.stats.tickets[ticket] = f"住户{self.index:02d}第{n}次反映"
                return
            message = self._next(answer.text, n)
            if message is None:
                first = (answer.text or answer.body).splitlines()[0] if (answer.text or answer.body) else ""
                self.stats.errors.append(f"follower {self.index} report {n}: unexpected {first[:60]!r}")
                return
            answer = await self.text(message)
        self.stats.errors.append(f"follower {self.index} report {n}: no ticket after {MAX_STEPS} steps")

    async def run(self, reports: int) -> None:
        for n in range(1, reports + 1):
            if (n - 1) % REPORTS_PER_FOLLOWER == 0:
                self.openid = f"oBench{self.index:04d}x{n:04d}{'0' * 14}"
                self._last_tap = -1
                await self.subscribe()
            await self.report(n)


async def replay(wx: WeChatPlatform, script: list[dict[str, str | int]], stats: Stats) -> None:
    """The same callbacks again (fresh timestamp, nonce and MsgId), one after another."""
    for fields in script:
        fresh = dict(fields)
        fresh["CreateTime"] = int(time.time())
        if "MsgId" in fresh:
            fresh["MsgId"] = wx.text_fields("x", "")["MsgId"]
        stats.record(await wx.post(fresh))
