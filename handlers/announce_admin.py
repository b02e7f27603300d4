"""Admins list announcements, see per target whether each delivery arrived, edit and cancel."""

from __future__ import annotations

from collections import Counter

from handlers import announce, announce_edit
from handlers.button_codec import Button
from handlers.buttons import (
    AnnouncementButton,
    AnnouncementsAction,
    AnnouncementsButton,
    AnnouncementVerb,
    ListKind,
    SignupButton,
    SignupVerb,
)
from handlers.context import Context
from handlers.formatting import clip, local_time
from handlers.paging import PAGE_SIZE, list_page_options, page_note, shown_page
from storage import announcements as store
from storage.announcements import Announcement

LISTED = 90  # the newest; nine a page (handlers/paging.py), then 更多
NEW = AnnouncementsButton(AnnouncementsAction.NEW)
FAILURES_SHOWN = 10


async def status_text(ctx: Context, announcement: Announcement) -> str:
    if announcement.status == "active" and announcement.next_run_at is not None:
        return ctx.t("announce_next", at=local_time(announcement.next_run_at, ctx.services.timezone))
    if announcement.status == "finished":
        # 「已发送」 only if some run reached someone: a run with no target is said as such.
        runs = await store.runs(ctx.conn, announcement.id)
        if not any(outcome == "sent" and targets > 0 for _, outcome, targets in runs):
            sent_to_none = any(outcome == "sent" for _, outcome, _ in runs)
            return ctx.t("announce_status_no_target" if sent_to_none else "announce_status_missed")
    return ctx.t(f"announce_status_{announcement.status}")


async def show_list(ctx: Context, page: int = 0) -> None:
    """公告列表, newest first, nine a page with 更多 / 上一页, and 发布新公告 on every page."""
    if not announce.is_admin(ctx):
        ctx.say(ctx.t("announce_admins_only"))
        return
    recent = await store.recent(ctx.conn, LISTED)
    if not recent:
        ctx.say(ctx.t("announce_none"), (ctx.t("announce_new_button"), NEW))
        return
    page = shown_page(ctx, page, len(recent))
    shown = recent[page * PAGE_SIZE:(page + 1) * PAGE_SIZE]  # only this page's statuses are read
    items = [(f"#{a.id} {clip(a.text, 16)} · {await status_text(ctx, a)}" if a in shown else "",
              AnnouncementButton(AnnouncementVerb.VIEW, a.id)) for a in recent]
    ctx.say(ctx.t("announce_list") + page_note(ctx, page, len(recent)),
            *await list_page_options(ctx, ListKind.ANNOUNCEMENTS, items, page),
            (ctx.t("announce_new_button"), NEW))


async def show_detail(ctx: Context, announcement: Announcement) -> None:
    deliveries = await store.deliveries(ctx.conn, announcement.id)
    runs = await store.runs(ctx.conn, announcement.id)
    counts = Counter(d.status for d in deliveries)
    lines = [ctx.t("announce_detail", id=announcement.id, text=clip(announcement.text, 200),
                   status=await status_text(ctx, announcement), runs=len(runs),
                   missed=sum(1 for _, outcome, _ in runs if outcome == "missed"),
                   sent=counts["sent"], pending=counts["pending"] + counts["claimed"] + counts["sending"],
                   failed=counts["failed"] + counts["uncertain"])]
    to_none = sum(1 for _, outcome, targets in runs if outcome == "sent" and targets == 0)
    if to_none:
        lines[0] += ctx.t("announce_runs_no_target", count=to_none)
    for delivery in [d for d in deliveries if d.status in ("failed", "uncertain")][:FAILURES_SHOWN]:
        lines.append(ctx.t("announce_failed_line", channel=delivery.channel, chat=delivery.chat_id,
                           status=delivery.status, error=clip(delivery.last_error, 60)))
    if announcement.has_signup:
        lines.append(ctx.t("announce_signups", count=await store.count_signups(ctx.conn, announcement.id),
                           capacity=announcement.capacity))
    options: list[tuple[str, Button]] = []
    if announcement.status != "cancelled" and announcement.has_signup:  # an activity still ahead can change
        options += [(ctx.t("announce_edit_start_button"), AnnouncementButton(AnnouncementVerb.EDIT_START, announcement.id)),
                    (ctx.t("announce_edit_places_button"), AnnouncementButton(AnnouncementVerb.EDIT_PLACES, announcement.id))]
    if announcement.status == "active" or (announcement.status != "cancelled" and announcement.has_signup):
        options += [(ctx.t("announce_edit_button"), AnnouncementButton(AnnouncementVerb.EDIT, announcement.id)),
                    (ctx.t("announce_cancel_button"), AnnouncementButton(AnnouncementVerb.CANCEL, announcement.id))]
    if announcement.has_signup:
        options.append((ctx.t("signup_list_button"), SignupButton(SignupVerb.LIST, announcement.id)))
    ctx.say("\n".join(lines), *options)


async def handle_list_button(ctx: Context, button: AnnouncementsButton | None) -> None:
    """an:list, an:new."""
    if button == NEW:
        await announce.start(ctx)
    else:
        await show_list(ctx)


async def handle_button(ctx: Context, button: AnnouncementButton | None) -> None:
    """an:v:<id>, an:e:<id>, an:c:<id>; None when such data names no announcement."""
    if not announce.is_admin(ctx):
        ctx.say(ctx.t("announce_admins_only"))
        return
    announcement = await store.get(ctx.conn, button.announcement_id) if button is not None else None
    if button is None or announcement is None:
        ctx.say(ctx.t("announce_unknown"))
        return
    if button.verb is AnnouncementVerb.VIEW:
        await show_detail(ctx, announcement)
    elif not changeable(announcement, button.verb):
        ctx.say(ctx.t("announce_not_active", id=announcement.id))
    elif button.verb is AnnouncementVerb.CANCEL:
        await announce_edit.ask_cancel(ctx, announcement)
    elif button.verb is AnnouncementVerb.CANCEL_CONFIRMED:
        await announce_edit.confirm_cancel(ctx, announcement)
    else:
        part = {AnnouncementVerb.EDIT: "text", AnnouncementVerb.EDIT_START: "start"}.get(button.verb, "places")
        await announce_edit.start_edit(ctx, announcement, part)


def changeable(announcement: Announcement, verb: AnnouncementVerb) -> bool:
    """A pending announcement can change; one already posted only as an activity still to come
    (its sign-ups, time and places matter until it starts). Only an activity has a start and places."""
    if announcement.status == "cancelled":
        return False
    if verb in (AnnouncementVerb.EDIT_START, AnnouncementVerb.EDIT_PLACES):
        return announcement.has_signup
    return announcement.status == "active" or announcement.has_signup
