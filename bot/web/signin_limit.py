"""Sign-in attempts, limited per client address over a sliding window (a link token is 256 bits,
but nobody may try links at speed). Reads the injectable Timer of bot/ratelimit.py, so tests move
time by hand."""

from __future__ import annotations

from collections import deque

from bot.ratelimit import LOOP_TIMER, Timer

ATTEMPTS = 10
PERIOD = 600.0  # seconds


class SignInLimiter:
    def __init__(self, attempts: int = ATTEMPTS, period: float = PERIOD, timer: Timer = LOOP_TIMER) -> None:
        self.attempts = attempts
        self.period = period
        self.timer = timer
        self._seen: dict[str, deque[float]] = {}

    def allow(self, client: str) -> bool:
        """Count an attempt from `client`; False when it is over the limit (not counted then)."""
        now = self.timer.time()
        seen = self._seen.setdefault(client, deque())
        while seen and seen[0] <= now - self.period:
            seen.popleft()
        if len(seen) >= self.attempts:
            return False
        seen.append(now)
        if len(self._seen) > 10_000:  # forget idle clients so the map cannot grow without bound
            self._seen = {key: times for key, times in self._seen.items() if times and times[-1] > now - self.period}
        return True
