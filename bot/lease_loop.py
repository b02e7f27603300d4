"""One instance at a time: a loop that runs only while this instance holds a named lease.

Several instances on one PostgreSQL database share the work, but some loops must run in one
place only: Telegram's long polling (two pollers would take each other's updates and Telegram
answers the second with 409), and each channel's sender (Telegram's per-token and per-group
limits and WeCom's per-robot limit are counted in the sender's memory, so they hold across
instances only when one sender per channel sends). The others stand by and ask again every
heartbeat; when the holder dies its lease runs out and one of them takes over — within the
lease's length plus one heartbeat. On SQLite there is one process and the lease is always ours.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
from dataclasses import dataclass
from datetime import timedelta

from bot.supervisor import Loop, Sleep
from storage import leases
from storage.clock import Clock
from storage.db import Database

log = logging.getLogger(__name__)

LEASE_LENGTH = timedelta(seconds=30)


def instance_name() -> str:
    """This process as a lease or claim holder: host, pid and a random part (pids are reused)."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"


@dataclass(frozen=True)
class LeaseTiming:
    """How long a lease lasts unrenewed, and how often its holder renews it (and a standby asks)."""

    length: timedelta = LEASE_LENGTH
    heartbeat: float = LEASE_LENGTH.total_seconds() / 3

    @classmethod
    def of(cls, seconds: float) -> LeaseTiming:
        return cls(timedelta(seconds=seconds), seconds / 3)


class LeasedLoop:
    """Runs a loop while this instance holds lease `name`; stops it as soon as the lease is lost."""

    def __init__(self, db: Database, clock: Clock, name: str, holder: str,
                 timing: LeaseTiming = LeaseTiming(), sleep: Sleep = asyncio.sleep) -> None:
        self.db, self.clock, self.name, self.holder = db, clock, name, holder
        self.timing = timing
        self.sleep = sleep
        self.holding = False  # for tests and logs: this instance runs the loop now

    def wrap(self, loop: Loop) -> Loop:
        async def leased(stop: asyncio.Event) -> None:
            await self.run(loop, stop)
        return leased

    async def take(self) -> bool:
        """Take or renew the lease (False: another live instance holds it)."""
        async with self.db.transaction(exclusive=False) as conn:
            return await leases.take(conn, self.name, self.holder, self.clock.now(), self.timing.length)

    async def release(self) -> None:
        async with self.db.transaction(exclusive=False) as conn:
            await leases.release(conn, self.name, self.holder)

    async def run(self, loop: Loop, stop: asyncio.Event) -> None:
        standing_by = False
        while not stop.is_set():
            if not await self.take():
                if not standing_by:
                    log.info("%s: another instance holds the lease; standing by", self.name)
                    standing_by = True
                await self._pause(stop)
                continue
            standing_by = False
            log.info("%s: this instance holds the lease", self.name)
            if not await self._hold(loop, stop):
                return  # the loop ended by itself, or we are stopping
            log.warning("%s: lease lost; the loop stopped, standing by", self.name)

    async def _hold(self, loop: Loop, stop: asyncio.Event) -> bool:
        """Run the loop under the lease; True when it was stopped because the lease was lost."""
        inner, lost = asyncio.Event(), asyncio.Event()
        self.holding = True
        beats = asyncio.create_task(self._beat(stop, inner, lost), name=f"{self.name}-lease")
        try:
            await loop(inner)
        finally:
            self.holding = False
            inner.set()
            beats.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await beats
            if stop.is_set():  # a clean stop: the next instance need not wait for it to run out
                with contextlib.suppress(Exception):
                    await self.release()
        return lost.is_set() and not stop.is_set()

    async def _beat(self, stop: asyncio.Event, inner: asyncio.Event, lost: asyncio.Event) -> None:
        """Renew every heartbeat; stop the loop at once when the lease cannot be renewed (another
        instance took it, or the database is out of reach and it may run out)."""
        while not inner.is_set():
            await self._pause(stop)
            if stop.is_set():
                inner.set()
                return
            try:
                renewed = await self.take()
            except Exception:
                log.exception("%s: lease renewal failed", self.name)
                renewed = False
            if not renewed:
                lost.set()
                inner.set()
                return

    async def _pause(self, stop: asyncio.Event) -> None:
        sleeper = asyncio.ensure_future(self.sleep(self.timing.heartbeat))
        stopper = asyncio.ensure_future(stop.wait())
        try:
            await asyncio.wait([sleeper, stopper], return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (sleeper, stopper):
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
