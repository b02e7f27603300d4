"""Keeps each channel loop running: a loop that fails is logged and restarted with back-off, the
others go on; only a configuration or credential error stops a loop, with one clear log line."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from storage.clock import Clock

log = logging.getLogger(__name__)

Loop = Callable[[asyncio.Event], Awaitable[None]]
Sleep = Callable[[float], Awaitable[None]]
# Describes a configuration or credential error (no retry can help), or None for anything else.
FatalCheck = Callable[[BaseException], str | None]

FIRST_DELAY = 1.0
MAX_DELAY = 300.0
# A loop that ran this long before failing starts its back-off afresh.
HEALTHY_AFTER = timedelta(minutes=5)


class ConfigurationError(Exception):
    """The platform refuses this configuration (a rejected token): the channel stops."""


class LoopState(StrEnum):
    RUNNING = "running"
    RESTARTING = "restarting"  # failed; waiting out its back-off
    STOPPED = "stopped"  # a configuration or credential error: needs a person


@dataclass
class LoopHealth:
    state: LoopState = LoopState.RUNNING
    restarts: int = 0
    last_error_at: datetime | None = None
    last_error: str = ""  # the exception's type: no message (it might hold a user's text)

    def to_json(self) -> dict[str, Any]:
        at = self.last_error_at.isoformat() if self.last_error_at else None
        return {"state": self.state.value, "restarts": self.restarts, "last_error_at": at,
                "last_error": self.last_error}


def only_configuration_errors(error: BaseException) -> str | None:
    return str(error) if isinstance(error, ConfigurationError) else None


class Supervisor:
    """Runs named loops; `health` says how each is doing (for /healthz). The clock and the sleep
    are injected, so tests see the back-off without waiting for it."""

    def __init__(self, clock: Clock, *, sleep: Sleep = asyncio.sleep,
                 is_fatal: FatalCheck = only_configuration_errors,
                 first_delay: float = FIRST_DELAY, max_delay: float = MAX_DELAY) -> None:
        self.clock = clock
        self.sleep = sleep
        self.is_fatal = is_fatal
        self.first_delay = first_delay
        self.max_delay = max_delay
        self.health: dict[str, LoopHealth] = {}

    async def run(self, name: str, loop: Loop, stop: asyncio.Event) -> None:
        """Run `loop` until `stop`; restart it when it fails, unless the failure is fatal."""
        health = self.health.setdefault(name, LoopHealth())
        failures = 0
        while not stop.is_set():
            health.state = LoopState.RUNNING
            started = self.clock.now()
            try:
                await loop(stop)
                return
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                health.last_error_at, health.last_error = self.clock.now(), type(exc).__name__
                reason = self.is_fatal(exc)
                if reason is not None:
                    health.state = LoopState.STOPPED
                    log.error("%s stopped: %s. Fix the configuration and restart the bot.", name, reason)
                    return
                if health.last_error_at - started >= HEALTHY_AFTER:
                    failures = 0
                delay = min(self.first_delay * 2 ** failures, self.max_delay)
                failures += 1
                health.state, health.restarts = LoopState.RESTARTING, health.restarts + 1
                log.exception("%s failed unexpectedly (%d in a row); restarting in %.0fs", name, failures, delay)
                await self._wait(stop, delay)

    async def _wait(self, stop: asyncio.Event, seconds: float) -> None:
        """The back-off, cut short by `stop`."""
        sleeper = asyncio.ensure_future(self.sleep(seconds))
        stopper = asyncio.ensure_future(stop.wait())
        try:
            await asyncio.wait([sleeper, stopper], return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (sleeper, stopper):
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    def report(self) -> dict[str, Any]:
        """{"status": ok | restarting | stopped, "channels": {name: health}} for /healthz."""
        states = {h.state for h in self.health.values()}
        status = ("stopped" if LoopState.STOPPED in states
                  else "restarting" if LoopState.RESTARTING in states else "ok")
        return {"status": status, "channels": {name: h.to_json() for name, h in self.health.items()}}
