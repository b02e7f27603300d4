"""Telegram's flood limits: ≈30 messages/s overall (a sliding window), 20/min per group, ~1/s per chat.

Every limiter reads time from a `Timer` (monotonic seconds and a way to wait for them), the
event loop's by default; tests hand in a fake one and move it, so no test waits on the wall clock.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict, deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from contextvars import ContextVar
from typing import Protocol

GLOBAL_PER_SECOND = 30
GROUP_PER_MINUTE = 20
# A private chat may burst a few messages (a reply plus a prompt) but averages one per second.
PRIVATE_BURST = 3
MAX_TRACKED_CHATS = 10_000
# Float sums of leaked capacity land a hair short of a whole slot; that is not worth a wait.
_EPSILON = 1e-9


class Timer(Protocol):
    """Monotonic seconds, and a wait for some of them to pass."""

    def time(self) -> float: ...

    async def sleep(self, seconds: float) -> None: ...


class LoopTimer:
    """The running event loop's clock (what asyncio's own timeouts use)."""

    def time(self) -> float:
        return asyncio.get_running_loop().time()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


LOOP_TIMER = LoopTimer()


# Set by a transport when the platform refused the message it was sending (429): a refused
# request is no message, so it does not use up its slot in the window. Per task (contextvars).
_refused: ContextVar[bool] = ContextVar("refused", default=False)


def refused() -> None:
    """The message being sent in this task was refused for flood control; it does not count."""
    _refused.set(True)


class SlidingWindow:
    """At most `limit` messages in any `period` seconds, as Telegram counts them; first come, first served.

    A message counts from when its slot is taken until `period` after the slot is given back (after
    the API call), so however long the database or the network delays the request, no `period`
    at Telegram's end ever sees more than `limit` of them. A leaky bucket of the same rate
    lets a full bucket go at once and then drips on: up to twice the limit in the first second
    of a fan-out, and each 429 that earns costs its row a retry_after. A message the platform
    refused (see `refused`) gives its slot back at once.
    """

    def __init__(self, limit: int, period: float, timer: Timer = LOOP_TIMER) -> None:
        self._limit = limit
        self._period = period
        self._timer = timer
        self._ended: deque[float] = deque()  # when recent slots were given back, oldest first
        self._held = 0
        self._turn = asyncio.Lock()  # FIFO: a waiter is not overtaken by later arrivals
        self._released = asyncio.Event()

    async def __aenter__(self) -> None:
        async with self._turn:
            while True:
                now = self._timer.time()
                while self._ended and self._ended[0] <= now - self._period:
                    self._ended.popleft()
                if self._held + len(self._ended) < self._limit:
                    self._held += 1
                    _refused.set(False)
                    return
                if self._ended:
                    await self._timer.sleep(self._ended[0] + self._period - now)
                else:  # every slot is on the wire: wait for one to come back
                    self._released.clear()
                    await self._released.wait()

    async def __aexit__(self, *exc: object) -> None:
        self._held -= 1
        if not _refused.get():
            self._ended.append(self._timer.time())
        self._released.set()


class LeakyBucket:
    """Up to `capacity` messages at once, refilled at `capacity` per `period` seconds; first come,
    first served. (aiolimiter's AsyncLimiter, on an injectable timer.)"""

    def __init__(self, capacity: float, period: float, timer: Timer = LOOP_TIMER) -> None:
        self._capacity = capacity
        self._per_second = capacity / period
        self._timer = timer
        self._level = 0.0
        self._checked: float | None = None
        self._turn = asyncio.Lock()

    def _leak(self, now: float) -> None:
        if self._checked is not None:
            self._level = max(self._level - (now - self._checked) * self._per_second, 0.0)
        self._checked = now

    async def __aenter__(self) -> None:
        async with self._turn:
            while True:
                self._leak(self._timer.time())
                if self._level + 1 <= self._capacity + _EPSILON:
                    self._level += 1
                    return
                await self._timer.sleep((self._level + 1 - self._capacity) / self._per_second)

    async def __aexit__(self, *exc: object) -> None:
        return None


class ChatRateLimits:
    def __init__(self, global_per_second: int = GLOBAL_PER_SECOND,
                 group_per_minute: int = GROUP_PER_MINUTE, private_burst: int = PRIVATE_BURST,
                 timer: Timer = LOOP_TIMER) -> None:
        self._timer = timer
        self._global = SlidingWindow(global_per_second, 1.0, timer)
        self._group_per_minute = group_per_minute
        self._private_burst = private_burst
        self._chats: OrderedDict[str, LeakyBucket] = OrderedDict()

    def _for_chat(self, chat_id: str, is_group: bool) -> LeakyBucket:
        limiter = self._chats.get(chat_id)
        if limiter is None:
            limiter = (LeakyBucket(self._group_per_minute, 60, self._timer) if is_group
                       else LeakyBucket(self._private_burst, self._private_burst, self._timer))
            self._chats[chat_id] = limiter
            if len(self._chats) > MAX_TRACKED_CHATS:
                self._chats.popitem(last=False)
        else:
            self._chats.move_to_end(chat_id)
        return limiter

    @asynccontextmanager
    async def slot(self, chat_id: str, is_group: bool) -> AsyncIterator[None]:
        """Wait until one more message to this chat is within every limit."""
        async with self._for_chat(chat_id, is_group), self._global:
            yield
