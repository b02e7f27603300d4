"""A monotonic timer for the rate limiters that only moves when a test moves it (bot.ratelimit.Timer)."""

from __future__ import annotations

import asyncio
import heapq
import itertools


class FakeTimer:
    """`time()` is what the test set; `sleep()` returns once the test has advanced past its end."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._order = itertools.count()

    def time(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        woken: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self.now + seconds, next(self._order), woken))
        await woken

    @property
    def sleeping(self) -> int:
        """How many waits have not ended yet."""
        return sum(1 for _, _, woken in self._sleepers if not woken.done())

    def next_wake(self) -> float | None:
        """When the earliest wait ends, or None when nobody waits."""
        self._drop_cancelled()
        return self._sleepers[0][0] if self._sleepers else None

    def advance(self, seconds: float) -> None:
        self.advance_to(self.now + seconds)

    def advance_to(self, moment: float) -> None:
        """Move to `moment` (never backwards) and end every wait due by then."""
        self.now = max(self.now, moment)
        self._drop_cancelled()
        while self._sleepers and self._sleepers[0][0] <= self.now:
            _, _, woken = heapq.heappop(self._sleepers)
            if not woken.done():
                woken.set_result(None)

    def _drop_cancelled(self) -> None:
        while self._sleepers and self._sleepers[0][2].done():
            heapq.heappop(self._sleepers)


async def settle(rounds: int = 20) -> None:
    """Let every ready task run until it waits again (on the timer, a lock or an event)."""
    for _ in range(rounds):
        await asyncio.sleep(0)
