"""Telegram's flood limits as leaky buckets: ≈30 messages/s overall, 20/min per group, ~1/s per chat."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from aiolimiter import AsyncLimiter

GLOBAL_PER_SECOND = 30
GROUP_PER_MINUTE = 20
# A private chat may burst a few messages (a reply plus a prompt) but averages one per second.
PRIVATE_BURST = 3
MAX_TRACKED_CHATS = 10_000


class ChatRateLimits:
    def __init__(self, global_per_second: int = GLOBAL_PER_SECOND,
                 group_per_minute: int = GROUP_PER_MINUTE, private_burst: int = PRIVATE_BURST) -> None:
        self._global = AsyncLimiter(global_per_second, 1)
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
