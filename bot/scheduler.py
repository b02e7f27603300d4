"""The app's one scheduler: APScheduler 3 decides *when*; every job only writes outbox rows."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import aiosqlite
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.app import App
from handlers.announce import resolve_target
from handlers.broadcast import admin_notices, run_due_announcements, run_due_reminders
from handlers.digest import weekly_digest
from handlers.domain.schedule_rules import next_fire, parse_when
from handlers.escalation import sweep_deadlines
from handlers.types import Notification
from storage import announcements as store
from storage import inbox
from storage.announcements import NewAnnouncement, TargetKind
from storage.clock import parse_stamp, stamp
from storage.privacy import purge_expired

log = logging.getLogger(__name__)

TICK_SECONDS = 30  # deadline sweeps and a safety net for the exact-time jobs
DIGEST_STATE_KEY = "scheduler:digest_next_at"


class Scheduler:
    def __init__(self, app: App) -> None:
        self.app = app
        settings = app.config.scheduler
        self.grace = timedelta(minutes=settings.grace_minutes)
        self.timezone = app.config.subdistrict.timezone
        self._aps: AsyncIOScheduler | None = None
        self._lock = asyncio.Lock()
        self._changed: asyncio.Event | None = None
        self._watcher: asyncio.Task | None = None

    async def run_due(self) -> int:
        """Everything due at the app clock's now, in one transaction; returns notifications queued."""
        async with self._lock:
            now = self.app.clock.now()
            services = self.app.services
            async with self.app.db.transaction() as conn:
                notes = await run_due_announcements(conn, services, now, self.grace)
                notes += await run_due_reminders(conn, services, now)
                notes += await sweep_deadlines(conn, services, now)
                notes += await self._digest_if_due(conn, now)
                await self.app.engine.write_notifications(conn, notes, now)
                await purge_expired(conn, now, timedelta(days=self.app.config.privacy.retention_days))
        if notes:
            self.app.notifier.outbox_queued({note.recipient.channel for note in notes})
        return len(notes)

    async def _digest_if_due(self, conn: aiosqlite.Connection, now: datetime) -> list[Notification]:
        cron = self.app.config.scheduler.digest
        raw = await inbox.get_state(conn, DIGEST_STATE_KEY)
        if raw is None:  # the first start: the first digest is the next one due
            await self._set_digest_next(conn, now, cron)
            return []
        due = parse_stamp(raw)
        if due > now:
            return []
        await self._set_digest_next(conn, now, cron)
        if now - due > self.grace:
            return await admin_notices(conn, self.app.services.texts.t("digest_missed"))
        return await weekly_digest(conn, self.app.services, now)

    async def _set_digest_next(self, conn: aiosqlite.Connection, now: datetime, cron: str) -> None:
        upcoming = next_fire(cron, now, self.timezone)
        if upcoming is not None:
            await inbox.set_state(conn, DIGEST_STATE_KEY, stamp(upcoming))

    async def sync_config(self) -> None:
        """Announcements declared in config.yaml: created once, kept in step, cancelled when removed."""
        config, now = self.app.config, self.app.clock.now()
        async with self.app.db.transaction() as conn:
            declared = {item.key for item in config.announcements}
            for item in config.announcements:
                found = resolve_target(config, item.target)
                assert found is not None, item.target  # checked when the config was loaded
                kind, target = TargetKind(found[0]), found[1]
                when = parse_when(item.when, now, self.timezone)
                existing = await store.by_config_key(conn, item.key)
                if existing is None:
                    await store.create(conn, NewAnnouncement(
                        text=item.text, target_kind=kind, target_id=target, cron=when.cron,
                        first_run_at=when.first_run_at, created_by="config", source="config",
                        config_key=item.key, organiser=item.organiser), now)
                elif existing.status == "active" and (existing.text, existing.target_kind, existing.target_id,
                                                      existing.cron) != (item.text, kind, target, when.cron):
                    # A new rule starts from now; the same rule keeps its next run.
                    next_run = existing.next_run_at if existing.cron == when.cron else when.first_run_at
                    await store.update_plan(conn, existing.id, item.text, kind, target, when.cron,
                                            next_run or when.first_run_at, now)
            for announcement in await store.active(conn):
                if announcement.source == "config" and announcement.config_key not in declared:
                    await store.cancel(conn, announcement.id, now)

    async def start(self) -> None:
        """Catch up on what was due while the bot was down, then keep time."""
        await self.sync_config()
        await self.run_due()
        self._aps = AsyncIOScheduler(timezone=ZoneInfo(self.timezone))
        self._aps.add_job(self._tick, IntervalTrigger(seconds=TICK_SECONDS), id="tick",
                          coalesce=True, max_instances=1, misfire_grace_time=None)
        self._aps.start()
        await self.refresh()
        self._changed = self.app.notifier.subscribe_schedule()
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
        async with self.app.db.read() as conn:
            wanted = {f"announcement-{a.id}": a.next_run_at for a in await store.active(conn) if a.next_run_at}
        for job in self._aps.get_jobs():
            if job.id.startswith("announcement-") and job.id not in wanted:
                job.remove()
        for job_id, run_at in wanted.items():
            current = self._aps.get_job(job_id)
            # Past times were just handled by run_due; the tick catches anything late.
            if run_at <= self.app.clock.now() or (current is not None and current.next_run_time == run_at):
                continue
            self._aps.add_job(self._tick, DateTrigger(run_date=run_at), id=job_id, replace_existing=True,
                              misfire_grace_time=None)

    async def stop(self) -> None:
        if self._watcher is not None:
            self._watcher.cancel()
        if self._aps is not None and self._aps.running:
            self._aps.shutdown(wait=False)

