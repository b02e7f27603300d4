"""Telegram's flood limits: ≈30 messages/s overall (a sliding window), 20/min per group, ~1/s per chat."""

from __future__ import annotations

import asyncio
from collections import OrderedDict, deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from contextvars import ContextVar

from aiolimiter import AsyncLimiter

GLOBAL_PER_SECOND = 30
GROUP_PER_MINUTE = 20
# A private chat may burst a few messages (a reply plus a prompt) but averages one per second.
PRIVATE_BURST = 3
MAX_TRACKED_CHATS = 10_000


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
    (aiolimiter's) lets a full bucket go at once and then drips on: up to twice the limit in the
    first second of a fan-out, and each 429 that earns costs its row a retry_after. A message
    the platform refused (see `refused`) gives its slot back at once.
    """

    def __init__(self, limit: int, period: float) -> None:
        self._limit = limit
        self._period = period
        self._ended: deque[float] = deque()  # when recent slots were given back, oldest first
        self._held = 0
        self._turn = asyncio.Lock()  # FIFO: a waiter is not overtaken by later arrivals
        self._released = asyncio.Event()

    async def __aenter__(self) -> None:
        async with self._turn:
            loop = asyncio.get_running_loop()
            while True:
                now = loop.time()
                while self._ended and self._ended[0] <= now - self._period:
                    self._ended.popleft()
                if self._held + len(self._ended) < self._limit:
                    self._held += 1
                    _refused.set(False)
                    return
                if self._ended:
                    await asyncio.sleep(self._ended[0] + self._period - now)
                else:  # every slot is on the wire: wait for one to come back
                    self._released.clear()
                    await self._released.wait()

    async def __aexit__(self, *exc: object) -> None:
        self._held -= 1
        if not _refused.get():
            self._ended.append(asyncio.get_running_loop().time())
        self._released.set()


class ChatRateLimits:
    def __init__(self, global_per_second: int = GLOBAL_PER_SECOND,
                 group_per_minute: int = GROUP_PER_MINUTE, private_burst: int = PRIVATE_BURST) -> None:
        self._global = SlidingWindow(global_per_second, 1.0)
        self._group_per_minute = group_per_minute
        self._private_burst = private_burst
        self._chats: OrderedDict[str, AsyncLimiter] = OrderedDict()

    def _for_chat(self, chat_id: str, is_group: bool) -> AsyncLimiter:
        limiter = self._chats.get(chat_id)
        if limiter is None:
            limiter = (AsyncLimiter(self._group_per_minute, 60) if is_group
                       else AsyncLimiter(self._private_burst, self._private_burst))
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
