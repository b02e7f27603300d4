"""Announcements declared in config.yaml, kept in step with the database: created once, updated
when their text, target or rule changes, cancelled when removed from the file."""

from __future__ import annotations

from datetime import datetime

from handlers.announce import resolve_target
from handlers.domain.model import Config
from handlers.domain.schedule_rules import parse_when
from storage import announcements as store
from storage.announcements import NewAnnouncement, TargetKind
from storage.engine import Connection


async def sync_config_announcements(conn: Connection, config: Config, now: datetime) -> None:
    timezone = config.subdistrict.timezone
    declared = {item.key for item in config.announcements}
    for item in config.announcements:
        found = resolve_target(config, item.target)
        assert found is not None, item.target  # checked when the config was loaded
        kind, target = TargetKind(found[0]), found[1]
        when = parse_when(item.when, now, timezone)
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
