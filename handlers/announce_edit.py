"""Changing an announcement after it was scheduled: its text, its activity's start or places, or
cancelling it (after a confirmation). Everyone signed up or waiting is told once per change;
someone who left the sign-up is not."""

from __future__ import annotations

from datetime import datetime, timedelta

from handlers import activities, announce
from handlers.buttons import CANCEL, AnnouncementButton, AnnouncementVerb
from handlers.context import Context, Services
from handlers.dialog_state import OpenDialog, begin_side_flow, end_dialog
from handlers.domain.schedule_rules import RuleError, parse_when
from handlers.flow_states import AnnounceEditState, Flow
from handlers.formatting import clip, local_time
from handlers.rendering import announcement_title
from handlers.types import Notification
from storage import announcements as store
from storage import signups
from storage.announcements import Announcement
from storage.engine import Connection

FLOW = Flow.ANNOUNCE_EDIT
ASK = {"text": "announce_ask_new_text", "start": "announce_ask_new_start", "places": "announce_ask_new_places"}


async def tell_signed(conn: Connection, services: Services, announcement: Announcement,
                      text: str, kind: str, *, besides: frozenset[int] = frozenset()) -> tuple[int, list[Notification]]:
    """(how many residents, their notices): everyone signed up or waiting, but not `besides`."""
    if not announcement.has_signup:
        return 0, []
    residents = [r for r in await activities.everyone_signed(conn, announcement.id) if r not in besides]
    return len(residents), await activities.tell_residents(conn, residents, text, kind)


async def cancel_and_tell(conn: Connection, services: Services, announcement: Announcement,
                          now: datetime) -> tuple[bool, int, list[Notification]]:
    """Cancel it (if still active); (cancelled?, residents told, their notices). The chat and the CLI."""
    if not await store.cancel(conn, announcement.id, now):
        return False, 0, []
    starts = local_time(announcement.starts_at, services.timezone) if announcement.starts_at else ""
    text = services.texts.t("activity_cancelled_notice", title=announcement_title(announcement.text, 40),
                            starts=starts)
    told, notes = await tell_signed(conn, services, announcement, text, "activity_changed")
    return True, told, notes


async def ask_cancel(ctx: Context, announcement: Announcement) -> None:
    count = len(await activities.everyone_signed(ctx.conn, announcement.id)) if announcement.has_signup else 0
    signed = ctx.t("announce_cancel_signed", count=count) if count else ""
    ctx.say(ctx.t("announce_cancel_confirm", id=announcement.id, title=clip(announcement.text, 20), signed=signed),
            (ctx.t("announce_cancel_yes"), AnnouncementButton(AnnouncementVerb.CANCEL_CONFIRMED, announcement.id)),
            (ctx.t("announce_cancel_no"), AnnouncementButton(AnnouncementVerb.VIEW, announcement.id)))


async def confirm_cancel(ctx: Context, announcement: Announcement) -> None:
    done, told, notes = await cancel_and_tell(ctx.conn, ctx.services, announcement, ctx.now)
    if not done:
        ctx.say(ctx.t("announce_not_active", id=announcement.id))
        return
    ctx.outcome.schedule_changed = True
    ctx.outcome.notifications.extend(notes)
    ctx.say(ctx.t("announce_cancelled_told", id=announcement.id, count=told) if told
            else ctx.t("announce_cancelled", id=announcement.id))


async def start_edit(ctx: Context, announcement: Announcement, part: str) -> None:
    count = await signups.count(ctx.conn, announcement.id)
    await begin_side_flow(ctx, FLOW, "text", AnnounceEditState(announcement.id, part))
    ctx.say(ctx.t(ASK[part], id=announcement.id, count=count), (ctx.t("cancel"), CANCEL))


async def handle_edit(ctx: Context, dialog: OpenDialog) -> None:
    state = dialog.state
    assert isinstance(state, AnnounceEditState)
    if not announce.is_admin(ctx):
        await end_dialog(ctx)
        ctx.say(ctx.t("announce_admins_only"))
        return
    announcement = await store.get(ctx.conn, state.announcement_id)
    if announcement is None or announcement.status == "cancelled":
        await end_dialog(ctx)
        ctx.say(ctx.t("announce_not_active", id=state.announcement_id))
        return
    await apply_edit(ctx, announcement, state.part, ctx.incoming.text.strip())


async def apply_edit(ctx: Context, announcement: Announcement, part: str, text: str) -> None:
    """The new text, start or places as typed: checked, stored, everyone signed up told. The chat's
    edit step and the workplace's edit forms (handlers/announce_web.py) both end here."""
    edit = {"text": _edit_text, "start": _edit_start, "places": _edit_places}[part]
    await edit(ctx, announcement, text)


async def _done(ctx: Context, announcement: Announcement, change: str, reply: str, kind: str = "activity_changed",
                besides: frozenset[int] = frozenset()) -> None:
    await end_dialog(ctx)
    text = ctx.t("activity_changed_notice", title=announcement_title(announcement.text, 40), change=change)
    told, notes = await tell_signed(ctx.conn, ctx.services, announcement, text, kind, besides=besides)
    ctx.outcome.notifications.extend(notes)
    ctx.say(ctx.t(reply, id=announcement.id, told=told, text=clip(announcement.text, 40),
                  starts=activities.starts(ctx, announcement), capacity=announcement.capacity))


async def _edit_text(ctx: Context, announcement: Announcement, text: str) -> None:
    if not text or len(text) > announce.MAX_TEXT:
        ctx.say(ctx.t("announce_text_invalid", limit=announce.MAX_TEXT), (ctx.t("cancel"), CANCEL))
        return
    await store.update_text(ctx.conn, announcement.id, text, ctx.now)
    changed = await store.get(ctx.conn, announcement.id)
    assert changed is not None
    await _done(ctx, changed, ctx.t("activity_change_text", text=announcement_title(text, 200)), "announce_edited")
    if changed.has_signup:
        ctx.say(ctx.t("announce_edited_told", told=len(await activities.everyone_signed(ctx.conn, changed.id))))


async def _edit_start(ctx: Context, announcement: Announcement, text: str) -> None:
    try:
        when = parse_when(text, ctx.now, ctx.services.timezone)
    except RuleError as refused:
        ctx.say(announce.when_refusal(ctx, refused), (ctx.t("cancel"), CANCEL))
        return
    if when.repeating or not announcement.has_signup:
        ctx.say(ctx.t("announce_when_invalid"), (ctx.t("cancel"), CANCEL))
        return
    settings = ctx.services.config.scheduler
    starts = when.first_run_at
    await store.update_start(ctx.conn, announcement.id, starts,
                             starts - timedelta(minutes=settings.signup_closes_minutes),
                             starts - timedelta(minutes=settings.reminder_minutes), ctx.now)
    changed = await store.get(ctx.conn, announcement.id)
    assert changed is not None
    await _done(ctx, changed, ctx.t("activity_change_start", starts=activities.starts(ctx, changed)),
                "announce_start_edited")


async def _edit_places(ctx: Context, announcement: Announcement, text: str) -> None:
    count = await signups.count(ctx.conn, announcement.id)
    places = int(text) if text.isdigit() else 0
    if not announcement.has_signup or places < max(count, 1) or places > 99999:
        ctx.say(ctx.t("announce_places_invalid", count=count), (ctx.t("cancel"), CANCEL))
        return
    await signups.set_capacity(ctx.conn, announcement.id, places, ctx.now)
    changed = await store.get(ctx.conn, announcement.id)
    assert changed is not None
    moved = await signups.fill_places(ctx.conn, changed, ctx.now)  # more places: the waiting move up
    promoted = ctx.t("signup_promoted", title=announcement_title(changed.text, 40),
                     starts=activities.starts(ctx, changed), id=changed.id)
    ctx.outcome.notifications.extend(await activities.tell_residents(ctx.conn, moved, promoted, "signup_promoted"))
    await _done(ctx, changed, ctx.t("activity_change_places", capacity=places), "announce_places_edited",
                besides=frozenset(moved))  # told once: those moved up have their own notice
