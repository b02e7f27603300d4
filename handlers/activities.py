"""Activities with a sign-up: 近期活动 (and 「报名」 alone) for residents, the organiser's list, and
the notices to the people signed up (moved up from the waiting list, changed, cancelled)."""

from __future__ import annotations

from handlers.buttons import JoinSignup, ListKind
from handlers.context import Context
from handlers.domain.model import Role
from handlers.formatting import local_time
from handlers.paging import PAGE_SIZE, list_page_options, page_note, shown_page
from handlers.rendering import announcement_title, display_name
from handlers.types import Channel, Notification, Recipient, Reply
from storage import announcements as store
from storage import signups
from storage.accounts import accounts_of_resident, get_resident
from storage.announcements import Announcement
from storage.engine import Connection
from storage.signups import SignupStatus

LISTED = 90  # the soonest; big, clear options: nine a page (handlers/paging.py), then 更多


def starts(ctx: Context, announcement: Announcement) -> str:
    return local_time(announcement.starts_at, ctx.services.timezone) if announcement.starts_at else ""


async def tell_residents(conn: Connection, resident_ids: list[int], text: str,
                         kind: str) -> list[Notification]:
    """One notice to each of these residents, in every chat they are reachable in."""
    return [Notification(Recipient(Channel(account.channel), account.chat_id), Reply(text), kind)
            for resident_id in resident_ids for account in await accounts_of_resident(conn, resident_id)]


async def everyone_signed(conn: Connection, announcement_id: int) -> list[int]:
    """Signed up and waiting: the people an activity's change or cancellation concerns (not those who left)."""
    return [s.resident_id for s in await signups.listed(conn, announcement_id)]


async def _left(ctx: Context, announcement: Announcement) -> str:
    left = (announcement.capacity or 0) - await signups.count(ctx.conn, announcement.id)
    return ctx.t("activities_left", left=left) if left > 0 else ctx.t("activities_full")


async def show_open(ctx: Context, page: int = 0) -> None:
    """近期活动 / 「报名」 alone: the activities still taking sign-ups, each one a 报名 button,
    nine a page with 更多 / 上一页 (a page button names the list and the page)."""
    found = await store.open_for_signup(ctx.conn, ctx.now, LISTED)
    if not found:
        ctx.say(ctx.t("activities_none"))
    elif len(found) == 1:
        [one] = found
        ctx.say(ctx.t("activities_one", title=announcement_title(one.text, 60), starts=starts(ctx, one),
                      left=await _left(ctx, one)), (ctx.t("activities_join_button"), JoinSignup(one.id)))
    else:
        page = shown_page(ctx, page, len(found))
        shown = found[page * PAGE_SIZE:(page + 1) * PAGE_SIZE]  # only this page's places are counted
        items = [(f"#{a.id} {announcement_title(a.text, 14)}｜{starts(ctx, a)}｜{await _left(ctx, a)}"
                  if a in shown else "", JoinSignup(a.id)) for a in found]
        ctx.say(ctx.t("activities_list") + page_note(ctx, page, len(found)),
                *await list_page_options(ctx, ListKind.ACTIVITIES, items, page))


def _line(ctx: Context, n: int, signup: signups.Signup, fallback: str) -> str:
    # The organiser is staff of this activity: the phone as given, in full; the name on one line.
    name = display_name(signup.name) or fallback or ctx.t("signup_anonymous", id=signup.resident_id)
    return f"{n}. {name} {signup.phone}".rstrip()


async def show_list(ctx: Context, announcement_id: int) -> None:
    """The organiser's list: admins, or whoever created the announcement."""
    announcement = await store.get(ctx.conn, announcement_id)
    person = ctx.person
    if (announcement is None or not announcement.has_signup or person is None
            or (person.role != Role.ADMIN and person.id != announcement.created_by)):
        ctx.say(ctx.t("signup_list_refused"))
        return
    everyone = await signups.listed(ctx.conn, announcement.id)
    names = {s.resident_id: display_name((await get_resident(ctx.conn, s.resident_id)).display_name)
             for s in everyone}
    joined = [s for s in everyone if s.status is SignupStatus.ACTIVE]
    waiting = [s for s in everyone if s.status is SignupStatus.WAITING]
    lines = "\n".join(_line(ctx, n, s, names[s.resident_id]) for n, s in enumerate(joined, 1))
    text = ctx.t("signup_list", title=announcement_title(announcement.text, 40), count=len(joined),
                 capacity=announcement.capacity, lines=lines or ctx.t("signup_list_empty"))
    if waiting:
        text += ctx.t("signup_waiting_lines", count=len(waiting), lines="\n".join(
            _line(ctx, n, s, names[s.resident_id]) for n, s in enumerate(waiting, 1)))
    ctx.say(text)
