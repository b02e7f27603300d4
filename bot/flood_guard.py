"""Per-sender flood guard: one resident sending dozens of messages cannot flood the grid with tickets.

Messages over the limit are stored (the inbox keeps everything) but not handled; the first one
over the limit gets one polite notice, the rest get silence until the window clears. The state
lives in memory: it guards against abuse, it is not a record, so a restart simply forgets it.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from datetime import datetime, timedelta
from enum import StrEnum

MESSAGES_PER_WINDOW = 20
WINDOW = timedelta(minutes=1)
MAX_TRACKED_SENDERS = 10_000


class Admission(StrEnum):
    ALLOW = "allow"
    NOTIFY = "notify"  # the first message over the limit: handled no further, one notice
    DROP = "drop"  # later messages over the limit: handled no further, no answer


class FloodGuard:
    def __init__(self, limit: int = MESSAGES_PER_WINDOW, window: timedelta = WINDOW) -> None:
        self.limit = limit
        self.window = window
        self._recent: OrderedDict[str, deque[datetime]] = OrderedDict()
        self._notified: set[str] = set()

    def admit(self, channel: str, sender: str, now: datetime) -> Admission:
        """Count one message from this sender at `now` and say whether to handle it."""
        key = f"{channel}:{sender}"
        times = self._recent.pop(key, None) or deque()
        self._recent[key] = times  # most recent sender last, so the oldest is evicted first
        while times and times[0] <= now - self.window:
            times.popleft()
        if len(self._recent) > MAX_TRACKED_SENDERS:
            evicted, _ = self._recent.popitem(last=False)
            self._notified.discard(evicted)
        if len(times) < self.limit:
            times.append(now)
            self._notified.discard(key)
            return Admission.ALLOW
        if key in self._notified:
            return Admission.DROP
        self._notified.add(key)
        return Admission.NOTIFY
