"""Named crash points for fault-injection tests: FENGSHAN_CRASH_AT=name[@N][,name[@N]] kills the process.

Off unless the variable is set; it exists so tests can prove that a kill -9 at these exact
moments loses nothing and duplicates nothing. `name@N` fires the N-th time the point is reached
(e.g. `sender.after_send.announcement@2`: in the middle of a fan-out).

Points: `intake.after_store` (Telegram updates committed to the inbox, offset not yet confirmed),
`engine.before_commit` (handlings, and WeChat callbacks being stored, not yet committed), `sender.after_send` and
`sender.after_send.<kind>` (sent, not yet marked: the row is left 'sending' and is resent at start).
A crash with a request on the wire and its answer not yet read needs no point of its own: the
tests' fake Bot API holds the answer (`delay_next`) and the test kills the process.
"""

from __future__ import annotations

import os
import signal
from collections import Counter
from collections.abc import Mapping

ENV_VAR = "FENGSHAN_CRASH_AT"


class CrashPoints:
    def __init__(self, points: Mapping[str, int] | None = None) -> None:
        self._fire_at = dict(points or {})  # name -> the reach that kills
        self._reached: Counter[str] = Counter()

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> CrashPoints:
        points: dict[str, int] = {}
        for item in environ.get(ENV_VAR, "").split(","):
            name, _, count = item.strip().partition("@")
            if name:
                points[name] = int(count) if count.isdigit() and int(count) > 0 else 1
        return cls(points)

    def reached(self, name: str) -> None:
        if name not in self._fire_at:
            return
        self._reached[name] += 1
        if self._reached[name] >= self._fire_at[name]:
            os.kill(os.getpid(), signal.SIGKILL)
