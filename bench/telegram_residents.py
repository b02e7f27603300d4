"""Residents for bench/telegram_intake.py: scripted chats that answer what the bot shows them.

A resident sends one step, waits until the bot's answer to it has arrived at the fake Bot API
(a resident cannot press a button before seeing it), then sends the next — pressing the button
from that very message, with its real callback data. `converse` runs many of them at once in
closed loop: every message the fake saw is read in one long-poll and every next step is pushed
in one request, so the driver stays cheap next to the bot it measures.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from bench.telegram_fake import FakeClient

Message = dict[str, Any]
STALL_SECONDS = 60.0


@dataclass(frozen=True)
class Step:
    action: str  # "text": send `value`; "press": press the button labelled `value`
    value: str
    expect: str  # the answer that lets the next step go contains this (in its buttons if `in_buttons`)
    in_buttons: bool = False


@dataclass
class Chatter:
    user: int
    steps: list[Step]
    index: int = 0  # the step whose answer we are waiting for
    done_at: float | None = None
    messages: list[Message] = field(default_factory=list)
    asked_at: float = 0.0  # when the awaited step reached the fake
    latencies: list[float] = field(default_factory=list)  # step pushed -> its answer sent

    def first(self) -> dict[str, Any]:
        return self._update(self.steps[0], None)

    def answer(self, message: Message) -> dict[str, Any] | None:
        """The next update to push if `message` is the awaited answer; None otherwise."""
        self.messages.append(message)
        if self.done_at is not None or not self._matches(self.steps[self.index], message):
            return None
        self.index += 1
        self.latencies.append(message["at"] - self.asked_at)
        if self.index == len(self.steps):
            self.done_at = message["at"]
            return None
        return self._update(self.steps[self.index], message)

    @staticmethod
    def _matches(step: Step, message: Message) -> bool:
        if step.in_buttons:
            return any(step.expect in b["text"] for b in message["buttons"])
        return step.expect in message["text"]

    def _update(self, step: Step, shown: Message | None) -> dict[str, Any]:
        if step.action == "text":
            return {"user": self.user, "text": step.value}
        assert shown is not None, "a button can only be pressed on a message"
        buttons = [b for b in shown["buttons"] if b["data"]]
        chosen = next((b for b in buttons if b["text"] == step.value), None) or next(
            (b for b in buttons if step.value in b["text"]), None)
        if chosen is None:
            raise AssertionError(f"user {self.user}: no button {step.value!r} in {shown}")
        return {"user": self.user, "data": chosen["data"], "message_id": shown["message_id"]}


def report_steps(category: str, description: str, address: str) -> list[Step]:
    """A report as tests/e2e/test_telegram_e2e.py files it: 7 updates, 4 of them button presses
    (an exact address is taken without 「哪一个」; the optional flat question is skipped)."""
    return [
        Step("text", "/report", "问题类别"),
        Step("press", category, "描述问题"),
        Step("text", description, "哪个社区"),
        Step("text", address, "单元和门牌号"),
        Step("press", "跳过", "留个电话"),
        Step("press", "不留电话", "请确认"),
        Step("press", "提交", "工单号 #"),
    ]


def echo_steps(steps: list[Step]) -> list[Step]:
    """The same number of updates as texts; the echo of each is the answer awaited."""
    return [Step("text", s.value, s.value) for s in steps]


@dataclass
class Conversation:
    started_at: float
    finished_at: float
    updates: int
    by_chat: dict[int, list[Message]]
    latencies: list[float]  # each step: pushed to the fake -> its answer accepted by the fake
    cpu: dict[str, float] = field(default_factory=dict)  # CPU seconds per process during the run


async def converse(fake: FakeClient, chatters: list[Chatter], *, cards_to: set[int] | None = None,
                   card_text: str = "新工单 #") -> Conversation:
    """Run every chatter to its last step; with `cards_to`, also wait for one card per chatter there."""
    people = {c.user: c for c in chatters}
    by_chat: dict[int, list[Message]] = {}
    cards: list[float] = []
    pushed = len(chatters)
    started_at = (await fake.push([c.first() for c in chatters]))["at"]
    for chatter in chatters:
        chatter.asked_at = started_at
    idle_since = asyncio.get_running_loop().time()
    while any(c.done_at is None for c in chatters) or (cards_to is not None and len(cards) < len(chatters)):
        messages = await fake.sent(timeout=1.0)
        now = asyncio.get_running_loop().time()
        if not messages:
            if now - idle_since > STALL_SECONDS:
                waiting = [(c.user, c.index) for c in chatters if c.done_at is None][:5]
                raise TimeoutError(f"stalled: {len(cards)} cards; waiting (user, step): {waiting}")
            continue
        idle_since = now
        following, asking = [], []
        for message in messages:
            by_chat.setdefault(message["chat_id"], []).append(message)
            if cards_to is not None and message["chat_id"] in cards_to and card_text in message["text"]:
                cards.append(message["at"])
            chatter = people.get(message["chat_id"])
            if chatter is not None and (update := chatter.answer(message)) is not None:
                following.append(update)
                asking.append(chatter)
        if following:
            pushed += len(following)
            at = (await fake.push(following))["at"]
            for chatter in asking:
                chatter.asked_at = at
    finished_at = max([c.done_at or 0.0 for c in chatters] + cards)
    return Conversation(started_at, finished_at, pushed, by_chat, [x for c in chatters for x in c.latencies])
