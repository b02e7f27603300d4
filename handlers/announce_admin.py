"""Admins list announcements, see per target whether each delivery arrived, edit and cancel."""

from __future__ import annotations

from collections import Counter

from handlers import announce
from handlers.context import Context
from handlers.formatting import clip, local_time, parse_id
from storage import announcements as store
from storage.announcements import Announcement

LISTED = 10
FAILURES_SHOWN = 10


def _status(ctx: Context, announcement: Announcement) -> str:
    if announcement.status == "active" and announcement.next_run_at is not None:
        return ctx.t("announce_next", at=local_time(announcement.next_run_at, ctx.services.timezone))
    return ctx.t(f"announce_status_{announcement.status}")


async def show_list(ctx: Context) -> None:
    if not announce.is_admin(ctx):
        ctx.say(ctx.t("announce_admins_only"))
        return
    recent = await store.recent(ctx.conn, LISTED)
    if not recent:
        ctx.say(ctx.t("announce_none"), (ctx.t("announce_new_button"), "an:new"))
        return
    ctx.say(ctx.t("announce_list"), *[
        (f"#{a.id} {clip(a.text, 16)} · {_status(ctx, a)}", f"an:v:{a.id}") for a in recent
    ], (ctx.t("announce_new_button"), "an:new"))


async def show_detail(ctx: Context, announcement: Announcement) -> None:
    deliveries = await store.deliveries(ctx.conn, announcement.id)
    runs = await store.runs(ctx.conn, announcement.id)
    counts = Counter(d.status for d in deliveries)
    lines = [ctx.t("announce_detail", id=announcement.id, text=clip(announcement.text, 200),
                   status=_status(ctx, announcement), runs=len(runs),
                   missed=sum(1 for _, outcome, _ in runs if outcome == "missed"),
                   sent=counts["sent"], pending=counts["pending"] + counts["claimed"] + counts["sending"],
                   failed=counts["failed"] + counts["uncertain"])]
    for delivery in [d for d in deliveries if d.status in ("failed", "uncertain")][:FAILURES_SHOWN]:
        lines.append(ctx.t("announce_failed_line", channel=delivery.channel, chat=delivery.chat_id,
                           status=delivery.status, error=clip(delivery.last_error, 60)))
    if announcement.has_signup:
        lines.append(ctx.t("announce_signups", count=await store.count_signups(ctx.conn, announcement.id),
                           capacity=announcement.capacity))
    options = []
    if announcement.status == "active":
        options += [(ctx.t("announce_edit_button"), f"an:e:{announcement.id}"),
                    (ctx.t("announce_cancel_button"), f"an:c:{announcement.id}")]
    if announcement.has_signup:
        options.append((ctx.t("signup_list_button"), f"su:l:{announcement.id}"))
    ctx.say("\n".join(lines), *options)


async def handle_button(ctx: Context) -> bool:
    """an:list, an:new, an:v:<id>, an:e:<id>, an:c:<id>; False for the flow's own buttons."""
    button = ctx.incoming.button
    if button == "an:list":
        await show_list(ctx)
        return True
    if button == "an:new":
        await announce.start(ctx)
        return True
    verb, _, raw = button.removeprefix("an:").partition(":")
    if verb not in ("v", "e", "c"):
        return False
    if not announce.is_admin(ctx):
        ctx.say(ctx.t("announce_admins_only"))
        return True
    announcement_id = parse_id(raw)
    announcement = await store.get(ctx.conn, announcement_id) if announcement_id is not None else None
    if announcement is None:
        ctx.say(ctx.t("announce_unknown"))
        return True
    if verb == "v":
        await show_detail(ctx, announcement)
    elif announcement.status != "active":
        ctx.say(ctx.t("announce_not_active", id=announcement.id))
    elif verb == "e":
        await announce.start_edit(ctx, announcement.id)
    elif await store.cancel(ctx.conn, announcement.id, ctx.now):
        ctx.outcome.schedule_changed = True
        ctx.say(ctx.t("announce_cancelled", id=announcement.id))
    return True
