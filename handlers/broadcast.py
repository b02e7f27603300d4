"""Timed work for announcements: fan-out to groups at the scheduled time, missed runs, reminders.

Each function runs inside the scheduler's transaction and only returns notifications; the outbox
sender delivers them. A run is recorded once per scheduled time, so a restart never sends twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from handlers.context import Services
from handlers.deep_links import SignupLink
from handlers.domain.model import Config, Role
from handlers.domain.schedule_rules import next_fire
from handlers.formatting import clip, local_time
from handlers.rendering import announcement_title
from handlers.routing import recipients_of
from handlers.types import Channel, Notification, Recipient, Reply
from storage import announcements as store
from storage.accounts import accounts_of_resident, people_with_role
from storage.announcements import Announcement, RunOutcome
from storage.engine import Connection
from storage.groups import GroupTarget, active_targets, wechat_followers

MAX_CATCH_UP = 500  # fire times examined after a long downtime of a frequent rule


async def admin_notices(conn: Connection, text: str, kind: str = "admin_notice") -> list[Notification]:
    admins = await people_with_role(conn, Role.ADMIN)
    return [Notification(r, Reply(text), kind) for r in await recipients_of(conn, admins)]


def post_reply(services: Services, announcement: Announcement, channel: str) -> Reply:
    """What a group (or a follower) sees; a sign-up is done in private chat, never in a group."""
    t = services.texts.t
    text = t("announcement_post", text=announcement.text)
    if not announcement.has_signup:
        return Reply(text)
    starts = local_time(announcement.starts_at, services.timezone) if announcement.starts_at else ""
    text += "\n" + t("announcement_signup", id=announcement.id, capacity=announcement.capacity, starts=starts)
    username = services.links.bot_username
    if channel == Channel.TELEGRAM and username:
        return Reply(text, link=f"https://t.me/{username}?start={SignupLink(announcement.id).encode()}",
                     link_label=t("signup_button"))
    return Reply(text)


def fire_times(announcement: Announcement, now: datetime, timezone: str) -> tuple[list[datetime], datetime | None]:
    """The scheduled times due by now, and the next one after now (None: nothing more)."""
    assert announcement.next_run_at is not None
    due = [announcement.next_run_at]
    if not announcement.cron:
        return due, None
    upcoming = next_fire(announcement.cron, due[-1], timezone)
    while upcoming is not None and upcoming <= now and len(due) < MAX_CATCH_UP:
        due.append(upcoming)
        upcoming = next_fire(announcement.cron, upcoming, timezone)
    return due, upcoming


async def area_targets(conn: Connection, config: Config, kind: str, target_id: str) -> list[GroupTarget]:
    """The active groups an announcement to this area reaches (a grid's include its community's)."""
    grid = config.grid(target_id) if kind == "grid" else None
    return await active_targets(conn, kind, target_id, grid.community if grid else None)


@dataclass(frozen=True)
class Reach:
    """Who an announcement to an area would reach now: the preview's counts."""

    telegram_groups: int
    wecom_groups: int
    followers: int  # WeChat followers in the area (only with wechat.announce_to_followers)

    @property
    def total(self) -> int:
        return self.telegram_groups + self.wecom_groups + self.followers


async def reach(conn: Connection, services: Services, kind: str, target_id: str) -> Reach:
    targets = await area_targets(conn, services.config, kind, target_id)
    followers = (len(await wechat_followers(conn, kind, target_id))
                 if services.links.announce_to_followers else 0)
    return Reach(sum(t.channel == Channel.TELEGRAM for t in targets),
                 sum(t.channel == Channel.WECOM for t in targets), followers)


def reach_text(services: Services, found: Reach, area: str) -> str:
    """「Telegram 群 2 个、企业微信群 1 个、微信关注者 5 人」, or the zero warning with how to bind."""
    t = services.texts.t
    if found.total == 0:
        return t("announce_reach_none", how=t("announce_how_to_bind", area=area or t("announce_area_example")))
    counts = (("announce_reach_telegram", found.telegram_groups), ("announce_reach_wecom", found.wecom_groups),
              ("announce_reach_followers", found.followers))
    parts = [t(key, count=count) for key, count in counts if count]
    return t("announce_reach", parts="、".join(parts))


async def run_due_announcements(conn: Connection, services: Services, now: datetime,
                                grace: timedelta) -> list[Notification]:
    notes: list[Notification] = []
    for announcement in await store.due(conn, now):
        due, upcoming = fire_times(announcement, now, services.timezone)
        in_grace = [moment for moment in due if now - moment <= grace]
        # After a downtime only the latest run still in time is sent: three copies in a row are spam.
        send_at = in_grace[-1] if in_grace else None
        missed = [moment for moment in due if moment != send_at]
        for moment in missed:
            await store.record_run(conn, announcement.id, moment, RunOutcome.MISSED, 0, now)
        if missed:
            notes += await admin_notices(conn, services.texts.t(
                "announcement_missed", id=announcement.id, text=clip(announcement.text, 30), count=len(missed),
                first=local_time(missed[0], services.timezone)))
        if send_at is not None:
            notes += await _fan_out(conn, services, announcement, send_at, now)
        await store.set_next_run(conn, announcement.id, upcoming, now)
    return notes


async def _fan_out(conn: Connection, services: Services, announcement: Announcement,
                   scheduled_for: datetime, now: datetime) -> list[Notification]:
    run_id = await store.record_run(conn, announcement.id, scheduled_for, RunOutcome.SENT, 0, now)
    if run_id is None:
        return []  # this scheduled time already ran
    targets = await area_targets(conn, services.config, announcement.target_kind, announcement.target_id)
    notes = [Notification(Recipient(Channel(target.channel), target.chat_id),
                          post_reply(services, announcement, target.channel), "announcement", run_id=run_id)
             for target in targets]
    if services.links.announce_to_followers:
        reply = post_reply(services, announcement, Channel.WECHAT)
        notes += [Notification(Recipient(Channel.WECHAT, openid), reply, "announcement", run_id=run_id)
                  for openid in await wechat_followers(conn, announcement.target_kind, announcement.target_id)]
    await store.set_run_targets(conn, run_id, len(notes))
    if not notes:
        return await admin_notices(conn, services.texts.t(
            "announcement_no_targets", id=announcement.id, text=clip(announcement.text, 30),
            how=services.texts.t("announce_how_to_bind",
                                  area=announcement.target_id or services.texts.t("announce_area_example"))))
    return notes


async def run_due_reminders(conn: Connection, services: Services, now: datetime) -> list[Notification]:
    """A reminder to everyone signed up, once, a configured time before the activity starts."""
    notes: list[Notification] = []
    for announcement in await store.due_reminders(conn, now):
        await store.mark_reminded(conn, announcement.id, now)
        if announcement.starts_at is None or announcement.starts_at <= now:
            continue
        text = services.texts.t("signup_reminder", text=announcement_title(announcement.text, 60),
                                starts=local_time(announcement.starts_at, services.timezone))
        for resident_id in await store.signed_up(conn, announcement.id):
            for account in await accounts_of_resident(conn, resident_id):
                notes.append(Notification(Recipient(Channel(account.channel), account.chat_id), Reply(text),
                                          "reminder"))
    return notes
