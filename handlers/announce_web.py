"""Channel-neutral entry points for announcements from the staff workplace (bot/web/announcements*.py).

They run the chat flows' own functions: the same rule of who may announce (announce.is_admin), the
same targets, time rules (schedule_rules.parse_when and the chat's refusals), sign-up rule
(announce.parse_signup), reach (broadcast.reach), and the chat's edit and cancel code
(announce_edit.apply_edit, confirm_cancel), so everyone signed up is told exactly as from chat.
What the chat would have answered comes back as messages for the page; the notifications are the
caller's to queue in the same transaction. Every action is recorded as from the web.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from handlers import activities, announce, announce_admin, announce_edit
from handlers.broadcast import Reach, reach, reach_text
from handlers.buttons import AnnouncementVerb
from handlers.context import Context, Services
from handlers.domain.model import Config, Role
from handlers.domain.schedule_rules import RuleError, When, parse_when
from handlers.formatting import local_time
from handlers.rendering import display_name
from handlers.types import Channel, Incoming, Notification, Outcome
from storage import announcement_web, signups
from storage import announcements as store
from storage.accounts import Account, PersonRow, get_resident
from storage.announcements import Announcement, TargetKind
from storage.engine import Connection
from storage.signups import SignupStatus

log = logging.getLogger(__name__)
ORIGIN = "web"
EDIT_VERBS = {"text": AnnouncementVerb.EDIT, "start": AnnouncementVerb.EDIT_START,
              "places": AnnouncementVerb.EDIT_PLACES}


class Delivery(StrEnum):
    """A delivery to one target as the list and the detail page name it."""

    SENT = "sent"
    PENDING = "pending"
    FAILED = "failed"
    RESENT = "resent"  # sent again after a try whose outcome was unknown (it may have arrived twice)
    NO_TARGET = "no_target"  # a run that found no group or follower


def delivery_of(status: str, resends: int) -> Delivery:
    if status in ("failed", "uncertain"):
        return Delivery.FAILED
    if status == "sent":
        return Delivery.RESENT if resends else Delivery.SENT
    return Delivery.PENDING  # pending, claimed, sending


@dataclass(frozen=True)
class Draft:
    """The create form as typed."""

    text: str = ""
    target: str = "all"  # "all", "community:<id>" or "grid:<id>"
    when: str = "立即"
    places: str = ""
    starts: str = ""

    @property
    def wants_signup(self) -> bool:
        return bool(self.places.strip() or self.starts.strip())


@dataclass(frozen=True)
class Checked:
    """A draft that passed every rule of the chat flow."""

    text: str
    kind: TargetKind
    target_id: str
    when: When
    signup: tuple[int, datetime] | None


@dataclass(frozen=True)
class WebResult:
    messages: tuple[str, ...]
    notifications: tuple[Notification, ...]
    schedule_changed: bool
    announcement_id: int | None = None


def web_context(services: Services, conn: Connection, now: datetime, person: PersonRow) -> Context:
    # The workplace is no chat: an account of its own kind, never stored, never written to.
    incoming = Incoming(channel=Channel.WEB, chat_id=person.id, user_id=person.id)
    account = Account(Channel.WEB.value, person.id, person.id, 0, person.id)
    return Context(services, conn, now, incoming, account, person, Outcome())


def result(ctx: Context, announcement_id: int | None = None) -> WebResult:
    return WebResult(tuple(r.text for r in ctx.outcome.replies), tuple(ctx.outcome.notifications),
                     ctx.outcome.schedule_changed, announcement_id)


def may_announce(person: PersonRow) -> bool:
    """The chat's rule (announce.is_admin): subdistrict admins announce, to every target."""
    return person.role == Role.ADMIN


def may_list(person: PersonRow, announcement: Announcement) -> bool:
    """The organiser's list, as in chat (activities.show_list): admins, or whoever created it."""
    return person.role == Role.ADMIN or person.id == announcement.created_by


def targets(ctx: Context) -> list[tuple[str, str]]:
    """(form value, label): 全部群, each community and each grid, the targets the chat takes
    (its buttons and the grid names it reads when typed)."""
    config = ctx.services.config
    return [("all", ctx.t("announce_all_groups")),
            *[(f"community:{c.id}", c.name) for c in config.communities],
            *[(f"grid:{g.id}", f"{g.name}（{g.id}）") for g in config.grids]]


def parse_target(config: Config, value: str) -> tuple[TargetKind, str] | None:
    """A form value back to a target; anything the list did not offer is None."""
    kind, _, target_id = value.partition(":")
    if kind == TargetKind.ALL.value and not target_id:
        return TargetKind.ALL, ""
    if kind == TargetKind.COMMUNITY.value and config.community(target_id) is not None:
        return TargetKind.COMMUNITY, target_id
    if kind == TargetKind.GRID.value and config.grid(target_id) is not None:
        return TargetKind.GRID, target_id
    return None


def check(ctx: Context, draft: Draft) -> Checked | list[str]:
    """The draft read by the chat flow's rules; else what is wrong, in the chat's words."""
    problems: list[str] = []
    text = draft.text.strip()
    if not text or len(text) > announce.MAX_TEXT:
        problems.append(ctx.t("announce_text_invalid", limit=announce.MAX_TEXT))
    target = parse_target(ctx.services.config, draft.target)
    if target is None:
        problems.append(ctx.t("announce_target_invalid"))
    when: When | None = None
    try:
        when = parse_when(draft.when.strip() or "立即", ctx.now, ctx.services.timezone)
    except RuleError as refused:
        problems.append(announce.when_refusal(ctx, refused))
    signup: tuple[int, datetime] | None = None
    if when is not None and draft.wants_signup:
        if when.repeating:  # the chat asks no sign-up for a repeating post
            problems.append(ctx.t("web_announce_repeat_no_signup"))
        else:
            signup = announce.parse_signup(f"{draft.places.strip()} {draft.starts.strip()}", ctx.now,
                                           ctx.services.timezone, when.first_run_at)
            if signup is None:
                problems.append(ctx.t("announce_signup_invalid"))
    if problems or target is None or when is None:
        return problems
    return Checked(text, target[0], target[1], when, signup)


async def preview(ctx: Context, checked: Checked) -> tuple[Reach, str]:
    """How many groups and followers it would reach now, and the chat's words for it (the zero warning)."""
    found = await reach(ctx.conn, ctx.services, checked.kind.value, checked.target_id)
    return found, reach_text(ctx.services, found, checked.target_id)


async def create(ctx: Context, checked: Checked) -> int:
    """Store it as the chat's 确认发布 does, with source "web"; the chat's answer as the message."""
    assert ctx.person is not None
    new = announce.new_announcement(ctx.services.config, checked.text, (checked.kind.value, checked.target_id),
                                    checked.when, ctx.person.id, ORIGIN, checked.signup)
    announcement_id = await store.create(ctx.conn, new, ctx.now)
    await announcement_web.record_action(ctx.conn, announcement_id, ctx.person.id, "created", ORIGIN, ctx.now)
    ctx.outcome.schedule_changed = True
    _, said = await preview(ctx, checked)
    ctx.say(ctx.t("announce_scheduled", id=announcement_id, reach=said,
                  when=local_time(new.first_run_at, ctx.services.timezone)))
    log.info("web: announcement %s created by %s", announcement_id, ctx.person.id)
    return announcement_id


async def edit(ctx: Context, announcement: Announcement, part: str, text: str) -> None:
    """新内容 / 改时间 / 改名额: the chat's edit step with what the form sent."""
    assert ctx.person is not None
    verb = EDIT_VERBS.get(part)
    if verb is None or not announce_admin.changeable(announcement, verb):
        ctx.say(ctx.t("announce_not_active", id=announcement.id))
        return
    await announce_edit.apply_edit(ctx, announcement, part, text.strip())
    if await store.get(ctx.conn, announcement.id) != announcement:
        ctx.outcome.schedule_changed = True
        await announcement_web.record_action(ctx.conn, announcement.id, ctx.person.id, f"edited_{part}", ORIGIN,
                                             ctx.now)
        log.info("web: announcement %s %s edited by %s", announcement.id, part, ctx.person.id)


async def told_on_cancel(conn: Connection, announcement: Announcement) -> int:
    """How many the cancellation would tell (the confirmation says it, as the chat's does)."""
    return len(await activities.everyone_signed(conn, announcement.id)) if announcement.has_signup else 0


async def cancel(ctx: Context, announcement: Announcement) -> None:
    """The chat's 确认取消: cancelled, everyone signed up or waiting told."""
    assert ctx.person is not None
    if not announce_admin.changeable(announcement, AnnouncementVerb.CANCEL):
        ctx.say(ctx.t("announce_not_active", id=announcement.id))
        return
    await announce_edit.confirm_cancel(ctx, announcement)
    if ctx.outcome.schedule_changed:
        await announcement_web.record_action(ctx.conn, announcement.id, ctx.person.id, "cancelled", ORIGIN, ctx.now)
        log.info("web: announcement %s cancelled by %s", announcement.id, ctx.person.id)


@dataclass(frozen=True)
class SignupRow:
    number: int
    waiting: bool
    name: str  # as given for this activity, else the resident's display name
    phone: str  # as given, in full: the list is the organiser's


async def signup_rows(conn: Connection, services: Services, announcement: Announcement) -> list[SignupRow]:
    """Signed up, then waiting, each numbered from 1 as in the chat's list."""
    rows: list[SignupRow] = []
    numbers = {SignupStatus.ACTIVE: 0, SignupStatus.WAITING: 0}
    for signup in await signups.listed(conn, announcement.id):
        numbers[signup.status] += 1
        resident = await get_resident(conn, signup.resident_id)
        name = (display_name(signup.name) or (display_name(resident.display_name) if resident else "")
                or services.texts.t("signup_anonymous", id=signup.resident_id))
        rows.append(SignupRow(numbers[signup.status], signup.status is SignupStatus.WAITING, name, signup.phone))
    return rows
