"""The app's one scheduler: APScheduler 3 decides *when*; every job only writes outbox rows."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from zoneinfo import ZoneInfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.engine import Engine
from handlers.broadcast import run_due_announcements, run_due_reminders
from handlers.config_sync import sync_config_announcements
from handlers.context import Services
from handlers.digest import digest_if_due
from handlers.escalation import sweep_deadlines
from storage import announcements as store
from storage import leases
from storage.engine import Engine as StorageEngine
from storage.privacy import purge_expired

log = logging.getLogger(__name__)

TICK_SECONDS = 30  # deadline sweeps and a safety net for the exact-time jobs
# Several instances: the sweep, the digest and retention run on the instance holding this lease,
# once per tick across instances; it lasts a tick past the lease length, so a live holder keeps it.
SWEEP_LEASE = "scheduler-sweep"


class Scheduler:
    """Decides *when*; what runs is in handlers/ (it writes through the engine, wakes through its
    notifier). Built by bot/bootstrap.py, last."""

    def __init__(self, engine: Engine, services: Services, *, holder: str = "",
                 lease: timedelta = timedelta(seconds=30)) -> None:
        self.engine = engine
        self.holder = holder or "this-instance"
        self.sweep_lease = lease + timedelta(seconds=TICK_SECONDS)
        self.services = services
        self.db, self.clock, self.notifier = engine.db, engine.clock, engine.notifier
        self.grace = timedelta(minutes=services.config.scheduler.grace_minutes)
        self.timezone = services.config.subdistrict.timezone
        self._aps: AsyncIOScheduler | None = None
        self._lock = asyncio.Lock()
        self._changed: asyncio.Event | None = None
        self._watcher: asyncio.Task | None = None

    async def run_due(self) -> int:
        """Everything due at the app clock's now, in one transaction; returns notifications queued."""
        async with self._lock:
            now = self.clock.now()
            services = self.services
            async with self.db.transaction() as conn:
                # Every instance: each run is recorded once (announcement_runs' unique key) and
                # reminders once per sign-up, so whichever instance comes first sends it.
                notes = await run_due_announcements(conn, services, now, self.grace)
                notes += await run_due_reminders(conn, services, now)
                # SQLite is one process: no lease (a restarted process must not wait out its own).
                sweeping = self.db.engine is StorageEngine.SQLITE or await leases.take(
                    conn, SWEEP_LEASE, self.holder, now, self.sweep_lease)
                if sweeping:
                    notes += await sweep_deadlines(conn, services, now)
                    notes += await digest_if_due(conn, services, now, self.grace)
                await self.engine.write_notifications(conn, notes, now)
                if sweeping:
                    await purge_expired(conn, now, timedelta(days=self.services.config.privacy.retention_days))
        if notes:
            self.notifier.outbox_queued({note.recipient.channel for note in notes})
        return len(notes)

    async def sync_config(self) -> None:
        """Announcements declared in config.yaml: created once, kept in step, cancelled when removed."""
        async with self.db.transaction() as conn:
            await sync_config_announcements(conn, self.services.config, self.clock.now())

    async def start(self) -> None:
        """Catch up on what was due while the bot was down, then keep time."""
        await self.sync_config()
        await self.run_due()
        self._aps = AsyncIOScheduler(timezone=ZoneInfo(self.timezone))
        self._aps.add_job(self._tick, IntervalTrigger(seconds=TICK_SECONDS), id="tick",
                          coalesce=True, max_instances=1, misfire_grace_time=None)
        self._aps.start()
        await self.refresh()
        self._changed = self.notifier.subscribe_schedule()
        self._watcher = asyncio.create_task(self._watch(), name="scheduler-watch")

    async def _watch(self) -> None:
        """An admin added or cancelled an announcement: due-now runs go at once, jobs follow."""
        assert self._changed is not None
        while True:
            await self._changed.wait()
            self._changed.clear()
            await self._tick()

    async def _tick(self) -> None:
        try:
            await self.run_due()
            await self.refresh()
        except Exception:
            log.exception("scheduler tick failed; the next tick tries again")

    async def refresh(self) -> None:
        """One exact-time job per active announcement, rebuilt from the database."""
        if self._aps is None:
            return
        async with self.db.read() as conn:
            wanted = {f"announcement-{a.id}": a.next_run_at for a in await store.active(conn) if a.next_run_at}
        for job in self._aps.get_jobs():
            if job.id.startswith("announcement-") and job.id not in wanted:
                job.remove()
        for job_id, run_at in wanted.items():
            current = self._aps.get_job(job_id)
            # Past times were just handled by run_due; the tick catches anything late.
            if run_at <= self.clock.now() or (current is not None and current.next_run_time == run_at):
                continue
            self._aps.add_job(self._tick, DateTrigger(run_date=run_at), id=job_id, replace_existing=True,
                              misfire_grace_time=None)

    async def stop(self) -> None:
        if self._watcher is not None:
            self._watcher.cancel()
        if self._aps is not None and self._aps.running:
            self._aps.shutdown(wait=False)

