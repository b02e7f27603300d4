"""The Telegram side of bench/load.py: residents on a schedule with think time, and every card seen.

Each resident starts at its planned second, sends `/report` and walks the same 8 steps as
bench/telegram_residents.py (reusing its Chatter: the next step is only sent once the answer to
the last has reached the fake Bot API, pressing that answer's real button), but waits a human
think time before each next step instead of answering at once. One reader long-polls the fake
for everything the bot sent — residents' answers and the leaders' cards (also those of WeChat
residents' tickets) — with the fake's own acceptance time.
"""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from bench.load_plan import THINK_MAX, THINK_MIN, Resident
from bench.telegram_fake import FakeClient
from bench.telegram_residents import Chatter, report_steps

CARD = re.compile(r"新工单 #(\d+)")
SUBMITTED = re.compile(r"工单号 #(\d+)")


@dataclass(frozen=True)
class Submission:
    at: float  # CLOCK_MONOTONIC when the fake accepted the 提交 press
    platform_id: str  # the update id: the bot's inbox row for it


@dataclass(frozen=True)
class Card:
    ticket: int
    chat: str
    at: float
    how: str  # "telegram", or the WeChat API path's last part ("send" / "template")


@dataclass
class TelegramCrowd:
    fake: FakeClient
    residents: list[Resident]
    leader_chats: set[str]
    chatters: dict[int, Chatter] = field(default_factory=dict)
    submitted: dict[int, Submission] = field(default_factory=dict)  # resident index -> 提交
    tickets: dict[int, int] = field(default_factory=dict)  # resident index -> ticket number answered
    cards: list[Card] = field(default_factory=list)
    sent_at: list[float] = field(default_factory=list)  # every message the fake accepted in the run
    counts: Counter[str] = field(default_factory=Counter)  # replies / cards / other messages
    pushed_at: list[float] = field(default_factory=list)  # every update pushed in the run
    answer_times: list[float] = field(default_factory=list)  # each step: pushed → its answer at the fake
    errors: list[str] = field(default_factory=list)
    all_done: asyncio.Event = field(default_factory=asyncio.Event)
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)

    def __post_init__(self) -> None:
        self._by_user = {r.telegram_user: r for r in self.residents}
        self._think = {r.telegram_user: r.think_times() for r in self.residents}
        self._asked: dict[tuple[int, int], float] = {}  # (user, step) -> when the fake took the update
        self.chatters = {r.telegram_user: Chatter(r.telegram_user, report_steps(r.category, r.description, r.address))
                         for r in self.residents}
        if not self.residents:
            self.all_done.set()

    @property
    def finished(self) -> int:
        return sum(1 for c in self.chatters.values() if c.done_at is not None)

    def _spawn(self, coro: Any) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def run(self, t0: float, stop: asyncio.Event) -> None:
        """Start every resident at t0 + its start, read what the bot sends until `stop`."""
        loop = asyncio.get_running_loop()
        for chatter in self.chatters.values():
            delay = t0 + self._by_user[chatter.user].start - loop.time()
            self._spawn(self._push_later(chatter, chatter.first(), delay))
        while not stop.is_set():
            self._take(await self.fake.sent(timeout=0.5))
        self._take(await self.fake.sent(timeout=0))
        for task in list(self._tasks):
            task.cancel()

    async def _push_later(self, chatter: Chatter, update: dict[str, Any], delay: float) -> None:
        await asyncio.sleep(max(delay, 0.0))
        answer = await self.fake.push([update])
        chatter.asked_at = answer["at"]
        self._asked[(chatter.user, chatter.index)] = answer["at"]
        self.pushed_at.append(answer["at"])
        if chatter.index == len(chatter.steps) - 1:  # the 提交 press
            resident = self._by_user[chatter.user]
            self.submitted[resident.index] = Submission(answer["at"], str(answer["update_ids"][0]))

    def _take(self, messages: list[dict[str, Any]]) -> None:
        for message in messages:
            self.sent_at.append(message["at"])
            chat = str(message["chat_id"])
            if chat in self.leader_chats:
                found = CARD.search(message["text"])
                self.counts["cards to leaders" if found else "other to leaders"] += 1
                if found:
                    self.cards.append(Card(int(found.group(1)), chat, message["at"], "telegram"))
                continue
            chatter = self.chatters.get(int(message["chat_id"]))
            if chatter is None:
                self.counts["to unknown chats"] += 1
                continue
            self.counts["replies to residents"] += 1
            was_done, step = chatter.done_at is not None, chatter.index
            update = chatter.answer(message)
            if chatter.index != step and (asked := self._asked.get((chatter.user, step))) is not None:
                self.answer_times.append(message["at"] - asked)
            if chatter.done_at is not None and not was_done:
                self._finish(chatter, message)
                if self.finished == len(self.residents):
                    self.all_done.set()
            if update is not None:
                rng = self._think[chatter.user]
                self._spawn(self._push_later(chatter, update, rng.uniform(THINK_MIN, THINK_MAX)))

    def _finish(self, chatter: Chatter, message: dict[str, Any]) -> None:
        resident = self._by_user[chatter.user]
        found = SUBMITTED.search(message["text"])
        if found is None:
            self.errors.append(f"telegram resident {resident.index}: no ticket number in {message['text'][:60]!r}")
            return
        self.tickets[resident.index] = int(found.group(1))

    def stuck(self, limit: int = 5) -> list[str]:
        """Residents that did not finish, with the step they wait on and the last thing they saw."""
        out = []
        for chatter in self.chatters.values():
            if chatter.done_at is None and len(out) < limit:
                last = chatter.messages[-1]["text"][:40] if chatter.messages else "(nothing)"
                out.append(f"tg {self._by_user[chatter.user].index} step {chatter.index}: last {last!r}")
        return out
