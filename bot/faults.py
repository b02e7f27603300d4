"""Named crash points for fault-injection tests: FENGSHAN_CRASH_AT=name[,name] kills the process.

Off unless the variable is set; it exists so tests can prove that a kill -9 at these exact
moments loses nothing and duplicates nothing.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Mapping
from dataclasses import dataclass

ENV_VAR = "FENGSHAN_CRASH_AT"


@dataclass(frozen=True)
class CrashPoints:
    names: frozenset[str] = frozenset()

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> CrashPoints:
        raw = environ.get(ENV_VAR, "")
        return cls(frozenset(name.strip() for name in raw.split(",") if name.strip()))

    def reached(self, name: str) -> None:
        if name in self.names:
            os.kill(os.getpid(), signal.SIGKILL)
