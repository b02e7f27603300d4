"""Activity sign-up (报名) in private chat: join, cancel, and the organiser's list."""

from __future__ import annotations

import re

from handlers.buttons import JoinSignup, SignupButton, SignupVerb
from handlers.context import Context
from handlers.domain.model import Role
from handlers.formatting import local_time
from handlers.rendering import announcement_title, display_name
from storage import announcements as store
from storage.accounts import get_resident
from storage.announcements import Announcement, SignupResult

SIGNUP_TEXT = re.compile(r"^(取消)?报名\s*#?\s*(\d{1,9})$")


def parse_signup_text(text: str) -> tuple[bool, int] | None:
    """(cancel?, announcement id) from 「报名 12」 or 「取消报名 12」 (typed on WeChat and the console)."""
    found = SIGNUP_TEXT.match(text.strip())
    return (bool(found[1]), int(found[2])) if found else None


async def _open_signup(ctx: Context, announcement_id: int) -> Announcement | None:
    announcement = await store.get(ctx.conn, announcement_id)
    if announcement is None or not announcement.has_signup or announcement.status == "cancelled":
        ctx.say(ctx.t("signup_unknown"))
        return None
    return announcement


def _when(ctx: Context, announcement: Announcement) -> str:
    return local_time(announcement.starts_at, ctx.services.timezone) if announcement.starts_at else ""


async def join(ctx: Context, announcement_id: int) -> None:
    announcement = await _open_signup(ctx, announcement_id)
    if announcement is None:
        return
    result = await store.sign_up(ctx.conn, announcement, ctx.account.resident_id, ctx.now)
    title = announcement_title(announcement.text, 40)
    if result is SignupResult.JOINED:
        ctx.say(ctx.t("signup_done", title=title, starts=_when(ctx, announcement), id=announcement.id),
                (ctx.t("signup_cancel_button"), SignupButton(SignupVerb.LEAVE, announcement.id)))
    elif result is SignupResult.ALREADY:
        ctx.say(ctx.t("signup_already", title=title, id=announcement.id),
                (ctx.t("signup_cancel_button"), SignupButton(SignupVerb.LEAVE, announcement.id)))
    elif result is SignupResult.FULL:
        ctx.say(ctx.t("signup_full", title=title))
    else:
        ctx.say(ctx.t("signup_closed", title=title))


async def leave(ctx: Context, announcement_id: int) -> None:
    announcement = await _open_signup(ctx, announcement_id)
    if announcement is None:
        return
    if await store.cancel_signup(ctx.conn, announcement.id, ctx.account.resident_id, ctx.now):
        ctx.say(ctx.t("signup_cancelled", title=announcement_title(announcement.text, 40)))
    else:
        ctx.say(ctx.t("signup_not_joined"))


async def handle_button(ctx: Context, button: JoinSignup | SignupButton | None) -> None:
    """su:<id> joins, su:x:<id> cancels, su:l:<id> lists (organisers); None: su: data naming none."""
    if isinstance(button, JoinSignup):
        await join(ctx, button.announcement_id)
    elif isinstance(button, SignupButton) and button.verb is SignupVerb.LEAVE:
        await leave(ctx, button.announcement_id)
    elif isinstance(button, SignupButton):
        await show_list(ctx, button.announcement_id)
    else:
        ctx.say(ctx.t("signup_unknown"))


async def show_list(ctx: Context, announcement_id: int) -> None:
    """The organiser's list: admins, or whoever created the announcement."""
    announcement = await store.get(ctx.conn, announcement_id)
    person = ctx.person
    if (announcement is None or not announcement.has_signup or person is None
            or (person.role != Role.ADMIN and person.id != announcement.created_by)):
        ctx.say(ctx.t("signup_list_refused"))
        return
    residents = [await get_resident(ctx.conn, rid) for rid in await store.signed_up(ctx.conn, announcement.id)]
    # Names are rendered again on the way out: ones stored before they were cleaned on the way in.
    names = [display_name(r.display_name) or ctx.t("signup_anonymous", id=r.id) for r in residents]
    lines = "\n".join(f"{n}. {name}" for n, name in enumerate(names, 1)) or ctx.t("signup_list_empty")
    ctx.say(ctx.t("signup_list", title=announcement_title(announcement.text, 40), count=len(names),
                  capacity=announcement.capacity, lines=lines))
