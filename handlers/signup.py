"""Activity sign-up (报名) in private chat: the name and phone for the organiser, join, the waiting
list of a full activity, and cancel (which moves the first waiting person up)."""

from __future__ import annotations

import re
import unicodedata

from handlers import activities
from handlers.buttons import CANCEL, JoinSignup, SignupButton, SignupVerb
from handlers.context import Context
from handlers.dialog_state import OpenDialog, begin_side_flow, end_dialog, load
from handlers.flow_states import Flow, SignupState
from handlers.formatting import mask_phone, normalise_phone
from handlers.rendering import announcement_title, display_name
from storage import accounts, signups
from storage import announcements as store
from storage.announcements import Announcement
from storage.signups import Contact, SignupResult, SignupStatus

FLOW = Flow.SIGNUP
SIGNUP_TEXT = re.compile(r"^(取消)?报名\s*#?\s*(\d{1,9})$")
# A mobile number inside what was typed (「张三 138 1234 5678」): digits with spaces or dashes.
_PHONE_RUN = re.compile(r"(?:\+?86|0086)?[\s-]*1[3-9](?:[\s-]*\d){9}")


def parse_signup_text(text: str) -> tuple[bool, int] | None:
    """(cancel?, announcement id) from 「报名 12」 or 「取消报名 12」 (typed on WeChat and the console)."""
    found = SIGNUP_TEXT.match(text.strip())
    return (bool(found[1]), int(found[2])) if found else None


def parse_contact(text: str) -> Contact | None:
    """「张三 13812345678」 → name and phone (either may be missing); None if a number is there
    but is no mobile number (a typo is asked again, not stored)."""
    plain = unicodedata.normalize("NFKC", text)
    found = _PHONE_RUN.search(plain)
    phone = normalise_phone(found.group()) if found else None
    rest = plain[:found.start()] + " " + plain[found.end():] if found else plain
    if (found and phone is None) or re.search(r"\d{5,}", rest):
        return None
    name = display_name(rest.replace("电话", " ").replace("姓名", " ").strip(" :：,，"))
    return Contact(name, phone or "")


def shown_contact(contact: Contact) -> str:
    """What the resident sees of their own contact: the phone masked, as everywhere but the organiser's list."""
    return " ".join(part for part in (contact.name, mask_phone(contact.phone) if contact.phone else "") if part)


async def _open_signup(ctx: Context, announcement_id: int) -> Announcement | None:
    announcement = await store.get(ctx.conn, announcement_id)
    if announcement is None or not announcement.has_signup or announcement.status == "cancelled":
        ctx.say(ctx.t("signup_unknown"))
        return None
    return announcement


def _title(announcement: Announcement) -> str:
    return announcement_title(announcement.text, 40)


async def _position(ctx: Context, announcement_id: int) -> int:
    waiting = [s.resident_id for s in await signups.listed(ctx.conn, announcement_id)
               if s.status is SignupStatus.WAITING]
    return waiting.index(ctx.account.resident_id) + 1 if ctx.account.resident_id in waiting else len(waiting)


async def join(ctx: Context, announcement_id: int, *, wait: bool = False) -> None:
    """报名 12 / the 报名 button / the deep link: tell what stands in the way, else ask the contact."""
    announcement = await _open_signup(ctx, announcement_id)
    if announcement is None:
        return
    title, resident_id = _title(announcement), ctx.account.resident_id
    current = await signups.get(ctx.conn, announcement.id, resident_id)
    full = await signups.count(ctx.conn, announcement.id) >= (announcement.capacity or 0)
    if signups.is_closed(announcement, ctx.now):
        ctx.say(ctx.t("signup_closed", title=title))
    elif current is not None and current.status is SignupStatus.ACTIVE:
        ctx.say(ctx.t("signup_already", title=title, id=announcement.id), _leave_option(ctx, announcement.id))
    elif current is not None and current.status is SignupStatus.WAITING and full:
        ctx.say(ctx.t("signup_already_waiting", title=title, id=announcement.id,
                      position=await _position(ctx, announcement.id)), _leave_option(ctx, announcement.id))
    elif full and not wait:
        _offer_waiting(ctx, announcement, await signups.count(ctx.conn, announcement.id, SignupStatus.WAITING))
    else:
        await begin_side_flow(ctx, FLOW, "contact", SignupState(announcement.id, wait))
        await _ask_contact(ctx, announcement)


def _leave_option(ctx: Context, announcement_id: int) -> tuple[str, SignupButton]:
    return (ctx.t("signup_cancel_button"), SignupButton(SignupVerb.LEAVE, announcement_id))


def _offer_waiting(ctx: Context, announcement: Announcement, waiting: int) -> None:
    ctx.say(ctx.t("signup_full_wait", title=_title(announcement), waiting=waiting),
            (ctx.t("signup_wait_button"), SignupButton(SignupVerb.WAIT, announcement.id)))


async def _ask_contact(ctx: Context, announcement: Announcement) -> None:
    known = await _known_contact(ctx)
    skip = (ctx.t("signup_skip_contact"), SignupButton(SignupVerb.SKIP_CONTACT, announcement.id))
    if known is None:
        ctx.say(ctx.t("signup_ask_contact", title=_title(announcement)), skip, (ctx.t("cancel"), CANCEL))
    else:
        ctx.say(ctx.t("signup_ask_contact_known", title=_title(announcement), contact=shown_contact(known)),
                (ctx.t("signup_use_contact"), SignupButton(SignupVerb.USE_CONTACT, announcement.id)), skip,
                (ctx.t("cancel"), CANCEL))


async def _known_contact(ctx: Context) -> Contact | None:
    """What the resident gave before: their last sign-up's, else the phone of their reports."""
    given = await signups.last_contact(ctx.conn, ctx.account.resident_id)
    if given is not None:
        return given
    resident = await accounts.get_resident(ctx.conn, ctx.account.resident_id)
    return Contact("", resident.phone) if resident is not None and resident.phone else None


async def handle(ctx: Context, dialog: OpenDialog) -> None:
    """The contact step: typed 「张三 138…」 (or 报名/取消报名 another activity, which leaves this one)."""
    state = dialog.state
    assert isinstance(state, SignupState)
    typed = parse_signup_text(ctx.incoming.text)
    if typed is not None:
        await end_dialog(ctx)
        await (leave(ctx, typed[1]) if typed[0] else join(ctx, typed[1]))
        return
    label = ctx.incoming.text.strip()
    if label in (ctx.t("signup_skip_contact"), ctx.t("signup_use_contact")):  # a label typed, not a name
        verb = SignupVerb.SKIP_CONTACT if label == ctx.t("signup_skip_contact") else SignupVerb.USE_CONTACT
        await _contact_button(ctx, SignupButton(verb, state.announcement_id))
        return
    contact = parse_contact(ctx.incoming.text) if ctx.incoming.text.strip() else None
    if contact is None or not (contact.name or contact.phone):
        ctx.say(ctx.t("signup_contact_invalid"),
                (ctx.t("signup_skip_contact"), SignupButton(SignupVerb.SKIP_CONTACT, state.announcement_id)))
        return
    await _finish(ctx, state, contact)


async def _contact_button(ctx: Context, button: SignupButton) -> None:
    """就用这个 / 跳过: only for the sign-up being asked; an old button starts that sign-up again."""
    dialog = await load(ctx)
    state = dialog.state if dialog is not None else None
    if not isinstance(state, SignupState) or state.announcement_id != button.announcement_id:
        await join(ctx, button.announcement_id)
        return
    contact = Contact("", "")
    if button.verb is SignupVerb.USE_CONTACT:
        contact = await _known_contact(ctx) or contact
    await _finish(ctx, state, contact)


async def _finish(ctx: Context, state: SignupState, contact: Contact) -> None:
    await end_dialog(ctx)
    announcement = await _open_signup(ctx, state.announcement_id)
    if announcement is None:
        return
    result = await signups.sign_up(ctx.conn, announcement, ctx.account.resident_id, contact, ctx.now,
                                   wait=state.wait)
    title, given = _title(announcement), shown_contact(contact)
    contact_line = ctx.t("signup_contact_line", contact=given) if given else ""
    if result is SignupResult.JOINED:
        ctx.say(ctx.t("signup_done", title=title, starts=activities.starts(ctx, announcement), id=announcement.id)
                + contact_line, _leave_option(ctx, announcement.id))
    elif result in (SignupResult.WAITING, SignupResult.ALREADY_WAITING):
        ctx.say(ctx.t("signup_waiting", title=title, id=announcement.id,
                      position=await _position(ctx, announcement.id)) + contact_line,
                _leave_option(ctx, announcement.id))
    elif result is SignupResult.ALREADY:
        ctx.say(ctx.t("signup_already", title=title, id=announcement.id), _leave_option(ctx, announcement.id))
    elif result is SignupResult.FULL:  # the last place went while this resident typed
        _offer_waiting(ctx, announcement, await signups.count(ctx.conn, announcement.id, SignupStatus.WAITING))
    else:
        ctx.say(ctx.t("signup_closed", title=title))


async def leave(ctx: Context, announcement_id: int) -> None:
    announcement = await _open_signup(ctx, announcement_id)
    if announcement is None:
        return
    left, moved_up = await signups.leave(ctx.conn, announcement, ctx.account.resident_id, ctx.now)
    if left is None:
        ctx.say(ctx.t("signup_not_joined"))
        return
    key = "signup_left_waiting" if left is SignupStatus.WAITING else "signup_cancelled"
    ctx.say(ctx.t(key, title=_title(announcement)))
    text = ctx.t("signup_promoted", title=_title(announcement), starts=activities.starts(ctx, announcement),
                 id=announcement.id)
    ctx.outcome.notifications.extend(await activities.tell_residents(ctx.conn, moved_up, text, "signup_promoted"))


async def handle_button(ctx: Context, button: JoinSignup | SignupButton | None) -> None:
    """su:<id> joins, su:w:<id> waits, su:u|k:<id> answers the contact step, su:x:<id> cancels,
    su:l:<id> lists (organisers); None: su: data naming none."""
    if isinstance(button, JoinSignup):
        await join(ctx, button.announcement_id)
    elif isinstance(button, SignupButton) and button.verb is SignupVerb.WAIT:
        await join(ctx, button.announcement_id, wait=True)
    elif isinstance(button, SignupButton) and button.verb in (SignupVerb.USE_CONTACT, SignupVerb.SKIP_CONTACT):
        await _contact_button(ctx, button)
    elif isinstance(button, SignupButton) and button.verb is SignupVerb.LEAVE:
        await leave(ctx, button.announcement_id)
    elif isinstance(button, SignupButton):
        await activities.show_list(ctx, button.announcement_id)
    else:
        ctx.say(ctx.t("signup_unknown"))
